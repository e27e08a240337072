"""``SimCommands``: the ``sim`` venue client's order commands, each sent to the simulated venue
and waited for.

Each call sends the domain command to the venue and waits for the venue's answer, which the
venue's events resolve (``SimOrders``): at once with no ``LatencyModel``, or after the model's
delay on the clock. If no answer comes within ``timeout_ns`` (on the same clock), the call looks
the order up by its client order id, as the port requires, and raises ``UnknownOutcome`` when it
is not there. A refusal leaves no order and no lock behind. Client order ids are unique per
client: an id in use (open, closed or in flight) is refused with ``InvalidOrder``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from tradeforge.backtest import SimulatedVenue
from tradeforge.bus import Clock, TimeEvent
from tradeforge.connectors.errors import UnknownOutcome
from tradeforge.connectors.sim_orders import SimOrders
from tradeforge.domain import (
    CancelOrder,
    ClientOrderId,
    ContingencyType,
    InstrumentId,
    InvalidOrder,
    InvalidValue,
    ModifyOrder,
    OrderList,
    OrderSpec,
    OrderStatusReport,
    Price,
    Quantity,
    RejectReason,
    SubmitOrder,
    SubmitOrderList,
    TradeForgeError,
)

__all__ = ["SimCommands"]


class SimCommands:
    """Submit, cancel and modify for one client (module docstring).

    Args:
        sim: the venue the commands go to; its events go to ``orders``.
        orders: the client's orders and the answers waited for.
        timeout_ns: how long a command waits for the venue's answer, on ``clock``.
        check_open: raises when the client is closed.
        instrument: raises ``UnknownInstrument`` for an instrument the venue does not trade.
        timer_name: a new timer name for the client, for ``what``.
        cancel_timer: cancels a timer that may have fired already.
    """

    def __init__(
        self,
        *,
        sim: SimulatedVenue,
        orders: SimOrders,
        clock: Clock,
        timeout_ns: int,
        check_open: Callable[[], None],
        instrument: Callable[[InstrumentId], InstrumentId],
        timer_name: Callable[[str], str],
        cancel_timer: Callable[[str], None],
    ) -> None:
        self.venue = sim.venue
        self._sim = sim
        self._orders = orders
        self._clock = clock
        self._timeout_ns = timeout_ns
        self._check_open = check_open
        self._instrument = instrument
        self._timer_name = timer_name
        self._cancel_timer = cancel_timer

    async def submit(self, spec: OrderSpec) -> OrderStatusReport:
        """See ``SimVenueClient.submit``."""
        self._check_open()
        orders = self._orders
        cid = spec.client_order_id
        if orders.used(cid):
            raise InvalidOrder(
                f"{self.venue} refused order {cid}: {RejectReason.DUPLICATE_CLIENT_ORDER_ID}: "
                "client order id already used"
            )
        answer = asyncio.get_running_loop().create_future()
        orders.in_flight[cid] = spec
        orders.submits[cid] = answer
        now = self._clock.timestamp_ns()
        try:
            command = SubmitOrder(
                strategy_id=spec.strategy_id, spec=spec, ts_event=now, ts_init=now
            )
            self._sim.execute(command)
        except BaseException:  # it never reached the venue: the id is free again
            orders.in_flight.pop(cid, None)
            orders.submits.pop(cid, None)
            raise
        try:
            answered = await self._wait(answer, "submit")
        finally:
            if orders.submits.get(cid) is answer:
                del orders.submits[cid]
        if orders.order(cid) is None:  # looked up by its client order id, not there
            raise UnknownOutcome(
                f"{self.venue} did not answer order {cid} in time"
                if not answered
                else f"{self.venue} lost order {cid}",
                client_order_id=cid.value,
            )
        return orders.report(cid)

    async def submit_oco(self, order_list: OrderList) -> list[OrderStatusReport]:
        """See ``SimVenueClient.submit_oco``."""
        self._check_open()
        orders = self._orders
        specs = order_list.orders
        if len(specs) != 2 or any(s.contingency_type is not ContingencyType.OCO for s in specs):
            raise InvalidOrder(
                f"{self.venue} refused order list {order_list.order_list_id}: an OCO list is "
                f"two orders linked OCO, got {[str(s.contingency_type) for s in specs]}"
            )
        for spec in specs:
            cid = spec.client_order_id
            if orders.used(cid):
                raise InvalidOrder(
                    f"{self.venue} refused order {cid}: "
                    f"{RejectReason.DUPLICATE_CLIENT_ORDER_ID}: client order id already used"
                )
        loop = asyncio.get_running_loop()
        answers = {spec.client_order_id: loop.create_future() for spec in specs}
        for spec in specs:
            orders.in_flight[spec.client_order_id] = spec
            orders.submits[spec.client_order_id] = answers[spec.client_order_id]
        now = self._clock.timestamp_ns()
        try:
            self._sim.execute(
                SubmitOrderList(strategy_id=specs[0].strategy_id, order_list=order_list,
                                ts_event=now, ts_init=now)
            )  # fmt: skip
        except BaseException:  # it never reached the venue: the ids are free again
            for cid in answers:
                orders.in_flight.pop(cid, None)
                orders.submits.pop(cid, None)
            raise
        try:
            results = await asyncio.gather(
                *(self._wait(answer, "submit") for answer in answers.values()),
                return_exceptions=True,
            )
        finally:
            for cid, answer in answers.items():
                if orders.submits.get(cid) is answer:
                    del orders.submits[cid]
        refusals = [r for r in results if isinstance(r, BaseException)]
        if refusals:
            for cid in answers:
                order = orders.order(cid)
                if order is not None and order.is_open:
                    with contextlib.suppress(TradeForgeError):
                        await self.cancel(order.instrument_id, cid)
            raise refusals[0]
        missing = [cid for cid in answers if orders.order(cid) is None]
        if missing:
            raise UnknownOutcome(
                f"{self.venue} did not answer order list {order_list.order_list_id} in time "
                f"({', '.join(c.value for c in missing)} not found)",
                client_order_id=missing[0].value,
            )
        return [orders.report(cid) for cid in answers]

    async def cancel(
        self, instrument_id: InstrumentId, client_order_id: ClientOrderId
    ) -> OrderStatusReport:
        """See ``SimVenueClient.cancel``."""
        self._check_open()
        self._instrument(instrument_id)
        cid = client_order_id
        now = self._clock.timestamp_ns()
        command = CancelOrder(
            strategy_id=self._orders.strategy_of(cid),
            instrument_id=instrument_id,
            client_order_id=cid,
            ts_event=now,
            ts_init=now,
        )
        await self._command(command, self._orders.cancels, "cancel")
        order = self._orders.order(cid)
        if order is None or order.is_open:  # no answer, and nothing closed it
            raise UnknownOutcome(
                f"{self.venue} did not answer the cancel of {cid} in time",
                client_order_id=cid.value,
            )
        return self._orders.report(cid)

    async def modify(
        self,
        instrument_id: InstrumentId,
        client_order_id: ClientOrderId,
        *,
        quantity: Quantity | None = None,
        price: Price | None = None,
        trigger_price: Price | None = None,
    ) -> OrderStatusReport:
        """See ``SimVenueClient.modify``."""
        self._check_open()
        self._instrument(instrument_id)
        cid = client_order_id
        now = self._clock.timestamp_ns()
        try:
            command = ModifyOrder(
                strategy_id=self._orders.strategy_of(cid),
                instrument_id=instrument_id,
                client_order_id=cid,
                quantity=quantity,
                price=price,
                trigger_price=trigger_price,
                ts_event=now,
                ts_init=now,
            )
        except InvalidValue as exc:
            raise InvalidOrder(f"{self.venue} cannot modify {cid}: {exc}") from exc
        if not await self._command(command, self._orders.modifies, "modify"):
            raise UnknownOutcome(
                f"{self.venue} did not answer the modify of {cid} in time",
                client_order_id=cid.value,
            )
        return self._orders.report(cid)

    async def _command(
        self,
        command: CancelOrder | ModifyOrder,
        waiting: dict[ClientOrderId, list[asyncio.Future[bool]]],
        what: str,
    ) -> bool:
        cid = command.client_order_id
        answer = asyncio.get_running_loop().create_future()
        waiting.setdefault(cid, []).append(answer)
        try:
            self._sim.execute(command)
            return await self._wait(answer, what)
        finally:
            futures = waiting.get(cid)
            if futures is not None and answer in futures:
                futures.remove(answer)
                if not futures:
                    del waiting[cid]

    async def _wait(self, answer: asyncio.Future[bool], what: str) -> bool:
        """The venue's answer: True, or False when ``timeout_ns`` passed on the clock first."""
        if answer.done():
            return answer.result()
        name = self._timer_name(f"{what}-timeout")

        def expire(event: TimeEvent) -> None:
            if not answer.done():
                answer.set_result(False)

        self._clock.set_time_alert(name, self._clock.timestamp_ns() + self._timeout_ns, expire)
        try:
            return await answer
        finally:
            self._cancel_timer(name)

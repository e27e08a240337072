"""``ScriptedVenue``: a ``VenueClient`` whose venue a test drives step by step.

The venue holds the truth: the orders it took (quantity, price, status, filled) and every fill,
each with its own trade id. The test decides what the venue does (``fill``, ``close``) and what
reaches the node: ``push`` puts a report or a fill on the node's own-order stream (any number
of times, in any order, or never). How the venue answers the node's requests is set per call
kind in ``answers`` (``"ok"``, ``"lost"``: the venue acts and the answer is lost, ``"refused"``:
the venue refuses). ``connected = False`` loses what is pushed (a dropped stream). ``drained()``
waits until the node has handled everything pushed.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal

from tradeforge.connectors.errors import UnknownOutcome
from tradeforge.domain import (
    AccountBalance,
    AccountId,
    ClientOrderId,
    FillReport,
    Instrument,
    InstrumentId,
    InvalidOrder,
    LiquiditySide,
    Money,
    OrderSpec,
    OrderStatus,
    OrderStatusReport,
    OrderType,
    Price,
    Quantity,
    TradeId,
    TradeTick,
    UnknownOrder,
    VenueOrderId,
)
from tradeforge.execution import OrderUpdate, VenueCapabilities

_OPEN = (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)


@dataclass
class VenueOrder:
    """One order as the venue knows it."""

    spec: OrderSpec
    venue_order_id: VenueOrderId
    quantity: Quantity
    price: Price | None
    status: OrderStatus = OrderStatus.ACCEPTED
    filled: Decimal = Decimal(0)
    fills: list[FillReport] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status in _OPEN

    @property
    def leaves(self) -> Decimal:
        return self.quantity.as_decimal() - self.filled


class _Stream:
    """The node's own-order stream: what the test pushes, one at a time."""

    def __init__(self, readers: set[asyncio.Task[object]]) -> None:
        self.queue: asyncio.Queue[OrderUpdate] = asyncio.Queue()
        self.taken = False  # an update is with the node, not yet handled
        self._readers = readers

    def __aiter__(self) -> _Stream:
        return self

    async def __anext__(self) -> OrderUpdate:
        if self.taken:  # the node asks for the next one: the previous one is handled
            self.taken = False
        self._readers.add(asyncio.current_task())  # type: ignore[arg-type]
        item = await self.queue.get()
        self.taken = True
        return item


class ScriptedVenue:
    """See the module docstring."""

    capabilities = VenueCapabilities(modify_order=True)

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.venue = instrument.id.venue
        self.account_id = AccountId(f"{self.venue}-1")
        self.orders: dict[ClientOrderId, VenueOrder] = {}
        self.answers = {"submit": "ok", "cancel": "ok", "modify": "ok"}
        self._streams: list[_Stream] = []
        self._readers: set[asyncio.Task[object]] = set()
        self.connected = True
        self._ids = itertools.count(1)
        self._trade_ids = itertools.count(1)

    # ------------------------------------------------------------ the test's side
    def fill(self, cid: ClientOrderId, qty: Decimal, price: Decimal) -> FillReport:
        """The venue fills ``qty`` of an open order at ``price``."""
        order = self.orders[cid]
        assert order.is_open, order
        assert 0 < qty <= order.leaves, (order, qty)
        order.filled += qty
        order.status = OrderStatus.FILLED if not order.leaves else OrderStatus.PARTIALLY_FILLED
        report = FillReport(
            account_id=self.account_id, instrument_id=self.instrument.id,
            client_order_id=cid, venue_order_id=order.venue_order_id,
            trade_id=TradeId(f"T{next(self._trade_ids)}"), side=order.spec.side,
            last_qty=self.instrument.make_qty(qty), last_px=self.instrument.make_price(price),
            commission=Money(Decimal(0), self.instrument.quote_currency),
            liquidity_side=LiquiditySide.TAKER, ts_event=1, ts_init=1,
        )  # fmt: skip
        order.fills.append(report)
        return report

    def end(self, cid: ClientOrderId, status: OrderStatus) -> OrderStatusReport:
        """The venue ends an open order by itself (CANCELED or EXPIRED)."""
        order = self.orders[cid]
        assert order.is_open
        order.status = status
        return self.report(order)

    def push(self, update: OrderUpdate) -> None:
        """Deliver ``update`` on the node's own-order stream (lost while disconnected)."""
        if self.connected:
            for stream in self._streams:
                stream.queue.put_nowait(update)

    def forget_streams(self) -> None:
        """The node that read the streams is gone (a crash)."""
        self._streams.clear()

    async def drained(self) -> None:
        """Wait until the node has handled everything pushed, and every task that started
        has ended (only the node's stream readers wait on)."""
        me = asyncio.current_task()
        for _ in range(100_000):
            busy = [t for t in asyncio.all_tasks() if t is not me and t not in self._readers]
            if not busy and not any(s.taken or s.queue.qsize() for s in self._streams):
                return
            await asyncio.sleep(0)
        raise AssertionError(f"the node did not settle: {busy}")

    def report(self, order: VenueOrder) -> OrderStatusReport:
        """The venue's report of ``order`` now."""
        return OrderStatusReport(
            account_id=self.account_id, instrument_id=self.instrument.id,
            client_order_id=order.spec.client_order_id, venue_order_id=order.venue_order_id,
            side=order.spec.side, order_type=order.spec.order_type, status=order.status,
            quantity=order.quantity, filled_qty=self.instrument.make_qty(order.filled),
            time_in_force=order.spec.time_in_force, price=order.price, ts_event=1, ts_init=1,
        )  # fmt: skip

    # ------------------------------------------------------------ VenueClient
    async def connect(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def instruments(self) -> list[Instrument]:
        return [self.instrument]

    async def balances(self) -> list[AccountBalance]:
        return []

    async def submit(self, spec: OrderSpec) -> OrderStatusReport:
        answer = self.answers["submit"]
        if answer == "refused":
            raise InvalidOrder(f"{spec.client_order_id}: refused by the script")
        order = VenueOrder(spec, VenueOrderId(str(next(self._ids))), spec.quantity, spec.price)
        self.orders[spec.client_order_id] = order
        if answer == "lost":
            raise UnknownOutcome("the answer was lost", client_order_id=spec.client_order_id.value)
        return self.report(order)

    async def cancel(self, instrument_id: InstrumentId, cid: ClientOrderId) -> OrderStatusReport:
        order = self.orders.get(cid)
        if order is None or not order.is_open or self.answers["cancel"] == "refused":
            raise UnknownOrder(f"{cid} is not open")
        order.status = OrderStatus.CANCELED
        if self.answers["cancel"] == "lost":
            raise UnknownOutcome("the answer was lost", client_order_id=cid.value)
        return self.report(order)

    async def modify(
        self,
        instrument_id: InstrumentId,
        cid: ClientOrderId,
        *,
        quantity: Quantity | None = None,
        price: Price | None = None,
        trigger_price: Price | None = None,
    ) -> OrderStatusReport:
        order = self.orders.get(cid)
        wanted = quantity.as_decimal() if quantity is not None else None
        if (
            order is None
            or not order.is_open
            or self.answers["modify"] == "refused"
            or (wanted is not None and wanted <= order.filled)
        ):
            raise InvalidOrder(f"{cid}: modify refused")
        if quantity is not None:
            order.quantity = quantity
        if price is not None and order.spec.order_type is not OrderType.MARKET:
            order.price = price
        if self.answers["modify"] == "lost":
            raise UnknownOutcome("the answer was lost", client_order_id=cid.value)
        return self.report(order)

    async def order_status(
        self, instrument_id: InstrumentId, cid: ClientOrderId
    ) -> OrderStatusReport | None:
        order = self.orders.get(cid)
        return self.report(order) if order is not None else None

    async def open_orders(
        self, instrument_id: InstrumentId | None = None
    ) -> list[OrderStatusReport]:
        return [self.report(o) for o in self.orders.values() if o.is_open]

    async def fills(
        self, instrument_id: InstrumentId, *, since_ns: int | None = None
    ) -> list[FillReport]:
        return [f for o in self.orders.values() for f in o.fills]

    def trades(self, instrument_id: InstrumentId) -> AsyncIterator[TradeTick]:
        return self._silent()

    def order_updates(self) -> AsyncIterator[OrderUpdate]:
        stream = _Stream(self._readers)
        self._streams.append(stream)
        return stream

    async def _silent(self) -> AsyncIterator[TradeTick]:
        self._readers.add(asyncio.current_task())  # type: ignore[arg-type]
        await asyncio.Event().wait()
        return
        yield

"""``SimulatedVenue``: a venue in process — matching engines, an account, latency — that speaks
the domain's commands and events.

Commands reach it after the latency model's delay on the ``Clock`` it is given, so the same
class serves backtests (replay clock) and paper trading (live clock). It checks what a real venue
checks (tick, lot, minimums, post-only, reduce-only, balance), answers every command with events
(``OrderAccepted``, ``OrderRejected``, ``OrderFilled``, ...) and reports balances after each fill.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Final

from tradeforge.backtest.funds import VenueFunds
from tradeforge.backtest.matching import MatchingEngine
from tradeforge.backtest.models import FillModel, LatencyModel
from tradeforge.backtest.venue_account import VenueAccount
from tradeforge.backtest.working_order import WorkingOrder
from tradeforge.bus import Clock, TimeEvent
from tradeforge.domain import (
    CancelAllOrders,
    CancelOrder,
    ClientOrderId,
    Command,
    ContingencyType,
    Currency,
    CurrencyPair,
    Instrument,
    InstrumentId,
    InvalidValue,
    LiquiditySide,
    Message,
    ModifyOrder,
    OrderAccepted,
    OrderBookDelta,
    OrderBookSnapshot,
    OrderCanceled,
    OrderCancelRejected,
    OrderExpired,
    OrderFilled,
    OrderModifyRejected,
    OrderRejected,
    OrderSpec,
    OrderTriggered,
    OrderUpdated,
    PositionBook,
    PositionMode,
    Price,
    Quantity,
    QueryOrder,
    RejectReason,
    SubmitOrder,
    SubmitOrderList,
    TradeId,
    Venue,
)
from tradeforge.domain.notional import fill_amounts
from tradeforge.domain.orders.spec import OrderIds
from tradeforge.strategy import BarLike

__all__ = ["SimulatedVenue"]

_ZERO: Final = Decimal(0)  # shared: building a Decimal costs more than reading one

Emit = Callable[[Message], None]


class SimulatedVenue:
    """One simulated venue with one account."""

    def __init__(
        self,
        *,
        venue: Venue,
        account: VenueAccount,
        instruments: Iterable[Instrument],
        clock: Clock,
        emit: Emit,
        fill_model: FillModel | None = None,
        latency: LatencyModel | None = None,
        report_balances: bool = True,
    ) -> None:
        self.venue = venue
        self.report_balances = report_balances
        self.account = account
        self._clock = clock
        self._emit = emit
        self._latency = latency or LatencyModel()
        self.instruments = {inst.id: inst for inst in instruments}
        for inst in self.instruments.values():
            if inst.id.venue != venue:
                raise InvalidValue(f"instrument {inst.id} is not at venue {venue}")
        self.engines = {
            iid: MatchingEngine(inst, self, fill_model=fill_model, id_prefix=venue.value)
            for iid, inst in self.instruments.items()
        }
        self._positions = PositionBook(
            PositionMode.NETTING, self.instruments, account_id=account.id
        )
        # Funds checks and locks, with each instrument's constants worked out once.
        self._funds = VenueFunds(account, self.instruments)
        self._net = self._funds.net
        self._trade_ids = itertools.count(1)
        self._trade_prefix = f"{venue.value}-T"
        self._terms = self._funds.terms
        self._alerts = itertools.count(1)
        self._strategy_of: dict[ClientOrderId, OrderSpec] = {}

    # ------------------------------------------------------------ commands
    def execute(self, command: Command) -> None:
        """Receive a command now; it acts after the latency model's delay."""
        if type(command) is SubmitOrder and self._latency.submit_ns <= 0:
            self._submit(command.spec, self._clock.timestamp_ns(), held=False)
            return
        delay = self._delay(command)
        now = self._clock.timestamp_ns()
        if delay <= 0:
            self._run(command, now)
            return

        def deliver(event: TimeEvent, cmd: Command = command) -> None:
            self._run(cmd, event.ts_event)

        # The account's id in the name: several accounts at one venue may share a clock.
        name = f"{self.venue}-{self.account.id}-cmd-{next(self._alerts)}"
        self._clock.set_time_alert(name, now + delay, deliver)

    def _delay(self, command: Command) -> int:
        if isinstance(command, (SubmitOrder, SubmitOrderList)):
            return self._latency.submit_ns
        if isinstance(command, ModifyOrder):
            return self._latency.modify_ns
        return self._latency.cancel_ns

    def _run(self, command: Command, ts: int) -> None:
        if isinstance(command, SubmitOrder):
            self._submit(command.spec, ts, held=False)
        elif isinstance(command, SubmitOrderList):
            self._submit_list(command, ts)
        elif isinstance(command, CancelOrder):
            engine = self._engine(command.instrument_id)
            if engine.get(command.client_order_id) is None:
                self._emit(
                    OrderCancelRejected(
                        **self._command_ids(command),
                        reason=RejectReason.UNKNOWN_ORDER,
                        message="order is not working",
                        ts_event=ts,
                        ts_init=ts,
                    )
                )
            else:
                engine.cancel(command.client_order_id, ts, "canceled")
        elif isinstance(command, ModifyOrder):
            self._modify(command, ts)
        elif isinstance(command, CancelAllOrders):
            engine = self._engine(command.instrument_id)
            for order in engine.orders():
                mine = order.spec.strategy_id == command.strategy_id
                working = engine.get(order.id) is not None  # an OCO sibling may be gone by now
                if mine and working and (command.side is None or order.spec.side is command.side):
                    engine.cancel(order.id, ts, "canceled (all)")
        elif not isinstance(command, QueryOrder):  # state is always pushed: nothing to add
            raise InvalidValue(f"the simulated venue cannot execute {type(command).__name__}")

    @staticmethod
    def _command_ids(command: CancelOrder | ModifyOrder) -> OrderIds:
        return {
            "client_order_id": command.client_order_id,
            "strategy_id": command.strategy_id,
            "instrument_id": command.instrument_id,
        }

    def _modify(self, command: ModifyOrder, ts: int) -> None:
        engine = self._engine(command.instrument_id)
        order = engine.get(command.client_order_id)
        if order is None:
            self._emit(
                OrderModifyRejected(
                    **self._command_ids(command),
                    reason=RejectReason.UNKNOWN_ORDER,
                    message="order is not working",
                    ts_event=ts,
                    ts_init=ts,
                )
            )
            return
        lock: tuple[Currency, Decimal] | None = None
        if not order.held and (command.quantity is not None or command.price is not None):
            # A bigger or dearer order needs more funds locked, or the modify is refused.
            qty = command.quantity.as_decimal() if command.quantity is not None else order.quantity
            limit = command.price.as_decimal() if command.price is not None else order.price
            ref = limit if limit is not None else order.trigger
            ref = ref if ref is not None else engine.reference_price(order.is_buy)
            if ref is not None:
                spec = order.spec
                lock = self._funds.cost(
                    engine.instrument, spec.is_buy, qty - order.filled, ref, spec.reduce_only
                )
                if not self.account.can_relock(VenueFunds.lock_key(spec), lock[1]):
                    self._emit(
                        OrderModifyRejected(
                            **spec.ids(),
                            reason=RejectReason.INSUFFICIENT_BALANCE,
                            message=f"needs {lock[1]} {lock[0]}",
                            ts_event=ts,
                            ts_init=ts,
                        )
                    )
                    return
        applied = engine.modify(
            command.client_order_id,
            ts,
            quantity=command.quantity,
            price=command.price,
            trigger_price=command.trigger_price,
        )
        if applied and lock is not None:
            self.account.relock(VenueFunds.lock_key(order.spec), *lock)

    def _engine(self, instrument_id: InstrumentId) -> MatchingEngine:
        engine = self.engines.get(instrument_id)
        if engine is None:
            raise InvalidValue(f"{instrument_id} is not traded at {self.venue}")
        return engine

    def _submit(self, spec: OrderSpec, ts: int, *, held: bool) -> bool:
        """Accept or reject one order; True when accepted."""
        engine = self.engines.get(spec.instrument_id)
        if engine is None:
            self._reject(spec, RejectReason.UNKNOWN_INSTRUMENT, f"{spec.instrument_id} unknown", ts)
            return False
        if engine.get(spec.client_order_id) is not None:
            self._reject(spec, RejectReason.DUPLICATE_CLIENT_ORDER_ID, "Duplicate order sent.", ts)
            return False
        if not held:
            problem = self._funds.check(engine, spec)
            if problem is not None:
                self._reject(spec, problem[0], problem[1], ts)
                return False
        self._strategy_of[spec.client_order_id] = spec
        if engine.submit(spec, ts, held=held) is None:
            self.account.release(VenueFunds.lock_key(spec))
            self._strategy_of.pop(spec.client_order_id, None)
            return False
        return True

    def _submit_list(self, command: SubmitOrderList, ts: int) -> None:
        orders = command.order_list.orders
        children: set[ClientOrderId] = set()
        for spec in orders:
            if spec.contingency_type is ContingencyType.OTO:
                children.update(spec.linked_order_ids)
        # Held children first, so a parent that fills at once finds them to release.
        for spec in orders:
            if spec.client_order_id in children:
                self._submit(spec, ts, held=True)
        for spec in orders:
            if spec.client_order_id not in children and not self._submit(spec, ts, held=False):
                engine = self.engines[spec.instrument_id]
                for child in spec.linked_order_ids:
                    if engine.get(child) is not None:
                        engine.cancel(child, ts, "parent order was rejected")

    # --------------------------------------------------------- market data
    def on_bar(self, instrument_id: InstrumentId, bar: BarLike) -> None:
        """A bar closed in ``instrument_id``."""
        self.engines[instrument_id].on_bar(bar)

    def on_trade(self, instrument_id: InstrumentId, price: Price, size: Quantity, ts: int) -> None:
        """A trade printed in ``instrument_id``."""
        self.engines[instrument_id].on_trade(price, size, ts)

    def on_quote(
        self,
        instrument_id: InstrumentId,
        bid: Price,
        ask: Price,
        *,
        bid_size: Quantity,
        ask_size: Quantity,
        ts: int,
    ) -> None:
        """The best bid/ask of ``instrument_id`` changed."""
        self.engines[instrument_id].on_quote(bid, ask, bid_size, ask_size, ts)

    def on_book(self, update: OrderBookSnapshot | OrderBookDelta) -> None:
        """A level-2 snapshot or delta of one instrument's book."""
        self.engines[update.instrument_id].on_book(update)

    # ------------------------------------------------- matching engine port
    def _reject(self, spec: OrderSpec, reason: RejectReason, message: str, ts: int) -> None:
        self._emit(
            OrderRejected(
                **spec.ids(),
                account_id=self.account.id,
                reason=reason,
                message=message,
                ts_event=ts,
                ts_init=ts,
            )
        )

    def order_accepted(self, order: WorkingOrder, ts: int) -> None:
        spec = order.spec
        self._emit(
            OrderAccepted(
                client_order_id=spec.client_order_id,
                strategy_id=spec.strategy_id,
                instrument_id=spec.instrument_id,
                account_id=self.account.id,
                venue_order_id=order.venue_order_id,
                ts_event=ts,
                ts_init=ts,
            )
        )

    def order_rejected(self, spec: OrderSpec, reason: RejectReason, message: str, ts: int) -> None:
        self._reject(spec, reason, message, ts)

    def order_triggered(self, order: WorkingOrder, ts: int) -> None:
        self._emit(OrderTriggered(**order.spec.ids(), ts_event=ts, ts_init=ts))

    def order_canceled(self, order: WorkingOrder, reason: str, ts: int) -> None:
        self.account.release(VenueFunds.lock_key(order.spec))
        self._strategy_of.pop(order.id, None)
        self._emit(OrderCanceled(**order.spec.ids(), reason=reason, ts_event=ts, ts_init=ts))

    def order_expired(self, order: WorkingOrder, ts: int) -> None:
        self.account.release(VenueFunds.lock_key(order.spec))
        self._strategy_of.pop(order.id, None)
        self._emit(OrderExpired(**order.spec.ids(), ts_event=ts, ts_init=ts))

    def order_updated(self, order: WorkingOrder, ts: int) -> None:
        inst = self.instruments[order.spec.instrument_id]
        self._emit(
            OrderUpdated(
                **order.spec.ids(),
                quantity=inst.make_qty(order.quantity),
                price=inst.make_price(order.price) if order.price is not None else None,
                trigger_price=inst.make_price(order.trigger) if order.trigger is not None else None,
                ts_event=ts,
                ts_init=ts,
            )
        )

    def modify_rejected(
        self, client_order_id: ClientOrderId, reason: RejectReason, message: str, ts: int
    ) -> None:
        spec = self._strategy_of.get(client_order_id)
        if spec is not None:
            self._emit(
                OrderModifyRejected(
                    **spec.ids(), reason=reason, message=message, ts_event=ts, ts_init=ts
                )
            )

    def cancel_rejected(
        self, client_order_id: ClientOrderId, reason: RejectReason, message: str, ts: int
    ) -> None:
        spec = self._strategy_of.get(client_order_id)
        if spec is not None:
            self._emit(
                OrderCancelRejected(
                    **spec.ids(), reason=reason, message=message, ts_event=ts, ts_init=ts
                )
            )

    def fill_refusal(
        self, order: WorkingOrder, quantity: Decimal, price: Decimal
    ) -> RejectReason | None:
        spec = order.spec
        inst = self.instruments[spec.instrument_id]
        if spec.reduce_only and self._funds.increases(spec, quantity):
            return RejectReason.REDUCE_ONLY_WOULD_INCREASE
        is_buy = order.is_buy
        if self._funds.sells_more_than_held(inst, is_buy, quantity):
            return RejectReason.INSUFFICIENT_BALANCE
        currency, cost = self._funds.cost(inst, is_buy, quantity, price, spec.reduce_only)
        available = self.account.free(currency) + self.account.locked_under(
            VenueFunds.lock_key(spec)
        )
        return RejectReason.INSUFFICIENT_BALANCE if cost > available else None

    def order_filled(
        self,
        order: WorkingOrder,
        quantity: Decimal,
        price: Decimal,
        liquidity: LiquiditySide,
        ts: int,
    ) -> None:
        spec = order.spec
        inst = self.instruments[spec.instrument_id]
        terms = self._terms.get(inst.id)
        # The matching engine only fills on tick and lot: no rounding to check here.
        if terms is not None:
            qty = Quantity.from_decimal(quantity, terms.size_precision)
            px = Price.from_decimal(price, terms.price_precision)
        else:
            qty = Quantity.from_decimal(quantity, inst.size_precision)
            px = Price.from_decimal(price, inst.price_precision)
        notional, fee = fill_amounts(inst, qty.as_decimal(), px.as_decimal(), liquidity)
        fill = OrderFilled(
            client_order_id=spec.client_order_id,
            strategy_id=spec.strategy_id,
            instrument_id=spec.instrument_id,
            account_id=self.account.id,
            venue_order_id=order.venue_order_id,
            # The venue's own prefix and a counter: a valid id by construction.
            trade_id=TradeId(f"{self._trade_prefix}{next(self._trade_ids)}", _checked=True),
            order_side=spec.side,
            order_type=spec.order_type,
            last_qty=qty,
            last_px=px,
            commission=fee,
            liquidity_side=liquidity,
            ts_event=ts,
            ts_init=ts,
        )
        key = VenueFunds.lock_key(spec)
        is_buy = order.is_buy
        account = self.account
        fee_currency = fee.currency
        if (
            not self.report_balances
            and terms is not None
            and terms.spot
            and terms.base is not None
            and terms.account_type is account.type
            and (fee_currency is terms.quote or fee_currency == terms.quote)
            and terms.base in account._total
            and terms.quote in account._total
        ):
            # A spot pair's fill, fee in the quote: what settle_spot and use do, in one go.
            amount = notional.amount
            account._settle_spot_pair(
                terms.base,
                terms.quote,
                is_buy=is_buy,
                qty=quantity,
                notional=amount,
                fee=fee.amount,
            )
            account.use(key, amount + fee.amount if is_buy else quantity)
            self._net[inst.id] += quantity if is_buy else -quantity
            if order.quantity - order.filled <= _ZERO:
                account.release(key)
                self._strategy_of.pop(order.id, None)
            self._emit(fill)
            return
        if self.account.uses_margin(inst.kind):
            _, realized = self._positions.apply(fill)
            changed = self.account.settle_margin(realized, fee)
            self.account.use(
                key, self._funds.cost(inst, is_buy, quantity, price, spec.reduce_only)[1]
            )
        else:
            base = inst.base_currency if isinstance(inst, CurrencyPair) else None
            changed = self.account.settle_spot(base, is_buy, quantity, notional, fee)
            self.account.use(key, notional.amount + fee.amount if is_buy else quantity)
        self._net[inst.id] += quantity if is_buy else -quantity
        if order.leaves <= _ZERO:
            self.account.release(key)
            self._strategy_of.pop(order.id, None)
        self._emit(fill)
        if self.report_balances:
            self._emit(self.account.to_event(ts, changed))

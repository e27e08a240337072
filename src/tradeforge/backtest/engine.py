"""``BacktestEngine``: the backtest node — replays bar feeds through strategies, pre-trade risk,
the order manager and the simulated venue, on a replay clock, and records what happened.

Every step is the event-driven path live trading takes: a strategy hook submits an order, risk
checks it, the order manager journals its state, the venue (after its latency, on the clock)
matches it against the next data, and fills flow back as events to positions, the equity ledger
and the strategy. Several feeds are merged in time order, a window of bars at a time.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Final

import numpy as np
import structlog

from tradeforge.backtest.algos import BacktestAlgos
from tradeforge.backtest.context import BacktestContext
from tradeforge.backtest.equity import EquityRecorder
from tradeforge.backtest.feed import BarFeed
from tradeforge.backtest.replay import Progress, ReplayLoop
from tradeforge.backtest.trades import TradeRecorder
from tradeforge.backtest.venue import SimulatedVenue
from tradeforge.bus import InMemoryBus, ReplayClock, TimeEvent, escape_token, join_topic
from tradeforge.domain import (
    AccountStateChanged,
    CancelAllOrders,
    CancelOrder,
    ClientOrderId,
    Currency,
    DenyReason,
    Instrument,
    InstrumentId,
    InvalidValue,
    Message,
    ModifyOrder,
    Money,
    OrderDenied,
    OrderEvent,
    OrderFilled,
    OrderList,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderSide,
    OrderSpec,
    OrderStatus,
    OrderSubmitted,
    Position,
    PositionBook,
    PositionMode,
    Price,
    Quantity,
    StrategyError,
    StrategyId,
    SubmitOrder,
    SubmitOrderList,
    Timeframe,
)
from tradeforge.execution import ExecutionReport
from tradeforge.strategy import Strategy
from tradeforge.strategy.base import own_hook
from tradeforge.trading import OrderManager, RiskEngine

__all__ = ["BacktestEngine"]

_log = structlog.get_logger("tradeforge.backtest")
_Denial = tuple[DenyReason, str]
_Hook = Callable[[Any], None]
_ZERO: Final = Decimal(0)
_ONE: Final = Decimal(1)


def _id_prefixes(strategies: Sequence[Strategy]) -> list[str]:
    """A distinct client-order-id prefix per strategy (ids are capped at 36 characters)."""
    prefixes: list[str] = []
    for n, strategy in enumerate(strategies, start=1):
        prefix = strategy.id.value[:24]
        if prefix in prefixes:
            prefix = f"{strategy.id.value[:20]}~{n}"
        prefixes.append(prefix)
    return prefixes


class BacktestEngine(ReplayLoop):
    """One backtest run: feeds, strategies, one simulated venue."""

    def __init__(
        self,
        *,
        clock: ReplayClock,
        venue_factory: Callable[[ReplayClock, Callable[[Message], None]], SimulatedVenue],
        feeds: Sequence[BarFeed],
        strategies: Sequence[Strategy],
        base_currency: Currency,
        initial_equity: Decimal,
        risk: RiskEngine | None = None,
        bus: InMemoryBus | None = None,
        stride: int = 1,
        capacity: int = 1 << 16,
    ) -> None:
        self.clock = clock
        self.bus = bus or InMemoryBus()
        self.venue = venue_factory(clock, self._on_event)
        self.instruments: dict[InstrumentId, Instrument] = dict(self.venue.instruments)
        self.feeds = list(feeds)
        self.strategies = list(strategies)
        self.base_currency = base_currency
        self.initial_equity = initial_equity
        self.risk = risk or RiskEngine(clock=clock)
        self._risk_tracks = self.risk.tracking  # then it must see every order event
        self.oms = OrderManager(keep_closed=10_000)
        self.positions = PositionBook(PositionMode.NETTING, self.instruments)
        self._netting = self.positions.mode is PositionMode.NETTING
        self.trades = TradeRecorder(self.instruments)
        instrument_ids = list(self.instruments)
        self.equity = EquityRecorder(
            instrument_ids,
            float(initial_equity),
            [s.id for s in strategies],
            stride=stride,
            capacity=capacity,
        )
        self.errors: list[StrategyError] = []
        self.fees = Money.zero(base_currency)
        self.fills = 0
        self._fees_by: dict[StrategyId, Decimal] = {}
        self._column = {iid: k for k, iid in enumerate(instrument_ids)}
        self._by_id = {s.id: s for s in strategies}
        if len(self._by_id) != len(self.strategies):
            raise InvalidValue("every strategy in a run needs its own strategy_id")
        self._stopped: set[StrategyId] = set()
        self._contexts = {
            s.id: BacktestContext(self, s, prefix)
            for s, prefix in zip(strategies, _id_prefixes(strategies), strict=True)
        }
        self._subs = {}  # declared by ReplayLoop: once only (see test_attribute_declarations)
        self._subs_changes = 0
        # Per running strategy: its on_order and on_fill hooks, None where the strategy keeps
        # the base class's (which does nothing, so it is not called).
        self._hooks: dict[StrategyId, tuple[Strategy, _Hook | None, _Hook | None]] = {}
        self._publish = self.bus.publish
        self._execute = self.venue.execute
        self._positions_by: dict[tuple[StrategyId, InstrumentId], Position] = {}
        self._step = 0
        self._windows = 0
        self._last_close = np.full(len(instrument_ids), np.nan)
        # Parent orders (``backtest.algos``): ``algos`` serves ``submit_algo`` and keeps every
        # parent's report; ``_algos`` is the same runner while a parent runs, else None, so
        # order events cost one check when none does.
        self.algos = BacktestAlgos(self)
        self._algos: BacktestAlgos | None = None

    # ----------------------------------------------------------------- wiring
    def feed_for(self, instrument_id: InstrumentId, timeframe: Timeframe | None) -> BarFeed:
        """The feed of an instrument (and timeframe, when several are loaded)."""
        for feed in self.feeds:
            if feed.instrument_id == instrument_id and timeframe in (None, feed.timeframe):
                return feed
        raise InvalidValue(f"no bars for {instrument_id} {timeframe or ''} in this backtest")

    def _subscribe(self) -> None:
        self._subs_changes += 1
        algos = self._algos
        for k, feed in enumerate(self.feeds):
            # A running parent's bars reach it first (``BacktestAlgos.bar_hooks``).
            first = algos.bar_hooks(feed.instrument_id) if algos is not None else ()
            self._subs[k] = first + tuple(
                (s, s.on_bar)
                for s in self.strategies
                if s.id not in self._stopped and feed.instrument_id in s.instrument_ids
            )
        self._hooks = {
            s.id: (s, own_hook(s, "on_order"), own_hook(s, "on_fill"))
            for s in self.strategies
            if s.id not in self._stopped
        }

    # --------------------------------------------------------------- the run
    def run(self, progress: Progress | None = None) -> None:
        """Replay every feed to its end."""
        # The cyclic collector's full scans grow with the heap a long run builds (orders,
        # events, positions): run it on the young generations every few windows instead.
        automatic = gc.isenabled()
        gc.disable()
        try:
            self._run(progress)
        finally:
            if automatic:
                gc.enable()

    def _run(self, progress: Progress | None) -> None:
        for strategy in self.strategies:
            strategy.bind(self._contexts[strategy.id], list(self.instruments))
            self._call(strategy, "on_start", strategy.on_start)
        self._subscribe()
        active = [k for k, feed in enumerate(self.feeds) if feed.load_next()]
        while active:
            self._window(active, progress)
            active = [
                k
                for k in active
                if self.feeds[k].pos < self.feeds[k].n or self.feeds[k].load_next()
            ]
        if self._algos is not None:
            # Before ``on_stop``: the strategies see their parents' final reports.
            self._algos.stop_all("the backtest ended")
        for strategy in self.strategies:
            if strategy.id not in self._stopped:
                self._call(strategy, "on_stop", strategy.on_stop)

    # --------------------------------------------------------------- events
    def _on_event(self, event: Message) -> None:
        if isinstance(event, OrderEvent):
            self._on_order_event(event)
        elif isinstance(event, AccountStateChanged):
            self.bus.publish("events.account", event)

    def _on_order_event(self, event: OrderEvent) -> None:
        self.oms.apply(event)
        if self._risk_tracks:
            self.risk.on_order_event(event)
        filled = type(event) is OrderFilled
        if filled:
            self._book_fill(event)  # type: ignore[arg-type]
        self._publish("events.orders", event)
        algos = self._algos
        if algos is not None:  # a parent runs: its children's fills and ends go to it
            algos.on_order_event(event)
        hooks = self._hooks.get(event.strategy_id)
        if hooks is None:  # not ours, or stopped
            return
        strategy, on_order, on_fill = hooks
        if on_order is not None:
            self._call(strategy, "on_order", on_order, event)
        if filled and on_fill is not None and strategy.id not in self._stopped:
            self._call(strategy, "on_fill", on_fill, event)

    def _book_fill(self, fill: OrderFilled) -> None:
        sid, iid = fill.strategy_id, fill.instrument_id
        key = (sid, iid)
        before = self._positions_by.get(key)
        if before is not None and self._netting and fill.position_side is None:
            # What the book would do with it: the fill goes to this very position.
            before_qty = before.signed_qty
            position, realized = before, before.apply(fill)
        else:
            before_qty = before.signed_qty if before is not None else _ZERO
            position, realized = self.positions.apply(fill)
            self._positions_by[key] = position
        self.trades.on_fill(fill, before_qty, realized)
        fee = fill.commission
        fee_currency = fee.currency
        base = self.base_currency
        paid = fee.amount if fee_currency is base or fee_currency == base else _ZERO
        if fee_currency is self.fees.currency or fee_currency == self.fees.currency:
            self.fees = self.fees + fee
            fees_by = self._fees_by
            fees_by[sid] = fees_by.get(sid, _ZERO) + paid
        self.fills += 1
        qty = position.signed_qty
        cost = position.cost.amount if qty >= _ZERO else -position.cost.amount
        multiplier = position.instrument.multiplier.as_decimal()
        self.equity.update(
            sid,
            iid,
            signed_qty=float(qty if multiplier == _ONE else qty * multiplier),
            signed_cost=float(cost),
            cash_delta=float(realized.amount - paid),
            step=self._step,
        )

    # ------------------------------------------------------ strategy commands
    def submit(self, strategy: Strategy, spec: OrderSpec) -> None:
        """Risk-check, journal and send one order of ``strategy``."""
        if not self._accept_command(strategy, spec):
            return
        now = self.clock.timestamp_ns()
        self._submitted(spec, now)
        self._execute(SubmitOrder(strategy_id=strategy.id, spec=spec, ts_event=now, ts_init=now))

    def submit_list(self, strategy: Strategy, order_list: OrderList) -> None:
        """Risk-check, journal and send a contingent group (all or none)."""
        now = self.clock.timestamp_ns()
        for spec in order_list.orders:
            self.oms.create(spec, now)
        for spec in order_list.orders:
            denial = self._denial(spec)
            if denial is not None:
                for other in order_list.orders:
                    self._deny(other, *denial, now)
                return
        for spec in order_list.orders:
            self._submitted(spec, now)
        command = SubmitOrderList(
            strategy_id=strategy.id, order_list=order_list, ts_event=now, ts_init=now
        )
        self.venue.execute(command)

    def _accept_command(self, strategy: Strategy, spec: OrderSpec) -> bool:
        now = self.clock.timestamp_ns()
        if spec.strategy_id is not strategy.id and spec.strategy_id != strategy.id:
            raise InvalidValue(f"order {spec.client_order_id} belongs to {spec.strategy_id}")
        self.oms.create(spec, now)
        denial = self._denial(spec)
        if denial is not None:
            self._deny(spec, *denial, now)
            return False
        return True

    def _denial(self, spec: OrderSpec) -> _Denial | None:
        instrument = self.instruments.get(spec.instrument_id)
        if instrument is None:
            return DenyReason.UNKNOWN_INSTRUMENT, f"{spec.instrument_id} is not in this backtest"
        risk = self.risk
        reference = self.last_price(spec.instrument_id) if risk.needs_reference else None
        return risk.check(spec, instrument, reference)

    def _deny(self, spec: OrderSpec, reason: DenyReason, message: str, ts: int) -> None:
        self._on_order_event(
            OrderDenied(
                client_order_id=spec.client_order_id,
                strategy_id=spec.strategy_id,
                instrument_id=spec.instrument_id,
                reason=reason,
                message=message,
                ts_event=ts,
                ts_init=ts,
            )
        )

    def _submitted(self, spec: OrderSpec, ts: int) -> None:
        self._on_order_event(
            OrderSubmitted(
                client_order_id=spec.client_order_id,
                strategy_id=spec.strategy_id,
                instrument_id=spec.instrument_id,
                account_id=self.venue.account.id,
                ts_event=ts,
                ts_init=ts,
            )
        )

    def cancel(self, strategy: Strategy, client_order_id: ClientOrderId) -> None:
        """Ask the venue to cancel one of the strategy's open orders."""
        order = self.oms.get(client_order_id)
        if order is None or order.strategy_id != strategy.id or order.is_closed:
            return
        now = self.clock.timestamp_ns()
        if order.status is not OrderStatus.PENDING_CANCEL:
            self._on_order_event(OrderPendingCancel(**order.spec.ids(), ts_event=now, ts_init=now))
        self.venue.execute(
            CancelOrder(
                strategy_id=strategy.id,
                instrument_id=order.instrument_id,
                client_order_id=client_order_id,
                ts_event=now,
                ts_init=now,
            )
        )

    def cancel_all(
        self, strategy: Strategy, instrument_id: InstrumentId, side: OrderSide | None
    ) -> None:
        """Cancel every open order of the strategy in one instrument."""
        now = self.clock.timestamp_ns()
        self.venue.execute(
            CancelAllOrders(
                strategy_id=strategy.id,
                instrument_id=instrument_id,
                side=side,
                ts_event=now,
                ts_init=now,
            )
        )

    def modify(
        self,
        strategy: Strategy,
        client_order_id: ClientOrderId,
        *,
        quantity: Quantity | None,
        price: Price | None,
        trigger_price: Price | None,
    ) -> None:
        """Ask the venue to change one of the strategy's open orders."""
        order = self.oms.get(client_order_id)
        if order is None or order.strategy_id != strategy.id or not order.is_open:
            return
        now = self.clock.timestamp_ns()
        self._on_order_event(OrderPendingUpdate(**order.spec.ids(), ts_event=now, ts_init=now))
        self.venue.execute(
            ModifyOrder(
                strategy_id=strategy.id,
                instrument_id=order.instrument_id,
                client_order_id=client_order_id,
                quantity=quantity,
                price=price,
                trigger_price=trigger_price,
                ts_event=now,
                ts_init=now,
            )
        )

    def set_timer(
        self,
        strategy: Strategy,
        name: str,
        interval_ns: int,
        callback: Callable[[TimeEvent], None] | None,
    ) -> None:
        """A timer of the strategy on the replay clock."""
        target = callback or strategy.on_timer

        def fire(event: TimeEvent) -> None:
            if strategy.id not in self._stopped:
                # The strategy named the timer; the clock's name also carries the strategy id.
                own = TimeEvent(name=name, ts_event=event.ts_event, ts_init=event.ts_init)
                self._call(strategy, "on_timer", target, own)

        self.clock.set_timer(f"{strategy.id}:{name}", interval_ns, fire)

    def algos_active(self, algos: BacktestAlgos | None) -> None:
        """``algos`` runs a parent now (None: none runs): order events and bars follow."""
        if algos is not self._algos:
            self._algos = algos
            self._subscribe()
        elif algos is not None:
            self._subscribe()  # the instruments of the running parents may have changed

    def publish_algo_report(self, strategy: Strategy, report: ExecutionReport) -> None:
        """A parent's progress: on ``events.algos.<strategy>`` and to its ``on_algo``."""
        self.bus.publish(join_topic("events", "algos", escape_token(strategy.id.value)), report)
        if strategy.id not in self._stopped:
            self._call(strategy, "on_algo", strategy.on_algo, report)

    def log(self, strategy: Strategy, message: str, **fields: object) -> None:
        """A log line stamped with the strategy and replay time."""
        _log.info(message, strategy=str(strategy.id), ts=self.clock.timestamp_ns(), **fields)

    # ------------------------------------------------------------- queries
    def position(self, strategy_id: StrategyId, instrument_id: InstrumentId) -> Position | None:
        """The strategy's position in the instrument."""
        known = self._positions_by.get((strategy_id, instrument_id))
        if known is not None:
            return known
        return self.positions.get(self.positions.position_id(instrument_id, strategy_id))

    def strategy_fees(self, strategy_id: StrategyId) -> Decimal:
        """Commissions the strategy's fills paid, in the base currency."""
        return self._fees_by.get(strategy_id, _ZERO)

    def last_price(self, instrument_id: InstrumentId) -> Price | None:
        """The last price the venue saw."""
        engine = self.venue.engines.get(instrument_id)
        last = engine.last_price if engine is not None else None
        return Price(last) if last is not None else None

    def equity_now(self, strategy_id: StrategyId | None = None) -> Money:
        """Starting equity plus realized PnL, minus fees, plus unrealized PnL at last prices
        (of one strategy, as if it had the starting equity to itself, or of the run)."""
        fees = self.fees.amount if strategy_id is None else self.strategy_fees(strategy_id)
        total = self.initial_equity - fees
        for position in self.positions:
            if strategy_id is not None and position.strategy_id != strategy_id:
                continue
            total += position.realized_pnl.amount
            mark = self.last_price(position.instrument.id)
            if mark is not None and not position.is_flat:
                total += position.unrealized_pnl(mark).amount
        return Money.rounded(total, self.base_currency)

    # ----------------------------------------------------------- user code
    def _call(self, strategy: Strategy, hook: str, fn: Callable[..., None], *args: object) -> None:
        try:
            fn(*args)
        except Exception as exc:
            self._fail(strategy, hook, exc)

    def _fail(self, strategy: Strategy, hook: str, exc: Exception) -> None:
        error = StrategyError(str(strategy.id), hook, self.clock.timestamp_ns(), exc)
        self.errors.append(error)
        _log.error("strategy failed", strategy=str(strategy.id), hook=hook, error=repr(exc))
        self._stopped.add(strategy.id)
        if self._algos is not None:  # its parents stop with it (their children are canceled)
            self._algos.cancel_strategy(strategy.id, f"strategy failed in {hook}")
        self._subscribe()
        for instrument_id in self.instruments:
            self.cancel_all(strategy, instrument_id, None)

"""Test kit for the simulated venue: bars, a recording match listener, and engines and venues
wired by hand on a replay clock.

``RecordingListener`` is a real ``MatchListener``: it keeps every callback of a matching engine,
in order, as small records, and refuses fills for the orders a test names. Records compare
without their time (``ts``), so a test states what happened and checks times only where they are
the point: ``Filled("O-1", D("1"), D("95.00"), MAKER)``.

``Tape`` feeds one-minute bars from ``T0`` (a UTC midnight); ``tape.now`` is the close of the
last bar, when a strategy would decide. ``VenueHarness`` wires a ``SimulatedVenue`` to a
``ReplayClock`` and collects what it emits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

from tests.kit.stubs import ACCOUNT, BTCUSDT, STRATEGY, USDT, btcusdt

from tradeforge.backtest import (
    FillModel,
    LatencyModel,
    MatchingEngine,
    SimulatedVenue,
    VenueAccount,
)
from tradeforge.backtest.working_order import WorkingOrder
from tradeforge.bus import ReplayClock
from tradeforge.domain import (
    AccountType,
    CancelAllOrders,
    CancelOrder,
    ClientOrderId,
    ClientOrderIdGenerator,
    Currency,
    Instrument,
    InstrumentId,
    LiquiditySide,
    Message,
    ModifyOrder,
    Money,
    OrderFactory,
    OrderList,
    OrderSide,
    OrderSpec,
    Price,
    Quantity,
    RejectReason,
    StrategyId,
    SubmitOrder,
    SubmitOrderList,
    Timeframe,
)
from tradeforge.strategy import BarLike

__all__ = [
    "MAKER",
    "MINUTE",
    "T0",
    "TAKER",
    "Accepted",
    "CancelRejected",
    "Canceled",
    "D",
    "Expired",
    "Filled",
    "ModifyRejected",
    "Record",
    "RecordingListener",
    "Rejected",
    "StubBar",
    "Tape",
    "Triggered",
    "Updated",
    "VenueHarness",
    "bar",
    "make_engine",
    "order_factory",
]

ONE_MINUTE = Timeframe(1, "m")
T0 = 1_704_067_200_000_000_000  # 2024-01-01T00:00:00Z, a UTC midnight, in ns
MINUTE = 60_000_000_000
MAKER, TAKER = LiquiditySide.MAKER, LiquiditySide.TAKER
D = Decimal


# bars


@dataclass(frozen=True, slots=True)
class StubBar:
    """A ``BarLike`` (what the matching engine reads of a bar); ``ts_event`` is the close time."""

    open: Price
    high: Price
    low: Price
    close: Price
    volume: Quantity
    ts_event: int
    ts_open: int
    instrument_id: InstrumentId = BTCUSDT
    timeframe: Timeframe = ONE_MINUTE


def bar(
    o: str, h: str, low: str, c: str, *, volume: str = "1000", ts_open: int = T0, minutes: int = 1
) -> StubBar:
    """A bar from exact strings, opening at ``ts_open`` and lasting ``minutes``."""
    return StubBar(
        open=Price(o),
        high=Price(h),
        low=Price(low),
        close=Price(c),
        volume=Quantity(volume),
        ts_event=ts_open + minutes * MINUTE,
        ts_open=ts_open,
        timeframe=Timeframe(minutes, "m"),
    )


class Tape:
    """Feeds one-minute bars back to back from ``start``, advancing ``clock`` (if given) to each
    bar's open before the bar and to its close after it, as the backtest engine does."""

    def __init__(
        self, feed: Callable[[BarLike], None], *, start: int = T0, clock: ReplayClock | None = None
    ) -> None:
        self._feed: Callable[[BarLike], None] = feed
        self._clock = clock
        self.now = start

    def bar(self, o: str, h: str, low: str, c: str, *, volume: str = "1000") -> StubBar:
        """Feed the next bar; returns it."""
        the_bar = bar(o, h, low, c, volume=volume, ts_open=self.now)
        if self._clock is not None:
            self._clock.advance_to(the_bar.ts_open)
        self._feed(the_bar)
        if self._clock is not None:
            self._clock.advance_to(the_bar.ts_event)
        self.now = the_bar.ts_event
        return the_bar

    def flat(self, price: str, *, volume: str = "1000") -> StubBar:
        """Feed a bar that never leaves ``price``."""
        return self.bar(price, price, price, price, volume=volume)

    def skip_to(self, ts: int) -> None:
        """Let time pass without bars: the next bar opens at ``ts``."""
        if ts < self.now:
            raise ValueError(f"cannot skip back from {self.now} to {ts}")
        self.now = ts


# what a matching engine said


@dataclass(frozen=True, slots=True)
class Accepted:
    order_id: str
    ts: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Rejected:
    order_id: str
    reason: RejectReason
    ts: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Triggered:
    order_id: str
    ts: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Filled:
    order_id: str
    qty: Decimal
    price: Decimal
    liquidity: LiquiditySide
    ts: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Canceled:
    order_id: str
    reason: str
    ts: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Expired:
    order_id: str
    ts: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Updated:
    order_id: str
    quantity: Decimal
    price: Decimal | None = None
    trigger: Decimal | None = None
    ts: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class ModifyRejected:
    order_id: str
    reason: RejectReason
    ts: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class CancelRejected:
    order_id: str
    reason: RejectReason
    ts: int = field(default=0, compare=False)


Record = (
    Accepted
    | Rejected
    | Triggered
    | Filled
    | Canceled
    | Expired
    | Updated
    | ModifyRejected
    | CancelRejected
)
R = TypeVar("R", bound=Record)


class RecordingListener:
    """A ``MatchListener`` that records every callback in order and refuses fills on demand."""

    def __init__(self) -> None:
        self.calls: list[Record] = []
        self.fill_queries: list[tuple[str, Decimal, Decimal]] = []
        self._refusals: dict[str, RejectReason] = {}

    # test controls and views
    def refuse_fills(
        self, order_id: str, reason: RejectReason = RejectReason.INSUFFICIENT_BALANCE
    ) -> None:
        """From now on, answer every fill of ``order_id`` with ``reason``."""
        self._refusals[order_id] = reason

    def of(self, order_id: str) -> list[Record]:
        """Callbacks about one order."""
        return [call for call in self.calls if call.order_id == order_id]

    def only(self, kind: type[R]) -> list[R]:
        """Callbacks of one kind."""
        return [call for call in self.calls if isinstance(call, kind)]

    def fills(self, order_id: str | None = None) -> list[Filled]:
        """Fills (of one order, or all)."""
        return [f for f in self.only(Filled) if order_id is None or f.order_id == order_id]

    def filled_qty(self, order_id: str) -> Decimal:
        """Quantity filled so far for ``order_id``."""
        return sum((f.qty for f in self.fills(order_id)), Decimal(0))

    def clear(self) -> None:
        """Forget what was recorded (refusals stay)."""
        self.calls.clear()
        self.fill_queries.clear()

    # the MatchListener protocol
    def order_accepted(self, order: WorkingOrder, ts: int) -> None:
        self.calls.append(Accepted(order.id.value, ts))

    def order_rejected(self, spec: OrderSpec, reason: RejectReason, message: str, ts: int) -> None:
        self.calls.append(Rejected(spec.client_order_id.value, reason, ts))

    def order_triggered(self, order: WorkingOrder, ts: int) -> None:
        self.calls.append(Triggered(order.id.value, ts))

    def order_filled(
        self,
        order: WorkingOrder,
        quantity: Decimal,
        price: Decimal,
        liquidity: LiquiditySide,
        ts: int,
    ) -> None:
        self.calls.append(Filled(order.id.value, quantity, price, liquidity, ts))

    def order_canceled(self, order: WorkingOrder, reason: str, ts: int) -> None:
        self.calls.append(Canceled(order.id.value, reason, ts))

    def order_expired(self, order: WorkingOrder, ts: int) -> None:
        self.calls.append(Expired(order.id.value, ts))

    def order_updated(self, order: WorkingOrder, ts: int) -> None:
        self.calls.append(Updated(order.id.value, order.quantity, order.price, order.trigger, ts))

    def modify_rejected(
        self, client_order_id: ClientOrderId, reason: RejectReason, message: str, ts: int
    ) -> None:
        self.calls.append(ModifyRejected(client_order_id.value, reason, ts))

    def cancel_rejected(
        self, client_order_id: ClientOrderId, reason: RejectReason, message: str, ts: int
    ) -> None:
        self.calls.append(CancelRejected(client_order_id.value, reason, ts))

    def fill_refusal(
        self, order: WorkingOrder, quantity: Decimal, price: Decimal
    ) -> RejectReason | None:
        self.fill_queries.append((order.id.value, quantity, price))
        return self._refusals.get(order.id.value)


# wiring


def order_factory(prefix: str = "O", *, strategy: StrategyId = STRATEGY) -> OrderFactory:
    """Orders of ``strategy`` (the stub one) with ids ``O-1``, ``O-2``, ... (lists take an id
    from the same counter)."""
    return OrderFactory(strategy, ClientOrderIdGenerator(prefix))


def make_engine(
    instrument: Instrument | None = None, *, fill_model: FillModel | None = None
) -> tuple[MatchingEngine, RecordingListener, Tape]:
    """A matching engine (BTC/USDT by default) with a recording listener and a tape feeding it."""
    listener = RecordingListener()
    engine = MatchingEngine(instrument or btcusdt(), listener, fill_model=fill_model)
    return engine, listener, Tape(engine.on_bar)


M = TypeVar("M", bound=Message)


class VenueHarness:
    """A ``SimulatedVenue`` on a ``ReplayClock`` at ``T0``; what it emits lands in ``events``."""

    def __init__(
        self,
        *,
        instruments: Iterable[Instrument] | None = None,
        balances: Iterable[Money] = (Money("10000", USDT),),
        account_type: AccountType = AccountType.CASH,
        leverage: Decimal = Decimal(1),
        fill_model: FillModel | None = None,
        latency: LatencyModel | None = None,
    ) -> None:
        chosen = list(instruments) if instruments is not None else [btcusdt()]
        self.instrument = chosen[0]
        self.clock = ReplayClock(T0)
        self.events: list[Message] = []
        self.account = VenueAccount(ACCOUNT, account_type, balances, leverage=leverage)
        self.venue = SimulatedVenue(
            venue=self.instrument.id.venue,
            account=self.account,
            instruments=chosen,
            clock=self.clock,
            emit=self.events.append,
            fill_model=fill_model,
            latency=latency,
        )
        self.tape = Tape(self.on_bar, clock=self.clock)

    @property
    def engine(self) -> MatchingEngine:
        """The matching engine of the first instrument."""
        return self.venue.engines[self.instrument.id]

    def on_bar(self, the_bar: BarLike) -> None:
        self.venue.on_bar(self.instrument.id, the_bar)

    # commands
    def submit(self, spec: OrderSpec) -> None:
        now = self.clock.timestamp_ns()
        self.venue.execute(
            SubmitOrder(strategy_id=spec.strategy_id, spec=spec, ts_event=now, ts_init=now)
        )

    def submit_list(self, order_list: OrderList) -> None:
        now = self.clock.timestamp_ns()
        command = SubmitOrderList(
            strategy_id=order_list.first.strategy_id,
            order_list=order_list,
            ts_event=now,
            ts_init=now,
        )
        self.venue.execute(command)

    def cancel(
        self,
        client_order_id: ClientOrderId,
        *,
        instrument_id: InstrumentId | None = None,
        strategy: StrategyId = STRATEGY,
    ) -> None:
        now = self.clock.timestamp_ns()
        self.venue.execute(
            CancelOrder(
                strategy_id=strategy,
                instrument_id=instrument_id or self.instrument.id,
                client_order_id=client_order_id,
                ts_event=now,
                ts_init=now,
            )
        )

    def modify(
        self,
        client_order_id: ClientOrderId,
        *,
        quantity: Quantity | None = None,
        price: Price | None = None,
        trigger_price: Price | None = None,
    ) -> None:
        now = self.clock.timestamp_ns()
        self.venue.execute(
            ModifyOrder(
                strategy_id=STRATEGY,
                instrument_id=self.instrument.id,
                client_order_id=client_order_id,
                quantity=quantity,
                price=price,
                trigger_price=trigger_price,
                ts_event=now,
                ts_init=now,
            )
        )

    def cancel_all(self, side: OrderSide | None = None, *, strategy: StrategyId = STRATEGY) -> None:
        now = self.clock.timestamp_ns()
        self.venue.execute(
            CancelAllOrders(
                strategy_id=strategy,
                instrument_id=self.instrument.id,
                side=side,
                ts_event=now,
                ts_init=now,
            )
        )

    # views
    def of_type(self, kind: type[M]) -> list[M]:
        """Emitted messages of one type, in order."""
        return [event for event in self.events if isinstance(event, kind)]

    def kinds(self) -> list[str]:
        """Names of the emitted message types, in order."""
        return [type(event).__name__ for event in self.events]

    def free(self, currency: Currency) -> Decimal:
        return self.account.free(currency)

    def total(self, currency: Currency) -> Decimal:
        return self.account.total(currency)

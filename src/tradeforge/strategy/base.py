"""``Strategy``: the one class a strategy author subclasses.

Declare parameters as class attributes, declare indicators in ``on_start``, react in the hooks,
and trade through the helpers (``buy``, ``sell``, ``close_position``, ``submit``, ...). The node
running the strategy — backtest, paper or live — is behind ``self.ctx``; the strategy never knows
which. Hooks are called through a wall: an exception in one becomes a ``StrategyError`` naming the
strategy, the hook and the time, and stops this strategy only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from tradeforge.bus import TimeEvent
from tradeforge.domain import (
    ClientOrderId,
    InstrumentId,
    InvalidValue,
    OrderBookSnapshot,
    OrderEvent,
    OrderFilled,
    OrderSide,
    PositionChanged,
    Price,
    Quantity,
    QuoteTick,
    StrategyId,
    Timeframe,
    TimeInForce,
    TradeTick,
)
from tradeforge.strategy.bars import BarLike
from tradeforge.strategy.context import StrategyContext
from tradeforge.strategy.indicators import Indicator
from tradeforge.strategy.params import Param

if TYPE_CHECKING:
    from tradeforge.execution import ExecutionReport

__all__ = ["BarLike", "Strategy"]


class Strategy:
    """Base class of every strategy."""

    name: ClassVar[str] = ""
    parameters: ClassVar[dict[str, Param[Any]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        found: dict[str, Param[Any]] = {}
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                if isinstance(value, Param):
                    found[attr] = value
        cls.parameters = found
        if not cls.__dict__.get("name"):
            cls.name = cls.__name__

    def __init__(
        self,
        params: Mapping[str, object] | None = None,
        *,
        strategy_id: str | None = None,
        instruments: Sequence[InstrumentId | str] = (),
    ) -> None:
        given = dict(params or {})
        unknown = sorted(set(given) - set(self.parameters))
        if unknown:
            known = ", ".join(sorted(self.parameters)) or "none"
            raise InvalidValue(
                f"strategy {self.name}: unknown parameter {unknown[0]!r} (parameters: {known})"
            )
        self._params: dict[str, Any] = {
            name: param.validate(given[name]) if name in given else param.default
            for name, param in self.parameters.items()
        }
        self.check_params()
        self.id = StrategyId(strategy_id or f"{self.name}-1")
        self.configured_instruments: tuple[InstrumentId, ...] = tuple(
            i if isinstance(i, InstrumentId) else InstrumentId.from_str(i) for i in instruments
        )
        self._bound_instruments: tuple[InstrumentId, ...] | None = None
        self._ctx: StrategyContext | None = None
        # The first bound instrument, read by the order helpers on every call (the properties
        # behind ``instrument_id`` are three calls of interpreted code).
        self._primary: InstrumentId | None = None

    # ------------------------------------------------------------- lifecycle
    def check_params(self) -> None:
        """Override to check parameters against each other; raise ``InvalidValue``."""

    @property
    def params(self) -> dict[str, Any]:
        """The validated parameter values."""
        return dict(self._params)

    def bind(self, ctx: StrategyContext, instruments: Sequence[InstrumentId]) -> None:
        """Attach to the node that runs this strategy (called by the node)."""
        self._ctx = ctx
        # The run's instruments when none were configured; the strategy object itself keeps
        # its configuration, so it can run again elsewhere.
        self._bound_instruments = self.configured_instruments or tuple(instruments)
        self._primary = self._bound_instruments[0] if self._bound_instruments else None

    @property
    def ctx(self) -> StrategyContext:
        """The node's services; available from ``on_start`` on."""
        if self._ctx is None:
            raise InvalidValue(f"strategy {self.id} is not running: no context yet")
        return self._ctx

    @property
    def instrument_ids(self) -> tuple[InstrumentId, ...]:
        """The instruments the strategy trades (in a run: the configured ones, or all of the
        run's when none were configured)."""
        if self._bound_instruments is not None:
            return self._bound_instruments
        return self.configured_instruments

    @property
    def instrument_id(self) -> InstrumentId:
        """The first (often the only) instrument the strategy trades."""
        if not self.instrument_ids:
            raise InvalidValue(f"strategy {self.id} has no instrument")
        return self.instrument_ids[0]

    # ----------------------------------------------------------------- hooks
    def on_start(self) -> None:
        """Called once before the first data: declare indicators and timers here."""

    def on_bar(self, bar: BarLike) -> None:
        """A bar closed."""

    def on_quote(self, quote: QuoteTick) -> None:
        """The best bid/ask changed."""

    def on_trade(self, trade: TradeTick) -> None:
        """A trade printed."""

    def on_book(self, book: OrderBookSnapshot) -> None:
        """The order book changed."""

    def on_order(self, event: OrderEvent) -> None:
        """Anything happened to one of the strategy's orders (fills included)."""

    def on_fill(self, fill: OrderFilled) -> None:
        """One of the strategy's orders filled (after ``on_order``)."""

    def on_algo(self, report: ExecutionReport) -> None:
        """A parent order sent with ``ctx.submit_algo`` progressed: a child filled, or its
        state changed (``report.state``: RUNNING, DONE, CANCELED, FAILED)."""

    def on_timer(self, event: TimeEvent) -> None:
        """A timer set with ``ctx.set_timer`` fired."""

    def on_stop(self) -> None:
        """Called once at the end of the run (or when the node stops)."""

    # --------------------------------------------------------------- helpers
    def indicator(
        self,
        function: str,
        *,
        instrument_id: InstrumentId | None = None,
        timeframe: Timeframe | None = None,
        source: str | None = None,
        output: str | int = 0,
        **params: Any,
    ) -> Indicator:
        """Declare a TA-Lib indicator on an instrument's bars, e.g.
        ``self.indicator("SMA", timeperiod=10)``."""
        indicator = Indicator(function, source=source, output=output, **params)
        return self.ctx.add_indicator(indicator, instrument_id or self.instrument_id, timeframe)

    def history(self, n: int, instrument_id: InstrumentId | None = None) -> Sequence[BarLike]:
        """The last ``n`` closed bars (oldest first); call ``keep_history(n)`` in ``on_start``
        to always have that many."""
        return self.ctx.recent_bars(instrument_id or self.instrument_id, n)

    def keep_history(self, n: int, instrument_id: InstrumentId | None = None) -> None:
        """Ask the node to keep the last ``n`` bars readable with ``history``."""
        self.ctx.recent_bars(instrument_id or self.instrument_id, n, keep=True)

    def position(self, instrument_id: InstrumentId | None = None) -> PositionChanged | None:
        """A snapshot of the position in an instrument (the first one by default)."""
        return self.ctx.position(instrument_id or self.instrument_id)

    def position_qty(self, instrument_id: InstrumentId | None = None) -> Decimal:
        """Signed open quantity in an instrument (0 when flat)."""
        ctx = self._ctx or self.ctx
        return ctx.position_qty(instrument_id or self._primary or self.instrument_id)

    def buy(
        self,
        quantity: Quantity | Decimal | str | int,
        *,
        instrument_id: InstrumentId | None = None,
        price: Price | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
    ) -> ClientOrderId:
        """Buy at market, or at ``price`` with a limit order."""
        return self._order(
            OrderSide.BUY, quantity, instrument_id=instrument_id, price=price, tif=time_in_force
        )

    def sell(
        self,
        quantity: Quantity | Decimal | str | int,
        *,
        instrument_id: InstrumentId | None = None,
        price: Price | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
    ) -> ClientOrderId:
        """Sell at market, or at ``price`` with a limit order."""
        return self._order(
            OrderSide.SELL, quantity, instrument_id=instrument_id, price=price, tif=time_in_force
        )

    def close_position(self, instrument_id: InstrumentId | None = None) -> ClientOrderId | None:
        """Flatten the strategy's position with a market order (None when already flat).

        Not reduce-only at the venue: the venue sees the account's net position, which other
        strategies share, while this closes the strategy's own quantity exactly."""
        iid = instrument_id or self._primary or self.instrument_id
        qty = (self._ctx or self.ctx).position_qty(iid)
        if not qty:
            return None
        side = OrderSide.SELL if qty > 0 else OrderSide.BUY
        return self._order(side, abs(qty), instrument_id=iid)

    def _order(
        self,
        side: OrderSide,
        quantity: Quantity | Decimal | str | int,
        *,
        instrument_id: InstrumentId | None,
        price: Price | None = None,
        tif: TimeInForce = TimeInForce.GTC,
        reduce_only: bool = False,
    ) -> ClientOrderId:
        iid = instrument_id or self._primary or self.instrument_id
        ctx = self._ctx or self.ctx
        qty = quantity if isinstance(quantity, Quantity) else ctx.instrument(iid).make_qty(quantity)
        factory = ctx.orders
        if price is None:
            spec = factory.market(iid, side, qty, time_in_force=tif, reduce_only=reduce_only)
        else:
            spec = factory.limit(iid, side, qty, price, time_in_force=tif, reduce_only=reduce_only)
        return ctx.submit(spec)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id}, {self._params})"


def own_hook(strategy: Strategy, name: str) -> Callable[..., None] | None:
    """The strategy's hook ``name``, or None when it is the base class's (which does nothing,
    so a node need not call it).

    Never reads the instance's ``__dict__`` (``vars(strategy)``): on CPython 3.11 that turns
    the instance's attribute values into a dict object which the interpreter's specialised
    attribute loads then miss on every access, so every ``self.x`` in the strategy's hooks
    would take the slow generic lookup for the rest of the run."""
    hook: Callable[..., None] = getattr(strategy, name)
    base = getattr(Strategy, name)
    if getattr(hook, "__func__", None) is base and getattr(hook, "__self__", None) is strategy:
        return None  # the class's method, and that is the base class's
    return hook

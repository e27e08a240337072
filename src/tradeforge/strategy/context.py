"""``StrategyContext``: everything a strategy may see and do, provided by the node running it.

The backtester and the live trading node each implement this port; a strategy only ever talks to
it, which is what lets the same strategy class run unchanged in every mode.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from tradeforge.bus import TimeEvent
from tradeforge.domain import (
    ClientOrderId,
    Instrument,
    InstrumentId,
    Money,
    OrderFactory,
    OrderList,
    OrderSide,
    OrderSpec,
    OrderView,
    PositionChanged,
    Price,
    Quantity,
    Timeframe,
)
from tradeforge.strategy.bars import BarLike
from tradeforge.strategy.indicators import Indicator

if TYPE_CHECKING:  # the execution service's types, for annotations only
    from tradeforge.execution import AlgoOrder, ExecutionReport

__all__ = ["StrategyContext"]


class StrategyContext(Protocol):
    """What the node offers one strategy."""

    @property
    def now_ns(self) -> int:
        """The time now, from the node's clock (UTC ns)."""
        ...

    @property
    def orders(self) -> OrderFactory:
        """Builds order specs with this strategy's ids."""
        ...

    def instrument(self, instrument_id: InstrumentId) -> Instrument:
        """The instrument definition."""
        ...

    def add_indicator(
        self, indicator: Indicator, instrument_id: InstrumentId, timeframe: Timeframe | None
    ) -> Indicator:
        """Feed ``indicator`` from the bars of ``instrument_id``."""
        ...

    def recent_bars(
        self, instrument_id: InstrumentId, n: int, *, keep: bool = False
    ) -> Sequence[BarLike]:
        """The last ``n`` closed bars of ``instrument_id``, oldest first. With ``keep=True``
        (call it so in ``on_start``) the node keeps that many at all times; otherwise fewer may
        come back after a gap in what it keeps."""
        ...

    def position(self, instrument_id: InstrumentId) -> PositionChanged | None:
        """A snapshot of the strategy's position in ``instrument_id`` (None before any fill)."""
        ...

    def position_qty(self, instrument_id: InstrumentId) -> Decimal:
        """Signed open quantity (0 when flat)."""
        ...

    def open_orders(self, instrument_id: InstrumentId | None = None) -> Sequence[OrderView]:
        """The strategy's orders that are working or in flight."""
        ...

    def order(self, client_order_id: ClientOrderId) -> OrderView | None:
        """One of the strategy's orders by id."""
        ...

    def cash(self, currency: str | None = None) -> Money:
        """Free cash of the account (in its base currency by default)."""
        ...

    def equity(self) -> Money:
        """Cash plus the value of open positions at the last prices, in the base currency."""
        ...

    def last_price(self, instrument_id: InstrumentId) -> Price | None:
        """The last price seen (bar close or trade)."""
        ...

    def submit(self, spec: OrderSpec) -> ClientOrderId:
        """Send an order (through pre-trade risk); the outcome arrives as order events."""
        ...

    def submit_list(self, order_list: OrderList) -> None:
        """Send a contingent group (OCO, OTO, bracket)."""
        ...

    def cancel(self, client_order_id: ClientOrderId) -> None:
        """Cancel one order."""
        ...

    def submit_algo(self, order: AlgoOrder) -> ClientOrderId:
        """Work ``order`` as a parent order (TWAP, VWAP, POV, iceberg, or smart order routing
        across venues); its id. Children go through pre-trade risk like any order; progress
        arrives in ``on_algo`` and from ``algo``."""
        ...

    def cancel_algo(self, parent_id: ClientOrderId) -> bool:
        """Stop a parent order: its schedule stops, its open children are cancelled; False
        when the strategy has no such running parent."""
        ...

    def algo(self, parent_id: ClientOrderId) -> ExecutionReport | None:
        """A parent order's progress now: filled, remaining, average price, slippage."""
        ...

    def cancel_all(self, instrument_id: InstrumentId, side: OrderSide | None = None) -> None:
        """Cancel every open order of the strategy in ``instrument_id``."""
        ...

    def modify(
        self,
        client_order_id: ClientOrderId,
        *,
        quantity: Quantity | None = None,
        price: Price | None = None,
        trigger_price: Price | None = None,
    ) -> None:
        """Change an open order."""
        ...

    def set_timer(
        self, name: str, interval_ns: int, callback: Callable[[TimeEvent], None] | None = None
    ) -> None:
        """Call ``on_timer`` (or ``callback``) every ``interval_ns``."""
        ...

    def log(self, message: str, **fields: object) -> None:
        """Write to the run's log, stamped with the strategy and the clock's time."""
        ...

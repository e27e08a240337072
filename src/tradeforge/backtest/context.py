"""``BacktestContext``: the ``StrategyContext`` a strategy gets from the backtest engine."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from tradeforge.bus import TimeEvent
from tradeforge.domain import (
    ClientOrderId,
    ClientOrderIdGenerator,
    Currency,
    Instrument,
    InstrumentId,
    InvalidValue,
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
    UnknownInstrument,
)
from tradeforge.execution import AlgoOrder, ExecutionReport
from tradeforge.strategy import BarLike, Indicator, Strategy

if TYPE_CHECKING:
    from tradeforge.backtest.engine import BacktestEngine

__all__ = ["BacktestContext"]


class BacktestContext:
    """One strategy's view of a backtest."""

    def __init__(self, engine: BacktestEngine, strategy: Strategy, id_prefix: str) -> None:
        self._engine = engine
        self._strategy = strategy
        # Parent orders take their ids from the same counter as orders: never reused.
        self._ids = ClientOrderIdGenerator(id_prefix)
        self._orders = OrderFactory(strategy.id, self._ids)

    @property
    def now_ns(self) -> int:
        return self._engine.clock.timestamp_ns()

    @property
    def orders(self) -> OrderFactory:
        return self._orders

    def instrument(self, instrument_id: InstrumentId) -> Instrument:
        instrument = self._engine.instruments.get(instrument_id)
        if instrument is None:
            raise UnknownInstrument(f"{instrument_id} is not in this backtest")
        return instrument

    def add_indicator(
        self, indicator: Indicator, instrument_id: InstrumentId, timeframe: Timeframe | None
    ) -> Indicator:
        self._engine.feed_for(instrument_id, timeframe).add_indicator(indicator)
        return indicator

    def recent_bars(
        self, instrument_id: InstrumentId, n: int, *, keep: bool = False
    ) -> Sequence[BarLike]:
        if n < 1:
            raise InvalidValue(f"recent_bars needs n >= 1, got {n}")
        feed = self._engine.feed_for(instrument_id, None)
        if keep:
            feed.keep = max(feed.keep, n)
        return feed.recent(n)

    def position(self, instrument_id: InstrumentId) -> PositionChanged | None:
        position = self._engine.position(self._strategy.id, instrument_id)
        return position.to_event(self.now_ns) if position is not None else None

    def position_qty(self, instrument_id: InstrumentId) -> Decimal:
        position = self._engine.position(self._strategy.id, instrument_id)
        return position.signed_qty if position is not None else Decimal(0)

    def open_orders(self, instrument_id: InstrumentId | None = None) -> Sequence[OrderView]:
        orders = self._engine.oms.open_orders(self._strategy.id, instrument_id)
        return [OrderView(order) for order in orders]

    def order(self, client_order_id: ClientOrderId) -> OrderView | None:
        order = self._engine.oms.get(client_order_id)
        mine = order is not None and order.strategy_id == self._strategy.id
        return OrderView(order) if mine and order is not None else None

    def cash(self, currency: str | None = None) -> Money:
        account = self._engine.venue.account
        if currency is None:
            chosen: Currency = self._engine.base_currency
        else:
            held = {c.code: c for c in account.currencies()}
            if currency not in held:
                raise InvalidValue(f"the account holds no {currency!r} (it holds {sorted(held)})")
            chosen = held[currency]
        return Money.rounded(account.free(chosen), chosen)

    def equity(self) -> Money:
        return self._engine.equity_now()

    def last_price(self, instrument_id: InstrumentId) -> Price | None:
        return self._engine.last_price(instrument_id)

    def submit(self, spec: OrderSpec) -> ClientOrderId:
        self._engine.submit(self._strategy, spec)
        return spec.client_order_id

    def submit_list(self, order_list: OrderList) -> None:
        self._engine.submit_list(self._strategy, order_list)

    def cancel(self, client_order_id: ClientOrderId) -> None:
        self._engine.cancel(self._strategy, client_order_id)

    def submit_algo(self, order: AlgoOrder) -> ClientOrderId:
        # Worked on the replay clock by ``backtest.algos`` (docs/execution-algorithms.md).
        if not isinstance(order, AlgoOrder):
            raise InvalidValue(f"submit_algo takes an AlgoOrder, got {type(order).__name__}")
        parent_id = order.client_order_id or self._ids.next_id()
        self._engine.algos.submit(self._strategy, order, parent_id)
        return parent_id

    def cancel_algo(self, parent_id: ClientOrderId) -> bool:
        return self._engine.algos.cancel(parent_id, "canceled by the strategy", self._strategy.id)

    def algo(self, parent_id: ClientOrderId) -> ExecutionReport | None:
        return self._engine.algos.report(parent_id, self._strategy.id)

    def cancel_all(self, instrument_id: InstrumentId, side: OrderSide | None = None) -> None:
        self._engine.cancel_all(self._strategy, instrument_id, side)

    def modify(
        self,
        client_order_id: ClientOrderId,
        *,
        quantity: Quantity | None = None,
        price: Price | None = None,
        trigger_price: Price | None = None,
    ) -> None:
        self._engine.modify(
            self._strategy,
            client_order_id,
            quantity=quantity,
            price=price,
            trigger_price=trigger_price,
        )

    def set_timer(
        self, name: str, interval_ns: int, callback: Callable[[TimeEvent], None] | None = None
    ) -> None:
        self._engine.set_timer(self._strategy, name, interval_ns, callback)

    def log(self, message: str, **fields: object) -> None:
        self._engine.log(self._strategy, message, **fields)

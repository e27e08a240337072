"""``LiveContext``: the ``StrategyContext`` a strategy gets from the trading node.

The same surface as the backtester's context, so a strategy class runs unchanged in paper and
live trading; reads come from the node's OMS, positions, bar feeds and balance snapshot.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from tradeforge.bus import TimeEvent
from tradeforge.domain import (
    ClientOrderId,
    ClientOrderIdGenerator,
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
from tradeforge.observability import get_logger
from tradeforge.strategy import BarLike, Indicator, Strategy

if TYPE_CHECKING:
    from tradeforge.engine.feeds import LiveBarFeed
    from tradeforge.engine.node import TradingNode
    from tradeforge.execution import AlgoOrder, ExecutionReport

__all__ = ["LiveContext"]

log = get_logger("tradeforge.strategy")


class LiveContext:
    """One strategy's view of a trading node."""

    def __init__(self, node: TradingNode, strategy: Strategy, id_prefix: str) -> None:
        self._node = node
        self._strategy = strategy
        self._ids = ClientOrderIdGenerator(id_prefix)
        self._orders = OrderFactory(strategy.id, self._ids)
        # What this run of the strategy fed from the node's bars (dropped when it stops).
        self.indicators: list[tuple[InstrumentId, Indicator]] = []

    @property
    def now_ns(self) -> int:
        return self._node.clock.timestamp_ns()

    @property
    def orders(self) -> OrderFactory:
        return self._orders

    def instrument(self, instrument_id: InstrumentId) -> Instrument:
        instrument = self._node.instruments.get(instrument_id)
        if instrument is None:
            raise UnknownInstrument(f"{instrument_id} is not traded by this node")
        return instrument

    def add_indicator(
        self, indicator: Indicator, instrument_id: InstrumentId, timeframe: Timeframe | None
    ) -> Indicator:
        self._feed(instrument_id).add_indicator(indicator)
        self.indicators.append((instrument_id, indicator))
        return indicator

    def _feed(self, instrument_id: InstrumentId) -> LiveBarFeed:
        feed = self._node.feeds.get(instrument_id)
        if feed is None:
            raise InvalidValue(f"no bars of {instrument_id} in this node")
        return feed

    def recent_bars(
        self, instrument_id: InstrumentId, n: int, *, keep: bool = False
    ) -> Sequence[BarLike]:
        if n < 1:
            raise InvalidValue(f"recent_bars needs n >= 1, got {n}")
        return self._feed(instrument_id).recent(n)

    def position(self, instrument_id: InstrumentId) -> PositionChanged | None:
        position = self._node.position(self._strategy.id, instrument_id)
        return position.to_event(self.now_ns) if position is not None else None

    def position_qty(self, instrument_id: InstrumentId) -> Decimal:
        position = self._node.position(self._strategy.id, instrument_id)
        return position.signed_qty if position is not None else Decimal(0)

    def open_orders(self, instrument_id: InstrumentId | None = None) -> Sequence[OrderView]:
        orders = self._node.oms.open_orders(self._strategy.id, instrument_id)
        return [OrderView(order) for order in orders]

    def order(self, client_order_id: ClientOrderId) -> OrderView | None:
        order = self._node.oms.get(client_order_id)
        mine = order is not None and order.strategy_id == self._strategy.id
        return OrderView(order) if mine and order is not None else None

    def cash(self, currency: str | None = None) -> Money:
        code = currency or self._node.base_currency.code
        balance = self._node.balances.get(code)
        if balance is None:
            raise InvalidValue(
                f"the account holds no {code!r} (it holds {sorted(self._node.balances)})"
            )
        return balance.free

    def equity(self) -> Money:
        return self._node.equity_now()

    def last_price(self, instrument_id: InstrumentId) -> Price | None:
        return self._node.last_price(instrument_id)

    def submit(self, spec: OrderSpec) -> ClientOrderId:
        self._node.submit(self._strategy, spec)
        return spec.client_order_id

    def submit_list(self, order_list: OrderList) -> None:
        self._node.submit_list(self._strategy, order_list)

    def cancel(self, client_order_id: ClientOrderId) -> None:
        self._node.cancel(self._strategy, client_order_id)

    def submit_algo(self, order: AlgoOrder) -> ClientOrderId:
        # The parent's id comes from the same counter as the strategy's orders: never reused.
        parent_id = order.client_order_id or self._ids.next_id()
        self._node.algos.submit(self._strategy.id, order, parent_id)
        return parent_id

    def cancel_algo(self, parent_id: ClientOrderId) -> bool:
        return self._node.algos.cancel(parent_id, "canceled by the strategy", self._strategy.id)

    def algo(self, parent_id: ClientOrderId) -> ExecutionReport | None:
        return self._node.algos.report(parent_id, self._strategy.id)

    def cancel_all(self, instrument_id: InstrumentId, side: OrderSide | None = None) -> None:
        self._node.cancel_all(self._strategy, instrument_id, side)

    def modify(
        self,
        client_order_id: ClientOrderId,
        *,
        quantity: Quantity | None = None,
        price: Price | None = None,
        trigger_price: Price | None = None,
    ) -> None:
        self._node.modify(
            self._strategy, client_order_id, quantity=quantity, price=price,
            trigger_price=trigger_price,
        )  # fmt: skip

    def set_timer(
        self, name: str, interval_ns: int, callback: Callable[[TimeEvent], None] | None = None
    ) -> None:
        self._node.set_timer(self._strategy, name, interval_ns, callback)

    def log(self, message: str, **fields: object) -> None:
        log.info(message, strategy=str(self._strategy.id), **fields)
        self._node.logs.add(self._strategy.id, self.now_ns, "info", message, **fields)

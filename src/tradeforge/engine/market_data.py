"""``MarketData``: the trading node's market data, from the data venues to its strategies.

Trades stream in from each fed instrument's data venue: each is the instrument's last price,
goes to risk, the bus (``data.trades.<instrument>``), the parent orders, the orders the node
emulates and the strategies trading it, and builds bars (``node.feeds``), which take the same
way (``data.bars.<instrument>.<timeframe>``). Books, where kept (``node.books``), follow each
venue's book feed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING

from tradeforge.bus import TimeEvent
from tradeforge.bus.topics import escape_token, join_topic
from tradeforge.domain import Bar, InstrumentId, Price, TradeForgeError, TradeTick
from tradeforge.engine.bars import TradeBarAggregator
from tradeforge.engine.feeds import LiveBarFeed
from tradeforge.execution import BookUpdate
from tradeforge.observability import get_logger

if TYPE_CHECKING:
    from tradeforge.engine.node import TradingNode

__all__ = ["MarketData"]

log = get_logger("tradeforge.node")


class MarketData:
    """The market data of one node: last prices, bars built from trades, book feeds."""

    def __init__(self, node: TradingNode) -> None:
        self._node = node
        self._aggregators: dict[InstrumentId, TradeBarAggregator] = {}
        self._last: dict[InstrumentId, Price] = {}

    def last_price(self, instrument_id: InstrumentId) -> Price | None:
        """See ``TradingNode.last_price``."""
        return self._last.get(instrument_id)

    @property
    def last_prices(self) -> Mapping[InstrumentId, Price]:
        """See ``TradingNode.last_prices``."""
        return self._last

    def add_feed(self, iid: InstrumentId) -> None:
        """Build bars of ``iid`` (and, once running, subscribe to its trades)."""
        node = self._node
        if iid in node.feeds:
            return
        node.feeds[iid] = LiveBarFeed(iid, node.timeframe)
        self._aggregators[iid] = TradeBarAggregator(node.instruments[iid], node.timeframe)
        if node.running:
            self.subscribe(iid)

    def subscribe(self, iid: InstrumentId) -> None:
        """Stream the instrument's trades (and its book, where kept) from its data venue."""
        node = self._node
        trades = node.data[iid.venue].trades(iid)
        node._streams.add(node._spawn(self._trade_stream(trades)))
        self._watch_book(iid)

    async def _trade_stream(self, trades: AsyncIterator[TradeTick]) -> None:
        async for trade in trades:
            self._on_trade(trade)

    def _on_trade(self, trade: TradeTick) -> None:
        node = self._node
        iid = trade.instrument_id
        self._last[iid] = trade.price
        if node.risk.tracking:
            node.risk.on_trade(trade)
        node.bus.publish(join_topic("data", "trades", escape_token(str(iid))), trade)
        node.algos.on_trade(trade)
        if node.emulator.armed:
            released, moved = node.emulator.on_trade(iid, trade.price.as_decimal())
            if released or moved:
                node._emulation.save()
            for spec in released:
                node._emulation.release(spec)
        for strategy in node._lifecycle.running_on(iid):
            node._lifecycle.call(strategy, "on_trade", strategy.on_trade, trade)
        bar = self._aggregators[iid].on_trade(
            trade.price.as_decimal(), trade.size.as_decimal(), trade.ts_event
        )
        if bar is not None:
            self._on_bar(bar)

    def _watch_book(self, iid: InstrumentId) -> None:
        node = self._node
        client = node.data[iid.venue]
        if node.books is not None and client.capabilities.watch_book:
            node._streams.add(node._spawn(self._book_stream(iid, client.book(iid))))

    async def _book_stream(self, iid: InstrumentId, updates: AsyncIterator[BookUpdate]) -> None:
        node = self._node
        assert node.books is not None
        try:
            async for update in updates:
                node.books.apply(update)
                node.algos.on_book(iid)
        except TradeForgeError as exc:  # the book is gone, not stale: trading goes on
            log.warning("book feed stopped", instrument=str(iid), error=str(exc))
        node.books.forget(iid)

    def flush_bars(self, event: TimeEvent) -> None:
        """The node's bar timer: bars whose time is over are closed (also without a trade)."""
        for aggregator in self._aggregators.values():
            bar = aggregator.flush(event.ts_event)
            if bar is not None:
                self._on_bar(bar)

    def _on_bar(self, bar: Bar) -> None:
        node = self._node
        node.feeds[bar.instrument_id].push(bar)
        node.algos.on_bar(bar)
        if node.bar_recorder is not None:
            node.bar_recorder.add(bar)
        node.bus.publish(
            join_topic("data", "bars", escape_token(str(bar.instrument_id)), str(bar.timeframe)),
            bar,
        )
        for strategy in node._lifecycle.running_on(bar.instrument_id):
            node._lifecycle.call(strategy, "on_bar", strategy.on_bar, bar)

"""``CcxtStreams``: the market-data and account streams of a CCXT venue client.

Streams go through CCXT Pro's ``watch_*`` methods, reconnecting with back-off on network errors.
For venues that speak Binance's depth protocol the book is our own :class:`BinanceBookStream`
(fed by REST depth snapshots), so gaps and resyncs are ours to see.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

import ccxt.pro as ccxt_pro

from tradeforge.connectors.binance_book import BinanceBookStream
from tradeforge.connectors.ccxt_config import CcxtVenueConfig, make_exchange
from tradeforge.connectors.ccxt_convert import (
    bar_from_ohlcv,
    dec,
    fill_from_trade,
    quote_from_ticker,
    trade_from_ccxt,
)
from tradeforge.connectors.ccxt_errors import map_ccxt_error
from tradeforge.connectors.ccxt_markets import CcxtMarkets
from tradeforge.connectors.ccxt_reports import CcxtOrderReports
from tradeforge.connectors.ccxt_requests import CcxtRequests
from tradeforge.connectors.order_book_sync import DepthSnapshot, parse_depth_snapshot
from tradeforge.connectors.resilience import FullJitter
from tradeforge.domain import (
    AccountId,
    Bar,
    BookLevel,
    Instrument,
    InstrumentId,
    OrderBookDelta,
    OrderBookSnapshot,
    QuoteTick,
    Timeframe,
    TradeTick,
)
from tradeforge.domain.errors import RetryableError
from tradeforge.execution import OrderUpdate
from tradeforge.observability import get_logger

__all__ = ["CcxtStreams"]

log = get_logger("tradeforge.connectors.ccxt")
T = TypeVar("T")


class CcxtStreams:
    """The streams of one CCXT venue client, over its CCXT Pro client (see the module docstring).

    ``book_streams`` holds the Binance-protocol book stream of each instrument whose book is
    being watched.
    """

    def __init__(
        self,
        config: CcxtVenueConfig,
        *,
        rest: Any,
        requests: CcxtRequests,
        markets: CcxtMarkets,
        reports: CcxtOrderReports,
        account_id: AccountId,
        binance: bool,
        now_ns: Callable[[], int],
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self.config = config
        self.venue = config.venue
        self.rest = rest
        self.account_id = account_id
        self.book_streams: dict[InstrumentId, BinanceBookStream] = {}
        self._requests = requests
        self._markets = markets
        self._reports = reports
        self._binance = binance
        self._now = now_ns
        self._sleep = sleep
        self._pro: Any = None

    @property
    def pro(self) -> Any:
        """The CCXT Pro client (created on first use)."""
        if self._pro is None:
            self._pro = make_exchange(ccxt_pro, self.config)
            self._pro.markets = self.rest.markets
            self._pro.markets_by_id = self.rest.markets_by_id
            self._pro.symbols = self.rest.symbols
            self._pro.options["timeDifference"] = self.rest.options.get("timeDifference", 0)
        return self._pro

    def follow_time_difference(self) -> None:
        """Give the CCXT Pro client, if it exists yet, the REST client's clock difference."""
        if self._pro is not None:
            self._pro.options["timeDifference"] = self.rest.options.get("timeDifference", 0)

    async def close(self) -> None:
        """Close the CCXT Pro client, if it was created."""
        if self._pro is not None:
            await self._pro.close()

    async def _watch(self, name: str, fn: Callable[[], Awaitable[T]]) -> AsyncIterator[T]:
        """Call a CCXT Pro ``watch_*`` forever, reconnecting with back-off on network errors."""
        backoff = FullJitter(base=0.1, cap=5.0)
        failures = 0
        while True:
            try:
                value = await fn()
            except Exception as exc:
                error = map_ccxt_error(exc, venue=str(self.venue), what=name)
                if not isinstance(error, RetryableError):
                    raise error from exc
                delay = backoff.delay(failures, 0.0)
                failures += 1
                log.info("stream reconnecting", venue=str(self.venue), stream=name,
                         error=str(error), delay_s=round(delay, 3))  # fmt: skip
                await self._sleep(delay)
                continue
            failures = 0
            yield value

    async def trades(self, instrument_id: InstrumentId) -> AsyncIterator[TradeTick]:
        """Public trades."""
        inst, symbol = self._markets.instrument(instrument_id), self._markets.symbol(instrument_id)
        async for batch in self._watch("watch_trades", lambda: self.pro.watch_trades(symbol)):
            now = self._now()
            for trade in batch:
                yield trade_from_ccxt(trade, inst, now)

    async def quotes(self, instrument_id: InstrumentId) -> AsyncIterator[QuoteTick]:
        """Best bid and ask."""
        inst, symbol = self._markets.instrument(instrument_id), self._markets.symbol(instrument_id)
        watch = (
            (lambda: self.pro.watch_bids_asks([symbol]))
            if self.pro.has.get("watchBidsAsks")
            else (lambda: self.pro.watch_ticker(symbol))
        )
        async for value in self._watch("watch_quotes", watch):
            ticker = value.get(symbol, value) if isinstance(value, dict) else value
            quote = quote_from_ticker(ticker, inst, self._now())
            if quote is not None:
                yield quote

    async def book(
        self, instrument_id: InstrumentId
    ) -> AsyncIterator[OrderBookSnapshot | OrderBookDelta]:
        """The level-2 book: ours for Binance-protocol venues, CCXT's snapshots otherwise."""
        inst, symbol = self._markets.instrument(instrument_id), self._markets.symbol(instrument_id)
        if self._binance and self.config.ws_url:
            stream = BinanceBookStream(
                inst,
                ws_url=self.config.ws_url,
                fetch_snapshot=lambda: self.depth_snapshot(inst),
                now_ns=self._now,
                sleep=self._sleep,
            )
            self.book_streams[instrument_id] = stream
            async for update in stream.updates():
                yield update
            return
        async for ob in self._watch("watch_order_book", lambda: self.pro.watch_order_book(symbol)):
            yield OrderBookSnapshot(
                instrument_id=inst.id,
                bids=tuple(_level(inst, p, q) for p, q, *_ in ob["bids"]),
                asks=tuple(_level(inst, p, q) for p, q, *_ in ob["asks"]),
                sequence=int(ob.get("nonce") or 0),
                ts_event=self._now(),
                ts_init=self._now(),
            )

    async def depth_snapshot(self, inst: Instrument) -> DepthSnapshot:
        """A REST depth snapshot (1,000 levels) for the Binance-protocol book stream."""
        raw = await self._requests.read(
            "depth_snapshot",
            lambda: self.rest.publicGetDepth({"symbol": inst.raw_symbol, "limit": 1000}),
        )
        return parse_depth_snapshot(raw)

    async def bars(self, instrument_id: InstrumentId, timeframe: Timeframe) -> AsyncIterator[Bar]:
        """Bars of ``timeframe``, each once a later one has started (so it has closed)."""
        inst, symbol = self._markets.instrument(instrument_id), self._markets.symbol(instrument_id)
        tf = str(timeframe)
        last: list[Any] | None = None
        async for candles in self._watch("watch_ohlcv", lambda: self.pro.watch_ohlcv(symbol, tf)):
            for row in candles:
                if last is not None and row[0] > last[0]:
                    yield bar_from_ohlcv(last, inst, timeframe, self._now())
                if last is None or row[0] >= last[0]:
                    last = row

    async def order_updates(self) -> AsyncIterator[OrderUpdate]:
        """The account's order reports and fills, merged from two CCXT Pro streams."""
        queue: asyncio.Queue[OrderUpdate | BaseException] = asyncio.Queue()

        async def pump(name: str, watch: Callable[[], Awaitable[list[Any]]], fill: bool) -> None:
            try:
                async for batch in self._watch(name, watch):
                    now = self._now()
                    for item in batch:
                        inst = self._markets.by_symbol(item.get("symbol"))
                        if inst is None:
                            continue
                        if fill:
                            await queue.put(fill_from_trade(item, inst, self.account_id, now))
                        else:
                            await queue.put(self._reports.report(item, inst))
            except BaseException as exc:
                await queue.put(exc)

        tasks = [
            asyncio.create_task(pump("watch_orders", self.pro.watch_orders, False)),
            asyncio.create_task(pump("watch_my_trades", self.pro.watch_my_trades, True)),
        ]
        try:
            while True:
                item = await queue.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            for task in tasks:
                task.cancel()


def _level(inst: Instrument, price: Any, qty: Any) -> BookLevel:
    return BookLevel(
        inst.make_price(dec(price) or Decimal(0)), inst.make_qty(dec(qty) or Decimal(0))
    )

"""What everybody sees of one symbol: the order book, recent trades, klines and 24 h statistics.

Fed by the market feed's snapshot, deltas and trades; read by the public REST endpoints
(``depth``, ``trades``, ``klines``, ``ticker/*``) and turned into stream messages.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tradeforge.connectors.sim_exchange.orders import fmt
from tradeforge.domain import (
    AggressorSide,
    BookAction,
    BookSide,
    OrderBookDelta,
    OrderBookSnapshot,
    TradeTick,
)

__all__ = ["INTERVALS", "Kline", "PublicMarket"]

_MINUTE_MS = 60_000
INTERVALS: dict[str, int] = {
    "1m": 1, "3m": 3, "5m": 5, "15m": 15, "30m": 30, "1h": 60, "2h": 120, "4h": 240,
    "6h": 360, "8h": 480, "12h": 720, "1d": 1440,
}  # fmt: skip
_KEEP_MINUTES = 1440 * 2
_KEEP_TRADES = 1000


@dataclass
class Kline:
    """One candle of trades (Binance's kline fields)."""

    open_ms: int
    close_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal = Decimal(0)
    quote_volume: Decimal = Decimal(0)
    trades: int = 0
    taker_buy_volume: Decimal = Decimal(0)
    taker_buy_quote: Decimal = Decimal(0)
    first_trade_id: int = -1
    last_trade_id: int = -1

    def add(self, price: Decimal, qty: Decimal, trade_id: int, taker_buys: bool) -> None:
        """One more trade in this candle."""
        self.high, self.low, self.close = max(self.high, price), min(self.low, price), price
        self.volume += qty
        self.quote_volume += qty * price
        self.trades += 1
        if taker_buys:
            self.taker_buy_volume += qty
            self.taker_buy_quote += qty * price
        if self.first_trade_id < 0:
            self.first_trade_id = trade_id
        self.last_trade_id = trade_id

    def merge(self, other: Kline) -> None:
        """Fold a later candle into this one (to build longer intervals)."""
        self.high, self.low, self.close = (
            max(self.high, other.high), min(self.low, other.low), other.close,
        )  # fmt: skip
        self.volume += other.volume
        self.quote_volume += other.quote_volume
        self.trades += other.trades
        self.taker_buy_volume += other.taker_buy_volume
        self.taker_buy_quote += other.taker_buy_quote
        if self.first_trade_id < 0:
            self.first_trade_id = other.first_trade_id
        if other.last_trade_id >= 0:
            self.last_trade_id = other.last_trade_id

    def to_row(self) -> list[Any]:
        """The array ``GET /api/v3/klines`` returns."""
        return [
            self.open_ms, fmt(self.open), fmt(self.high), fmt(self.low), fmt(self.close),
            fmt(self.volume), self.close_ms, fmt(self.quote_volume), self.trades,
            fmt(self.taker_buy_volume), fmt(self.taker_buy_quote), "0",
        ]  # fmt: skip

    def to_stream(self, symbol: str, interval: str, closed: bool) -> dict[str, Any]:
        """The ``k`` object of a kline stream event."""
        return {
            "t": self.open_ms, "T": self.close_ms, "s": symbol, "i": interval,
            "f": self.first_trade_id, "L": self.last_trade_id, "o": fmt(self.open),
            "c": fmt(self.close), "h": fmt(self.high), "l": fmt(self.low),
            "v": fmt(self.volume), "n": self.trades, "x": closed, "q": fmt(self.quote_volume),
            "V": fmt(self.taker_buy_volume), "Q": fmt(self.taker_buy_quote), "B": "0",
        }  # fmt: skip


@dataclass
class PublicMarket:
    """The public state of one symbol."""

    symbol: str
    bids: dict[Decimal, Decimal] = field(default_factory=dict)
    asks: dict[Decimal, Decimal] = field(default_factory=dict)
    last_update_id: int = 0
    trades: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=_KEEP_TRADES))
    minutes: deque[Kline] = field(default_factory=lambda: deque(maxlen=_KEEP_MINUTES))
    last_price: Decimal | None = None

    # ------------------------------------------------------------- the feed
    def apply_snapshot(self, snap: OrderBookSnapshot) -> None:
        """Replace the book."""
        self.bids = {lv.price.as_decimal(): lv.size.as_decimal() for lv in snap.bids}
        self.asks = {lv.price.as_decimal(): lv.size.as_decimal() for lv in snap.asks}
        self.last_update_id = snap.sequence

    def apply_delta(self, delta: OrderBookDelta) -> None:
        """Change one level; the update id becomes the delta's sequence."""
        if delta.action is BookAction.CLEAR:
            self.bids, self.asks = {}, {}
        else:
            side = self.bids if delta.side is BookSide.BID else self.asks
            price, size = delta.price.as_decimal(), delta.size.as_decimal()
            if delta.action is BookAction.DELETE or size <= 0:
                side.pop(price, None)
            else:
                side[price] = size
        self.last_update_id = delta.sequence

    def apply_trade(self, tick: TradeTick) -> dict[str, Any]:
        """Record a trade; returns it as ``GET /api/v3/trades`` shows it."""
        price, qty = tick.price.as_decimal(), tick.size.as_decimal()
        ms = tick.ts_event // 1_000_000
        trade_id = int(str(tick.trade_id.value).rsplit("-", 1)[-1].lstrip("T") or 0)
        taker_buys = tick.aggressor_side is AggressorSide.BUYER
        row = {
            "id": trade_id,
            "price": fmt(price),
            "qty": fmt(qty),
            "quoteQty": fmt(price * qty),
            "time": ms,
            "isBuyerMaker": not taker_buys,
            "isBestMatch": True,
        }
        self.trades.append(row)
        self.last_price = price
        start = ms - ms % _MINUTE_MS
        if not self.minutes or self.minutes[-1].open_ms != start:
            self.minutes.append(Kline(start, start + _MINUTE_MS - 1, price, price, price, price))
        self.minutes[-1].add(price, qty, trade_id, taker_buys)
        return row

    # ---------------------------------------------------------------- reads
    def depth(self, limit: int) -> dict[str, Any]:
        """``GET /api/v3/depth``: the best ``limit`` levels of each side."""
        bids = sorted(self.bids.items(), reverse=True)[:limit]
        asks = sorted(self.asks.items())[:limit]
        return {
            "lastUpdateId": self.last_update_id,
            "bids": [[fmt(p), fmt(q)] for p, q in bids],
            "asks": [[fmt(p), fmt(q)] for p, q in asks],
        }

    def best(self) -> tuple[tuple[Decimal, Decimal] | None, tuple[Decimal, Decimal] | None]:
        """(best bid, size) and (best ask, size), each None when that side is empty."""
        bid = max(self.bids) if self.bids else None
        ask = min(self.asks) if self.asks else None
        return (
            (bid, self.bids[bid]) if bid is not None else None,
            (ask, self.asks[ask]) if ask is not None else None,
        )

    def book_ticker(self) -> dict[str, Any]:
        """``GET /api/v3/ticker/bookTicker`` for this symbol."""
        bid, ask = self.best()
        zero = (Decimal(0), Decimal(0))
        b, a = bid or zero, ask or zero
        return {
            "symbol": self.symbol,
            "bidPrice": fmt(b[0]),
            "bidQty": fmt(b[1]),
            "askPrice": fmt(a[0]),
            "askQty": fmt(a[1]),
        }

    def klines(
        self, interval: str, limit: int, start_ms: int | None, end_ms: int | None
    ) -> list[Kline]:
        """Candles of ``interval`` built from the one-minute candles, oldest first."""
        minutes = INTERVALS[interval]
        span = minutes * _MINUTE_MS
        out: list[Kline] = []
        for m in self.minutes:
            if start_ms is not None and m.open_ms + _MINUTE_MS <= start_ms:
                continue
            if end_ms is not None and m.open_ms > end_ms:
                break
            start = m.open_ms - m.open_ms % span
            if out and out[-1].open_ms == start:
                out[-1].merge(m)
            else:
                k = Kline(start, start + span - 1, m.open, m.high, m.low, m.close)
                k.merge(m)
                out.append(k)
        return out[-limit:] if start_ms is None else out[:limit]

    def ticker_24h(self, now_ms: int) -> dict[str, Any]:
        """``GET /api/v3/ticker/24hr`` for this symbol (a rolling 24 h window of minutes)."""
        since = now_ms - 1440 * _MINUTE_MS
        window = [m for m in self.minutes if m.open_ms >= since - _MINUTE_MS]
        bid, ask = self.best()
        last = self.last_price or Decimal(0)
        first = window[0].open if window else last
        high = max((m.high for m in window), default=last)
        low = min((m.low for m in window), default=last)
        volume = sum((m.volume for m in window), Decimal(0))
        quote = sum((m.quote_volume for m in window), Decimal(0))
        change = last - first
        return {
            "symbol": self.symbol,
            "priceChange": fmt(change),
            "priceChangePercent": f"{(change / first * 100) if first else Decimal(0):.3f}",
            "weightedAvgPrice": fmt(quote / volume if volume else last),
            "prevClosePrice": fmt(first),
            "lastPrice": fmt(last),
            "lastQty": self.trades[-1]["qty"] if self.trades else fmt(Decimal(0)),
            "bidPrice": fmt(bid[0] if bid else Decimal(0)),
            "bidQty": fmt(bid[1] if bid else Decimal(0)),
            "askPrice": fmt(ask[0] if ask else Decimal(0)),
            "askQty": fmt(ask[1] if ask else Decimal(0)),
            "openPrice": fmt(first),
            "highPrice": fmt(high),
            "lowPrice": fmt(low),
            "volume": fmt(volume),
            "quoteVolume": fmt(quote),
            "openTime": window[0].open_ms if window else now_ms,
            "closeTime": now_ms,
            "firstId": window[0].first_trade_id if window else -1,
            "lastId": window[-1].last_trade_id if window else -1,
            "count": sum(m.trades for m in window),
        }

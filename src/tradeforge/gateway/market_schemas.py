"""The bodies of the ``instruments`` and ``market`` resources: instruments, the order book,
candles and the 24-hour ticker.
"""

from __future__ import annotations

from typing import Literal

from tradeforge.gateway.schema_base import DecimalStr, FrozenOut

__all__ = ["BookLevelOut", "BookOut", "CandleOut", "CandlesOut", "InstrumentOut", "TickerOut"]


class InstrumentOut(FrozenOut):
    """A tradable instrument."""

    id: str
    symbol: str
    venue: str
    kind: str
    base: str | None
    quote: str
    tick_size: DecimalStr
    lot_size: DecimalStr
    min_quantity: DecimalStr
    min_notional: DecimalStr | None
    maker_fee: DecimalStr
    taker_fee: DecimalStr


class BookLevelOut(FrozenOut):
    """One price level: the price and the quantity resting at it."""

    price: DecimalStr
    size: DecimalStr


class BookOut(FrozenOut):
    """The order book as the node last received it from the venue: ``bids`` best (highest)
    first, ``asks`` best (lowest) first, at most ``depth`` levels each; ``sequence`` is the
    venue's update id and ``time`` its time (ISO-8601 UTC)."""

    instrument_id: str
    bids: list[BookLevelOut]
    asks: list[BookLevelOut]
    sequence: int
    time: str


class CandleOut(FrozenOut):
    """One bar: ``time`` is its open (UTC, ISO-8601)."""

    time: str
    open: DecimalStr
    high: DecimalStr
    low: DecimalStr
    close: DecimalStr
    volume: DecimalStr


class CandlesOut(FrozenOut):
    """Bars of one instrument, oldest first. ``source`` is ``live`` (what the node built from
    trades since it started) or ``history`` (the catalog); for history, ``next_start`` is where
    the next page starts (None at the end of the range)."""

    instrument_id: str
    timeframe: str
    source: Literal["live", "history"]
    candles: list[CandleOut]
    next_start: str | None = None


class TickerOut(FrozenOut):
    """The last price and the last 24 hours as the node saw them (its closed bars of that
    window; ``since`` is the open of the first, None when it has none yet)."""

    instrument_id: str
    last_price: DecimalStr | None
    open_24h: DecimalStr | None
    high_24h: DecimalStr | None
    low_24h: DecimalStr | None
    volume_24h: DecimalStr
    change_24h: DecimalStr | None
    change_pct_24h: DecimalStr | None
    bars_24h: int
    since: str | None
    as_of: str

"""``BarFeed``: one instrument's bar history streamed chunk by chunk, and ``BarRef``, the lazy bar
strategies and matching engines see.

A chunk is turned into plain lists once (indexing a list is several times faster than a numpy
array from Python), indicators are computed over the chunk plus the tail of the previous one (the
indicators' window), and a ``Cursor`` points at the current bar. A ``BarRef`` builds exact
``Price``/``Quantity`` values only when something reads them, so bars nobody looks at cost
almost nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Protocol

import numpy as np
import numpy.typing as npt

from tradeforge.domain import Bar, Instrument, InstrumentId, Price, Quantity, Timeframe
from tradeforge.strategy import Cursor, Indicator

__all__ = ["BarChunk", "BarFeed", "BarRef"]


class BarChunk(Protocol):
    """Columns of bars: ``ts`` (open time, int64 ns) and float64 OHLCV."""

    @property
    def ts(self) -> npt.NDArray[np.int64]: ...
    @property
    def open(self) -> npt.NDArray[np.float64]: ...
    @property
    def high(self) -> npt.NDArray[np.float64]: ...
    @property
    def low(self) -> npt.NDArray[np.float64]: ...
    @property
    def close(self) -> npt.NDArray[np.float64]: ...
    @property
    def volume(self) -> npt.NDArray[np.float64]: ...


class BarFeed:
    """Bars of one instrument and timeframe, with the indicators computed from them."""

    def __init__(
        self, instrument: Instrument, timeframe: Timeframe, chunks: Iterable[BarChunk]
    ) -> None:
        self.instrument = instrument
        self.instrument_id: InstrumentId = instrument.id
        self.timeframe = timeframe
        self.cursor = Cursor()
        self.indicators: list[Indicator] = []
        self._chunks: Iterator[BarChunk] = iter(chunks)
        self._tail: dict[str, npt.NDArray[np.float64]] | None = None
        self._tail_ts: npt.NDArray[np.int64] | None = None
        self._price_scale = 10**instrument.price_precision
        tick = instrument.tick_size.as_decimal()
        self._price_fast = tick == Decimal(1).scaleb(-instrument.price_precision)
        self._size_scale = 10**instrument.size_precision
        self._price_precision = instrument.price_precision
        self._size_precision = instrument.size_precision
        self.ts_close_array: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self.close_array: npt.NDArray[np.float64] = np.empty(0)
        self.ts_close: list[int] = []
        self.ts_open: list[int] = []
        self.open: list[float] = []
        self.high: list[float] = []
        self.low: list[float] = []
        self.close: list[float] = []
        self.volume: list[float] = []
        self.pos = 0  # next row to replay
        self.n = 0
        self.rows_seen = 0

    def add_indicator(self, indicator: Indicator) -> None:
        """Compute ``indicator`` from this feed's bars (declare before the first chunk)."""
        self.indicators.append(indicator)
        indicator.bind(self.cursor, [])

    @property
    def window(self) -> int:
        """Bars of history the indicators need before the current one."""
        return max([ind.window for ind in self.indicators] or [0])

    def load_next(self) -> bool:
        """Load the next chunk (after the tail of the previous); False when history is over."""
        chunk = next(self._chunks, None)
        while chunk is not None and len(chunk.ts) == 0:
            chunk = next(self._chunks, None)
        if chunk is None:
            self.pos = self.n = 0
            return False
        columns = {
            "open": chunk.open,
            "high": chunk.high,
            "low": chunk.low,
            "close": chunk.close,
            "volume": chunk.volume,
        }
        ts = chunk.ts
        if self._tail is not None and self._tail_ts is not None and len(self._tail_ts):
            columns = {k: np.concatenate((self._tail[k], v)) for k, v in columns.items()}
            ts = np.concatenate((self._tail_ts, ts))
            start = len(self._tail_ts)
        else:
            start = 0
        for indicator in self.indicators:
            indicator.bind(self.cursor, indicator.compute(columns).tolist())
        keep = self.window
        self._tail = {k: v[-keep:] for k, v in columns.items()} if keep else None
        self._tail_ts = ts[-keep:] if keep else None
        self.ts_close_array = ts + self.timeframe.nanos
        self.close_array = columns["close"]
        self.ts_open = ts.tolist()
        self.ts_close = self.ts_close_array.tolist()
        self.open = columns["open"].tolist()
        self.high = columns["high"].tolist()
        self.low = columns["low"].tolist()
        self.close = columns["close"].tolist()
        self.volume = columns["volume"].tolist()
        self.pos, self.n = start, len(self.ts_open)
        self.rows_seen += self.n - start
        return True

    def price(self, value: float) -> Price:
        """An exact price on the instrument's tick from a stored float."""
        if self._price_fast:
            return Price.from_raw(round(value * self._price_scale), self._price_precision)
        return self.instrument.make_price(value)

    def quantity(self, value: float) -> Quantity:
        """An exact quantity at the instrument's size precision from a stored float."""
        return Quantity.from_raw(round(value * self._size_scale), self._size_precision)

    def bar(self, i: int) -> BarRef:
        """The lazy bar at row ``i`` of the current chunk."""
        return BarRef(self, i)


class BarRef:
    """A bar of a feed, read lazily; ``to_bar()`` gives the domain ``Bar``."""

    __slots__ = ("_feed", "_i")

    def __init__(self, feed: BarFeed, i: int) -> None:
        self._feed = feed
        self._i = i

    @property
    def instrument_id(self) -> InstrumentId:
        """The instrument."""
        return self._feed.instrument_id

    @property
    def timeframe(self) -> Timeframe:
        """The bar length."""
        return self._feed.timeframe

    @property
    def ts_event(self) -> int:
        """Close time (UTC ns)."""
        return self._feed.ts_close[self._i]

    @property
    def ts_init(self) -> int:
        """Same as ``ts_event`` in a replay."""
        return self._feed.ts_close[self._i]

    @property
    def ts_open(self) -> int:
        """Open time (UTC ns)."""
        return self._feed.ts_open[self._i]

    @property
    def open(self) -> Price:
        """Open price."""
        return self._feed.price(self._feed.open[self._i])

    @property
    def high(self) -> Price:
        """High price."""
        return self._feed.price(self._feed.high[self._i])

    @property
    def low(self) -> Price:
        """Low price."""
        return self._feed.price(self._feed.low[self._i])

    @property
    def close(self) -> Price:
        """Close price."""
        return self._feed.price(self._feed.close[self._i])

    @property
    def volume(self) -> Quantity:
        """Volume."""
        return self._feed.quantity(self._feed.volume[self._i])

    def to_bar(self) -> Bar:
        """The domain ``Bar`` (validated)."""
        return Bar(
            instrument_id=self.instrument_id,
            timeframe=self.timeframe,
            open=self.open,
            high=self.high,
            low=self.low,
            close=self.close,
            volume=self.volume,
            ts_event=self.ts_event,
            ts_init=self.ts_init,
        )

    def __repr__(self) -> str:
        f, i = self._feed, self._i
        return (
            f"BarRef({f.instrument_id} {f.timeframe} close_ts={f.ts_close[i]} "
            f"o={f.open[i]} h={f.high[i]} l={f.low[i]} c={f.close[i]} v={f.volume[i]})"
        )

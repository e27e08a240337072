"""``BarFeed``: one instrument's bar history streamed chunk by chunk, and ``BarRef``, the lazy bar
strategies and matching engines see.

History arrives in chunks of any size and is replayed in time-aligned blocks (so results do not
depend on how it was stored or read); each block is turned into plain lists once (indexing a list
is several times faster than a numpy array from Python), indicators are computed over the block
after the window of bars before it, exactly as live trading computes them, and a ``Cursor``
points at the current bar. A ``BarRef`` builds exact
``Price``/``Quantity`` values only when something reads them, so bars nobody looks at cost
almost nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Protocol

import numpy as np
import numpy.typing as npt
from mypy_extensions import mypyc_attr

from tradeforge.domain import Bar, Instrument, InstrumentId, Price, Quantity, Timeframe
from tradeforge.domain.exact import exact_scaleb
from tradeforge.strategy import BarLike, Cursor, Indicator
from tradeforge.strategy.indicators import BLOCK_BARS, COLUMNS

__all__ = [
    "BarBlock",
    "BarChunk",
    "BarFeed",
    "BarRef",
    "bar_times",
    "exact_close",
    "exact_high_low",
    "exact_open",
]

_Columns = dict[str, npt.NDArray[np.float64]]


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


def _round_half_even(x: float) -> int:
    """``round(x)`` for a finite float, in native arithmetic (``round`` is a generic call from
    compiled code). ``x - floor(x)`` is exact, so the tie test is too."""
    n = math.floor(x)
    rest = x - n
    if rest > 0.5 or (rest == 0.5 and n % 2 == 1):
        return n + 1
    return n


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
        self._tail: tuple[npt.NDArray[np.int64], _Columns] | None = None
        self._pending: tuple[npt.NDArray[np.int64], _Columns] | None = None
        self._exhausted = False
        self._columns: _Columns | None = None
        self.pos_block_start = 0
        # Floats, so scaling is native arithmetic; exact, as precisions are at most 18.
        self._price_scale = float(10**instrument.price_precision)
        tick = instrument.tick_size.as_decimal()
        self._price_fast = tick == Decimal(1).scaleb(-instrument.price_precision)
        self._size_scale = float(10**instrument.size_precision)
        self._price_precision = instrument.price_precision
        self._size_precision = instrument.size_precision
        self.ts_close_array: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self.close_array: npt.NDArray[np.float64] = np.empty(0)
        self.nanos = timeframe.nanos  # a bar closes this long after it opens
        self.ts_open: list[int] = []
        self.close: list[float] = []
        self.block = BarBlock(self, {})
        self.keep = 0  # bars strategies want to read back across blocks
        self.pos = 0  # next row to replay
        self.n = 0
        self.rows_seen = 0

    def add_indicator(self, indicator: Indicator) -> None:
        """Compute ``indicator`` from this feed's bars (from the current block on, when declared
        mid-run; declare in ``on_start`` to have it from the first bar)."""
        self.indicators.append(indicator)
        if self._columns is None:
            indicator.bind(self.cursor, [])
        else:
            self._compute(indicator, self._columns, self.pos_block_start)

    @property
    def window(self) -> int:
        """Bars kept before a block: what the indicators need, or what strategies asked to
        read back (``keep``), whichever is more."""
        return max([self.keep, *(ind.window for ind in self.indicators)])

    def recent(self, n: int) -> list[BarRef]:
        """The last ``n`` closed bars, oldest first (fewer at the start of history, or when
        more were asked than ``keep``)."""
        i = self.cursor.i
        return [BarRef(self.block, j) for j in range(max(0, i - n + 1), i + 1)]

    def load_next(self) -> bool:
        """Load the next block of history (see ``strategy.indicators``), after the tail the
        indicators need; False when history is over."""
        block = self._next_block()
        if block is None:
            self.pos = self.n = 0
            return False
        ts, columns = block
        start = 0
        if self._tail is not None and len(self._tail[0]):
            tail_ts, tail = self._tail
            columns = {k: np.concatenate((tail[k], v)) for k, v in columns.items()}
            ts = np.concatenate((tail_ts, ts))
            start = len(tail_ts)
        for indicator in self.indicators:
            # The tail bars keep the values strategies already read for them (so ``ind[-2]``
            # at a block's first bar is what ``ind[-1]`` was a bar earlier).
            self._compute(indicator, columns, start, seen=indicator.recent(start))
        keep = self.window
        self._tail = (ts[-keep:], {k: v[-keep:] for k, v in columns.items()}) if keep else None
        self._columns = columns
        self.pos_block_start = start
        self.ts_close_array = ts + self.timeframe.nanos
        self.close_array = columns["close"]
        self.ts_open = ts.tolist()
        self.close = columns["close"].tolist()
        self.block = BarBlock(self, columns)
        self.pos, self.n = start, len(self.ts_open)
        self.rows_seen += self.n - start
        # Until the replay reaches the block, indicators read the last bar already seen.
        self.cursor.i = start - 1
        return True

    def _compute(
        self, indicator: Indicator, columns: _Columns, start: int, seen: list[float] | None = None
    ) -> None:
        # Over the indicator's own window before the block, then the block: as live does.
        first = max(0, start - indicator.window)
        values = [math.nan] * first + indicator.compute(
            {c: columns[c][first:] for c in indicator.inputs}
        ).tolist()
        if seen is not None and len(seen) == start:
            values[:start] = seen
        indicator.bind(self.cursor, values)

    def _next_block(self) -> tuple[npt.NDArray[np.int64], _Columns] | None:
        """The next time-aligned block, cut from however the chunks arrive."""
        size = BLOCK_BARS * self.timeframe.nanos
        while True:
            pending = self._pending
            if pending is not None and len(pending[0]):
                ts, cols = pending
                first = ts[0] // size
                cut = int(np.searchsorted(ts, (first + 1) * size, side="left"))
                if cut < len(ts) or self._exhausted:
                    self._pending = (ts[cut:], {k: v[cut:] for k, v in cols.items()})
                    return ts[:cut], {k: v[:cut] for k, v in cols.items()}
            elif self._exhausted:
                return None
            chunk = next(self._chunks, None)
            if chunk is None:
                self._exhausted = True
                continue
            fresh = {c: getattr(chunk, c) for c in COLUMNS}
            if pending is None or not len(pending[0]):
                self._pending = (chunk.ts, fresh)
            else:
                self._pending = (
                    np.concatenate((pending[0], chunk.ts)),
                    {k: np.concatenate((pending[1][k], fresh[k])) for k in COLUMNS},
                )

    def price(self, value: float) -> Price:
        """An exact price on the instrument's tick from a stored float."""
        if self._price_fast:
            raw = _round_half_even(value * self._price_scale)
            return Price.from_raw(raw, self._price_precision)
        return self.instrument.make_price(value)

    def exact_price(self, value: float) -> Decimal:
        """``price(value).as_decimal()`` without building the ``Price`` (the matching engine
        works in Decimals)."""
        if self._price_fast:
            raw = _round_half_even(value * self._price_scale)
            return exact_scaleb(Decimal(raw), -self._price_precision)
        return self.instrument.make_price(value).as_decimal()

    def quantity(self, value: float) -> Quantity:
        """An exact quantity at the instrument's size precision from a stored float."""
        return Quantity.from_raw(_round_half_even(value * self._size_scale), self._size_precision)

    def bar(self, i: int) -> BarRef:
        """The lazy bar at row ``i`` of the current block."""
        return BarRef(self.block, i)

    @property
    def open(self) -> list[float]:
        """Opens of the current block."""
        return self.block.open

    @property
    def high(self) -> list[float]:
        """Highs of the current block."""
        return self.block.high

    @property
    def low(self) -> list[float]:
        """Lows of the current block."""
        return self.block.low

    @property
    def volume(self) -> list[float]:
        """Volumes of the current block."""
        return self.block.volume


class BarBlock:
    """The lists of one loaded block of a feed; bars keep the block they came from, so a bar
    read after the feed moved on still shows its own prices. Times and closes are lists from
    the start (the replay reads them at every bar); opens, highs, lows and volumes become
    lists when first read (most bars are never looked at that closely)."""

    __slots__ = ("_columns", "_lists", "close", "feed", "nanos", "ts_open")

    def __init__(self, feed: BarFeed, columns: _Columns) -> None:
        self.feed = feed
        self.ts_open, self.nanos = feed.ts_open, feed.nanos
        self.close = feed.close
        self._columns = columns
        self._lists: dict[str, list[float]] = {}

    def _column(self, name: str) -> list[float]:
        values = self._lists.get(name)
        if values is None:
            column = self._columns.get(name)
            values = self._lists[name] = [] if column is None else column.tolist()
        return values

    @property
    def open(self) -> list[float]:
        """Opens."""
        return self._column("open")

    @property
    def high(self) -> list[float]:
        """Highs."""
        return self._column("high")

    @property
    def low(self) -> list[float]:
        """Lows."""
        return self._column("low")

    @property
    def volume(self) -> list[float]:
        """Volumes."""
        return self._column("volume")


@mypyc_attr(acyclic=True)
class BarRef:
    """A bar of a feed, read lazily; ``to_bar()`` gives the domain ``Bar``."""

    __slots__ = ("_b", "_i")

    def __init__(self, block: BarBlock, i: int) -> None:
        self._b = block
        self._i = i

    @property
    def instrument_id(self) -> InstrumentId:
        """The instrument."""
        return self._b.feed.instrument_id

    @property
    def timeframe(self) -> Timeframe:
        """The bar length."""
        return self._b.feed.timeframe

    @property
    def ts_event(self) -> int:
        """Close time (UTC ns)."""
        return self._b.ts_open[self._i] + self._b.nanos

    @property
    def ts_init(self) -> int:
        """Same as ``ts_event`` in a replay."""
        return self._b.ts_open[self._i] + self._b.nanos

    @property
    def ts_open(self) -> int:
        """Open time (UTC ns)."""
        return self._b.ts_open[self._i]

    @property
    def open(self) -> Price:
        """Open price."""
        return self._b.feed.price(self._b.open[self._i])

    @property
    def high(self) -> Price:
        """High price."""
        return self._b.feed.price(self._b.high[self._i])

    @property
    def low(self) -> Price:
        """Low price."""
        return self._b.feed.price(self._b.low[self._i])

    @property
    def close(self) -> Price:
        """Close price."""
        return self._b.feed.price(self._b.close[self._i])

    @property
    def volume(self) -> Quantity:
        """Volume."""
        return self._b.feed.quantity(self._b.volume[self._i])

    # The prices as Decimals, for the matching engine: what ``.open.as_decimal()`` and the
    # others give, without a ``Price`` object or an attribute lookup by name.
    def exact_open(self) -> Decimal:
        """``open.as_decimal()``."""
        return self._b.feed.exact_price(self._b.open[self._i])

    def exact_high(self) -> Decimal:
        """``high.as_decimal()``."""
        return self._b.feed.exact_price(self._b.high[self._i])

    def exact_low(self) -> Decimal:
        """``low.as_decimal()``."""
        return self._b.feed.exact_price(self._b.low[self._i])

    def exact_close(self) -> Decimal:
        """``close.as_decimal()``."""
        return self._b.feed.exact_price(self._b.close[self._i])

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
        b, i = self._b, self._i
        return (
            f"BarRef({b.feed.instrument_id} {b.feed.timeframe} close_ts={b.ts_open[i] + b.nanos} "
            f"o={b.open[i]} h={b.high[i]} l={b.low[i]} c={b.close[i]} v={b.volume[i]})"
        )


# What the matching engine reads of a bar: natively, prices straight to Decimals, from a
# ``BarRef`` (a backtest's bars); through the protocol from any other ``BarLike`` (a domain
# ``Bar``, live). mypyc compiles each ``isinstance`` branch with the narrowed type.
def bar_times(bar: BarLike) -> tuple[int, int]:
    """The bar's open and close times."""
    if isinstance(bar, BarRef):
        return bar.ts_open, bar.ts_event
    return bar.ts_open, bar.ts_event


def exact_open(bar: BarLike) -> Decimal:
    """``bar.open.as_decimal()``."""
    return bar.exact_open() if isinstance(bar, BarRef) else bar.open.as_decimal()


def exact_close(bar: BarLike) -> Decimal:
    """``bar.close.as_decimal()``."""
    return bar.exact_close() if isinstance(bar, BarRef) else bar.close.as_decimal()


def exact_high_low(bar: BarLike) -> tuple[Decimal, Decimal]:
    """``bar.high`` and ``bar.low`` as Decimals."""
    if isinstance(bar, BarRef):
        return bar.exact_high(), bar.exact_low()
    return bar.high.as_decimal(), bar.low.as_decimal()

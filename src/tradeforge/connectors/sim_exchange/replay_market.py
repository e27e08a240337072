"""``ReplayMarket``: a catalog dataset replayed as trades and a book; ``make_feed`` picks a feed.

Each bar becomes trades along the backtester's path through it (``MatchingEngine.on_bar``):
open -> low -> high -> close for a bar that closed at or above its open, else
open -> high -> low -> close. With ``n = min(trades_per_bar, volume in lots)`` trades, the four
corners are always printed (for ``n < 4``, the last ``n`` of them) and the rest are spread over
the three legs in proportion to their lengths, so every trade lies within the bar's low and
high. The bar's volume, rounded to the lot, is split evenly in whole lots with the remainder on
the last trade, so the trades add up to it exactly. Trades are ``timeframe / n`` apart from the
bar's open; a bar of no volume only moves the book to its close.

The book is kept around the last trade: after a buy at ``p`` the asks start at ``p`` and go on
at the multiples of ``level_ticks`` above it, the bids at those below it; after a sell the other
way round; ``levels`` levels a side. Levels that stay keep their size, new ones get a seeded
log-normal size. Removed levels
are reported before added ones, so no state in between is crossed.

Time: bar time ``b`` happens at the caller's ``start_ts_ns + (b - first bar's open) / speed``;
``speed=10`` replays ten bar-minutes per minute. Prices are rounded to the instrument's tick
(half-even) and volumes to its lot.
"""

from __future__ import annotations

import itertools
import math
import random
import re
from collections import deque
from collections.abc import Iterable, Iterator
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from tradeforge.connectors.sim_exchange.market import (
    LevelBook,
    MarketEvent,
    MarketFeed,
    nice_step,
    typical_lots,
)
from tradeforge.connectors.sim_exchange.random_market import RandomMarket
from tradeforge.data import Catalog, DatasetInfo, DatasetNotFound
from tradeforge.domain import (
    AggressorSide,
    BookSide,
    Instrument,
    InstrumentId,
    InvalidValue,
    OrderBookSnapshot,
    Timeframe,
)

__all__ = ["BarRow", "ReplayMarket", "catalog_bars", "make_feed"]

Number = float | int | str | Decimal
BarRow = tuple[int, Number, Number, Number, Number, Number]
"""``(ts_open_ns, open, high, low, close, volume)``, as the catalog stores a bar."""

DEFAULT_START_TICKS = 10_000
"""Where a random feed starts when ``make_feed`` is given no price: 10,000 ticks."""

_TIMEFRAME = re.compile(r"[1-9][0-9]*[smhdw]")


class ReplayMarket:
    """Bars replayed at ``speed`` times the caller's clock (see the module docstring).

    Args:
        instrument: what is traded; prices on its tick, sizes on its lot.
        bars: ``(ts_open_ns, open, high, low, close, volume)`` rows in time order; read lazily,
            one bar ahead of the caller's time.
        timeframe_ns: the bars' length.
        speed: bar time per unit of the caller's time (> 0).
        start_ts_ns: the caller's time of the first bar's open; None: the first ``advance``.
        levels: book levels per side.
        trades_per_bar: trades printed per bar, at most (>= 1).
        level_ticks: ticks between book levels; None: about half the first bar's range
            between two of its trades, rounded to 1, 2, 2.5 or 5 times a power of ten.
        level_size: median size of a book level; by default worth about 2,000 in the quote
            currency at the first bar's open.
        seed: seeds the book's level sizes.
    """

    def __init__(
        self,
        instrument: Instrument,
        bars: Iterable[BarRow],
        *,
        timeframe_ns: int,
        speed: float = 1.0,
        start_ts_ns: int | None = None,
        levels: int = 20,
        trades_per_bar: int = 12,
        level_ticks: int | None = None,
        level_size: Decimal | None = None,
        seed: int = 0,
    ) -> None:
        for name, value, low in (
            ("timeframe_ns", timeframe_ns, 1),
            ("levels", levels, 1),
            ("trades_per_bar", trades_per_bar, 1),
            ("level_ticks", 1 if level_ticks is None else level_ticks, 1),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise InvalidValue(f"{name} must be an int >= {low}, got {value!r}")
        self.instrument = instrument
        self._speed = _speed_fraction(speed)
        self._tf = timeframe_ns
        self._levels = levels
        self._per_bar = trades_per_bar
        self._rng = random.Random(seed)
        self._tick = instrument.tick_size.as_decimal()
        self._lot = instrument.lot_size.as_decimal()
        self._bars = iter(bars)
        self._last_bar_ts: int | None = None
        self._exhausted = False
        first = self._next_bar()
        if first is None:
            raise InvalidValue(f"{instrument.id}: no bars to replay")
        self._origin = first[0]
        range_ticks = first[2] - first[3]
        self._step = level_ticks or nice_step(range_ticks / (2 * trades_per_bar))
        self._size = typical_lots(instrument, level_size, Decimal(first[1]) * self._tick)
        self._book = LevelBook(instrument, ts_ns=start_ts_ns or 0)
        self._start = start_ts_ns
        self._plan: deque[tuple[int, int, int]] = deque()  # (bar time, ticks, lots)
        self._plan_bar(first)
        self._last = first[1]
        self._buyer = True
        bids, asks = self._around(first[1], buyer=True)
        self._book.load(
            {p: self._draw(k) for k, p in enumerate(bids)},
            {p: self._draw(k) for k, p in enumerate(asks)},
        )

    @property
    def finished(self) -> bool:
        """True once every bar has been replayed."""
        return not self._plan and self._exhausted

    def snapshot(self) -> OrderBookSnapshot:
        """The whole book now."""
        return self._book.snapshot()

    def advance(self, ts_ns: int) -> list[MarketEvent]:
        """Replay everything up to ``ts_ns``; with no start time, the first call starts it."""
        if self._start is None:
            self._start = self._book.ts_ns = ts_ns
        while True:
            if not self._plan:
                bar = self._next_bar()
                if bar is None:
                    break
                self._plan_bar(bar)
            bar_ts, ticks, lots = self._plan[0]
            at = self._caller_ts(bar_ts)
            if at > ts_ns:
                break
            self._plan.popleft()
            self._replay(ticks, lots, at)
        return self._book.drain()

    # --------------------------------------------------------------- internals
    def _caller_ts(self, bar_ts: int) -> int:
        assert self._start is not None
        elapsed = bar_ts - self._origin
        return self._start + elapsed * self._speed.denominator // self._speed.numerator

    def _next_bar(self) -> tuple[int, int, int, int, int, int] | None:
        """The next bar in ticks and lots, checked: ``(ts, open, high, low, close, lots)``."""
        row = next(self._bars, None)
        if row is None:
            self._exhausted = True
            return None
        ts, *values = row
        name = self.instrument.id
        if isinstance(ts, bool) or not isinstance(ts, int):
            raise InvalidValue(f"{name}: bar time must be int ns, got {ts!r}")
        if self._last_bar_ts is not None and ts <= self._last_bar_ts:
            raise InvalidValue(
                f"{name}: bars must be in time order; {ts} follows {self._last_bar_ts}"
            )
        self._last_bar_ts = ts
        o, h, low, c = (self._ticks(value) for value in values[:4])
        lots = self._lots(values[4])
        if not low <= min(o, c) <= max(o, c) <= h:
            raise InvalidValue(
                f"{name}: bar at {ts} breaks low <= open, close <= high: {tuple(values[:4])}"
            )
        return ts, o, h, low, c, lots

    def _ticks(self, value: Number) -> int:
        price = self.instrument.make_price(value, rounding=ROUND_HALF_EVEN)
        ticks = int(price.as_decimal() / self._tick)
        if ticks < 1:
            raise InvalidValue(f"{self.instrument.id}: bar price {value!r} is below one tick")
        return ticks

    def _lots(self, value: Number) -> int:
        volume = self.instrument.make_qty(value, rounding=ROUND_HALF_EVEN)
        return int(volume.as_decimal() / self._lot)

    def _plan_bar(self, bar: tuple[int, int, int, int, int, int]) -> None:
        ts, o, h, low, c, lots = bar
        corners = (o, low, h, c) if c >= o else (o, h, low, c)
        count = min(self._per_bar, lots)
        if count == 0:
            self._plan.append((ts, c, 0))
            return
        prices = _path(corners, count)
        base, extra = divmod(lots, count)
        for k, ticks in enumerate(prices):
            size = base + (extra if k == count - 1 else 0)
            self._plan.append((ts + k * self._tf // count, ticks, size))

    def _replay(self, ticks: int, lots: int, ts: int) -> None:
        if ticks != self._last:
            self._buyer = ticks > self._last
        self._last = ticks
        aggressor = AggressorSide.BUYER if self._buyer else AggressorSide.SELLER
        if lots > 0:
            self._book.print_trade(ticks, lots, aggressor, ts)
        self._recentre(ticks, buyer=self._buyer, ts=ts)

    def _around(self, ticks: int, *, buyer: bool) -> tuple[list[int], list[int]]:
        """Bid and ask prices, best first, of the book after a trade at ``ticks``: that price
        on the passive side, then the multiples of the level spacing beyond it."""
        step, count = self._step, self._levels
        above = (ticks // step + 1) * step
        below = (ticks - 1) // step * step
        asks = [above + k * step for k in range(count - 1 if buyer else count)]
        bids = [below - k * step for k in range(count if buyer else count - 1)]
        if buyer:
            asks.insert(0, ticks)
        else:
            bids.insert(0, ticks)
        return [p for p in bids if p >= 1], asks

    def _recentre(self, ticks: int, *, buyer: bool, ts: int) -> None:
        book = self._book
        bids, asks = self._around(ticks, buyer=buyer)
        wanted = ((BookSide.BID, bids), (BookSide.ASK, asks))
        for side, prices in wanted:
            keep = set(prices)
            for price in sorted(p for p in book.side(side) if p not in keep):
                book.set_level(side, price, 0, ts)
        for side, prices in wanted:
            levels = book.side(side)
            for k, price in enumerate(prices):
                if price not in levels:
                    book.set_level(side, price, self._draw(k), ts)

    def _draw(self, depth: int) -> int:
        scale = 1 + 2 * depth / self._levels
        return max(1, round(self._size * scale * self._rng.lognormvariate(0, 0.5)))


def _path(corners: tuple[int, int, int, int], count: int) -> list[int]:
    """``count`` prices along the legs between ``corners``, the corners included."""
    if count <= 4:
        return list(corners[4 - count :])
    legs = [abs(b - a) for a, b in itertools.pairwise(corners)]
    extra = _apportion(count - 4, legs)
    prices = [corners[0]]
    for (a, b), inside in zip(itertools.pairwise(corners), extra, strict=True):
        prices.extend(a + round((b - a) * j / (inside + 1)) for j in range(1, inside + 1))
        prices.append(b)
    return prices


def _apportion(total: int, weights: list[int]) -> list[int]:
    """``total`` split in proportion to ``weights`` by largest remainders (evenly if all 0)."""
    if not any(weights):
        weights = [1] * len(weights)
    whole = sum(weights)
    shares = [Fraction(total * w, whole) for w in weights]
    counts = [math.floor(share) for share in shares]
    order = sorted(range(len(weights)), key=lambda i: counts[i] - shares[i])
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _speed_fraction(speed: float) -> Fraction:
    if isinstance(speed, bool) or not isinstance(speed, int | float) or not math.isfinite(speed):
        raise InvalidValue(f"speed must be a positive number, got {speed!r}")
    fraction = Fraction(speed).limit_denominator(1_000_000)
    if fraction <= 0:
        raise InvalidValue(f"speed must be a positive number, got {speed!r}")
    return fraction


def catalog_bars(
    catalog: Catalog, instrument_id: InstrumentId, timeframe: Timeframe
) -> Iterator[BarRow]:
    """A dataset's bars as rows, read chunk by chunk.

    Raises:
        DatasetNotFound: no such dataset (at once, not on the first row).
    """
    chunks = catalog.iter_bars(instrument_id, timeframe)

    def rows() -> Iterator[BarRow]:
        for chunk in chunks:
            columns = (chunk.open, chunk.high, chunk.low, chunk.close, chunk.volume)
            yield from zip(chunk.ts.tolist(), *(col.tolist() for col in columns), strict=True)

    return rows()


def make_feed(
    spec: str,
    instrument: Instrument,
    *,
    catalog: Catalog | None,
    seed: int = 0,
    speed: float = 1.0,
    start_price: Decimal | None = None,
    start_ts_ns: int | None = None,
) -> MarketFeed:
    """The feed a ``--feed`` value names: ``random`` or ``replay:<dataset>``.

    ``random`` is a :class:`RandomMarket` from ``start_price`` (default
    ``DEFAULT_START_TICKS`` ticks). ``replay:<dataset>`` replays a catalog dataset at ``speed``;
    the dataset is named as ``tradeforge data list`` shows it, instrument and timeframe,
    joined by a space or a colon: ``replay:BTC/USDT.SIM:1m``; the timeframe may be left out
    when the instrument has only one. The dataset's symbol must be the instrument's.

    Raises:
        InvalidValue: the spec is malformed, or names a dataset that does not exist (the
            message lists those that do) or that belongs to another symbol.
    """
    if not isinstance(spec, str):
        raise InvalidValue(f"feed must be a str, got {type(spec).__name__}")
    kind, colon, dataset = spec.strip().partition(":")
    if kind == "random" and not colon:
        price = start_price
        if price is None:
            price = DEFAULT_START_TICKS * instrument.tick_size.as_decimal()
        return RandomMarket(instrument, seed=seed, start_price=price, start_ts_ns=start_ts_ns)
    if kind != "replay" or not colon:
        raise InvalidValue(
            f"feed must be 'random' or 'replay:<dataset>' (e.g. replay:BTC/USDT.SIM:1m, see "
            f"'tradeforge data list'), got {spec!r}"
        )
    if catalog is None:
        raise InvalidValue(f"feed {spec!r} needs a history catalog (the data directory)")
    info = _dataset(catalog, dataset.strip(), spec)
    if info.instrument_id.symbol != instrument.id.symbol:
        raise InvalidValue(
            f"feed {spec!r}: dataset {info.instrument_id} {info.timeframe} is for "
            f"{info.instrument_id.symbol}, not {instrument.id.symbol}"
        )
    return ReplayMarket(
        instrument,
        catalog_bars(catalog, info.instrument_id, info.timeframe),
        timeframe_ns=info.timeframe.nanos,
        speed=speed,
        start_ts_ns=start_ts_ns,
        seed=seed,
    )


def _dataset(catalog: Catalog, name: str, spec: str) -> DatasetInfo:
    """The dataset ``INSTRUMENT[ |:]TIMEFRAME`` (or ``INSTRUMENT`` alone if it has one)."""
    head, sep, tail = name.replace(" ", ":").rpartition(":")
    if sep and _TIMEFRAME.fullmatch(tail.strip()):
        instrument_text, timeframe_text = head.strip(), tail.strip()
    else:
        instrument_text, timeframe_text = name, ""
    if not instrument_text:
        raise InvalidValue(f"feed {spec!r}: name a dataset, e.g. replay:BTC/USDT.SIM:1m")
    try:
        instrument_id = InstrumentId.from_str(instrument_text)
    except InvalidValue as exc:
        raise InvalidValue(f"feed {spec!r}: {exc}") from None
    if timeframe_text:
        try:
            return catalog.info(instrument_id, Timeframe.from_str(timeframe_text))
        except DatasetNotFound as exc:
            raise InvalidValue(f"feed {spec!r}: {exc}") from None
    found = [info for info in catalog.datasets() if info.instrument_id == instrument_id]
    if len(found) == 1:
        return found[0]
    names = ", ".join(f"{info.instrument_id}:{info.timeframe}" for info in catalog.datasets())
    if not found:
        raise InvalidValue(
            f"feed {spec!r}: no dataset of {instrument_id} in {catalog.root}; "
            f"datasets: {names or 'none'}"
        )
    raise InvalidValue(
        f"feed {spec!r}: {instrument_id} has several timeframes, name one "
        f"(e.g. replay:{found[0].instrument_id}:{found[0].timeframe}); datasets: {names}"
    )

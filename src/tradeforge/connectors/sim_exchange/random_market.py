"""``RandomMarket``: a seeded market of simulated participants around a moving fair value.

The model, in the spirit of the "zero-intelligence" order-flow models (Farmer, Patelli and
Zovko, 2005) with a latent value that the participants lean on:

* **Fair value.** Its log follows a random walk with stochastic volatility, as in
  :mod:`tradeforge.data.synthetic`: per event ``dlog = sigma * sqrt(dt) * exp(h - s^2) * t``,
  with ``sigma`` the annualised ``volatility`` per second, ``t`` Student-t with 4 degrees of
  freedom at unit variance (fat tails), and the log-volatility ``h`` an AR(1) process with a
  5-minute memory and stationary deviation ``s = 0.5`` (calm and busy spells).
* **Swings.** On top of it, order-flow pressure that comes and goes: a mean-reverting
  (Ornstein-Uhlenbeck) term with a 3-second memory and a standard deviation of
  ``swing_levels`` levels. It makes the price trade back and forth through the levels near
  the touch, so resting orders on both sides get filled, as on a real venue.
* **Events** arrive as a Poisson process of ``events_per_second``; each is one participant:
  a *market order* (20 %), buying more often the further the value is above the mid, that
  takes the opposite side level by level (one trade per level); a *limit order* (40 %) at or
  beyond the value, nearer the touch more often, that trades first against any level it
  crosses and rests with the rest; a *market maker* (20 %) quoting both touches around the
  value; or a *cancel* (20 %) of part or all of a level.
* **Levels** lie on a grid of ``level_ticks`` ticks: by default about the fair value's typical
  move in one second, at least 5 ticks (or 0.1 % of the price if less), rounded to 1, 2, 2.5 or
  5 times a power of ten. So the book keeps its shape (a spread of one or two levels) whatever
  the ratio of volatility to tick. At most ``levels`` levels per side: a new level beyond them
  is dropped, a better one pushes out the farthest. Sizes are whole lots, log-normal around
  ``order_size``, larger away from the touch. Neither side is ever emptied.

Prices and sizes are exact multiples of the instrument's tick and lot. Every draw, event times
included, comes from one generator seeded with ``seed``, never from a clock: the same arguments
give the same events, however the caller slices time.
"""

from __future__ import annotations

import math
import random
from decimal import Decimal
from typing import Final

from tradeforge.connectors.sim_exchange.market import (
    LevelBook,
    MarketEvent,
    nice_step,
    typical_lots,
)
from tradeforge.domain import BookSide, Instrument, InvalidValue, OrderBookSnapshot

__all__ = ["RandomMarket"]

_NS: Final = 1_000_000_000
_YEAR_S: Final = 365 * 86_400.0
_LOG_VOL_SD: Final = 0.5
_LOG_VOL_MEMORY_S: Final = 300.0
_T_DF: Final = 4.0
_SWING_MEMORY_S: Final = 3.0
# cumulative shares of the event kinds: market orders, limit orders, market makers; the rest
# are cancels
_MARKET: Final = 0.2
_LIMIT: Final = 0.6
_MAKER: Final = 0.8
_TOUCH_SHARE: Final = 0.2  # of limit orders: at the touch
_REFILL_SHARE: Final = 0.3  # of limit orders: one level beyond a side short of levels
_DELETE_SHARE: Final = 0.35  # of cancels: the whole level goes
_MIN_STEP_TICKS: Final = 5


class RandomMarket:
    """A seeded, self-moving market for one instrument (see the module docstring).

    Args:
        instrument: what is traded; prices on its tick, sizes on its lot.
        seed: same seed (and arguments), same events.
        start_price: where the fair value starts (a positive Decimal, on the tick or not).
        levels: price levels per side, at most.
        volatility: annualised volatility of the fair value (0.8: a lively crypto pair).
        swing_levels: standard deviation of the short-lived swings, in book levels.
        events_per_second: mean rate of participant events, in the caller's time.
        order_size: median participant order; by default worth about 2,000 in the quote
            currency, at least ``min_quantity``.
        level_ticks: grid between price levels, in ticks; None picks it (module docstring).
        start_ts_ns: the time the book starts at; None starts the clock at the first
            ``advance``.
    """

    def __init__(
        self,
        instrument: Instrument,
        *,
        seed: int,
        start_price: Decimal,
        levels: int = 20,
        volatility: float = 0.8,
        swing_levels: float = 4.0,
        events_per_second: float = 20.0,
        order_size: Decimal | None = None,
        level_ticks: int | None = None,
        start_ts_ns: int | None = None,
    ) -> None:
        _check_params(
            start_price=start_price,
            levels=levels,
            volatility=volatility,
            swing_levels=swing_levels,
            events_per_second=events_per_second,
            level_ticks=level_ticks,
        )
        self.instrument = instrument
        self._rng = random.Random(seed)
        self._levels = levels
        self._rate = events_per_second
        price_ticks = float(start_price / instrument.tick_size.as_decimal())
        self._sigma = volatility / math.sqrt(_YEAR_S)  # log units per sqrt(second)
        self._step = level_ticks or nice_step(
            max(price_ticks * self._sigma, min(_MIN_STEP_TICKS, price_ticks / 1_000))
        )
        self._swing_sd = swing_levels
        self._log_fair = math.log(price_ticks / self._step)  # in grid levels
        self._log_vol = 0.0
        self._swing = 0.0
        self._size = typical_lots(instrument, order_size, start_price)
        self._book = LevelBook(instrument, ts_ns=start_ts_ns or 0)
        self._build_book()
        self._first_gap = self._gap()
        self._now = start_ts_ns
        self._next = None if start_ts_ns is None else start_ts_ns + self._first_gap

    @property
    def level_ticks(self) -> int:
        """Ticks between two grid levels of the book."""
        return self._step

    def snapshot(self) -> OrderBookSnapshot:
        """The whole book now."""
        return self._book.snapshot()

    def advance(self, ts_ns: int) -> list[MarketEvent]:
        """Run every participant event up to ``ts_ns``; the first call with no start time only
        starts the clock."""
        if self._now is None or self._next is None:
            self._now = self._book.ts_ns = ts_ns
            self._next = ts_ns + self._first_gap
            return []
        while self._next <= ts_ns:
            self._event(self._next)
            self._now = self._next
            self._next += self._gap()
        return self._book.drain()

    # ------------------------------------------------------------------ model
    def _gap(self) -> int:
        return max(1, round(self._rng.expovariate(self._rate) * _NS))

    def _fair(self) -> float:
        # the value participants lean on, in grid levels (not floored: below 1 is possible)
        return math.exp(self._log_fair) + self._swing

    def _event(self, ts: int) -> None:
        assert self._now is not None
        self._walk((ts - self._now) / _NS)
        kind = self._rng.random()
        if kind < _MARKET:
            self._market_order(ts)
        elif kind < _LIMIT:
            self._limit_order(ts)
        elif kind < _MAKER:
            self._make_market(ts)
        else:
            self._cancel(ts)

    def _walk(self, dt: float) -> None:
        rng = self._rng
        keep = math.exp(-dt / _LOG_VOL_MEMORY_S)
        self._log_vol = keep * self._log_vol + math.sqrt(1 - keep**2) * rng.gauss(0, _LOG_VOL_SD)
        shock = rng.gauss(0, 1) / math.sqrt(rng.gammavariate(_T_DF / 2, 2) / (_T_DF - 2))
        scale = self._sigma * math.sqrt(dt) * math.exp(self._log_vol - _LOG_VOL_SD**2)
        self._log_fair += scale * shock
        keep = math.exp(-dt / _SWING_MEMORY_S)
        self._swing = keep * self._swing + math.sqrt(1 - keep**2) * rng.gauss(0, self._swing_sd)

    def _market_order(self, ts: int) -> None:
        book = self._book
        bid, ask = book.best_bid, book.best_ask
        if bid is None or ask is None:  # never: neither side is emptied
            return
        lean = self._fair() - (bid + ask) / (2 * self._step)  # grid levels above the mid
        buy = self._rng.random() < 0.5 + 0.4 * math.tanh(lean / 2)
        book.take(buy, self._draw(0.8, 1.0), None, ts)

    def _limit_order(self, ts: int) -> None:
        book, rng = self._book, self._rng
        lean = (len(book.asks) - len(book.bids)) / self._levels  # the thinner side gets more
        buy = rng.random() < 0.5 + 0.4 * lean
        levels = book.bids if buy else book.asks
        kind = rng.random()
        if kind > 1 - _REFILL_SHARE and len(levels) < self._levels:
            depth = self._levels
            far = min(levels) if buy else max(levels)
            grid = far // self._step + (-1 if buy else 1)
        else:
            depth = 0 if kind < _TOUCH_SHARE else int(rng.expovariate(3 / self._levels))
            touch = math.floor(self._fair())
            grid = touch - depth if buy else touch + 1 + depth
        self._place(buy, grid, self._draw(1 + 2 * depth / self._levels, 0.6), ts)

    def _place(self, buy: bool, grid: int, lots: int, ts: int) -> None:
        """A limit order at ``grid``: it takes what it crosses, then rests (within depth)."""
        book = self._book
        ticks = max(grid, 1) * self._step
        opposite = book.best_ask if buy else book.best_bid
        if opposite is not None and (ticks >= opposite if buy else ticks <= opposite):
            lots = book.take(buy, lots, ticks, ts)
            still = book.best_ask if buy else book.best_bid
            if lots <= 0 or (still is not None and (ticks >= still if buy else ticks <= still)):
                return  # all filled, or it would cross the level a side keeps: done
        side = BookSide.BID if buy else BookSide.ASK
        levels = book.side(side)
        if ticks not in levels and len(levels) >= self._levels:
            worst = min(levels) if buy else max(levels)
            if (ticks < worst) if buy else (ticks > worst):
                return  # beyond the depth the book keeps
            book.set_level(side, worst, 0, ts)
        book.set_level(side, ticks, levels.get(ticks, 0) + lots, ts)

    def _make_market(self, ts: int) -> None:
        touch = math.floor(self._fair())
        for buy in (True, False):
            self._place(buy, touch if buy else touch + 1, self._draw(1.0, 0.6), ts)

    def _cancel(self, ts: int) -> None:
        book, rng = self._book, self._rng
        bids, asks = len(book.bids), len(book.asks)
        side = BookSide.BID if rng.random() * (bids + asks) < bids else BookSide.ASK
        levels = book.side(side)
        ticks = rng.choice(sorted(levels))
        size = levels[ticks]
        whole = rng.random() < _DELETE_SHARE or size == 1
        if whole and len(levels) > 1:
            book.set_level(side, ticks, 0, ts)
        elif size > 1:
            book.set_level(side, ticks, size - rng.randint(1, size - 1), ts)

    def _draw(self, scale: float, spread: float) -> int:
        """Whole lots, log-normal around ``scale`` times the typical order."""
        return max(1, round(self._size * scale * self._rng.lognormvariate(0, spread)))

    def _build_book(self) -> None:
        fair = self._fair()
        top_bid = math.floor(fair)
        top_ask = top_bid + 1
        bids: dict[int, int] = {}
        asks: dict[int, int] = {}
        for depth in range(self._levels):
            scale = 2 * (1 + 2 * depth / self._levels)
            if top_bid - depth >= 1:
                bids[(top_bid - depth) * self._step] = self._draw(scale, 0.6)
            asks[(top_ask + depth) * self._step] = self._draw(scale, 0.6)
        if not bids:  # a price below two grid levels: keep one bid at the lowest
            asks.pop(self._step, None)
            bids[self._step] = self._draw(2, 0.6)
        self._book.load(bids, asks)


def _check_params(
    *,
    start_price: Decimal,
    levels: int,
    volatility: float,
    swing_levels: float,
    events_per_second: float,
    level_ticks: int | None,
) -> None:
    if not isinstance(start_price, Decimal) or not start_price.is_finite() or start_price <= 0:
        raise InvalidValue(f"start_price must be a positive Decimal, got {start_price!r}")
    if isinstance(levels, bool) or not isinstance(levels, int) or not 1 <= levels <= 1_000:
        raise InvalidValue(f"levels must be an int in 1 .. 1000, got {levels!r}")
    for name, value in (("volatility", volatility), ("swing_levels", swing_levels)):
        if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise InvalidValue(f"{name} must be a finite number >= 0, got {value!r}")
    if not isinstance(events_per_second, int | float) or not (
        math.isfinite(events_per_second) and 0 < events_per_second <= 100_000
    ):
        raise InvalidValue(f"events_per_second must be in (0, 100000], got {events_per_second!r}")
    if level_ticks is not None and (
        isinstance(level_ticks, bool) or not isinstance(level_ticks, int) or level_ticks < 1
    ):
        raise InvalidValue(f"level_ticks must be a positive int, got {level_ticks!r}")

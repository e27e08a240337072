"""``ReplayLoop``: the part of the backtest engine that replays bars in time order.

A window is a block of bars from every feed (see ``BarFeed``). One feed replays in a tight loop;
several are merged by close time, and bars closing at the same time reach the venue together
before any strategy sees one of them. After each window the equity curve of its bars is computed;
every ``GC_EVERY`` windows the young generations of the garbage collector are collected (the
engine turns automatic collection off for the run: the core makes no reference cycles, so this
only bounds what user code's cycles may hold).
"""

from __future__ import annotations

import bisect
import gc
from collections.abc import Callable
from typing import Final

import numpy as np
import numpy.typing as npt

from tradeforge.backtest.equity import EquityRecorder
from tradeforge.backtest.feed import BarFeed, BarRef
from tradeforge.backtest.venue import SimulatedVenue
from tradeforge.bus import ReplayClock
from tradeforge.domain import InstrumentId
from tradeforge.strategy import Strategy

__all__ = ["Progress", "ReplayLoop"]

Progress = Callable[[int], None]
_Closes = npt.NDArray[np.float64]

GC_EVERY: Final = 8
"""Windows between two collections of the young generations (a 1,000,000-bar ``sma_cross``
run leaves no cyclic garbage at all; each collection walks every object the windows made)."""


class ReplayLoop:
    """Mixin of ``BacktestEngine``: the replay of its feeds."""

    clock: ReplayClock
    venue: SimulatedVenue
    feeds: list[BarFeed]
    equity: EquityRecorder
    _column: dict[InstrumentId, int]
    _subs: dict[int, tuple[tuple[Strategy, Callable[[BarRef], None]], ...]]
    _subs_changes: int  # counts the changes of ``_subs`` (read per bar instead of the dict)
    _step: int
    _windows: int
    _last_close: _Closes

    def _fail(self, strategy: Strategy, hook: str, exc: Exception) -> None:
        raise NotImplementedError

    def _window(self, active: list[int], progress: Progress | None) -> None:
        feeds = self.feeds
        horizon = min(feeds[k].ts_open[feeds[k].n - 1] + feeds[k].nanos for k in active)
        if len(active) == 1:
            k = active[0]
            feed = feeds[k]
            start, end = feed.pos, feed.n
            self._replay_single(k, feed, start, end)
            ts = feed.ts_close_array[start:end]
            if len(self._column) == 1:  # the one instrument's closes, as a column (a view)
                closes = feed.close_array[start:end].reshape(-1, 1)
            else:
                closes = np.full((end - start, len(self._column)), np.nan)
                closes[:, self._column[feed.instrument_id]] = feed.close_array[start:end]
            feed.pos = end
            done = end - start
        else:
            ts, closes, done = self._replay_merged(active, horizon)
        self._close_equity_window(ts, closes)
        if progress is not None:
            progress(done)

    def _replay_single(self, k: int, feed: BarFeed, start: int, end: int) -> None:
        engine = self.venue.engines[feed.instrument_id]
        on_bar = engine.on_bar
        # The engine's working orders (the dict itself, never replaced): while there are none,
        # the bar is left for the engine to take in when next needed, which is all that
        # ``on_bar`` would do, without the call.
        working = engine._orders
        cursor = feed.cursor
        ts_open, nanos = feed.ts_open, feed.nanos
        clock = self.clock
        advance = clock.advance_to
        # With no timer or alert set, advancing a ``ReplayClock`` only moves its time: that is
        # done directly then (its timers dict is never replaced either).
        timers = clock._timers if type(clock) is ReplayClock else None
        now = clock.timestamp_ns()  # another feed may have moved the clock past an open
        block = feed.block
        subs = self._subs
        # The feed's bar hooks change only when a strategy stops or a parent order starts or
        # ends (``_subs_changes`` counts that): read once, and again after a change.
        changes = self._subs_changes
        hooks = subs[k]
        for i in range(start, end):
            self._step = i - start
            if ts_open[i] > now:
                advance(ts_open[i])  # timers until the open still see the previous bar
            bar = BarRef(block, i)
            if working:
                on_bar(bar)
            else:
                engine._idle_bar = bar
            now = ts_open[i] + nanos
            if timers is None or timers:
                if not clock.idle:
                    advance(now - 1)  # and so do timers inside the bar: it has not closed yet
                cursor.i = i
                advance(now)
            else:
                cursor.i = i
                clock._now = now
            if changes != self._subs_changes:
                changes, hooks = self._subs_changes, subs[k]
            for strategy, hook in hooks:
                try:
                    hook(bar)
                except Exception as exc:
                    self._fail(strategy, "on_bar", exc)

    def _replay_merged(
        self, active: list[int], horizon: int
    ) -> tuple[npt.NDArray[np.int64], _Closes, int]:
        feeds = self.feeds
        parts_ts, parts_feed, parts_row = [], [], []
        for k in active:
            feed = feeds[k]
            # Bars closing by the horizon: those opening by horizon - nanos.
            hi = bisect.bisect_right(feed.ts_open, horizon - feed.nanos, feed.pos)
            parts_ts.append(feed.ts_close_array[feed.pos : hi])
            parts_feed.append(np.full(hi - feed.pos, k, dtype=np.int64))
            parts_row.append(np.arange(feed.pos, hi, dtype=np.int64))
        ts_all = np.concatenate(parts_ts)
        order = np.argsort(ts_all, kind="stable")
        ts_sorted = ts_all[order]
        feed_of = np.concatenate(parts_feed)[order]
        row_of = np.concatenate(parts_row)[order]
        closes = np.full((len(order), len(self._column)), np.nan)
        keys = list(zip(feed_of.tolist(), row_of.tolist(), strict=True))
        times = ts_sorted.tolist()
        start = 0
        while start < len(keys):
            # Bars closing at the same time reach the venue together, before any strategy sees
            # one of them: an order decided on one never fills inside another that already ended.
            end = start
            while end < len(keys) and times[end] == times[start]:
                end += 1
            self._replay_group(keys, start, end, closes)
            start = end
        for k in active:
            feed = feeds[k]
            feed.pos = bisect.bisect_right(feed.ts_open, horizon - feed.nanos, feed.pos)
        return ts_sorted, closes, len(order)

    def _replay_group(
        self, keys: list[tuple[int, int]], start: int, end: int, closes: _Closes
    ) -> None:
        feeds, clock = self.feeds, self.clock
        opened = min(feeds[k].ts_open[i] for k, i in keys[start:end])
        self._step = start
        if opened > clock.timestamp_ns():
            clock.advance_to(opened)
        bars = []
        for step in range(start, end):
            k, i = keys[step]
            feed = feeds[k]
            self._step = step
            bar = BarRef(feed.block, i)
            bars.append(bar)
            self.venue.engines[feed.instrument_id].on_bar(bar)
            closes[step, self._column[feed.instrument_id]] = feed.close[i]
        first = feeds[keys[start][0]]
        closed = first.ts_open[keys[start][1]] + first.nanos
        if closed - 1 > clock.timestamp_ns():
            clock.advance_to(closed - 1)  # timers inside the bars still see the previous ones
        for step in range(start, end):
            k, i = keys[step]
            feeds[k].cursor.i = i
        clock.advance_to(closed)
        for step, bar in zip(range(start, end), bars, strict=True):
            self._step = step
            for strategy, hook in self._subs[keys[step][0]]:
                try:
                    hook(bar)
                except Exception as exc:
                    self._fail(strategy, "on_bar", exc)

    def _close_equity_window(self, ts: npt.NDArray[np.int64], closes: _Closes) -> None:
        if len(closes) and not np.isnan(closes).any():
            filled = closes  # every instrument closed at every step: nothing to carry
        else:
            # Carry each instrument's last close into the window, then forward-fill.
            filled = np.vstack((self._last_close, closes))
            idx = np.where(~np.isnan(filled), np.arange(len(filled))[:, None], 0)
            np.maximum.accumulate(idx, axis=0, out=idx)
            filled = np.take_along_axis(filled, idx, axis=0)[1:]
        if len(filled):
            self._last_close = filled[-1].copy()
        self.equity.close_window(ts, filled)
        self._windows += 1
        if self._windows % GC_EVERY == 0:
            gc.collect(1)

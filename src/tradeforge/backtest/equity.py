"""``EquityRecorder``: the equity curve, built from what changed at fills, not bar by bar.

Equity at a bar close is ``initial + C + sum_k (A_k * close_k - D_k)`` where, per instrument k,
``A_k`` is the signed position times the multiplier, ``D_k`` the signed cost of the open position
and ``C`` realized PnL minus fees. These only change at fills, so the engine marks the step of each
fill and the curve is computed with numpy once per window of bars. Exact money stays in the
ledger; the curve is float64, for charts and statistics. Long histories are thinned to at most
``max_points`` samples (every ``stride``-th bar close), so memory does not grow with history.
Linear instruments only: inverse contracts are valued in their settlement currency elsewhere.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tradeforge.backtest.results import EquityCurve
from tradeforge.domain import InstrumentId, StrategyId

__all__ = ["EquityRecorder"]

_F64 = npt.NDArray[np.float64]
_I64 = npt.NDArray[np.int64]


class _Book:
    """Running A, D and C of one strategy (or of all of them), and the fills' marks.

    Plain lists, not numpy: with a handful of instruments, list operations per fill are several
    times cheaper than numpy's per-call overhead; numpy takes over once per window in ``curve``.
    """

    def __init__(self, size: int) -> None:
        self.a = [0.0] * size
        self.d = [0.0] * size
        self.c = 0.0
        self.marks: list[tuple[int, float, list[float], list[float]]] = []
        # The state when the previous window closed: where the next window starts from.
        self.carry: tuple[list[float], list[float], float] = ([0.0] * size, [0.0] * size, 0.0)

    def mark(self, step: int) -> None:
        marks = self.marks
        # The state after this fill holds from ``step`` on; marks at or after it are
        # superseded (merged feeds can book a bar's fills after those of the next bar's
        # open), so the steps stay strictly rising.
        while marks and marks[-1][0] >= step:
            marks.pop()
        marks.append((step, self.c, self.a[:], self.d[:]))

    def curve(self, initial: float, closes: _F64) -> tuple[_F64, npt.NDArray[np.bool_]]:
        carry_a, carry_d, carry_c = self.carry
        marks = self.marks
        a_rows = np.array([carry_a, *(m[2] for m in marks)], dtype=np.float64)
        d_rows = np.array([carry_d, *(m[3] for m in marks)], dtype=np.float64)
        c_rows = np.array([carry_c, *(m[1] for m in marks)], dtype=np.float64)
        starts = np.fromiter((m[0] for m in marks), dtype=np.int64, count=len(marks))
        # The state at a step is the last mark at or before it (fills happen inside the bar):
        # state w holds from starts[w - 1] to starts[w] (the carry from 0, the last to the end).
        steps = len(closes)
        which = np.repeat(np.arange(len(marks) + 1), np.diff(starts, prepend=0, append=steps))
        cash = initial + c_rows
        invested = (a_rows != 0).any(axis=1)
        if a_rows.shape[1] == 1:  # one instrument: plain vectors (the same sums, in order)
            equity = cash[which] + (a_rows[which, 0] * closes[:, 0] - d_rows[which, 0])
        else:
            equity = cash[which] + (a_rows[which] * closes - d_rows[which]).sum(axis=1)
        last = marks[-1] if marks else None
        if last is not None:
            self.carry = (last[2][:], last[3][:], last[1])
        marks.clear()
        return equity, invested[which]


class _Series:
    """A growing curve in preallocated arrays (no copy per window, none at the end)."""

    def __init__(self, capacity: int) -> None:
        self.ts = np.empty(capacity, dtype=np.int64)
        self.equity = np.empty(capacity, dtype=np.float64)
        self.invested = np.empty(capacity, dtype=np.bool_)
        self.size = 0

    def extend(self, ts: _I64, equity: _F64, invested: npt.NDArray[np.bool_]) -> None:
        end = self.size + len(ts)
        if end > len(self.ts):  # more points than planned: grow (rare)
            grown = max(end, 2 * len(self.ts))
            self.ts = np.resize(self.ts, grown)
            self.equity = np.resize(self.equity, grown)
            self.invested = np.resize(self.invested, grown)
        self.ts[self.size : end] = ts
        self.equity[self.size : end] = equity
        self.invested[self.size : end] = invested
        self.size = end

    def last_ts(self) -> int | None:
        return int(self.ts[self.size - 1]) if self.size else None


class EquityRecorder:
    """Equity curves of the whole run and of each strategy (each as if it had the account's
    starting cash to itself)."""

    def __init__(
        self,
        instruments: list[InstrumentId],
        initial: float,
        strategies: list[StrategyId],
        *,
        stride: int = 1,
        capacity: int = 1 << 16,
    ) -> None:
        self._index = {iid: k for k, iid in enumerate(instruments)}
        self._initial = initial
        self._stride = max(1, stride)
        self._total = _Book(len(instruments))
        self._per = {s: _Book(len(instruments)) for s in strategies}
        self._alone = len(strategies) == 1
        keys: list[StrategyId | None] = [None] if self._alone else [None, *strategies]
        self._series = {key: _Series(capacity + 1) for key in keys}
        self._steps_done = 0
        self._final: dict[StrategyId | None, tuple[_I64, _F64, npt.NDArray[np.bool_]]] = {}

    def update(
        self,
        strategy_id: StrategyId,
        instrument_id: InstrumentId,
        *,
        signed_qty: float,
        signed_cost: float,
        cash_delta: float,
        step: int,
    ) -> None:
        """After a fill: the strategy's position (x multiplier) and signed cost in the
        instrument now, and the change in its realized PnL minus fees; ``step`` is the bar
        index in the current window."""
        k = self._index[instrument_id]
        own, total = self._per[strategy_id], self._total
        total.a[k] += signed_qty - own.a[k]
        total.d[k] += signed_cost - own.d[k]
        total.c += cash_delta
        own.a[k], own.d[k] = signed_qty, signed_cost
        own.c += cash_delta
        if not self._alone:
            own.mark(step)
        total.mark(step)

    def close_window(self, ts: _I64, closes: _F64) -> None:
        """A window of bars is done: ``ts`` per step and ``closes[step, k]``, the last close of
        instrument k at each step (forward-filled; NaN before its first bar)."""
        steps = len(ts)
        if steps == 0:
            return
        idx: npt.NDArray[np.intp] | None = None  # every step is kept at stride 1
        if self._stride > 1:
            keep = (np.arange(steps) + self._steps_done) % self._stride == self._stride - 1
            idx = np.flatnonzero(keep)
        safe = np.nan_to_num(closes, nan=0.0) if np.isnan(closes).any() else closes
        for key, series in self._series.items():
            book = self._total if key is None else self._per[key]
            equity, invested = book.curve(self._initial, safe)
            if idx is None:
                series.extend(ts, equity, invested)
            else:
                series.extend(ts[idx], equity[idx], invested[idx])
            # The run's final bar is always on the curve, kept or not by the stride.
            self._final[key] = (ts[-1:], equity[-1:], invested[-1:])
        self._steps_done += steps

    def is_run_curve(self, strategy_id: StrategyId) -> bool:
        """True when the strategy's curve is the whole run's (it is the run's only strategy)."""
        return self._alone and strategy_id in self._per

    def curve(self, strategy_id: StrategyId | None = None) -> EquityCurve:
        """The recorded curve of one strategy, or of the whole run."""
        key = None if self._alone else strategy_id
        series = self._series[key]
        final = self._final.get(key)
        if final is not None and series.last_ts() != int(final[0][0]):
            series.extend(*final)
        n = series.size
        return EquityCurve(series.ts[:n], series.equity[:n], series.invested[:n])

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
        if marks and marks[-1][0] == step:
            marks.pop()
        marks.append((step, self.c, self.a[:], self.d[:]))

    def curve(self, initial: float, closes: _F64) -> tuple[_F64, npt.NDArray[np.bool_]]:
        carry_a, carry_d, carry_c = self.carry
        marks = self.marks
        a_rows = np.array([carry_a, *(m[2] for m in marks)], dtype=np.float64)
        d_rows = np.array([carry_d, *(m[3] for m in marks)], dtype=np.float64)
        c_rows = np.array([carry_c, *(m[1] for m in marks)], dtype=np.float64)
        starts = np.fromiter((m[0] for m in marks), dtype=np.int64, count=len(marks))
        # The state at a step is the last mark at or before it (fills happen inside the bar).
        which = np.searchsorted(starts, np.arange(len(closes)), side="right")
        a_at, d_at = a_rows[which], d_rows[which]
        equity = initial + c_rows[which] + (a_at * closes - d_at).sum(axis=1)
        last = marks[-1] if marks else None
        if last is not None:
            self.carry = (last[2][:], last[3][:], last[1])
        marks.clear()
        return equity, (a_at != 0).any(axis=1)


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
    ) -> None:
        self._index = {iid: k for k, iid in enumerate(instruments)}
        self._initial = initial
        self._stride = max(1, stride)
        self._total = _Book(len(instruments))
        self._per = {s: _Book(len(instruments)) for s in strategies}
        self._parts: dict[StrategyId | None, list[tuple[_I64, _F64, npt.NDArray[np.bool_]]]] = {
            key: [] for key in (None, *strategies)
        }
        self._steps_done = 0
        self._alone = len(strategies) == 1
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
        keep = (np.arange(steps) + self._steps_done) % self._stride == self._stride - 1
        idx = np.flatnonzero(keep)
        safe = np.nan_to_num(closes, nan=0.0)
        books = [(None, self._total)] if self._alone else [(None, self._total), *self._per.items()]
        for key, book in books:
            equity, invested = book.curve(self._initial, safe)
            self._parts[key].append((ts[idx], equity[idx], invested[idx]))
            # The run's final bar is always on the curve, kept or not by the stride.
            last = len(ts) - 1
            self._final[key] = (ts[last:], equity[last:], invested[last:])
        self._steps_done += steps

    def curve(self, strategy_id: StrategyId | None = None) -> EquityCurve:
        """The recorded curve of one strategy, or of the whole run."""
        if self._alone:
            strategy_id = None  # a lone strategy's curve is the run's: recorded once
        parts = list(self._parts[strategy_id])
        final = self._final.get(strategy_id)
        if final is not None and (
            not parts or not len(parts[-1][0]) or parts[-1][0][-1] != final[0][0]
        ):
            parts.append(final)
        if not parts:
            return EquityCurve(
                np.empty(0, dtype=np.int64), np.empty(0), np.empty(0, dtype=np.bool_)
            )
        return EquityCurve(
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]),
        )

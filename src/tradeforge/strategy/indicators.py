"""TA-Lib indicators, declared once and fed the same way in every mode.

``Indicator("SMA", timeperiod=10)`` names a TA-Lib function and its parameters. A backtest computes
it over whole chunks of history at once (``compute``); live trading recomputes it over a rolling
window after each bar (``RollingWindow``). Both read the same inputs and the same window, so the
values agree bar by bar: exactly for finite-window functions (SMA, BBANDS, MAX, STDDEV, ...), and
to within floating-point noise for recursive ones (EMA, RSI, ATR, MACD, ...), whose window is ten
times their lookback so the start of the window no longer matters.

A strategy reads values through the feed's cursor: ``ind[-1]`` is the value at the current bar,
``ind[-2]`` the one before. Before the indicator has enough bars the value is NaN.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import talib
from talib import abstract

from tradeforge.domain import InvalidValue

__all__ = ["COLUMNS", "Cursor", "Indicator", "RollingWindow"]

COLUMNS: Final = ("open", "high", "low", "close", "volume")
# Functions whose value depends on all history (an EMA inside, or Wilder smoothing).
_RECURSIVE: Final = frozenset(
    [
        "ADX",
        "ADXR",
        "APO",
        "ATR",
        "CMO",
        "DEMA",
        "DX",
        "EMA",
        "HT_DCPERIOD",
        "HT_DCPHASE",
        "HT_PHASOR",
        "HT_SINE",
        "HT_TRENDLINE",
        "HT_TRENDMODE",
        "KAMA",
        "MACD",
        "MACDEXT",
        "MACDFIX",
        "MAMA",
        "MFI",
        "MINUS_DI",
        "MINUS_DM",
        "NATR",
        "PLUS_DI",
        "PLUS_DM",
        "PPO",
        "RSI",
        "STOCH",
        "STOCHF",
        "STOCHRSI",
        "T3",
        "TEMA",
        "TRIX",
    ]
)
_F64 = npt.NDArray[np.float64]


class Cursor:
    """The index of the current bar in a feed's arrays; shared by the feed's indicators."""

    __slots__ = ("i",)

    def __init__(self) -> None:
        self.i = -1


class Indicator:
    """One TA-Lib function with fixed parameters, bound to a feed's columns."""

    def __init__(
        self,
        function: str,
        *,
        source: str | None = None,
        output: str | int = 0,
        **params: Any,
    ) -> None:
        name = function.upper()
        try:
            meta = abstract.Function(name, **params)  # type: ignore[attr-defined]
        except Exception as exc:  # TA-Lib raises plain Exceptions for unknown names/params
            raise InvalidValue(f"indicator {function!r} with {params}: {exc}") from None
        self.function = name
        self.params = dict(params)
        self._fn = getattr(talib, name)
        self.inputs = self._input_columns(meta, source)
        outputs = list(meta.output_names)
        if isinstance(output, str):
            if output not in outputs:
                raise InvalidValue(f"indicator {name}: output {output!r} not in {outputs}")
            output = outputs.index(output)
        if not 0 <= output < len(outputs):
            raise InvalidValue(f"indicator {name}: output {output} out of range {outputs}")
        self.output = output
        self.multi_output = len(outputs) > 1
        self.lookback: int = meta.lookback
        recursive = name in _RECURSIVE or bool(params.get("matype"))
        self.window: int = (self.lookback + 1) * (10 if recursive else 1)
        self._values: list[float] = []
        self._cursor = Cursor()
        label = ",".join(f"{v}" for v in params.values())
        self.label = f"{name}({label})" + (f".{outputs[output]}" if self.multi_output else "")

    @staticmethod
    def _input_columns(meta: Any, source: str | None) -> tuple[str, ...]:
        columns: list[str] = []
        for value in dict(meta.input_names).values():
            columns.extend([value] if isinstance(value, str) else list(value))
        if source is not None:
            if len(columns) != 1:
                raise InvalidValue(
                    f"indicator {meta.info['name']}: source= needs a one-input function"
                )
            if source not in COLUMNS:
                raise InvalidValue(f"indicator source must be one of {COLUMNS}, got {source!r}")
            columns = [source]
        return tuple(columns)

    # ------------------------------------------------------------ computing
    def compute(self, columns: Mapping[str, _F64]) -> _F64:
        """The indicator over whole arrays of history (NaN where not yet defined)."""
        arrays = [np.ascontiguousarray(columns[name], dtype=np.float64) for name in self.inputs]
        result = self._fn(*arrays, **self.params)
        out: _F64 = result[self.output] if self.multi_output else result
        return out

    def bind(self, cursor: Cursor, values: list[float]) -> None:
        """Point the indicator at a feed's cursor and its values for the feed's current arrays."""
        self._cursor = cursor
        self._values = values

    # -------------------------------------------------------------- reading
    def __getitem__(self, back: int) -> float:
        """``[-1]`` is the current value, ``[-2]`` the previous one, ..."""
        if back >= 0:
            raise IndexError("indicators are read backwards: [-1] is the current value")
        index = self._cursor.i + 1 + back
        return self._values[index] if index >= 0 else math.nan

    @property
    def value(self) -> float:
        """The current value."""
        return self._values[self._cursor.i]

    @property
    def ready(self) -> bool:
        """True once the current value is defined."""
        return not math.isnan(self._values[self._cursor.i])

    def crossed_above(self, other: Indicator) -> bool:
        """True when this was below ``other`` at the previous bar and is above it now."""
        i, j = self._cursor.i, other._cursor.i
        if i < 1 or j < 1:
            return False
        mine, theirs = self._values, other._values
        return mine[i - 1] < theirs[j - 1] and mine[i] > theirs[j]

    def crossed_below(self, other: Indicator) -> bool:
        """True when this was above ``other`` at the previous bar and is below it now."""
        return other.crossed_above(self)

    def __repr__(self) -> str:
        return f"Indicator({self.label})"


class RollingWindow:
    """Live feeding: keeps the last bars and recomputes each indicator after every bar.

    Values are kept for ``keep`` bars, so ``ind[-n]`` works for recent ``n``.
    """

    def __init__(self, indicators: Sequence[Indicator], *, keep: int = 1_000) -> None:
        self.indicators = list(indicators)
        size = max([ind.window for ind in self.indicators] or [1])
        self._rows: dict[str, deque[float]] = {c: deque(maxlen=size) for c in COLUMNS}
        self._keep = max(keep, 2)
        self.cursor = Cursor()
        self._values: list[list[float]] = [[] for _ in self.indicators]
        for indicator, values in zip(self.indicators, self._values, strict=True):
            indicator.bind(self.cursor, values)

    def update(self, bar: Mapping[str, float]) -> None:
        """Add one closed bar (open/high/low/close/volume) and recompute every indicator."""
        for column in COLUMNS:
            self._rows[column].append(float(bar[column]))
        for indicator, values in zip(self.indicators, self._values, strict=True):
            arrays = {
                c: np.fromiter(self._rows[c], dtype=np.float64, count=len(self._rows[c]))
                for c in indicator.inputs
            }
            # The same window the backtest's chunks carry: at most ``indicator.window`` bars.
            tail = {c: a[-indicator.window :] for c, a in arrays.items()}
            values.append(float(indicator.compute(tail)[-1]))
            if len(values) > 2 * self._keep:
                del values[: len(values) - self._keep]
        self.cursor.i = len(self._values[0]) - 1 if self._values else -1

"""TA-Lib indicators, declared once and computed the same way in every mode.

``Indicator("SMA", timeperiod=10)`` names a TA-Lib function and its parameters. Its value at a bar
is defined as TA-Lib run over the bar's *block* so far, after the ``window`` bars that precede the
block. Blocks are fixed by time (``BLOCK_BARS`` bars of the timeframe, counted from the epoch), so
they are the same whichever way history is read or stored. A backtest computes a whole block at
once (TA-Lib is causal, so the values are the same as bar by bar); live trading recomputes the
block so far after each bar (``RollingWindow``). The values are therefore identical bit for bit in
both modes and under any chunking of history. ``window`` is the lookback plus one for
finite-window functions (SMA, BBANDS, MAX, ...) and many times that for recursive ones (EMA, RSI,
ATR, MACD, ...), so their values also match an infinitely long history to about 1e-12.

A strategy reads values through the feed's cursor: ``ind[-1]`` is the value at the current bar,
``ind[-2]`` the one before. Before the indicator has enough bars the value is NaN.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import talib
from talib import abstract

from tradeforge.domain import InvalidValue, Timeframe

__all__ = ["BLOCK_BARS", "COLUMNS", "Cursor", "Indicator", "RollingWindow", "block_of"]

COLUMNS: Final = ("open", "high", "low", "close", "volume")
BLOCK_BARS: Final = 4096
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


def block_of(ts_open: int, timeframe: Timeframe) -> int:
    """The block a bar opening at ``ts_open`` belongs to (see the module docstring)."""
    return ts_open // (BLOCK_BARS * timeframe.nanos)


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
            meta = abstract.Function(name)  # type: ignore[attr-defined]
        except Exception as exc:  # TA-Lib raises plain Exceptions for unknown names
            raise InvalidValue(f"unknown indicator {function!r}: {exc}") from None
        known = dict(meta.parameters)
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise InvalidValue(
                f"indicator {name}: unknown parameter {unknown[0]!r} "
                f"(parameters: {', '.join(known) or 'none'})"
            )
        try:
            meta.set_parameters(**params)
            meta.lookback  # noqa: B018 - TA-Lib checks the parameters when asked this
            inputs = len(self._input_columns(meta, None))
            getattr(talib, name)(*([np.full(64, 1.0)] * inputs), **params)
        except Exception as exc:
            raise InvalidValue(f"indicator {name} refuses {params}: {exc}") from None
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
        self.window: int = max(20 * (self.lookback + 1), 500) if recursive else self.lookback + 1
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

    def recent(self, n: int) -> list[float]:
        """The last ``n`` values the indicator holds (fewer if it holds fewer)."""
        return self._values[-n:] if n > 0 else []

    # -------------------------------------------------------------- reading
    def __getitem__(self, back: int) -> float:
        """``[-1]`` is the current value, ``[-2]`` the previous one, ..."""
        if back >= 0:
            raise IndexError("indicators are read backwards: [-1] is the current value")
        index = self._cursor.i + 1 + back
        return self._values[index] if index >= 0 else math.nan

    @property
    def value(self) -> float:
        """The current value (NaN before the first bar)."""
        return self[-1]

    @property
    def ready(self) -> bool:
        """True once the current value is defined."""
        return not math.isnan(self[-1])

    def crossed_above(self, other: Indicator) -> bool:
        """True when this was below ``other`` at the previous bar and is above it now."""
        i, j = self._cursor.i, other._cursor.i
        if i < 1 or j < 1:
            return False
        mine, theirs = self._values, other._values
        return mine[i - 1] < theirs[j - 1] and mine[i] > theirs[j]

    def crossed_below(self, other: Indicator) -> bool:
        """True when this was above ``other`` at the previous bar and is below it now."""
        i, j = self._cursor.i, other._cursor.i
        if i < 1 or j < 1:
            return False
        mine, theirs = self._values, other._values
        return theirs[j - 1] < mine[i - 1] and theirs[j] > mine[i]

    def __repr__(self) -> str:
        return f"Indicator({self.label})"


class RollingWindow:
    """Live feeding: after each bar, every indicator is recomputed over its block so far.

    Keeps each indicator's ``window`` bars before the current block plus the block's bars, so
    the values equal the backtest's bit for bit (see the module docstring). ``ind[-n]`` works
    for the last ``keep`` bars.
    """

    def __init__(
        self, indicators: Sequence[Indicator], timeframe: Timeframe, *, keep: int = 1_000
    ) -> None:
        self.indicators = list(indicators)
        self.timeframe = timeframe
        self._tail = max([ind.window for ind in self.indicators] or [0])
        self._rows: dict[str, list[float]] = {c: [] for c in COLUMNS}
        self._block_start = 0  # index in _rows where the current block begins
        self._block: int | None = None
        self._keep = max(keep, 2)
        self.cursor = Cursor()
        self._values: list[list[float]] = [[] for _ in self.indicators]
        for indicator, values in zip(self.indicators, self._values, strict=True):
            indicator.bind(self.cursor, values)

    def update(self, ts_open: int, bar: Mapping[str, float]) -> None:
        """Add one closed bar (open time, and open/high/low/close/volume) and recompute."""
        block = block_of(ts_open, self.timeframe)
        if block != self._block:
            # A new block: keep only the tail the indicators need before it.
            for column in COLUMNS:
                rows = self._rows[column]
                del rows[: max(0, len(rows) - self._tail)]
            self._block, self._block_start = block, len(self._rows["close"])
        for column in COLUMNS:
            self._rows[column].append(float(bar[column]))
        for indicator, values in zip(self.indicators, self._values, strict=True):
            first = max(0, self._block_start - indicator.window)
            arrays = {
                c: np.asarray(self._rows[c][first:], dtype=np.float64) for c in indicator.inputs
            }
            values.append(float(indicator.compute(arrays)[-1]))
            if len(values) > 2 * self._keep:
                del values[: len(values) - self._keep]
        self.cursor.i = len(self._values[0]) - 1 if self._values else -1

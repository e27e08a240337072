"""``BarArrays``: OHLCV bars as six numpy columns, and the checks every stored series passes.

``ts`` is the bar's open time in UTC nanoseconds (int64); ``open high low close volume`` are
float64. Construction checks the shape only (dtypes, one dimension, equal lengths), because
chunks read back from the catalog are valid by construction and bulk data should not be
rescanned at every slice; :meth:`BarArrays.validate` checks the content, and the catalog runs it
on everything it writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import msgspec
import numpy as np
import numpy.typing as npt

from tradeforge.data.errors import InvalidBars
from tradeforge.data.timestamps import format_utc_ns
from tradeforge.domain.market_data import Timeframe

__all__ = ["BAR_COLUMNS", "PRICE_COLUMNS", "BarArrays", "BarProblem", "format_number"]

BAR_COLUMNS: Final = ("ts", "open", "high", "low", "close", "volume")
PRICE_COLUMNS: Final = ("open", "high", "low", "close")

Int64Array = npt.NDArray[np.int64]
Float64Array = npt.NDArray[np.float64]


class BarProblem(msgspec.Struct, frozen=True, kw_only=True):
    """The first thing wrong with a series: 0-based ``row``, the ``column`` and what is wrong."""

    row: int
    column: str
    message: str


@dataclass(frozen=True, slots=True, eq=False)
class BarArrays:
    """OHLCV bars in column form. Arrays are shared, not copied: do not mutate them."""

    ts: Int64Array
    open: Float64Array
    high: Float64Array
    low: Float64Array
    close: Float64Array
    volume: Float64Array

    def __post_init__(self) -> None:
        rows = None
        for name in BAR_COLUMNS:
            array = getattr(self, name)
            expected = np.int64 if name == "ts" else np.float64
            if not isinstance(array, np.ndarray) or array.dtype != expected or array.ndim != 1:
                got = (
                    f"{array.ndim}-d {array.dtype}"
                    if isinstance(array, np.ndarray)
                    else type(array).__name__
                )
                raise InvalidBars(
                    f"bar column {name!r} must be a 1-d {expected.__name__} array, got {got}"
                )
            if rows is None:
                rows = len(array)
            elif len(array) != rows:
                raise InvalidBars(
                    f"bar columns must have equal lengths: 'ts' has {rows}, "
                    f"{name!r} has {len(array)}"
                )

    @classmethod
    def empty(cls) -> BarArrays:
        """No bars."""
        floats = np.empty(0, dtype=np.float64)
        return cls(np.empty(0, dtype=np.int64), floats, floats, floats, floats, floats)

    @classmethod
    def concat(cls, parts: Sequence[BarArrays]) -> BarArrays:
        """The parts one after the other (copies)."""
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        return cls(*(np.concatenate([getattr(p, name) for p in parts]) for name in BAR_COLUMNS))

    def __len__(self) -> int:
        return len(self.ts)

    def __getitem__(self, index: slice) -> BarArrays:
        """Rows ``index`` (a slice) as views of the same arrays."""
        if not isinstance(index, slice):
            raise TypeError(f"BarArrays take a slice, got {type(index).__name__}")
        return BarArrays(*(getattr(self, name)[index] for name in BAR_COLUMNS))

    def head(self, rows: int) -> BarArrays:
        """The first ``rows`` bars."""
        return self[: max(rows, 0)]

    def tail(self, rows: int) -> BarArrays:
        """The last ``rows`` bars."""
        return self[len(self) - min(max(rows, 0), len(self)) :]

    def between(self, start_ns: int | None = None, end_ns: int | None = None) -> BarArrays:
        """Bars with ``start_ns <= ts < end_ns`` (either bound optional); ``ts`` must be sorted."""
        first = 0 if start_ns is None else int(np.searchsorted(self.ts, start_ns, side="left"))
        last = len(self) if end_ns is None else int(np.searchsorted(self.ts, end_ns, side="left"))
        return self[first : max(first, last)]

    def column(self, name: str) -> Int64Array | Float64Array:
        """One column by name (``ts``, ``open``, ... ``volume``)."""
        if name not in BAR_COLUMNS:
            raise KeyError(name)
        array: Int64Array | Float64Array = getattr(self, name)
        return array

    def first_problem(self, timeframe: Timeframe | None = None) -> BarProblem | None:
        """The earliest row that breaks an invariant, or None when the bars are valid.

        Checked: finite prices and volume, strictly increasing ``ts`` (at least ``timeframe``
        apart when given), prices > 0, high >= low, open and close within [low, high],
        volume >= 0. At one row, problems are reported in that order.
        """
        found: list[tuple[int, int, BarProblem]] = []
        for rank, check in enumerate(_checks(self, timeframe)):
            if check is not None:
                found.append((check.row, rank, check))
        return min(found, key=lambda item: item[:2])[2] if found else None

    def validate(self, timeframe: Timeframe | None = None) -> None:
        """Raise :class:`InvalidBars` naming the first bad bar, its time and column."""
        problem = self.first_problem(timeframe)
        if problem is not None:
            at = format_utc_ns(int(self.ts[problem.row]))
            raise InvalidBars(
                f"bar {problem.row} ({at}), column {problem.column!r}: {problem.message}"
            )


def format_number(value: float) -> str:
    """Shortest text that reads back as the same float: ``99.5``, ``100``, ``nan``."""
    return str(np.format_float_positional(value, trim="-"))


def _first(mask: npt.NDArray[np.bool_], offset: int = 0) -> int | None:
    if not mask.any():
        return None
    return int(np.argmax(mask)) + offset


def _checks(bars: BarArrays, timeframe: Timeframe | None) -> list[BarProblem | None]:
    problems: list[BarProblem | None] = []
    for name in (*PRICE_COLUMNS, "volume"):
        values = getattr(bars, name)
        row = _first(~np.isfinite(values))
        problems.append(
            None
            if row is None
            else BarProblem(
                row=row,
                column=name,
                message="missing value" if np.isnan(values[row]) else f"{name} is not finite",
            )
        )
    problems.append(_order_problem(bars, timeframe))
    for name in PRICE_COLUMNS:
        values = getattr(bars, name)
        row = _first(values <= 0)
        problems.append(
            None
            if row is None
            else BarProblem(
                row=row, column=name, message=f"{name} {format_number(values[row])} is not positive"
            )
        )
    row = _first(bars.high < bars.low)
    problems.append(
        None
        if row is None
        else BarProblem(
            row=row,
            column="high",
            message=f"high {format_number(bars.high[row])} is below low "
            f"{format_number(bars.low[row])}",
        )
    )
    for name in ("open", "close"):
        values = getattr(bars, name)
        row = _first((values < bars.low) | (values > bars.high))
        problems.append(
            None
            if row is None
            else BarProblem(
                row=row,
                column=name,
                message=f"{name} {format_number(values[row])} is outside low "
                f"{format_number(bars.low[row])} .. high {format_number(bars.high[row])}",
            )
        )
    row = _first(bars.volume < 0)
    problems.append(
        None
        if row is None
        else BarProblem(
            row=row,
            column="volume",
            message=f"volume {format_number(bars.volume[row])} is negative",
        )
    )
    return problems


def _order_problem(bars: BarArrays, timeframe: Timeframe | None) -> BarProblem | None:
    if len(bars) < 2:
        return None
    steps = np.diff(bars.ts)
    minimum = 1 if timeframe is None else timeframe.nanos
    row = _first(steps < minimum, offset=1)
    if row is None:
        return None
    this, previous = int(bars.ts[row]), int(bars.ts[row - 1])
    if this == previous:
        message = f"duplicate timestamp {format_utc_ns(this)} (same as the row before)"
    elif this < previous:
        message = (
            f"timestamp {format_utc_ns(this)} is before the previous row's "
            f"{format_utc_ns(previous)}; rows must be in time order"
        )
    else:
        message = (
            f"timestamp {format_utc_ns(this)} is only {_duration(this - previous)} after the "
            f"previous row; {timeframe} bars must be at least {timeframe} apart"
        )
    return BarProblem(row=row, column="ts", message=message)


def _duration(nanos: int) -> str:
    return format_number(nanos / 1e9) + "s"

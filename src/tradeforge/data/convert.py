"""Turn one column of an imported file into numpy, or say which cell is wrong.

Timestamps become UTC nanoseconds (int64):

* integers and numbers: the unit follows from the largest magnitude, below 1e11 seconds,
  below 1e14 milliseconds, below 1e17 microseconds, else nanoseconds (so milliseconds before
  March 1973 would read as seconds);
* timestamp and date columns (Parquet, or ISO text pyarrow recognised): as stored; a naive
  time is taken as UTC;
* other text: ISO-8601 per cell (``2020-01-01``, ``2020-01-01 09:30:00``, ``...Z``,
  ``...+02:00``); naive means UTC.

Prices and volumes become float64 from any numeric type or from numeric text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

import msgspec
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["CellProblem", "to_float64", "to_utc_ns"]

_NUMBER: Final = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"
_INTEGER: Final = r"^\s*[+-]?\d+\s*$"
_UNIT_LIMITS: Final = ((1e11, 1_000_000_000), (1e14, 1_000_000), (1e17, 1_000))
_INT64_MAX: Final = np.iinfo(np.int64).max
_ISO_HINT: Final = "expected ISO-8601 like 2020-01-01T00:00:00Z, or epoch s/ms/us/ns"


class CellProblem(msgspec.Struct, frozen=True):
    """A bad cell: its 0-based data row and what is wrong with it."""

    row: int
    message: str


def to_float64(column: pa.ChunkedArray | pa.Array) -> npt.NDArray[np.float64] | CellProblem:
    """A price or volume column as float64, or the first missing or non-numeric cell."""
    array = _combined(column)
    missing = _first_missing(array)
    kind = array.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        bad = _first_not_matching(array, _NUMBER)
        if bad is not None and (missing is None or bad < missing):
            return CellProblem(bad, f"{array[bad].as_py()!r} is not a number")
        if missing is not None:
            return CellProblem(missing, "missing value")
        array = pc.cast(pc.utf8_trim_whitespace(array), pa.float64())
    elif missing is not None:
        return CellProblem(missing, "missing value")
    elif not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)):
        return CellProblem(0, f"holds {kind} values, not numbers")
    values: npt.NDArray[np.float64] = np.asarray(
        pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
    )
    return values


def to_utc_ns(column: pa.ChunkedArray | pa.Array) -> npt.NDArray[np.int64] | CellProblem:
    """A timestamp column as UTC nanoseconds, or the first cell that is not a time."""
    array = _combined(column)
    missing = _first_missing(array)
    kind = array.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return _text_to_ns(array, missing)
    if missing is not None:
        return CellProblem(missing, "missing value")
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        try:
            as_ns = pc.cast(array, pa.timestamp("ns", tz=getattr(kind, "tz", None)))
        except pa.ArrowInvalid:
            return CellProblem(_first_out_of_range(array), "timestamp is out of range")
        return np.asarray(pc.cast(as_ns, pa.int64()).to_numpy(), dtype=np.int64)
    if pa.types.is_integer(kind):
        return _epoch_to_ns(np.asarray(pc.cast(array, pa.int64()).to_numpy(), dtype=np.int64))
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        floats = np.asarray(pc.cast(array, pa.float64()).to_numpy(), dtype=np.float64)
        if not np.isfinite(floats).all():
            return CellProblem(int(np.argmax(~np.isfinite(floats))), "missing value")
        return _epoch_to_ns(floats)
    return CellProblem(0, f"holds {kind} values, not times ({_ISO_HINT})")


def _combined(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks()
    return column


def _first_missing(array: pa.Array) -> int | None:
    if array.null_count == 0:
        return None
    return _first_true(pc.is_null(array))


def _first_true(mask: pa.Array) -> int | None:
    index = pc.index(mask, True).as_py()
    return None if index is None or index < 0 else int(index)


def _first_not_matching(array: pa.Array, pattern: str) -> int | None:
    matches = pc.match_substring_regex(array, pattern)
    return _first_true(pc.invert(pc.fill_null(matches, True)))


def _epoch_to_ns(
    values: npt.NDArray[np.int64] | npt.NDArray[np.float64],
) -> npt.NDArray[np.int64] | CellProblem:
    if not len(values):
        return np.empty(0, dtype=np.int64)
    magnitude = float(np.abs(values).max())
    factor = next((f for limit, f in _UNIT_LIMITS if magnitude < limit), 1)
    if magnitude * factor > _INT64_MAX:
        row = int(np.argmax(np.abs(values)))
        return CellProblem(row, f"timestamp {values[row]} is out of range")
    if values.dtype == np.int64:
        return np.asarray(values * factor, dtype=np.int64)
    return np.round(values * factor).astype(np.int64)


def _text_to_ns(array: pa.Array, missing: int | None) -> npt.NDArray[np.int64] | CellProblem:
    trimmed = pc.utf8_trim_whitespace(array)
    if missing is None and _first_not_matching(trimmed, _NUMBER) is None:
        if _first_not_matching(trimmed, _INTEGER) is None:
            return _epoch_to_ns(np.asarray(pc.cast(trimmed, pa.int64()).to_numpy(), np.int64))
        return _epoch_to_ns(np.asarray(pc.cast(trimmed, pa.float64()).to_numpy(), np.float64))
    if missing is None:
        for target in (pa.timestamp("ns", tz="UTC"), pa.timestamp("ns")):
            try:
                parsed = pc.cast(trimmed, target)
            except pa.ArrowInvalid:
                continue
            return np.asarray(pc.cast(parsed, pa.int64()).to_numpy(), dtype=np.int64)
    # Mixed forms (some with a zone, some without) or a bad cell: parse cell by cell.
    out = np.empty(len(array), dtype=np.int64)
    for row, text in enumerate(trimmed.to_pylist()):
        if text is None or text == "":
            return CellProblem(row, "missing value")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return CellProblem(row, f"{text!r} is not a time ({_ISO_HINT})")
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
        out[row] = (
            delta.days * 86_400 + delta.seconds
        ) * 1_000_000_000 + delta.microseconds * 1_000
    return out


def _first_out_of_range(array: pa.Array) -> int:
    for row, value in enumerate(array.to_pylist()):
        try:
            pc.cast(pa.array([value], type=array.type), pa.timestamp("ns"))
        except pa.ArrowInvalid:
            return row
    return 0

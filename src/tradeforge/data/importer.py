"""Import OHLCV bars from a CSV or Parquet file, refusing bad files with the line and column.

Columns are recognised by name (:mod:`tradeforge.data.columns`), timestamps by type and
magnitude (:mod:`tradeforge.data.convert`). Lines are counted as an editor shows them: the
header is line 1, the first data row line 2 (blank lines count, as they do in an editor; a
quoted value spanning lines is not accounted for). Parquet files have no lines: errors name the
1-based data row instead.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from tradeforge.data.bars import BAR_COLUMNS, BarArrays
from tradeforge.data.columns import detect_columns
from tradeforge.data.convert import CellProblem, to_float64, to_utc_ns
from tradeforge.data.errors import BadDataFile
from tradeforge.domain.identifiers import InstrumentId
from tradeforge.domain.market_data import Timeframe

__all__ = ["import_bars"]

_PARQUET_MAGIC = b"PAR1"


def import_bars(
    path: Path,
    *,
    instrument_id: InstrumentId,
    timeframe: Timeframe,
    columns: Mapping[str, str] | None = None,
) -> BarArrays:
    """Read and check the bars of ``instrument_id`` at ``timeframe`` from a CSV or Parquet file.

    The format is recognised from the content (Parquet's magic bytes), so the file name does
    not matter; ``.csv.gz`` and other compressed CSV work by extension. ``columns`` maps roles
    (``ts``, ``open``, ``high``, ``low``, ``close``, ``volume``) to column names when the
    automatic detection does not fit. Nothing is written: pass the result to
    :meth:`Catalog.write_bars`.

    Raises:
        BadDataFile: the file cannot be read, lacks a column, or a cell or row is wrong
            (missing or non-numeric values, unsorted or duplicate timestamps, bars closer than
            ``timeframe``, high below low, open or close outside [low, high], prices <= 0,
            negative volume); the message names the file, the line (or row) and the column.
    """
    path = Path(path)
    name = path.name
    table, where = _read(path)
    mapping = detect_columns(name, table.column_names, columns)
    if table.num_rows == 0:
        raise BadDataFile(f"{name}: no data rows for {instrument_id}")
    arrays: dict[str, np.ndarray] = {}
    problems: list[tuple[int, int, str, str]] = []
    for rank, role in enumerate(BAR_COLUMNS):
        column = table.column(mapping[role])
        converted = to_utc_ns(column) if role == "ts" else to_float64(column)
        if isinstance(converted, CellProblem):
            problems.append((converted.row, rank, mapping[role], converted.message))
        else:
            arrays[role] = converted
    if problems:
        row, _, column_name, message = min(problems)
        raise BadDataFile(f"{where(row)}, column {column_name!r}: {message}")
    bars = BarArrays(*(arrays[role] for role in BAR_COLUMNS))
    problem = bars.first_problem(timeframe)
    if problem is not None:
        message = problem.message
        raise BadDataFile(f"{where(problem.row)}, column {mapping[problem.column]!r}: {message}")
    return bars


def _read(path: Path) -> tuple[pa.Table, Callable[[int], str]]:
    try:
        with path.open("rb") as handle:
            magic = handle.read(len(_PARQUET_MAGIC))
    except OSError as exc:
        raise BadDataFile(f"{path}: {exc.strerror or exc}") from None
    if magic == _PARQUET_MAGIC:
        try:
            table = pq.read_table(path)
        except (OSError, pa.ArrowException) as exc:
            raise BadDataFile(f"{path.name}: not a readable Parquet file ({exc})") from None
        return table, lambda row: f"{path.name} row {row + 1}"
    try:
        table = pa_csv.read_csv(
            path, convert_options=pa_csv.ConvertOptions(strings_can_be_null=True)
        )
    except (OSError, pa.ArrowException) as exc:
        raise BadDataFile(f"{path.name}: not a readable CSV file ({exc})") from None
    return table, lambda row: f"{path.name} line {_csv_line(path, row)}"


def _csv_line(path: Path, row: int) -> int:
    # pyarrow skips empty lines, so count the non-empty ones after the header.
    with pa.input_stream(str(path), compression="detect") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
        seen_header = False
        data_row = -1
        for number, line in enumerate(text, start=1):
            if not line.strip("\r\n"):
                continue
            if not seen_header:
                seen_header = True
                continue
            data_row += 1
            if data_row == row:
                return number
    return row + 2

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tradeforge.data import (
    ALIASES,
    BAR_COLUMNS,
    BadDataFile,
    BarArrays,
    import_bars,
    parse_utc_ns,
)
from tradeforge.domain import InstrumentId, Timeframe

BTC = InstrumentId.from_str("BTC/USDT.SIM")
ONE_MINUTE = Timeframe.from_str("1m")
T0 = parse_utc_ns("2020-01-01T00:00:00Z")
MINUTE = 60_000_000_000
GOOD_ROWS = [
    ("100.0", "101.5", "99.5", "101.0", "12.5"),
    ("101.0", "102.0", "100.5", "101.25", "3"),
    ("101.25", "101.25", "100.0", "100.5", "0"),
]


def _csv(tmp_path: Path, header: str, rows: list[str], name: str = "prices.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _rows_with_ts(stamps: list[str]) -> list[str]:
    return [",".join([ts, *values]) for ts, values in zip(stamps, GOOD_ROWS, strict=True)]


def _import(path: Path, timeframe: Timeframe = ONE_MINUTE) -> BarArrays:
    return import_bars(path, instrument_id=BTC, timeframe=timeframe)


EPOCH_S = [str(T0 // 10**9 + 60 * i) for i in range(3)]
CANONICAL = {"ts": "timestamp", **{name: name for name in BAR_COLUMNS[1:]}}


@pytest.mark.parametrize(
    ("role", "alias"),
    [(role, alias) for role, aliases in ALIASES.items() for alias in aliases],
)
def test_every_alias_is_recognised(tmp_path: Path, role: str, alias: str) -> None:
    names = {**CANONICAL, role: alias}
    path = _csv(tmp_path, ",".join(names[r] for r in BAR_COLUMNS), _rows_with_ts(EPOCH_S))

    bars = _import(path)

    assert bars.ts.tolist() == [T0, T0 + MINUTE, T0 + 2 * MINUTE]
    assert bars.high.tolist() == [101.5, 102.0, 101.25]
    assert bars.volume.tolist() == [12.5, 3.0, 0.0]


@pytest.mark.parametrize(
    "header",
    [
        "Date,Open,High,Low,Close,Volume",
        "Open Time,OPEN,HIGH,LOW,CLOSE,VOL",
        "open-time,o,h,l,c,v",
        " time , open , high , low , close , volume ",
    ],
)
def test_names_match_whatever_their_case_spacing_or_dashes(tmp_path: Path, header: str) -> None:
    path = _csv(tmp_path, header, _rows_with_ts(EPOCH_S))

    bars = _import(path)

    assert len(bars) == 3
    assert bars.close.tolist() == [101.0, 101.25, 100.5]


def test_columns_may_come_in_any_order_with_extra_columns(tmp_path: Path) -> None:
    rows = [
        f"{v},{c},x,{ts},{o},{h},{lo}"
        for ts, (o, h, lo, c, v) in zip(EPOCH_S, GOOD_ROWS, strict=True)
    ]
    path = _csv(tmp_path, "volume,close,symbol,ts,open,high,low", rows)

    bars = _import(path)

    assert bars.open.tolist() == [100.0, 101.0, 101.25]
    assert bars.volume.tolist() == [12.5, 3.0, 0.0]


def test_the_first_listed_alias_wins_when_two_columns_fit(tmp_path: Path) -> None:
    rows = [f"junk{i},{r}" for i, r in enumerate(_rows_with_ts(EPOCH_S))]
    path = _csv(tmp_path, "date,timestamp,open,high,low,close,volume", rows)

    bars = _import(path)

    assert bars.ts[0] == T0


def test_column_overrides_pick_names_detection_would_not(tmp_path: Path) -> None:
    path = _csv(tmp_path, "when,a,b,c_,d,e", _rows_with_ts(EPOCH_S))

    bars = import_bars(
        path,
        instrument_id=BTC,
        timeframe=ONE_MINUTE,
        columns={"ts": "when", "open": "a", "high": "b", "low": "c_", "close": "d", "volume": "e"},
    )

    assert bars.low.tolist() == [99.5, 100.5, 100.0]


@pytest.mark.parametrize(
    ("first", "step"),
    [
        (T0 // 10**9, 60),  # seconds
        (T0 // 10**6, 60_000),  # milliseconds
        (T0 // 10**3, 60_000_000),  # microseconds
        (T0, MINUTE),  # nanoseconds
    ],
    ids=["seconds", "milliseconds", "microseconds", "nanoseconds"],
)
def test_epoch_units_are_recognised_by_magnitude(tmp_path: Path, first: int, step: int) -> None:
    stamps = [str(first + i * step) for i in range(3)]
    path = _csv(tmp_path, "ts,open,high,low,close,volume", _rows_with_ts(stamps))

    bars = _import(path)

    assert bars.ts.tolist() == [T0, T0 + MINUTE, T0 + 2 * MINUTE]


def test_fractional_epoch_seconds_keep_their_fraction(tmp_path: Path) -> None:
    stamps = ["1577836800.5", "1577836860.5", "1577836920.5"]
    path = _csv(tmp_path, "ts,open,high,low,close,volume", _rows_with_ts(stamps))

    bars = _import(path)

    assert bars.ts[0] == T0 + 500_000_000


@pytest.mark.parametrize(
    "stamps",
    [
        ["2020-01-01T00:00:00Z", "2020-01-01T00:01:00Z", "2020-01-01T00:02:00Z"],
        ["2020-01-01 00:00:00", "2020-01-01 00:01:00", "2020-01-01 00:02:00"],
        ["2020-01-01T02:00:00+02:00", "2020-01-01T02:01:00+02:00", "2020-01-01T02:02:00+02:00"],
        ["2020-01-01T00:00:00.000Z", "2020-01-01T00:01:00.000Z", "2020-01-01T00:02:00.000Z"],
        ["2020-01-01T00:00:00Z", "2020-01-01 00:01:00", "2020-01-01T01:02:00+01:00"],
    ],
    ids=["zulu", "naive-is-utc", "offset", "milliseconds", "mixed-forms"],
)
def test_iso_8601_text_with_or_without_zone(tmp_path: Path, stamps: list[str]) -> None:
    path = _csv(tmp_path, "datetime,open,high,low,close,volume", _rows_with_ts(stamps))

    bars = _import(path)

    assert bars.ts.tolist() == [T0, T0 + MINUTE, T0 + 2 * MINUTE]


def test_dates_alone_are_midnight_utc(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "Date,Open,High,Low,Close,Volume",
        _rows_with_ts(["2020-01-01", "2020-01-02", "2020-01-03"]),
    )

    bars = _import(path, Timeframe.from_str("1d"))

    assert bars.ts.tolist() == [T0 + day * 86_400 * 10**9 for day in range(3)]


def test_parquet_with_a_timestamp_column(tmp_path: Path) -> None:
    path = tmp_path / "bars.parquet"
    table = pa.table(
        {
            "open_time": pa.array(
                [T0 // 10**6 + i * 60_000 for i in range(3)], pa.timestamp("ms", tz="UTC")
            ),
            "Open": [100.0, 101.0, 101.25],
            "High": [101.5, 102.0, 101.25],
            "Low": [99.5, 100.5, 100.0],
            "Close": [101.0, 101.25, 100.5],
            "Volume": pa.array([12, 3, 0], pa.int64()),
        }
    )
    pq.write_table(table, path)

    bars = _import(path)

    assert bars.ts.tolist() == [T0, T0 + MINUTE, T0 + 2 * MINUTE]
    assert bars.volume.dtype == np.float64


def test_parquet_is_recognised_by_content_not_name(tmp_path: Path) -> None:
    path = tmp_path / "bars.data"
    table = pa.table(
        {
            "ts": [T0 // 10**6 + i * 60_000 for i in range(3)],
            **{name: [100.0, 100.0, 100.0] for name in ("open", "high", "low", "close")},
            "volume": [1.0, 2.0, 3.0],
        }
    )
    pq.write_table(table, path)

    bars = _import(path)

    assert bars.ts[-1] == T0 + 2 * MINUTE


def test_gzipped_csv_is_read(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "prices.csv.gz"
    text = "\n".join(["ts,open,high,low,close,volume", *_rows_with_ts(EPOCH_S)]) + "\n"
    path.write_bytes(gzip.compress(text.encode()))

    bars = _import(path)

    assert len(bars) == 3


# --- bad files -------------------------------------------------------------------------------

HEADER = "timestamp,open,high,low,close,volume"


def _bad(tmp_path: Path, rows: list[str], timeframe: Timeframe = ONE_MINUTE) -> str:
    path = _csv(tmp_path, HEADER, rows)
    with pytest.raises(BadDataFile) as caught:
        _import(path, timeframe)
    return str(caught.value)


def _row(minute: int, *values: str) -> str:
    return ",".join([str(T0 // 10**9 + 60 * minute), *values])


def test_high_below_low_names_line_and_column(tmp_path: Path) -> None:
    rows = [_row(0, "100", "101", "99", "100", "1")] * 1 + [
        _row(i, "100", "101", "99", "100", "1") for i in range(1, 15)
    ]
    rows.append(_row(15, "100", "99.5", "100.1", "100", "1"))

    message = _bad(tmp_path, rows)

    assert message == "prices.csv line 17, column 'high': high 99.5 is below low 100.1"


def test_duplicate_timestamp(tmp_path: Path) -> None:
    rows = [_row(0, *GOOD_ROWS[0]), _row(1, *GOOD_ROWS[1]), _row(1, *GOOD_ROWS[2])]

    message = _bad(tmp_path, rows)

    assert message == (
        "prices.csv line 4, column 'timestamp': duplicate timestamp 2020-01-01T00:01:00Z "
        "(same as the row before)"
    )


def test_unsorted_timestamps(tmp_path: Path) -> None:
    rows = [_row(0, *GOOD_ROWS[0]), _row(2, *GOOD_ROWS[1]), _row(1, *GOOD_ROWS[2])]

    message = _bad(tmp_path, rows)

    assert message == (
        "prices.csv line 4, column 'timestamp': timestamp 2020-01-01T00:01:00Z is before the "
        "previous row's 2020-01-01T00:02:00Z; rows must be in time order"
    )


def test_bars_closer_than_the_timeframe(tmp_path: Path) -> None:
    rows = [_row(0, *GOOD_ROWS[0]), _row(5, *GOOD_ROWS[1])]

    message = _bad(tmp_path, rows, Timeframe.from_str("1h"))

    assert message == (
        "prices.csv line 3, column 'timestamp': timestamp 2020-01-01T00:05:00Z is only 300s "
        "after the previous row; 1h bars must be at least 1h apart"
    )


def test_missing_value(tmp_path: Path) -> None:
    rows = [_row(0, *GOOD_ROWS[0]), _row(1, "101", "102", "100.5", "", "3")]

    message = _bad(tmp_path, rows)

    assert message == "prices.csv line 3, column 'close': missing value"


def test_missing_timestamp(tmp_path: Path) -> None:
    rows = [_row(0, *GOOD_ROWS[0]), ",101,102,100.5,101,3"]

    message = _bad(tmp_path, rows)

    assert message == "prices.csv line 3, column 'timestamp': missing value"


def test_non_numeric_cell(tmp_path: Path) -> None:
    rows = [
        _row(0, *GOOD_ROWS[0]),
        _row(1, "101", "102", "100.5", "101", "3"),
        _row(2, "abc", "1", "1", "1", "1"),
    ]

    message = _bad(tmp_path, rows)

    assert message == "prices.csv line 4, column 'open': 'abc' is not a number"


def test_nan_text_is_a_missing_value(tmp_path: Path) -> None:
    rows = [_row(0, *GOOD_ROWS[0]), _row(1, "101", "NaN", "100.5", "101", "3")]

    message = _bad(tmp_path, rows)

    assert message == "prices.csv line 3, column 'high': missing value"


def test_open_outside_the_range(tmp_path: Path) -> None:
    rows = [_row(0, "103", "102", "100", "101", "1")]

    message = _bad(tmp_path, rows)

    assert message == "prices.csv line 2, column 'open': open 103 is outside low 100 .. high 102"


def test_close_outside_the_range(tmp_path: Path) -> None:
    rows = [_row(0, "101", "102", "100", "99.99", "1")]

    message = _bad(tmp_path, rows)

    assert message == (
        "prices.csv line 2, column 'close': close 99.99 is outside low 100 .. high 102"
    )


def test_negative_volume(tmp_path: Path) -> None:
    rows = [_row(0, *GOOD_ROWS[0]), _row(1, "101", "102", "100.5", "101", "-2")]

    message = _bad(tmp_path, rows)

    assert message == "prices.csv line 3, column 'volume': volume -2 is negative"


def test_non_positive_price(tmp_path: Path) -> None:
    rows = [_row(0, "0", "1", "0", "1", "5")]

    message = _bad(tmp_path, rows)

    assert message == "prices.csv line 2, column 'open': open 0 is not positive"


def test_blank_lines_count_as_lines(tmp_path: Path) -> None:
    rows = [
        _row(0, *GOOD_ROWS[0]),
        "",
        _row(1, *GOOD_ROWS[1]),
        "",
        _row(2, "1", "1", "2", "1", "1"),
    ]

    message = _bad(tmp_path, rows)

    assert message.startswith("prices.csv line 6, column 'high': ")


def test_the_earliest_bad_cell_is_reported(tmp_path: Path) -> None:
    rows = [
        _row(0, *GOOD_ROWS[0]),
        _row(1, "1", "1", "1", "1", "lots"),
        _row(2, "x", "1", "1", "1", "1"),
    ]

    message = _bad(tmp_path, rows)

    assert message == "prices.csv line 3, column 'volume': 'lots' is not a number"


def test_unreadable_cells_are_reported_before_row_checks(tmp_path: Path) -> None:
    rows = [
        _row(0, *GOOD_ROWS[0]),
        _row(1, "1", "1", "2", "1", "1"),
        _row(2, "x", "1", "1", "1", "1"),
    ]

    message = _bad(tmp_path, rows)

    assert message == "prices.csv line 4, column 'open': 'x' is not a number"


def test_text_that_is_not_a_time(tmp_path: Path) -> None:
    path = _csv(tmp_path, HEADER, ["2020-01-01T00:00:00Z,1,1,1,1,1", "yesterday,1,1,1,1,1"])

    with pytest.raises(BadDataFile) as caught:
        _import(path)

    assert str(caught.value).startswith(
        "prices.csv line 3, column 'timestamp': 'yesterday' is not a time"
    )


def test_parquet_errors_name_the_data_row(tmp_path: Path) -> None:
    path = tmp_path / "bars.parquet"
    table = pa.table(
        {
            "ts": [T0, T0 + MINUTE],
            "open": [1.0, 1.0],
            "high": [1.0, float("nan")],
            "low": [1.0, 1.0],
            "close": [1.0, 1.0],
            "volume": [1.0, 1.0],
        }
    )
    pq.write_table(table, path)

    with pytest.raises(BadDataFile) as caught:
        _import(path)

    assert str(caught.value) == "bars.parquet row 2, column 'high': missing value"


def test_a_missing_column_lists_what_the_file_has(tmp_path: Path) -> None:
    path = _csv(tmp_path, "ts,open,high,low,close", ["1577836800,1,1,1,1"])

    with pytest.raises(BadDataFile) as caught:
        _import(path)

    assert str(caught.value) == (
        "prices.csv: no volume column; columns are ['ts', 'open', 'high', 'low', 'close'], "
        "expected one of ['volume', 'vol', 'v', 'base_volume', 'volume_base', 'qty', 'quantity']"
    )


def test_a_file_without_rows(tmp_path: Path) -> None:
    path = _csv(tmp_path, HEADER, [])

    with pytest.raises(BadDataFile, match=r"prices.csv: no data rows"):
        _import(path)


def test_a_ragged_csv(tmp_path: Path) -> None:
    path = _csv(tmp_path, HEADER, [_row(0, *GOOD_ROWS[0]), "1577836860,1,2"])

    with pytest.raises(BadDataFile, match=r"^prices.csv: not a readable CSV file \(.*columns"):
        _import(path)


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BadDataFile, match=r"absent\.csv"):
        _import(tmp_path / "absent.csv")

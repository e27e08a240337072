from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from tradeforge.data import (
    BAR_COLUMNS,
    BarArrays,
    Catalog,
    DatasetNotFound,
    InvalidBars,
    generate_bars,
    parse_utc_ns,
)
from tradeforge.domain import InstrumentId, InvalidValue, Timeframe

BTC = InstrumentId.from_str("BTC/USDT.SIM")
ETH = InstrumentId.from_str("ETH/USDT.SIM")
ONE_MINUTE = Timeframe.from_str("1m")
ONE_HOUR = Timeframe.from_str("1h")
MINUTE = 60_000_000_000
T0 = parse_utc_ns("2020-01-01")


def _synthetic(rows: int, *, start: str = "2020-01-01", seed: int = 3) -> BarArrays:
    return generate_bars(bars=rows, seed=seed, timeframe=ONE_MINUTE, start_ns=parse_utc_ns(start))


def _assert_same(left: BarArrays, right: BarArrays) -> None:
    for name in BAR_COLUMNS:
        np.testing.assert_array_equal(getattr(left, name), getattr(right, name), err_msg=name)


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_round_trip_is_bit_exact_for_arbitrary_floats(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    rows = 1_000
    low = rng.uniform(1, 1e6, rows)
    high = low * (1 + rng.uniform(0, 0.01, rows))
    bars = BarArrays(
        T0 + np.arange(rows, dtype=np.int64) * MINUTE,
        low + (high - low) * rng.uniform(0, 1, rows),
        high,
        low,
        low + (high - low) * rng.uniform(0, 1, rows),
        rng.exponential(3.0, rows),
    )
    catalog = Catalog(tmp_path)

    catalog.write_bars(BTC, ONE_MINUTE, bars)
    loaded = catalog.load_bars(BTC, ONE_MINUTE)

    _assert_same(loaded, bars)


def test_info_records_what_was_written(tmp_path: Path) -> None:
    bars = _synthetic(100)
    catalog = Catalog(tmp_path)

    info = catalog.write_bars(
        BTC, ONE_MINUTE, bars, source="prices.csv", created_ns=1_700_000_000_000_000_000
    )

    assert info == catalog.info(BTC, ONE_MINUTE)
    assert info.instrument_id == BTC
    assert info.timeframe == ONE_MINUTE
    assert info.rows == 100
    assert (info.first_ts, info.last_ts) == (T0, T0 + 99 * MINUTE)
    assert (info.price_precision, info.size_precision) == (2, 3)
    assert info.source == "prices.csv"
    assert info.created_ns == 1_700_000_000_000_000_000
    assert info.path == tmp_path / "bars" / "SIM" / "BTC%2FUSDT" / "1m"


def test_layout_on_disk_is_year_files_plus_metadata(tmp_path: Path) -> None:
    bars = _synthetic(3 * 24 * 60, start="2020-12-30")
    catalog = Catalog(tmp_path)

    catalog.write_bars(BTC, ONE_MINUTE, bars, source="x")

    assert _files(tmp_path) == [
        "bars/SIM/BTC%2FUSDT/1m/2020.parquet",
        "bars/SIM/BTC%2FUSDT/1m/2021.parquet",
        "bars/SIM/BTC%2FUSDT/1m/dataset.json",
    ]
    metadata = json.loads((tmp_path / "bars/SIM/BTC%2FUSDT/1m/dataset.json").read_text())
    assert metadata["instrument_id"] == "BTC/USDT.SIM"
    assert metadata["timeframe"] == "1m"
    assert metadata["rows"] == 3 * 24 * 60
    table = pq.read_table(tmp_path / "bars/SIM/BTC%2FUSDT/1m/2021.parquet")
    assert table.column_names == list(BAR_COLUMNS)
    assert str(table.schema.field("ts").type) == "int64"
    assert table.column("ts")[0].as_py() == parse_utc_ns("2021-01-01")


def test_given_precisions_are_kept_and_checked(tmp_path: Path) -> None:
    bars = _synthetic(10)
    catalog = Catalog(tmp_path)

    info = catalog.write_bars(BTC, ONE_MINUTE, bars, price_precision=4, size_precision=5)

    assert (info.price_precision, info.size_precision) == (4, 5)
    with pytest.raises(InvalidBars, match=r"column 'open': .* has more than price_precision=1"):
        catalog.write_bars(ETH, ONE_MINUTE, bars, price_precision=1)
    assert not catalog.exists(ETH, ONE_MINUTE)


def test_invalid_bars_write_nothing(tmp_path: Path) -> None:
    bars = _synthetic(10)
    broken = BarArrays(bars.ts, bars.open, bars.low - 1, bars.low, bars.close, bars.volume)
    catalog = Catalog(tmp_path)

    with pytest.raises(
        InvalidBars, match=r"^BTC/USDT.SIM 1m bar 0 \(2020-01-01T00:00:00Z\), column 'high'"
    ):
        catalog.write_bars(BTC, ONE_MINUTE, broken)

    assert catalog.datasets() == []
    assert _files(tmp_path) == []


def test_a_bad_later_chunk_writes_nothing_and_keeps_the_old_dataset(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    old = _synthetic(50, seed=1)
    catalog.write_bars(BTC, ONE_MINUTE, old)
    new = _synthetic(200_000, seed=2)
    bad = new[150_000:]
    bad = BarArrays(bad.ts, bad.open, bad.high, bad.low, bad.close, -bad.volume)

    with pytest.raises(InvalidBars, match=r"bar 150000 .*volume .* is negative"):
        catalog.write_bar_chunks(BTC, ONE_MINUTE, [new[:150_000], bad])

    _assert_same(catalog.load_bars(BTC, ONE_MINUTE), old)
    assert catalog.info(BTC, ONE_MINUTE).rows == 50
    assert list((tmp_path / ".staging").iterdir()) == []


def test_no_bars_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidBars, match="no bars to write"):
        Catalog(tmp_path).write_bars(BTC, ONE_MINUTE, BarArrays.empty())


def test_replace_overwrites(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    catalog.write_bars(BTC, ONE_MINUTE, _synthetic(500, start="2019-06-01"))
    second = _synthetic(20, start="2021-03-01", seed=9)

    info = catalog.write_bars(BTC, ONE_MINUTE, second)

    assert info.rows == 20
    _assert_same(catalog.load_bars(BTC, ONE_MINUTE), second)
    assert [p.name for p in sorted(info.path.glob("*.parquet"))] == ["2021.parquet"]


def test_append_continues_after_the_last_bar(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    whole = _synthetic(1_000, start="2020-12-31T23:00:00")
    catalog.write_bars(BTC, ONE_MINUTE, whole[:30], source="a.csv")

    info = catalog.write_bars(BTC, ONE_MINUTE, whole[30:], mode="append", source="b.csv")

    assert info.rows == 1_000
    assert (info.first_ts, info.last_ts) == (int(whole.ts[0]), int(whole.ts[-1]))
    assert info.source == "a.csv; b.csv"
    _assert_same(catalog.load_bars(BTC, ONE_MINUTE), whole)


def test_append_across_years_keeps_older_year_files(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    whole = _synthetic(2 * 24 * 60, start="2020-12-31")
    catalog.write_bars(BTC, ONE_MINUTE, whole[:1_440])  # all of 2020-12-31
    catalog.write_bars(BTC, ONE_MINUTE, whole[1_440:1_500], mode="append")

    catalog.write_bars(BTC, ONE_MINUTE, whole[1_500:], mode="append")

    _assert_same(catalog.load_bars(BTC, ONE_MINUTE), whole)
    assert catalog.info(BTC, ONE_MINUTE).rows == len(whole)


def test_append_to_a_missing_dataset_creates_it(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)

    info = catalog.write_bars(BTC, ONE_MINUTE, _synthetic(5), mode="append")

    assert info.rows == 5


@pytest.mark.parametrize(("offset", "what"), [(0, "overlap"), (-30, "before")])
def test_append_must_start_after_the_stored_bars(tmp_path: Path, offset: int, what: str) -> None:
    catalog = Catalog(tmp_path)
    whole = _synthetic(100)
    catalog.write_bars(BTC, ONE_MINUTE, whole[:60])
    start = 59 + offset

    with pytest.raises(InvalidBars) as caught:
        catalog.write_bars(BTC, ONE_MINUTE, whole[start:], mode="append")

    assert str(caught.value) == (
        "BTC/USDT.SIM 1m: bars must start at least 1m after the dataset's last bar "
        f"2020-01-01T00:59:00Z, got 2020-01-01T00:{start:02d}:00Z"
    )
    _assert_same(catalog.load_bars(BTC, ONE_MINUTE), whole[:60])


def test_append_keeps_the_larger_precision(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    bars = _synthetic(20)
    coarse = BarArrays(
        bars.ts,
        *(np.round(getattr(bars, n)) for n in ("open", "high", "low", "close")),
        np.round(bars.volume),
    )
    catalog.write_bars(BTC, ONE_MINUTE, coarse[:10])

    info = catalog.write_bars(BTC, ONE_MINUTE, bars[10:], mode="append")

    assert (info.price_precision, info.size_precision) == (2, 3)


def test_datasets_are_listed_in_order(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    catalog.write_bars(ETH, ONE_MINUTE, _synthetic(5))
    catalog.write_bars(
        BTC, ONE_HOUR, generate_bars(bars=5, seed=1, timeframe=ONE_HOUR, start_ns=T0)
    )
    catalog.write_bars(BTC, ONE_MINUTE, _synthetic(5))

    listed = [(str(i.instrument_id), str(i.timeframe)) for i in catalog.datasets()]

    assert listed == [("BTC/USDT.SIM", "1m"), ("BTC/USDT.SIM", "1h"), ("ETH/USDT.SIM", "1m")]


def test_an_empty_catalog_lists_nothing(tmp_path: Path) -> None:
    assert Catalog(tmp_path / "nowhere").datasets() == []


def test_a_missing_dataset_names_what_exists(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    catalog.write_bars(BTC, ONE_MINUTE, _synthetic(5))

    with pytest.raises(DatasetNotFound) as caught:
        catalog.info(BTC, ONE_HOUR)

    assert str(caught.value) == (
        f"no dataset BTC/USDT.SIM 1h in {tmp_path}; datasets: BTC/USDT.SIM 1m"
    )


def test_a_missing_dataset_in_an_empty_catalog(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFound, match="the catalog is empty"):
        Catalog(tmp_path).iter_bars(BTC, ONE_MINUTE)


def test_equal_timeframes_share_a_dataset(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    catalog.write_bars(BTC, Timeframe.from_str("60s"), _synthetic(5))

    info = catalog.info(BTC, ONE_MINUTE)

    assert str(info.timeframe) == "1m"


def test_symbols_with_unsafe_characters(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    odd = InstrumentId.from_str("../%2F:x.SIM")

    catalog.write_bars(odd, ONE_MINUTE, _synthetic(5))

    assert catalog.datasets()[0].instrument_id == odd
    assert catalog.info(odd, ONE_MINUTE).path.parent.name == "%2E.%2F%252F%3Ax"


def test_delete(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    catalog.write_bars(BTC, ONE_MINUTE, _synthetic(5))

    catalog.delete(BTC, ONE_MINUTE)

    assert catalog.datasets() == []


# --- streaming reads ---------------------------------------------------------------------------


def test_iter_bars_streams_bounded_chunks_across_year_files(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    bars = _synthetic(5_000, start="2020-12-31T23:00:00")
    catalog.write_bars(BTC, ONE_MINUTE, bars)

    chunks = list(catalog.iter_bars(BTC, ONE_MINUTE, chunk_rows=700))

    assert len(chunks) > len(bars) // 700
    assert all(0 < len(chunk) <= 700 for chunk in chunks)
    _assert_same(BarArrays.concat(chunks), bars)


def test_iter_bars_filters_half_open_ranges(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    bars = _synthetic(3_000, start="2020-12-31T23:00:00")
    catalog.write_bars(BTC, ONE_MINUTE, bars)
    start, end = int(bars.ts[50]), int(bars.ts[2_500])

    chunks = list(catalog.iter_bars(BTC, ONE_MINUTE, start_ns=start, end_ns=end, chunk_rows=256))

    _assert_same(BarArrays.concat(chunks), bars[50:2_500])
    assert all(0 < len(chunk) <= 256 for chunk in chunks)


def test_iter_bars_with_only_one_bound_or_none_inside(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    bars = _synthetic(100)
    catalog.write_bars(BTC, ONE_MINUTE, bars)

    after = catalog.load_bars(BTC, ONE_MINUTE, start_ns=int(bars.ts[90]))
    before = catalog.load_bars(BTC, ONE_MINUTE, end_ns=int(bars.ts[3]) + 1)
    outside = list(catalog.iter_bars(BTC, ONE_MINUTE, start_ns=int(bars.ts[-1]) + 1))

    _assert_same(after, bars[90:])
    _assert_same(before, bars[:4])
    assert outside == []


def test_files_are_written_in_bounded_row_groups(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    info = catalog.write_bars(BTC, ONE_MINUTE, _synthetic(200_000))

    metadata = pq.ParquetFile(info.path / "2020.parquet").metadata

    assert metadata.num_row_groups >= 4
    assert max(metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)) <= 65_536
    # LZ4 and plain pages, as docs/data.md says (dictionaries only slow the reads of prices)
    for i in range(metadata.num_row_groups):
        for c in range(metadata.num_columns):
            column = metadata.row_group(i).column(c)
            assert column.compression in ("LZ4", "LZ4_RAW")
            assert not column.has_dictionary_page


def test_chunk_rows_must_be_positive(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    catalog.write_bars(BTC, ONE_MINUTE, _synthetic(5))

    with pytest.raises(InvalidValue, match="chunk_rows"):
        catalog.iter_bars(BTC, ONE_MINUTE, chunk_rows=0)

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeforge.data import (
    BAR_COLUMNS,
    BarArrays,
    BarResampler,
    Catalog,
    generate_bars,
    parse_utc_ns,
    resample,
)
from tradeforge.domain import InstrumentId, InvalidValue, Timeframe

ONE_MINUTE = Timeframe.from_str("1m")
FIVE_MINUTES = Timeframe.from_str("5m")
MINUTE = 60_000_000_000
T0 = parse_utc_ns("2020-01-01")


def _bars(rows: list[tuple[int, float, float, float, float, float]]) -> BarArrays:
    minutes, o, h, lo, c, v = zip(*rows, strict=True)
    return BarArrays(
        T0 + np.array(minutes, dtype=np.int64) * MINUTE,
        *(np.array(column, dtype=np.float64) for column in (o, h, lo, c, v)),
    )


def test_hand_computed_example() -> None:
    # Starts mid-bucket at 00:03, has an empty bucket (00:10) and ends with a partial one.
    source = _bars(
        [
            (3, 10.0, 12.0, 9.0, 11.0, 1.0),
            (4, 11.0, 11.5, 10.5, 11.2, 2.0),
            (5, 11.2, 13.0, 11.0, 12.5, 3.0),
            (6, 12.5, 12.6, 8.0, 9.0, 4.0),
            (9, 9.0, 10.0, 8.5, 9.5, 5.0),
            (15, 9.5, 9.9, 9.1, 9.8, 6.0),
            (16, 9.8, 14.0, 9.7, 13.0, 0.0),
        ]
    )

    result = resample(source, ONE_MINUTE, FIVE_MINUTES)

    assert ((result.ts - T0) // MINUTE).tolist() == [0, 5, 15]
    assert result.open.tolist() == [10.0, 11.2, 9.5]
    assert result.high.tolist() == [12.0, 13.0, 14.0]
    assert result.low.tolist() == [9.0, 8.0, 9.1]
    assert result.close.tolist() == [11.2, 9.5, 13.0]
    assert result.volume.tolist() == [3.0, 12.0, 6.0]


def test_daily_buckets_start_at_midnight_utc() -> None:
    source = generate_bars(
        bars=3 * 24, seed=1, timeframe=Timeframe.from_str("1h"), start_ns=T0 + 5 * 3_600 * 10**9
    )

    result = resample(source, Timeframe.from_str("1h"), Timeframe.from_str("1d"))

    assert result.ts.tolist() == [T0 + day * 86_400 * 10**9 for day in range(4)]


@pytest.mark.parametrize(("source", "target"), [("1m", "90s"), ("1h", "90m"), ("5m", "1m")])
def test_the_target_must_be_a_whole_multiple(source: str, target: str) -> None:
    with pytest.raises(InvalidValue, match=f"cannot resample {source} bars to {target}"):
        resample(BarArrays.empty(), Timeframe.from_str(source), Timeframe.from_str(target))


def test_empty_in_empty_out() -> None:
    assert len(resample(BarArrays.empty(), ONE_MINUTE, FIVE_MINUTES)) == 0


@st.composite
def minute_bars(draw: st.DrawFn) -> BarArrays:
    steps = draw(st.lists(st.integers(1, 30), min_size=1, max_size=200))
    minutes = np.cumsum(steps) + draw(st.integers(0, 10_000))
    rows = len(minutes)
    prices = st.floats(1.0, 1_000.0, allow_nan=False)
    low = np.array(draw(st.lists(prices, min_size=rows, max_size=rows)))
    spread = np.array(draw(st.lists(st.floats(0.0, 50.0), min_size=rows, max_size=rows)))
    where = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=rows * 2, max_size=rows * 2)))
    volume = np.array(draw(st.lists(st.floats(0.0, 1e6), min_size=rows, max_size=rows)))
    high = low + spread
    return BarArrays(
        T0 + minutes.astype(np.int64) * MINUTE,
        low + spread * where[:rows],
        high,
        low,
        low + spread * where[rows:],
        volume,
    )


@settings(max_examples=200, deadline=None)
@given(bars=minute_bars(), factor=st.sampled_from([1, 2, 5, 15, 60, 240, 1440]))
def test_resampling_keeps_volume_extremes_and_counts_buckets(bars: BarArrays, factor: int) -> None:
    target = Timeframe(factor, "m")

    result = resample(bars, ONE_MINUTE, target)

    buckets = bars.ts // target.nanos * target.nanos
    assert result.ts.tolist() == sorted(set(buckets.tolist()))
    assert math.isclose(result.volume.sum(), bars.volume.sum(), rel_tol=1e-9, abs_tol=1e-6)
    for row, start in enumerate(result.ts):
        members = buckets == start
        assert result.high[row] == bars.high[members].max()
        assert result.low[row] == bars.low[members].min()
        assert result.open[row] == bars.open[members][0]
        assert result.close[row] == bars.close[members][-1]
    assert result.first_problem(target) is None


@settings(max_examples=100, deadline=None)
@given(bars=minute_bars(), cuts=st.lists(st.integers(0, 200), max_size=6))
def test_streaming_in_any_chunks_equals_resampling_at_once(
    bars: BarArrays, cuts: list[int]
) -> None:
    target = Timeframe.from_str("15m")
    edges = [0, *sorted(min(c, len(bars)) for c in cuts), len(bars)]
    resampler = BarResampler(ONE_MINUTE, target)

    parts = [resampler.push(bars[a:b]) for a, b in itertools.pairwise(edges)]
    streamed = BarArrays.concat([*parts, resampler.finish()])

    expected = resample(bars, ONE_MINUTE, target)
    for name in ("ts", "open", "high", "low", "close"):
        np.testing.assert_array_equal(getattr(streamed, name), getattr(expected, name))
    np.testing.assert_allclose(streamed.volume, expected.volume, rtol=1e-12)


def test_catalog_resample_writes_a_new_dataset(tmp_path: Path) -> None:
    instrument = InstrumentId.from_str("BTC/USDT.SIM")
    catalog = Catalog(tmp_path)
    source = generate_bars(bars=200_000, seed=5, timeframe=ONE_MINUTE, start_ns=T0)
    catalog.write_bars(instrument, ONE_MINUTE, source, source="gen")

    info = catalog.resample(instrument, ONE_MINUTE, Timeframe.from_str("1h"), created_ns=42)

    loaded = catalog.load_bars(instrument, Timeframe.from_str("1h"))
    expected = resample(source, ONE_MINUTE, Timeframe.from_str("1h"))
    for name in BAR_COLUMNS[:-1]:
        np.testing.assert_array_equal(getattr(loaded, name), getattr(expected, name))
    np.testing.assert_array_equal(loaded.volume, np.round(expected.volume, 3))
    assert info.rows == math.ceil(200_000 / 60)
    assert (info.price_precision, info.size_precision) == (2, 3)
    assert info.source == "resampled from BTC/USDT.SIM 1m"
    assert info.created_ns == 42

from __future__ import annotations

import time

import numpy as np
import pytest

from tradeforge.data import (
    BAR_COLUMNS,
    BarArrays,
    generate_bar_chunks,
    generate_bars,
    infer_precision,
    parse_utc_ns,
)
from tradeforge.domain import InvalidValue, Timeframe

ONE_MINUTE = Timeframe.from_str("1m")
T0 = parse_utc_ns("2020-01-01")


def _generate(bars: int = 50_000, seed: int = 7, **kwargs: float) -> BarArrays:
    return generate_bars(bars=bars, seed=seed, timeframe=ONE_MINUTE, start_ns=T0, **kwargs)


def _same(left: BarArrays, right: BarArrays) -> bool:
    return all(np.array_equal(getattr(left, n), getattr(right, n)) for n in BAR_COLUMNS)


def test_the_same_seed_gives_identical_bars() -> None:
    assert _same(_generate(seed=7), _generate(seed=7))


def test_another_seed_gives_other_bars() -> None:
    first, second = _generate(seed=7), _generate(seed=8)

    assert not np.array_equal(first.close, second.close)
    assert not np.array_equal(first.volume, second.volume)


def test_chunking_does_not_change_the_series() -> None:
    whole = _generate(bars=10_000)

    chunks = list(
        generate_bar_chunks(bars=10_000, seed=7, timeframe=ONE_MINUTE, start_ns=T0, chunk_bars=700)
    )

    assert [len(c) for c in chunks][:2] == [1_024, 1_024]  # rounded up to whole 512-bar blocks
    assert _same(BarArrays.concat(chunks), whole)


def test_bars_are_consistent_and_contiguous() -> None:
    bars = _generate()

    assert bars.first_problem(ONE_MINUTE) is None
    assert np.all(np.diff(bars.ts) == ONE_MINUTE.nanos)
    assert bars.ts[0] == T0
    assert bars.open[0] == 30_000.0
    np.testing.assert_array_equal(bars.open[1:], bars.close[:-1])
    assert np.all(bars.high >= np.maximum(bars.open, bars.close))
    assert np.all(bars.low <= np.minimum(bars.open, bars.close))
    assert np.all(bars.volume > 0)


def test_prices_sit_on_the_tick_and_volumes_on_the_lot() -> None:
    bars = _generate(tick=0.5, lot=0.01)

    for name in ("open", "high", "low", "close"):
        values = getattr(bars, name)
        np.testing.assert_array_equal(np.round(values / 0.5) * 0.5, values)
    assert infer_precision(bars.close) <= 1
    assert infer_precision(bars.volume) <= 2
    assert bars.volume.min() >= 0.01


def test_volatility_clusters() -> None:
    bars = _generate(bars=200_000)
    moves = np.abs(np.diff(np.log(bars.close)))

    lag_one = np.corrcoef(moves[:-1], moves[1:])[0, 1]

    assert lag_one > 0.1


def test_returns_have_fat_tails() -> None:
    returns = np.diff(np.log(_generate(bars=200_000).close))
    standardised = (returns - returns.mean()) / returns.std()

    assert np.mean(standardised**4) > 4.0  # a normal distribution has 3


def test_volatility_and_volume_follow_the_time_of_day() -> None:
    bars = _generate(bars=30 * 24 * 60)
    hour = (bars.ts[1:] % 86_400_000_000_000) // 3_600_000_000_000
    moves = np.abs(np.diff(np.log(bars.close)))
    volume = bars.volume[1:]

    busy, quiet = (hour >= 13) & (hour <= 16), (hour >= 1) & (hour <= 4)

    assert moves[busy].mean() > 1.3 * moves[quiet].mean()
    assert volume[busy].mean() > 1.5 * volume[quiet].mean()


def test_a_million_bars_generate_well_under_two_seconds() -> None:
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        bars = _generate(bars=1_000_000)
        timings.append(time.perf_counter() - started)

    assert len(bars) == 1_000_000
    assert min(timings) < 2.0


def test_zero_bars() -> None:
    assert len(_generate(bars=0)) == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bars": -1}, "bars must be an int >= 0"),
        ({"tick": 0.0}, "tick must be a positive number"),
        ({"lot": -1.0}, "lot must be a positive number"),
        ({"start_price": float("nan")}, "start_price must be a positive number"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, float], message: str) -> None:
    arguments = {"bars": 10, "seed": 1, "timeframe": ONE_MINUTE, "start_ns": T0, **kwargs}

    with pytest.raises(InvalidValue, match=message):
        generate_bars(**arguments)  # type: ignore[arg-type]

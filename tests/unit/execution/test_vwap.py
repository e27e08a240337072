"""VWAP: the volume profile from the history catalog, and slices sized by it."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from tests.unit.execution.harness import T0, FakeVenue, instrument, parent

from tradeforge.bus import ReplayClock
from tradeforge.data import BarArrays, Catalog
from tradeforge.domain import Quantity, Timeframe
from tradeforge.execution import ExecutionState, VolumeProfile, Vwap, VwapParams, volume_profile
from tradeforge.execution.algos.profile import DAY_NS

HOUR = 3_600_000_000_000
DAY0 = (T0 // DAY_NS) * DAY_NS  # a UTC midnight
ONE_HOUR = Timeframe.from_str("1h")
BTCUSDT = instrument().id


def hourly_bars(first_day: int, volumes: list[float]) -> BarArrays:
    ts = np.array([first_day + h * HOUR for h in range(len(volumes))], dtype=np.int64)
    price = np.full(len(volumes), 100.0)
    return BarArrays(ts, price, price, price, price, np.array(volumes, dtype=np.float64))


def profile_of(hourly: list[int]) -> VolumeProfile:
    return VolumeProfile(bucket_ns=HOUR, weights=tuple(Decimal(w) for w in hourly), days=1)


def test_profile_averages_volume_per_hour_of_day_over_the_last_days(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    old_day = [1000.0] * 24  # outside the window: must not count
    day_one = [float(h + 1) for h in range(24)]
    day_two = [3.0 * (h + 1) for h in range(24)]
    catalog.write_bars(BTCUSDT, ONE_HOUR, hourly_bars(DAY0, old_day + day_one + day_two))

    profile = volume_profile(catalog, BTCUSDT, ONE_HOUR, end_ns=DAY0 + 3 * DAY_NS, days=2)

    assert profile.days == 2
    assert not profile.is_flat
    assert profile.bucket_ns == HOUR
    assert profile.weights == tuple(Decimal(2 * (h + 1)) for h in range(24))


def test_profile_buckets_may_hold_several_bars(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    catalog.write_bars(BTCUSDT, ONE_HOUR, hourly_bars(DAY0, [1.0] * 24))

    profile = volume_profile(catalog, BTCUSDT, ONE_HOUR, end_ns=DAY0 + DAY_NS, bucket_ns=6 * HOUR)

    assert profile.weights == (Decimal(6),) * 4


def test_without_history_the_profile_is_flat(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    assert volume_profile(catalog, BTCUSDT, ONE_HOUR, end_ns=DAY0).is_flat
    catalog.write_bars(BTCUSDT, ONE_HOUR, hourly_bars(DAY0, [5.0] * 24))
    empty_window = volume_profile(catalog, BTCUSDT, ONE_HOUR, end_ns=DAY0 - DAY_NS, days=3)
    assert empty_window.is_flat
    assert set(empty_window.weights) == {Decimal(1)}


def test_interval_weights_count_the_part_of_each_bucket_covered() -> None:
    profile = profile_of([10, 20] + [0] * 22)
    # [00:30, 01:30) covers half of hour 0 and half of hour 1.
    (weight,) = profile.weights_for([DAY0 + HOUR // 2], DAY0 + 3 * HOUR // 2)
    assert weight == Decimal(10 * HOUR // 2 + 20 * HOUR // 2)


def vwap(
    clock: ReplayClock,
    venue: FakeVenue,
    total: Quantity,
    params: VwapParams,
    *,
    lot: str = "0.001",
    min_qty: str | None = None,
) -> Vwap:
    algo = Vwap(
        parent(instrument(lot=lot, min_qty=min_qty), total),
        params,
        clock=clock,
        submit_child=venue.submit,
        cancel_child=venue.cancel,
    )
    venue.bind(algo)
    return algo


def test_slices_follow_the_profile() -> None:
    clock = ReplayClock(DAY0 + 8 * HOUR)
    venue = FakeVenue(clock)
    profile = profile_of([0] * 8 + [1, 2, 3, 4] + [0] * 12)
    params = VwapParams(
        start_ns=DAY0 + 8 * HOUR, end_ns=DAY0 + 12 * HOUR, slices=4, profile=profile
    )
    algo = vwap(clock, venue, Quantity("10"), params, lot="1")

    algo.start()
    clock.advance_to(DAY0 + 12 * HOUR)

    assert venue.quantities() == [Decimal(1), Decimal(2), Decimal(3), Decimal(4)]
    assert venue.times() == [DAY0 + h * HOUR for h in (8, 9, 10, 11)]
    assert algo.state is ExecutionState.DONE


def test_a_window_with_no_expected_volume_is_split_evenly() -> None:
    clock = ReplayClock(DAY0)
    venue = FakeVenue(clock)
    profile = profile_of([0] * 12 + [5] * 12)
    params = VwapParams(start_ns=DAY0, end_ns=DAY0 + 4 * HOUR, slices=4, profile=profile)
    algo = vwap(clock, venue, Quantity("8"), params, lot="1")

    algo.start()
    clock.advance_to(DAY0 + 4 * HOUR)

    assert venue.quantities() == [Decimal(2)] * 4


@settings(max_examples=60, deadline=None)
@given(
    hourly=st.lists(st.integers(0, 50), min_size=24, max_size=24),
    first_hour=st.integers(0, 23),
    hours=st.integers(1, 24),
    lot=st.sampled_from(["1", "0.1", "0.001"]),
    total_lots=st.integers(1, 10_000),
)
def test_child_sizes_are_proportional_to_the_profile_within_one_lot(
    hourly: list[int], first_hour: int, hours: int, lot: str, total_lots: int
) -> None:
    start = DAY0 + first_hour * HOUR
    window = [hourly[(first_hour + k) % 24] for k in range(hours)]
    assume(any(window))
    clock = ReplayClock(start)
    venue = FakeVenue(clock)
    params = VwapParams(
        start_ns=start, end_ns=start + hours * HOUR, slices=hours, profile=profile_of(hourly)
    )
    step = Decimal(lot)
    algo = vwap(clock, venue, Quantity(step * total_lots), params, lot=lot)

    algo.start()
    clock.advance_to(start + hours * HOUR)

    sent = dict(zip(venue.times(), venue.quantities(), strict=True))
    assert sum(sent.values()) == step * total_lots
    for k, weight in enumerate(window):
        size = sent.get(start + k * HOUR, Decimal(0))
        share = Fraction(total_lots * weight, sum(window))
        assert abs(Fraction(size / step) - share) < 1
    assert algo.report().is_complete


@settings(max_examples=40, deadline=None)
@given(
    hourly=st.lists(st.integers(0, 50), min_size=24, max_size=24),
    hours=st.integers(1, 24),
    lot=st.sampled_from(["1", "0.5", "0.01"]),
    total_lots=st.integers(1, 2_000),
    min_lots=st.integers(2, 40),
)
def test_children_sum_to_the_parent_and_none_is_below_the_minimum(
    hourly: list[int], hours: int, lot: str, total_lots: int, min_lots: int
) -> None:
    assume(total_lots >= min_lots)
    step = Decimal(lot)
    clock = ReplayClock(DAY0)
    venue = FakeVenue(clock)
    params = VwapParams(
        start_ns=DAY0, end_ns=DAY0 + hours * HOUR, slices=hours, profile=profile_of(hourly)
    )
    algo = vwap(
        clock, venue, Quantity(step * total_lots), params, lot=lot, min_qty=str(step * min_lots)
    )

    algo.start()
    clock.advance_to(DAY0 + hours * HOUR)

    sizes = venue.quantities()
    assert sum(sizes) == step * total_lots
    assert all(size % step == 0 and size >= step * min_lots for size in sizes)
    assert algo.state is ExecutionState.DONE

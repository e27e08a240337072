"""CON-3: jittered back-off stays in bounds and spreads recovering clients out."""

from __future__ import annotations

import random
import statistics
from collections import Counter
from collections.abc import Callable

import pytest

from tradeforge.connectors.resilience import Backoff, DecorrelatedJitter, FullJitter
from tradeforge.domain.errors import InvalidValue


def test_ten_thousand_full_jitter_delays_fall_inside_zero_to_the_capped_ceiling() -> None:
    base, cap = 0.1, 20.0
    backoff = FullJitter(base=base, cap=cap, rng=random.Random(3))
    attempts = [n % 20 for n in range(10_000)]

    delays = [backoff.delay(n) for n in attempts]

    outside = [
        (n, d) for n, d in zip(attempts, delays, strict=True) if not 0 <= d <= min(cap, base * 2**n)
    ]
    assert outside == []


def test_full_jitter_fills_its_range_rather_than_hugging_one_end() -> None:
    backoff = FullJitter(base=1.0, cap=8.0, rng=random.Random(11))

    delays = [backoff.delay(2) for _ in range(5_000)]  # ceiling 4.0

    assert min(delays) < 0.05
    assert max(delays) > 3.95
    assert statistics.mean(delays) == pytest.approx(2.0, abs=0.1)


def test_ceiling_doubles_per_attempt_up_to_the_cap_without_overflowing() -> None:
    backoff = FullJitter(base=0.1, cap=10.0, rng=random.Random(0))

    ceilings = [backoff.ceiling(n) for n in (0, 1, 3, 6, 7, 2_000)]

    assert ceilings == pytest.approx([0.1, 0.2, 0.8, 6.4, 10.0, 10.0])


def test_the_same_seed_gives_the_same_delays() -> None:
    first = FullJitter(rng=random.Random(42))
    second = FullJitter(rng=random.Random(42))

    assert [first.delay(n % 8) for n in range(100)] == [second.delay(n % 8) for n in range(100)]


def test_decorrelated_jitter_stays_between_base_and_cap_and_three_times_the_last_delay() -> None:
    base, cap = 0.1, 5.0
    backoff = DecorrelatedJitter(base=base, cap=cap, rng=random.Random(5))
    previous, pairs = 0.0, []
    for attempt in range(10_000):
        delay = backoff.delay(attempt % 30, previous)
        pairs.append((previous, delay))
        previous = 0.0 if attempt % 30 == 29 else delay  # a new call every 30 retries

    assert all(base <= d <= cap for _, d in pairs)
    assert all(d <= 3 * max(p, base) for p, d in pairs)
    assert max(d for _, d in pairs) == pytest.approx(cap)  # it does reach the cap


@pytest.mark.parametrize(
    "make",
    [
        lambda: FullJitter(base=0, cap=1),
        lambda: FullJitter(base=2, cap=1),
        lambda: DecorrelatedJitter(base=-1, cap=1),
        lambda: FullJitter(rng=random.Random(0)).delay(-1),
        lambda: DecorrelatedJitter(rng=random.Random(0)).delay(-1, 0.0),
    ],
)
def test_bad_arguments_are_refused(make: Callable[[], object]) -> None:
    with pytest.raises(InvalidValue):
        make()


# --------------------------------------------------------------- recovery from an outage
OUTAGE = 30.0
CLIENTS = 100
BUCKET = 0.1


class _NoJitter:
    """Plain capped exponential back-off: what a client without jitter does."""

    def __init__(self, base: float, cap: float) -> None:
        self.base, self.cap = base, cap

    def delay(self, attempt: int, previous: float) -> float:
        return min(self.cap, self.base * 2**attempt)


def _retry_times(make: Callable[[random.Random], Backoff], seed: int) -> list[float]:
    """Every client sees the outage begin within the same 100 ms (the thundering-herd set-up:
    without jitter they would retry in lock-step), then retries until the venue is back."""
    rng = random.Random(seed)
    times = []
    for _ in range(CLIENTS):
        backoff = make(rng)
        t, attempt, previous = rng.uniform(0.0, BUCKET), 0, 0.0
        while t < OUTAGE:
            previous = backoff.delay(attempt, previous)
            t += previous
            times.append(t)
            attempt += 1
    return times


def _largest_bucket_over_mean(times: list[float]) -> float:
    buckets = Counter(int(t / BUCKET) for t in times)
    span = max(buckets) + 1  # empty buckets count towards the mean
    return max(buckets.values()) / (len(times) / span)


# With 100 clients the 2x figure is close to Poisson noise: a bucket's count varies by about
# its square root, so it can only hold when buckets are full, i.e. with a short cap (here about
# 30 retries per bucket). With a 10 s cap the buckets hold ~1 retry each and noise alone breaks it.
BASE, CAP = 0.3, 0.6


@pytest.mark.parametrize("seed", range(10))
def test_a_hundred_clients_recovering_from_a_30s_outage_make_no_retry_spike(seed: int) -> None:
    times = _retry_times(lambda rng: FullJitter(base=BASE, cap=CAP, rng=rng), seed)

    assert max(times) >= OUTAGE  # every client retried until the venue was back
    assert _largest_bucket_over_mean(times) <= 2.0


def test_without_jitter_the_same_clients_retry_in_a_spike() -> None:
    # The same clients without jitter retry in lock-step, which the 2x figure catches.
    times = _retry_times(lambda rng: _NoJitter(base=BASE, cap=CAP), seed=0)

    assert _largest_bucket_over_mean(times) > 4.0

"""The weight limiter: CON-1 (2x demand stays under 95%) and CON-2 (Retry-After is honoured)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

import pytest
from tests.unit.connectors.conftest import VirtualTime

from tradeforge.connectors.resilience import WeightLimiter
from tradeforge.domain.errors import InvalidValue

LIMIT = 6_000
WINDOW = 60.0
WEIGHTS = (1, 1, 2, 4, 5, 10, 20)  # Binance Spot route weights, common ones more often


class BinanceLikeServer:
    """Counts weight per fixed minute per IP, as the venue does, and notes each 429."""

    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self.minute = -1
        self.used = 0
        self.peak = 0
        self.too_many = 0

    def request(self, now: float, weight: int) -> int:
        """Count a request; return the X-MBX-USED-WEIGHT-1M header."""
        if int(now // 60) != self.minute:
            self.minute, self.used = int(now // 60), 0
        self.used += weight
        self.peak = max(self.peak, self.used)
        if self.used > self.limit:
            self.too_many += 1
        return self.used


def limiter_on_running_loop(**kwargs: float) -> WeightLimiter:
    loop = asyncio.get_running_loop()
    return WeightLimiter(monotonic=loop.time, sleep=asyncio.sleep, **kwargs)  # type: ignore[arg-type]


def peak_rolling_weight(sends: list[tuple[float, int]], window: float = WINDOW) -> int:
    """The largest total weight in any window (end - window, end] ending at a send."""
    peak, total, start = 0, 0, 0
    for t, weight in sends:
        total += weight
        while sends[start][0] <= t - window:
            total -= sends[start][1]
            start += 1
        peak = max(peak, total)
    return peak


def test_capacity_keeps_the_safety_margin() -> None:
    limiter = WeightLimiter(monotonic=lambda: 0.0, sleep=asyncio.sleep)

    assert limiter.capacity == 5_700


def test_con1_demand_at_twice_the_budget_for_ten_minutes_stays_under_95_percent(
    virtual_time: VirtualTime,
) -> None:
    rng = random.Random(1)
    server = BinanceLikeServer()
    sends: list[tuple[float, int]] = []
    minutes = 10
    demand_per_second = 2 * LIMIT / 60  # twice what the venue allows

    async def client(limiter: WeightLimiter, share: float) -> None:
        loop = asyncio.get_running_loop()
        due = 0.0
        while due < minutes * 60:
            weight = rng.choice(WEIGHTS)
            await asyncio.sleep(max(0.0, due - loop.time()))  # behind schedule: no pause
            await limiter.acquire(weight)
            sends.append((loop.time(), weight))
            limiter.observe(server.request(loop.time(), weight))
            due += weight / share

    async def scenario() -> None:
        limiter = limiter_on_running_loop()
        clients = 8
        await asyncio.wait_for(
            asyncio.gather(*(client(limiter, demand_per_second / clients) for _ in range(clients))),
            timeout=minutes * 60 * 3,
        )

    virtual_time.run(scenario())

    sent_in_ten_minutes = sum(w for t, w in sends if t < minutes * 60)
    assert server.too_many == 0  # no HTTP 429, hence no 418
    assert server.peak <= 0.95 * LIMIT
    assert peak_rolling_weight(sends) <= 0.95 * LIMIT
    assert sent_in_ten_minutes >= 0.95 * 0.95 * LIMIT * minutes  # the budget is used, not wasted


def _share_an_ip_with_a_cron_job() -> tuple[BinanceLikeServer, list[int]]:
    """We demand twice the budget for five minutes; another process on our IP spends 1,500
    weight half a second into every minute, which we only learn from the used-weight header."""
    server = BinanceLikeServer()
    ours_per_minute = [0] * 5

    async def cron_job() -> None:
        for minute in range(5):
            await asyncio.sleep(minute * 60 + 0.5 - asyncio.get_running_loop().time())
            server.request(minute * 60 + 0.5, 1_500)

    async def us(limiter: WeightLimiter) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(25.0)  # our windows and the venue's minutes are out of phase
        while loop.time() < 300:
            await limiter.acquire(10)
            now = loop.time()
            if now < 300:
                ours_per_minute[int(now // 60)] += 10
            used = server.request(now, 10)
            # The venue's minutes start at whole minutes of the (virtual) clock.
            limiter.observe(used, window_elapsed=now % 60)
            await asyncio.sleep(0.05)

    async def scenario() -> None:
        limiter = limiter_on_running_loop()
        await asyncio.gather(cron_job(), us(limiter))

    VirtualTime().run(scenario())
    return server, ours_per_minute


def test_weight_another_process_spent_is_left_to_it() -> None:
    server, ours_per_minute = _share_an_ip_with_a_cron_job()

    # Were the header ignored, we would send 5,700 a minute and the venue would count 7,200.
    assert server.too_many == 0
    assert server.peak <= 0.95 * LIMIT
    assert all(sent <= 5_700 - 1_500 for sent in ours_per_minute[1:])  # we gave way
    assert all(sent >= 0.9 * (5_700 - 1_500) for sent in ours_per_minute[1:])  # and no more


def test_observe_counts_only_what_the_window_does_not_hold(virtual_time: VirtualTime) -> None:
    async def scenario() -> list[int]:
        limiter = limiter_on_running_loop()
        seen = []
        await limiter.acquire(100)
        limiter.observe(400)  # the venue counted 300 more than we sent
        seen.append(limiter.used)
        limiter.observe(250)  # a lower count (its minute rolled over) changes nothing
        seen.append(limiter.used)
        await asyncio.sleep(WINDOW)
        seen.append(limiter.used)
        return seen

    assert virtual_time.run(scenario()) == [400, 400, 0]


def test_observe_with_the_venues_phase_counts_only_our_weight_in_the_venues_window(
    virtual_time: VirtualTime,
) -> None:
    async def scenario() -> tuple[int, int]:
        limiter = limiter_on_running_loop()
        blind = limiter_on_running_loop()
        for each in (limiter, blind):
            await each.acquire(3_000)  # t=0, in the venue's previous minute
        await asyncio.sleep(30.0)
        for each in (limiter, blind):
            await each.acquire(100)  # t=30, ten seconds into the venue's minute
        # The venue's minute began at t=20; it has counted our 100 and 600 from elsewhere.
        limiter.observe(700, window_elapsed=10.0)
        blind.observe(700)
        return limiter.used, blind.used

    assert virtual_time.run(scenario()) == (3_700, 3_100)


def test_an_acquisition_that_does_not_fit_waits_for_the_oldest_weight_to_expire(
    virtual_time: VirtualTime,
) -> None:
    async def scenario() -> list[float]:
        loop = asyncio.get_running_loop()
        limiter = limiter_on_running_loop(limit=100, window=10.0, safety_margin=0.0)
        await limiter.acquire(60)  # t=0
        await asyncio.sleep(4.0)
        await limiter.acquire(40)  # t=4: full
        await limiter.acquire(30)  # must wait for the 60 sent at t=0 to leave: t=10
        first = loop.time()
        await limiter.acquire(40)  # 40 + 30 in the window: waits for the t=4 40 to leave, t=14
        return [first, loop.time()]

    assert virtual_time.run(scenario()) == pytest.approx([10.0, 14.0], abs=1e-5)


def test_con2_no_acquisition_completes_before_retry_after(virtual_time: VirtualTime) -> None:
    completions: list[float] = []
    retry_after = 3.0
    hit_at = 10.0

    async def client(limiter: WeightLimiter) -> None:
        loop = asyncio.get_running_loop()
        while loop.time() < 20:
            await limiter.acquire(1)
            completions.append(loop.time())
            await asyncio.sleep(0.05)

    async def server_says_429(limiter: WeightLimiter) -> None:
        await asyncio.sleep(hit_at)
        limiter.block_until(retry_after)

    async def scenario() -> None:
        limiter = limiter_on_running_loop()
        await asyncio.gather(*(client(limiter) for _ in range(20)), server_says_429(limiter))

    virtual_time.run(scenario())

    during = [t for t in completions if hit_at < t < hit_at + retry_after]
    resumed = min(t for t in completions if t > hit_at)
    assert during == []
    assert hit_at + retry_after <= resumed <= hit_at + retry_after + 1.0
    assert any(t < hit_at for t in completions)  # traffic flowed before the 429


def test_a_waiter_for_window_space_does_not_slip_through_a_block(
    virtual_time: VirtualTime,
) -> None:
    async def scenario() -> float:
        loop = asyncio.get_running_loop()
        limiter = limiter_on_running_loop(limit=10, window=1.0, safety_margin=0.0)
        await limiter.acquire(10)
        waiter = asyncio.create_task(limiter.acquire(5))  # space again at t=1
        await asyncio.sleep(0.5)
        limiter.block_until(3.0)  # a 429 at t=0.5: nothing before t=3.5
        await waiter
        return loop.time()

    assert virtual_time.run(scenario()) == pytest.approx(3.5)


def test_a_shorter_block_does_not_shorten_a_longer_one(virtual_time: VirtualTime) -> None:
    async def scenario() -> tuple[float, float]:
        loop = asyncio.get_running_loop()
        limiter = limiter_on_running_loop()
        limiter.block_until(120.0)  # a 418 ban
        limiter.block_until(3.0)  # a later 429 on another connection
        blocked = limiter.blocked_for
        await limiter.acquire(1)
        return blocked, loop.time()

    assert virtual_time.run(scenario()) == pytest.approx((120.0, 120.0))


@pytest.mark.parametrize(
    "act",
    [
        lambda: WeightLimiter(monotonic=lambda: 0.0, sleep=asyncio.sleep, limit=0),
        lambda: WeightLimiter(monotonic=lambda: 0.0, sleep=asyncio.sleep, safety_margin=1.0),
        lambda: WeightLimiter(monotonic=lambda: 0.0, sleep=asyncio.sleep, window=0),
        lambda: WeightLimiter(monotonic=lambda: 0.0, sleep=asyncio.sleep).observe(-1),
        lambda: WeightLimiter(monotonic=lambda: 0.0, sleep=asyncio.sleep).block_until(-1),
        lambda: asyncio.run(WeightLimiter(monotonic=lambda: 0.0, sleep=asyncio.sleep).acquire(0)),
        lambda: asyncio.run(
            WeightLimiter(monotonic=lambda: 0.0, sleep=asyncio.sleep).acquire(5_701)
        ),
    ],
)
def test_bad_arguments_are_refused(act: Callable[[], object]) -> None:
    with pytest.raises(InvalidValue):
        act()

"""Sliding-window rate limits: exact in every window, refusals not counted, several quotas
all-or-none; the same in memory and in Redis (one Lua script, shared by several clients)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis
from redis.exceptions import RedisError

from tradeforge.gateway.config import RedisConfig
from tradeforge.gateway.rate_limit import (
    MemoryRateLimiter,
    Quota,
    RateLimiter,
    RedisRateLimiter,
    make_rate_limiter,
    redis_client,
)

REDIS_URL = "redis://127.0.0.1:6379/0"


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def quota(limit: int = 3, window_s: int = 10, subject: str = "k1", policy: str = "key") -> Quota:
    return Quota(policy=policy, subject=subject, limit=limit, window_s=window_s)


async def _redis_client() -> Redis:
    client = redis_client(REDIS_URL)
    try:
        await client.ping()
    except (OSError, RedisError) as exc:
        await client.aclose()
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis on 127.0.0.1:6379 is required under CI=true: {exc}")
        pytest.skip(f"Redis on 127.0.0.1:6379 is not running: {exc}")
    return client


@asynccontextmanager
async def redis_limiters() -> AsyncIterator[tuple[RedisRateLimiter, RedisRateLimiter]]:
    """Two limiters with their own connections and one key prefix: two gateway processes."""
    prefix = f"tf-test:{uuid.uuid4().hex}:"
    first, second = await _redis_client(), await _redis_client()
    yield RedisRateLimiter(first, prefix=prefix), RedisRateLimiter(second, prefix=prefix)
    keys = [key async for key in first.scan_iter(match=prefix + "*")]
    if keys:
        await first.delete(*keys)
    await first.aclose()
    await second.aclose()


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    """Run an async test in its own event loop (``asyncio.run``)."""

    def sync() -> None:
        asyncio.run(test())

    sync.__name__ = test.__name__
    return sync


# --- in memory -------------------------------------------------------------------------


@run
async def test_the_request_over_the_limit_is_refused_with_when_to_retry() -> None:
    clock = FakeTime()
    limiter = MemoryRateLimiter(now=clock)
    q = quota(limit=3, window_s=10)

    first = [await limiter.hit([q]) for _ in range(3)]
    clock.now += 4
    refused = await limiter.hit([q])

    assert [d.allowed for d in first] == [True, True, True]
    assert [d.usage[0].remaining for d in first] == [2, 1, 0]
    assert first[0].usage[0].reset_s == 10
    assert not refused.allowed
    assert refused.usage[0].remaining == 0
    assert refused.retry_after_s == pytest.approx(6)  # the first leaves the window at +10 s


@run
async def test_the_window_slides_and_refusals_are_not_counted() -> None:
    clock = FakeTime()
    limiter = MemoryRateLimiter(now=clock)
    q = quota(limit=2, window_s=10)
    await limiter.hit([q])  # t = 0
    clock.now += 5
    await limiter.hit([q])  # t = 5
    for _ in range(50):  # hammering while full changes nothing
        assert not (await limiter.hit([q])).allowed

    clock.now += 5  # t = 10: the first has left the window, the second has not
    assert (await limiter.hit([q])).allowed
    assert not (await limiter.hit([q])).allowed
    clock.now += 5  # t = 15: the second leaves
    assert (await limiter.hit([q])).allowed


@run
async def test_several_quotas_admit_all_or_none() -> None:
    limiter = MemoryRateLimiter(now=FakeTime())
    small, large = quota(limit=1, subject="k1"), quota(limit=5, policy="ip", subject="1.2.3.4")

    assert (await limiter.hit([small, large])).allowed
    refused = await limiter.hit([small, large])
    other_key = await limiter.hit([quota(limit=1, subject="k2"), large])

    assert not refused.allowed
    assert {u.policy: u.remaining for u in refused.usage} == {"key": 0, "ip": 4}
    assert other_key.allowed
    assert other_key.usage[1].remaining == 3  # the refused request was not counted in "ip"


@run
async def test_idle_subjects_are_swept() -> None:
    clock = FakeTime()
    limiter = MemoryRateLimiter(now=clock, sweep_every=10)
    for n in range(9):
        await limiter.hit([quota(subject=f"ip-{n}")])
    clock.now += 11

    await limiter.hit([quota(subject="fresh")])  # the 10th hit sweeps

    assert limiter.subjects == 1


@settings(max_examples=200, deadline=None)
@given(
    gaps=st.lists(st.floats(min_value=0, max_value=3, allow_nan=False), min_size=1, max_size=80),
    limit=st.integers(min_value=1, max_value=6),
)
def test_no_window_ever_holds_more_than_the_limit_and_no_room_is_wasted(
    gaps: list[float], limit: int
) -> None:
    clock = FakeTime()
    limiter = MemoryRateLimiter(now=clock)
    q = quota(limit=limit, window_s=5)
    admitted: list[float] = []

    async def go() -> None:
        for gap in gaps:
            clock.now += gap
            in_window = [t for t in admitted if t > clock.now - 5]
            decision = await limiter.hit([q])
            # admitted exactly when the last 5 s hold fewer than ``limit`` admitted requests
            assert decision.allowed == (len(in_window) < limit)
            if decision.allowed:
                admitted.append(clock.now)

    asyncio.run(go())
    for t in admitted:
        assert sum(1 for u in admitted if t - 5 < u <= t) <= limit


# --- in Redis --------------------------------------------------------------------------


@run
async def test_redis_counts_the_same_way() -> None:
    async with redis_limiters() as limiters:
        limiter, _ = limiters
        q = quota(limit=3, window_s=10)

        decisions = [await limiter.hit([q]) for _ in range(5)]

        assert [d.allowed for d in decisions] == [True, True, True, False, False]
        assert [d.usage[0].remaining for d in decisions] == [2, 1, 0, 0, 0]
        assert 9 < (decisions[-1].retry_after_s or 0) <= 10
        assert not limiter.degraded


@run
async def test_redis_quotas_are_all_or_none() -> None:
    async with redis_limiters() as limiters:
        limiter, _ = limiters
        small, large = quota(limit=1), quota(limit=5, policy="ip", subject="1.2.3.4")

        await limiter.hit([small, large])
        refused = await limiter.hit([small, large])

        assert not refused.allowed
        assert {u.policy: u.remaining for u in refused.usage} == {"key": 0, "ip": 4}


@run
async def test_redis_window_slides() -> None:
    async with redis_limiters() as limiters:
        limiter, _ = limiters
        q = quota(limit=2, window_s=1)
        assert (await limiter.hit([q])).allowed
        assert (await limiter.hit([q])).allowed
        refused = await limiter.hit([q])
        assert not refused.allowed

        await asyncio.sleep((refused.retry_after_s or 0) + 0.05)

        assert (await limiter.hit([q])).allowed


@run
async def test_two_processes_sharing_redis_admit_exactly_the_limit_together() -> None:
    async with redis_limiters() as limiters:
        first, second = limiters
        q = quota(limit=50, window_s=10)

        decisions = await asyncio.gather(
            *(limiter.hit([q]) for _ in range(150) for limiter in (first, second))
        )

        assert not first.degraded  # Redis answered every time: no per-process counting
        assert not second.degraded
        assert sum(d.allowed for d in decisions) == 50


@run
async def test_unreachable_redis_falls_back_to_this_process() -> None:
    clock = FakeTime()
    client = redis_client("redis://127.0.0.1:1/0")
    limiter = RedisRateLimiter(client, now=clock)
    q = quota(limit=2)

    decisions = [await limiter.hit([q]) for _ in range(3)]

    assert limiter.degraded
    assert [d.allowed for d in decisions] == [True, True, False]
    await limiter.close()


@pytest.mark.parametrize(
    ("config", "kind"),
    [(RedisConfig(), MemoryRateLimiter), (RedisConfig(url=REDIS_URL), RedisRateLimiter)],
)
def test_the_limiter_follows_the_redis_setting(config: RedisConfig, kind: type) -> None:
    limiter: RateLimiter = make_rate_limiter(config)
    close: Callable[[], Awaitable[None]] = limiter.close

    assert isinstance(limiter, kind)
    asyncio.run(close())

"""Read retries: few attempts, only retryable errors, a retry budget (CON-4), never a write."""

from __future__ import annotations

import asyncio
import bisect
import functools
import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import pytest

from tradeforge.connectors.errors import CircuitOpen, UnknownOutcome, WriteRetryRefused
from tradeforge.connectors.resilience import (
    FullJitter,
    RetryBudget,
    RetryPolicy,
    is_write_operation,
    write_operation,
)
from tradeforge.domain.errors import (
    InsufficientFunds,
    InvalidValue,
    RateLimited,
    RetryableError,
    TemporaryError,
)

if TYPE_CHECKING:
    from tests.unit.connectors.conftest import VirtualTime


class Harness:
    """A policy on the running virtual loop, recording every sleep it asks for."""

    def __init__(self, *, max_attempts: int = 3, reserve: int = 100, max_wait: float = 30.0):
        loop = asyncio.get_running_loop()
        self.sleeps: list[float] = []
        self.budget = RetryBudget(monotonic=loop.time, ratio=0.1, window=60.0, reserve=reserve)
        self.policy = RetryPolicy(
            backoff=FullJitter(base=0.1, cap=1.0, rng=random.Random(1)),
            budget=self.budget,
            sleep=self._sleep,
            max_attempts=max_attempts,
            max_wait=max_wait,
        )

    async def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await asyncio.sleep(seconds)


def failing(
    *errors: Exception, result: str = "ok"
) -> tuple[Callable[[], Awaitable[str]], list[int]]:
    """A read that raises ``errors`` in turn, then returns ``result``; and its call count."""
    calls = [0]

    async def read() -> str:
        calls[0] += 1
        if calls[0] <= len(errors):
            raise errors[calls[0] - 1]
        return result

    return read, calls


def test_a_temporary_error_is_retried_after_a_backoff_delay(virtual_time: VirtualTime) -> None:
    async def scenario() -> tuple[str, int, list[float]]:
        h = Harness()
        read, calls = failing(TemporaryError("502"))
        return await h.policy.read(read), calls[0], h.sleeps

    result, calls, sleeps = virtual_time.run(scenario())

    assert (result, calls) == ("ok", 2)
    assert len(sleeps) == 1
    assert 0 <= sleeps[0] <= 0.1  # full jitter, attempt 0: [0, base]


def test_at_most_three_attempts_then_the_last_error_goes_to_the_caller(
    virtual_time: VirtualTime,
) -> None:
    errors = [TemporaryError("first"), TemporaryError("second"), TemporaryError("third")]

    async def scenario() -> int:
        h = Harness()
        read, calls = failing(*errors, TemporaryError("never reached"))
        with pytest.raises(TemporaryError, match="third"):
            await h.policy.read(read)
        return calls[0]

    assert virtual_time.run(scenario()) == 3


@pytest.mark.parametrize(
    "error",
    [InsufficientFunds("no USDT"), CircuitOpen("binance", 3.0), ValueError("a bug")],
    ids=["request-error", "circuit-open", "not-ours"],
)
def test_errors_that_are_not_retryable_go_straight_to_the_caller(
    virtual_time: VirtualTime, error: Exception
) -> None:
    async def scenario() -> int:
        h = Harness()
        read, calls = failing(error)
        with pytest.raises(type(error)):
            await h.policy.read(read)
        return calls[0]

    assert virtual_time.run(scenario()) == 1


def test_rate_limited_waits_at_least_retry_after(virtual_time: VirtualTime) -> None:
    async def scenario() -> tuple[str, float, list[float]]:
        h = Harness()
        loop = asyncio.get_running_loop()
        start = loop.time()
        read, _ = failing(RateLimited("429", retry_after=2.5))
        result = await h.policy.read(read)
        return result, loop.time() - start, h.sleeps

    result, elapsed, sleeps = virtual_time.run(scenario())

    assert result == "ok"
    assert sleeps == [2.5]
    assert elapsed >= 2.5


def test_a_wait_longer_than_max_wait_is_not_made(virtual_time: VirtualTime) -> None:
    async def scenario() -> tuple[int, list[str]]:
        h = Harness(max_wait=10.0)
        read, calls = failing(RateLimited("418 banned", retry_after=120.0))
        with pytest.raises(RateLimited) as caught:
            await h.policy.read(read)
        return calls[0], getattr(caught.value, "__notes__", [])

    calls, notes = virtual_time.run(scenario())

    assert calls == 1
    assert any("max_wait" in note for note in notes)


def test_a_client_with_no_traffic_yet_has_no_retry_budget(virtual_time: VirtualTime) -> None:
    async def scenario() -> tuple[int, int, list[str]]:
        h = Harness(reserve=0)
        cold, cold_calls = failing(TemporaryError("502"))
        with pytest.raises(TemporaryError) as caught:
            await h.policy.read(cold)  # 1 retry among 2 requests would be 50%
        for _ in range(8):
            await h.policy.read(failing()[0])
        warm, warm_calls = failing(TemporaryError("502"))
        await h.policy.read(warm)  # the 11th request, and the 1st retry: 1/11 <= 10%
        return cold_calls[0], warm_calls[0], getattr(caught.value, "__notes__", [])

    cold_calls, warm_calls, notes = virtual_time.run(scenario())

    assert cold_calls == 1
    assert any("budget" in note for note in notes)
    assert warm_calls == 2


def test_budget_expires_old_requests_after_the_window(virtual_time: VirtualTime) -> None:
    async def scenario() -> tuple[int, int, bool]:
        loop = asyncio.get_running_loop()
        budget = RetryBudget(monotonic=loop.time, ratio=0.1, window=60.0)
        for _ in range(20):
            budget.record_request()
        before = budget.requests
        await asyncio.sleep(60.0)
        return before, budget.requests, budget.try_retry()

    assert virtual_time.run(scenario()) == (20, 0, False)


@pytest.mark.parametrize(
    "make",
    [
        lambda: RetryBudget(monotonic=lambda: 0.0, ratio=1.0),
        lambda: RetryBudget(monotonic=lambda: 0.0, window=0),
        lambda: RetryBudget(monotonic=lambda: 0.0, reserve=-1),
        lambda: RetryPolicy(
            backoff=FullJitter(),
            budget=RetryBudget(monotonic=lambda: 0.0),
            sleep=asyncio.sleep,
            max_attempts=0,
        ),
    ],
)
def test_bad_settings_are_refused(make: Callable[[], object]) -> None:
    with pytest.raises(InvalidValue):
        make()


# ----------------------------------------------------------------------------- writes
class Venue:
    """A fake venue client: one read, one write, counting what reached it."""

    def __init__(self) -> None:
        self.orders_sent = 0

    async def fetch_balance(self) -> str:
        return "balance"

    @write_operation
    async def submit_order(self, client_order_id: str) -> str:
        self.orders_sent += 1
        raise UnknownOutcome("timed out", client_order_id=client_order_id)


def test_writes_are_marked_and_reads_are_not() -> None:
    venue = Venue()

    assert is_write_operation(venue.submit_order)
    assert is_write_operation(functools.partial(venue.submit_order, "c-1"))
    assert not is_write_operation(venue.fetch_balance)


def _direct(venue: Venue) -> Callable[[], Awaitable[str]]:
    return functools.partial(venue.submit_order, "c-1")


def _lambda(venue: Venue) -> Callable[[], Awaitable[str]]:
    return lambda: venue.submit_order("c-1")


def _wrapped(venue: Venue) -> Callable[[], Awaitable[str]]:
    async def wrapper() -> str:
        return await venue.submit_order("c-1")

    return wrapper


def _in_a_task(venue: Venue) -> Callable[[], Awaitable[str]]:
    async def spawn() -> str:
        return await asyncio.create_task(venue.submit_order("c-1"))

    return spawn


@pytest.mark.parametrize("disguise", [_direct, _lambda, _wrapped, _in_a_task])
def test_a_write_never_runs_inside_a_read_however_it_is_wrapped(
    virtual_time: VirtualTime, disguise: Callable[[Venue], Callable[[], Awaitable[str]]]
) -> None:
    async def scenario() -> int:
        h = Harness()
        venue = Venue()
        with pytest.raises(WriteRetryRefused):
            await h.policy.read(disguise(venue))
        return venue.orders_sent

    assert virtual_time.run(scenario()) == 0


def test_a_write_outside_a_read_is_sent_once_and_its_unknown_outcome_surfaces(
    virtual_time: VirtualTime,
) -> None:
    async def scenario() -> tuple[int, str | None]:
        h = Harness()
        venue = Venue()
        assert await h.policy.read(venue.fetch_balance) == "balance"
        with pytest.raises(UnknownOutcome) as caught:
            await venue.submit_order("c-7")
        return venue.orders_sent, caught.value.client_order_id

    assert virtual_time.run(scenario()) == (1, "c-7")


# ------------------------------------------------------------------- CON-4 simulation
def test_con4_twenty_percent_failures_for_ten_minutes_keep_retries_within_ten_percent(
    virtual_time: VirtualTime,
) -> None:
    rng = random.Random(4)
    attempts: list[tuple[float, int, bool]] = []  # (time, call number, is a retry)
    outcomes = {"ok": 0, "failed": 0}

    async def worker(policy: RetryPolicy, worker_id: int, loop: asyncio.AbstractEventLoop) -> None:
        for n in range(600 * 2):  # two calls a second for ten minutes
            call = worker_id * 10_000 + n
            tries = [0]

            async def read(call: int = call, tries: list[int] = tries) -> str:
                attempts.append((loop.time(), call, tries[0] > 0))
                tries[0] += 1
                if rng.random() < 0.2:
                    raise TemporaryError("injected 503")
                return "ok"

            try:
                await policy.read(read)
                outcomes["ok"] += 1
            except RetryableError:
                outcomes["failed"] += 1
            await asyncio.sleep(0.5)

    async def scenario() -> float:
        loop = asyncio.get_running_loop()
        budget = RetryBudget(monotonic=loop.time, ratio=0.1, window=60.0)
        policy = RetryPolicy(
            backoff=FullJitter(base=0.1, cap=2.0, rng=random.Random(9)),
            budget=budget,
            sleep=asyncio.sleep,
        )
        await asyncio.gather(*(worker(policy, w, loop) for w in range(10)))
        return loop.time()

    elapsed = virtual_time.run(scenario())

    retries = [(t, call) for t, call, is_retry in attempts if is_retry]
    per_call: dict[int, int] = {}
    for _, call, _ in attempts:
        per_call[call] = per_call.get(call, 0) + 1
    assert elapsed >= 600
    assert len(per_call) == 12_000
    assert max(per_call.values()) <= 3
    assert len(retries) <= 0.10 * len(attempts)
    assert len(retries) >= 0.09 * len(attempts)  # the budget is used, not starved
    assert outcomes["failed"] > 0  # the excess failed fast to the caller
    # The ratio also holds inside the 60 s window ending at every retry.
    times = [t for t, _, _ in attempts]  # in time order: the loop's clock never goes back
    retry_times = [t for t, _ in retries]

    def in_window(sorted_times: list[float], end: float) -> int:
        return bisect.bisect_right(sorted_times, end) - bisect.bisect_right(sorted_times, end - 60)

    worst = max(in_window(retry_times, t) / in_window(times, t) for t in retry_times)
    assert worst <= 0.10

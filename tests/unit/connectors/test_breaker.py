"""CON-6: the circuit breaker opens, fails fast, probes once per cool-down, closes, and shows it."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs
from tests.unit.connectors.conftest import VirtualTime

from tradeforge.connectors.errors import CircuitOpen
from tradeforge.connectors.resilience import BreakerMetrics, BreakerState, CircuitBreaker
from tradeforge.domain.errors import InsufficientFunds, InvalidValue, RateLimited, TemporaryError

GAUGE = "tradeforge_connector_circuit_state"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FlakyVenue:
    """Counts the calls that reach it; fails with a 503 while ``down``."""

    def __init__(self, *, down: bool = True) -> None:
        self.down = down
        self.calls = 0

    async def fetch(self) -> str:
        self.calls += 1
        if self.down:
            raise TemporaryError("503 Service Unavailable")
        return "ok"


def make(clock: Clock, *, cooldown: float = 10.0) -> tuple[CircuitBreaker, CollectorRegistry]:
    registry = CollectorRegistry()
    breaker = CircuitBreaker(
        "binance", monotonic=clock, cooldown=cooldown, metrics=BreakerMetrics(registry)
    )
    return breaker, registry


def gauge(registry: CollectorRegistry, venue: str = "binance") -> float | None:
    return registry.get_sample_value(GAUGE, {"venue": venue})


async def attempt(breaker: CircuitBreaker, venue: FlakyVenue) -> str:
    try:
        return await breaker.call(venue.fetch)
    except CircuitOpen:
        return "refused"
    except TemporaryError:
        return "failed"


def test_con6_five_failures_open_it_and_the_next_call_never_reaches_the_venue() -> None:
    clock, venue = Clock(), FlakyVenue()
    breaker, registry = make(clock)

    async def scenario() -> list[str]:
        return [await attempt(breaker, venue) for _ in range(6)]

    outcomes = asyncio.run(scenario())

    assert outcomes == ["failed"] * 5 + ["refused"]
    assert venue.calls == 5
    assert breaker.state is BreakerState.OPEN
    assert gauge(registry) == 1


def test_con6_while_open_only_one_probe_per_cooldown_reaches_the_venue() -> None:
    clock, venue = Clock(), FlakyVenue()
    breaker, registry = make(clock, cooldown=10.0)

    async def scenario() -> list[tuple[float, str]]:
        for _ in range(5):
            await attempt(breaker, venue)
        seen = []
        for step in range(1, 351):  # a call every 100 ms for 35 s: three cool-downs
            clock.now = step * 0.1
            seen.append((clock.now, await attempt(breaker, venue)))
        return seen

    seen = asyncio.run(scenario())

    probes = [t for t, outcome in seen if outcome != "refused"]
    assert venue.calls - 5 == len(probes) == 3
    assert probes == pytest.approx([10.0, 20.0, 30.0])  # each failed probe restarts the cool-down
    assert breaker.state is BreakerState.OPEN
    assert gauge(registry) == 1


def test_con6_a_successful_probe_closes_it() -> None:
    clock, venue = Clock(), FlakyVenue()
    breaker, registry = make(clock)

    async def scenario() -> list[str]:
        for _ in range(5):
            await attempt(breaker, venue)
        venue.down = False
        clock.now = 5.0
        early = await attempt(breaker, venue)
        clock.now = 10.0
        return [early, await attempt(breaker, venue), await attempt(breaker, venue)]

    assert asyncio.run(scenario()) == ["refused", "ok", "ok"]
    assert venue.calls == 7
    assert breaker.state is BreakerState.CLOSED
    assert gauge(registry) == 0


def test_only_one_probe_while_it_is_in_flight(virtual_time: VirtualTime) -> None:
    class SlowVenue(FlakyVenue):
        async def fetch(self) -> str:
            self.calls += 1
            await asyncio.sleep(2.0)
            return "ok"

    async def scenario() -> tuple[list[str], int, BreakerState, float | None]:
        loop = asyncio.get_running_loop()
        registry = CollectorRegistry()
        breaker = CircuitBreaker(
            "binance", monotonic=loop.time, cooldown=10.0, metrics=BreakerMetrics(registry)
        )
        venue = SlowVenue()
        for _ in range(5):
            await attempt(breaker, FlakyVenue())
        await asyncio.sleep(10.0)
        probe = asyncio.create_task(attempt(breaker, venue))
        await asyncio.sleep(0.5)
        during = gauge(registry)
        others = await asyncio.gather(*(attempt(breaker, venue) for _ in range(50)))
        return [await probe, *others], venue.calls, breaker.state, during

    outcomes, calls, state, gauge_during_probe = virtual_time.run(scenario())

    assert outcomes == ["ok"] + ["refused"] * 50
    assert calls == 1
    assert gauge_during_probe == 2  # half-open
    assert state is BreakerState.CLOSED


def test_a_success_resets_the_count_of_consecutive_failures() -> None:
    clock, venue = Clock(), FlakyVenue()
    breaker, _ = make(clock)

    async def scenario() -> None:
        for _ in range(4):
            await attempt(breaker, venue)
        venue.down = False
        await attempt(breaker, venue)
        venue.down = True
        for _ in range(4):
            await attempt(breaker, venue)

    asyncio.run(scenario())

    assert breaker.state is BreakerState.CLOSED
    assert breaker.consecutive_failures == 4


@pytest.mark.parametrize(
    "error", [InsufficientFunds("no USDT"), RateLimited("429", retry_after=1.0)]
)
def test_answers_that_show_the_venue_is_up_do_not_count_as_failures(error: Exception) -> None:
    breaker, _ = make(Clock())

    async def refuse() -> str:
        raise error

    async def scenario() -> None:
        for _ in range(10):
            with pytest.raises(type(error)):
                await breaker.call(refuse)

    asyncio.run(scenario())

    assert breaker.state is BreakerState.CLOSED


def test_an_error_outside_the_taxonomy_counts_as_a_failure() -> None:
    breaker, _ = make(Clock())

    async def crash() -> str:
        raise ConnectionResetError("peer reset")

    async def scenario() -> None:
        for _ in range(5):
            with pytest.raises(ConnectionResetError):
                await breaker.call(crash)

    asyncio.run(scenario())

    assert breaker.state is BreakerState.OPEN


def test_trip_holds_it_open_past_the_cooldown_until_reset() -> None:
    clock, venue = Clock(), FlakyVenue(down=False)
    breaker, registry = make(clock)

    async def scenario() -> list[str]:
        breaker.trip()
        clock.now = 1_000.0
        held = await attempt(breaker, venue)
        breaker.reset()
        return [held, await attempt(breaker, venue)]

    with capture_logs() as logs:
        outcomes = asyncio.run(scenario())

    assert outcomes == ["refused", "ok"]
    assert venue.calls == 1
    assert gauge(registry) == 0
    changes = [(e["previous"], e["state"], e["reason"]) for e in logs if e.get("state")]
    assert changes == [("closed", "open", "tripped by hand"), ("open", "closed", "reset by hand")]
    assert all(e["venue"] == "binance" and e["log_level"] == "warning" for e in logs)


def test_a_refusal_says_when_a_probe_may_go() -> None:
    clock, venue = Clock(), FlakyVenue()
    breaker, _ = make(clock, cooldown=10.0)

    async def scenario() -> CircuitOpen:
        for _ in range(5):
            await attempt(breaker, venue)
        clock.now = 4.0
        with pytest.raises(CircuitOpen) as caught:
            await breaker.call(venue.fetch)
        return caught.value

    refusal = asyncio.run(scenario())

    assert refusal.venue == "binance"
    assert refusal.retry_in == pytest.approx(6.0)


def test_a_cancelled_probe_lets_the_next_call_probe(virtual_time: VirtualTime) -> None:
    async def scenario() -> tuple[str, BreakerState]:
        loop = asyncio.get_running_loop()
        breaker = CircuitBreaker("binance", monotonic=loop.time, cooldown=10.0)
        for _ in range(5):
            await attempt(breaker, FlakyVenue())
        await asyncio.sleep(10.0)
        probe = asyncio.create_task(breaker.call(asyncio.Event().wait))  # never answers
        await asyncio.sleep(1.0)
        probe.cancel()
        with pytest.raises(asyncio.CancelledError):
            await probe
        return await attempt(breaker, FlakyVenue(down=False)), breaker.state

    assert virtual_time.run(scenario()) == ("ok", BreakerState.CLOSED)


def test_breakers_of_several_venues_share_one_gauge() -> None:
    registry = CollectorRegistry()
    metrics = BreakerMetrics(registry)
    binance = CircuitBreaker("binance", monotonic=Clock(), metrics=metrics)
    CircuitBreaker("kraken", monotonic=Clock(), metrics=metrics)

    binance.trip()

    assert (gauge(registry, "binance"), gauge(registry, "kraken")) == (1, 0)


@pytest.mark.parametrize(
    "kwargs", [{"failure_threshold": 0}, {"cooldown": 0.0}, {"cooldown": -1.0}]
)
def test_bad_settings_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(InvalidValue):
        CircuitBreaker("binance", monotonic=Clock(), **kwargs)  # type: ignore[arg-type]

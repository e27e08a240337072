"""A circuit breaker per venue (Fowler's *CircuitBreaker*, after Nygard's *Release It!*).

::

    CLOSED --N consecutive failures--> OPEN --cool-down over, next call--> HALF_OPEN
      ^                                 ^                                    |
      +------- the probe succeeds ------|------------------------------------+
                                        +------- the probe fails ------------+

While OPEN every call fails fast with :class:`~tradeforge.connectors.errors.CircuitOpen`
without reaching the venue. Once the cool-down has passed, exactly one call goes through as a
probe; other calls keep failing fast until it ends. ``trip()`` holds the breaker open until
``reset()``, for an operator who knows better.

A failure is what says the venue is unwell: a
:class:`~tradeforge.domain.errors.TemporaryError` (unavailable, timeout, unknown outcome) or an
exception outside the TradeForge taxonomy. A ``RequestError`` is the venue answering (it is
up), and ``RateLimited`` is the rate limiter's business, so neither counts.

Each state change is logged and set on the ``tradeforge_connector_circuit_state`` gauge
(0 closed, 1 open, 2 half-open), labelled by venue.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from typing import TypeVar

from prometheus_client import CollectorRegistry, Gauge

from tradeforge.connectors.errors import CircuitOpen
from tradeforge.connectors.resilience.timing import Monotonic
from tradeforge.domain.errors import InvalidValue, TemporaryError, TradeForgeError
from tradeforge.observability.logging import get_logger

__all__ = ["BreakerMetrics", "BreakerState", "CircuitBreaker", "is_venue_failure"]

T = TypeVar("T")


class BreakerState(enum.IntEnum):
    """A breaker's state; the value is what the gauge shows."""

    CLOSED = 0
    OPEN = 1
    HALF_OPEN = 2


class BreakerMetrics:
    """The breakers' Prometheus gauge, registered once in ``registry``; share it among breakers."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.state = Gauge(
            "tradeforge_connector_circuit_state",
            "Circuit breaker state per venue: 0 closed, 1 open, 2 half-open.",
            ["venue"],
            registry=registry,
        )


def is_venue_failure(exc: BaseException) -> bool:
    """The default failure test: a temporary error, or an exception outside our taxonomy."""
    if isinstance(exc, CircuitOpen):
        return False
    return isinstance(exc, TemporaryError) or not isinstance(exc, TradeForgeError)


class CircuitBreaker:
    """Opens after ``failure_threshold`` consecutive failures; probes once per ``cooldown``."""

    def __init__(
        self,
        venue: str,
        *,
        monotonic: Monotonic,
        failure_threshold: int = 5,
        cooldown: float = 30.0,
        metrics: BreakerMetrics | None = None,
        is_failure: Callable[[BaseException], bool] = is_venue_failure,
    ) -> None:
        if failure_threshold < 1:
            raise InvalidValue(f"failure_threshold must be >= 1, got {failure_threshold!r}")
        if not cooldown > 0:
            raise InvalidValue(f"cooldown must be > 0 seconds, got {cooldown!r}")
        self.venue = venue
        self.failure_threshold = failure_threshold
        self.cooldown = cooldown
        self._monotonic = monotonic
        self._is_failure = is_failure
        self._gauge = metrics.state.labels(venue=venue) if metrics is not None else None
        self._log = get_logger("tradeforge.connectors.breaker").bind(venue=venue)
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._forced = False
        self._probing = False
        if self._gauge is not None:
            self._gauge.set(int(self._state))

    @property
    def state(self) -> BreakerState:
        """The current state (OPEN stays OPEN until a call comes after the cool-down)."""
        return self._state

    @property
    def consecutive_failures(self) -> int:
        """Failures since the last success while closed."""
        return self._failures

    async def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Await ``fn()`` unless the breaker refuses; record how it went.

        Raises:
            CircuitOpen: the breaker is open (or half-open with its probe in flight); ``fn``
                was not called.
            Exception: whatever ``fn`` raised.
        """
        probe = self._admit()
        try:
            result = await fn()
        except Exception as exc:
            if self._is_failure(exc):
                self._on_failure(probe, exc)
            else:
                self._on_success(probe)
            raise
        except BaseException:
            # Cancelled mid-call: no verdict on the venue, but free the probe slot.
            if probe and self._state is BreakerState.HALF_OPEN:
                self._probing = False
                self._transition(BreakerState.OPEN, "probe cancelled")
            raise
        self._on_success(probe)
        return result

    def trip(self) -> None:
        """Open the breaker and hold it open (no probes) until :meth:`reset`."""
        self._forced = True
        self._opened_at = self._monotonic()
        self._transition(BreakerState.OPEN, "tripped by hand")

    def reset(self) -> None:
        """Close the breaker and forget past failures (also ends a :meth:`trip`)."""
        self._forced = False
        self._failures = 0
        self._probing = False
        self._transition(BreakerState.CLOSED, "reset by hand")

    def _admit(self) -> bool:
        # Returns whether this call is the half-open probe; raises CircuitOpen to refuse it.
        if self._state is BreakerState.CLOSED:
            return False
        if self._forced:
            raise CircuitOpen(self.venue, None)
        if self._state is BreakerState.HALF_OPEN or self._probing:
            raise CircuitOpen(self.venue, None)
        wait = self._opened_at + self.cooldown - self._monotonic()
        if wait > 0:
            raise CircuitOpen(self.venue, wait)
        self._probing = True
        self._transition(BreakerState.HALF_OPEN, "cool-down over; letting one probe through")
        return True

    def _on_success(self, probe: bool) -> None:
        self._failures = 0
        if probe:
            self._probing = False
            if self._state is BreakerState.HALF_OPEN:
                self._transition(BreakerState.CLOSED, "probe succeeded")

    def _on_failure(self, probe: bool, exc: BaseException) -> None:
        if probe:
            self._probing = False
            if self._state is BreakerState.HALF_OPEN:
                self._opened_at = self._monotonic()
                self._transition(BreakerState.OPEN, f"probe failed: {exc!r}")
            return
        if self._state is not BreakerState.CLOSED:
            return  # a call admitted before the breaker opened; it is open already
        self._failures += 1
        if self._failures >= self.failure_threshold:
            self._opened_at = self._monotonic()
            self._transition(
                BreakerState.OPEN, f"{self._failures} consecutive failures, last {exc!r}"
            )

    def _transition(self, to: BreakerState, reason: str) -> None:
        previous = self._state
        self._state = to
        if self._gauge is not None:
            self._gauge.set(int(to))
        if previous is not to:
            self._log.warning(
                "circuit breaker state changed",
                previous=previous.name.lower(),
                state=to.name.lower(),
                reason=reason,
            )

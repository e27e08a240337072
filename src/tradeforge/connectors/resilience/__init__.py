"""Resilience at the connector edge: back-off, read retries, weight limits, circuit breakers.

Each piece takes its time sources (:data:`Monotonic`, :data:`Sleep`) from its caller, does no
I/O of its own, and wraps the venue calls a connector makes:

- :class:`WeightLimiter` before every request (weights, used-weight header, ``Retry-After``);
- :class:`CircuitBreaker` around every call to one venue;
- :class:`RetryPolicy` around reads only, with a jittered :class:`Backoff` and a shared
  :class:`RetryBudget`; writes are marked with :func:`write_operation` and never retried.
"""

from tradeforge.connectors.resilience.backoff import Backoff, DecorrelatedJitter, FullJitter
from tradeforge.connectors.resilience.breaker import (
    BreakerMetrics,
    BreakerState,
    CircuitBreaker,
    is_venue_failure,
)
from tradeforge.connectors.resilience.budget import RetryBudget
from tradeforge.connectors.resilience.rate_limit import WeightLimiter
from tradeforge.connectors.resilience.retry import (
    RetryPolicy,
    is_retryable,
    is_write_operation,
    write_operation,
)
from tradeforge.connectors.resilience.timing import Monotonic, Sleep

__all__ = [
    "Backoff",
    "BreakerMetrics",
    "BreakerState",
    "CircuitBreaker",
    "DecorrelatedJitter",
    "FullJitter",
    "Monotonic",
    "RetryBudget",
    "RetryPolicy",
    "Sleep",
    "WeightLimiter",
    "is_retryable",
    "is_venue_failure",
    "is_write_operation",
    "write_operation",
]

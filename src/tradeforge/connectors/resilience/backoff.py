"""Exponential back-off with jitter, so that clients failing together do not retry together.

Two policies from Brooker, *Exponential Backoff and Jitter* (AWS Architecture Blog, 2015):

- :class:`FullJitter`: ``delay = uniform(0, min(cap, base * 2**attempt))``;
- :class:`DecorrelatedJitter`: ``delay = min(cap, uniform(base, previous * 3))``.

Both draw from an injected :class:`random.Random` (a fresh, OS-seeded one by default), so a
seeded generator gives the same delays on every run. Attempts count from 0 (the delay before
the first retry).
"""

from __future__ import annotations

import random
from typing import Protocol

from tradeforge.domain.errors import InvalidValue

__all__ = ["Backoff", "DecorrelatedJitter", "FullJitter"]

# 2.0 ** 1024 overflows a float; past this exponent every ceiling is the cap anyway.
_MAX_EXPONENT = 1023


class Backoff(Protocol):
    """How long to wait before a retry."""

    def delay(self, attempt: int, previous: float) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based).

        ``previous`` is the delay this policy returned before the previous retry of the same
        call (0.0 before the first); policies without memory ignore it.
        """
        ...


def _check(base: float, cap: float) -> None:
    if not base > 0:
        raise InvalidValue(f"backoff base must be > 0 seconds, got {base!r}")
    if not cap >= base:
        raise InvalidValue(f"backoff cap must be >= base ({base!r}), got {cap!r}")


def _check_attempt(attempt: int) -> None:
    if attempt < 0:
        raise InvalidValue(f"backoff attempt must be >= 0, got {attempt!r}")


class FullJitter:
    """``uniform(0, min(cap, base * 2**attempt))``: the AWS "full jitter" policy."""

    def __init__(
        self, *, base: float = 0.1, cap: float = 10.0, rng: random.Random | None = None
    ) -> None:
        _check(base, cap)
        self.base = base
        self.cap = cap
        self._rng = rng if rng is not None else random.Random()

    def ceiling(self, attempt: int) -> float:
        """The largest delay before retry ``attempt``: ``min(cap, base * 2**attempt)``."""
        _check_attempt(attempt)
        if attempt > _MAX_EXPONENT:
            return self.cap
        return min(self.cap, self.base * 2.0**attempt)

    def delay(self, attempt: int, previous: float = 0.0) -> float:
        """A delay drawn uniformly from ``[0, ceiling(attempt)]``; ``previous`` is ignored."""
        return self._rng.uniform(0.0, self.ceiling(attempt))


class DecorrelatedJitter:
    """``min(cap, uniform(base, previous * 3))``: the AWS "decorrelated jitter" policy.

    Each delay grows from the previous one rather than from the attempt number; the first
    retry (``previous`` of 0) starts from ``base``. Delays stay within ``[base, cap]``.
    """

    def __init__(
        self, *, base: float = 0.1, cap: float = 10.0, rng: random.Random | None = None
    ) -> None:
        _check(base, cap)
        self.base = base
        self.cap = cap
        self._rng = rng if rng is not None else random.Random()

    def delay(self, attempt: int, previous: float = 0.0) -> float:
        """A delay drawn from ``[base, 3 * max(base, previous)]``, capped at ``cap``."""
        _check_attempt(attempt)
        upper = 3.0 * max(previous, self.base)
        return min(self.cap, self._rng.uniform(self.base, upper))

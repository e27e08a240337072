"""A client-side request-weight limiter, modelled on Binance's ``REQUEST_WEIGHT`` limit.

Binance gives each route a weight and allows a total weight per IP per minute (6,000 on Spot).
It reports the weight used so far in the ``X-MBX-USED-WEIGHT-1M`` header, answers HTTP 429 with
``Retry-After`` past the limit, and bans the IP (HTTP 418, two minutes to three days) when 429s are
ignored. The limiter keeps us clear of all three:

- :meth:`WeightLimiter.acquire` waits until the request's weight fits in a *rolling* window
  under ``limit * (1 - safety_margin)`` (95% by default, the margin Hummingbot keeps). A rolling
  window is stricter than the venue's fixed minute, so every fixed minute stays under it too.
- :meth:`WeightLimiter.observe` takes the venue's used-weight header: weight the venue counted
  and we did not send (another process on the same IP) is added to the window. Binance counts
  per minute of *its* clock; pass how far into that minute the answer came (``window_elapsed``)
  so that our weight from the venue's previous minute is not taken for this minute's.
- :meth:`WeightLimiter.block_until` stops every acquisition until a 429's or 418's
  ``Retry-After`` has passed.

Waiters are served first come, first served.
"""

from __future__ import annotations

import asyncio
import bisect
import math
from fractions import Fraction

from tradeforge.connectors.resilience.timing import Monotonic, Sleep
from tradeforge.domain.errors import InvalidValue

__all__ = ["WeightLimiter"]

# The shortest sleep between re-checks: it guarantees progress when a float subtraction leaves
# a wait below the clock's resolution.
_MIN_SLEEP = 1e-6


class WeightLimiter:
    """Budget of request weight per rolling ``window`` seconds, kept under a safety margin."""

    def __init__(
        self,
        *,
        monotonic: Monotonic,
        sleep: Sleep,
        limit: int = 6000,
        window: float = 60.0,
        safety_margin: float = 0.05,
    ) -> None:
        if limit < 1:
            raise InvalidValue(f"rate limit must be >= 1, got {limit!r}")
        if not window > 0:
            raise InvalidValue(f"rate limit window must be > 0 seconds, got {window!r}")
        if not 0 <= safety_margin < 1:
            raise InvalidValue(f"safety_margin must be in [0, 1), got {safety_margin!r}")
        self.limit = limit
        self.window = window
        self.safety_margin = safety_margin
        self.capacity = math.floor(limit * (1 - Fraction(str(safety_margin))))
        if self.capacity < 1:
            raise InvalidValue(f"limit {limit} with safety_margin {safety_margin} leaves no weight")
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = asyncio.Lock()
        # Weight counted, oldest first: entry i was counted at _times[i], and _totals[i] is the
        # weight counted up to and including it. Entries before _head have left the window.
        self._times: list[float] = []
        self._totals: list[int] = []
        self._head = 0
        self._blocked_until = -math.inf

    @property
    def used(self) -> int:
        """Weight counted in the current window (ours and any the venue reported on top)."""
        self._expire(self._monotonic())
        return self._counted_since_index(self._head)

    @property
    def blocked_for(self) -> float:
        """Seconds left before acquisitions may complete again after a 429/418 (0.0 if none)."""
        return max(0.0, self._blocked_until - self._monotonic())

    async def acquire(self, weight: int = 1) -> None:
        """Wait until ``weight`` fits in the window, then count it as sent now.

        Raises:
            InvalidValue: ``weight`` is below 1 or above :attr:`capacity` (it could never fit).
        """
        if not 1 <= weight <= self.capacity:
            raise InvalidValue(f"request weight must be in [1, {self.capacity}], got {weight!r}")
        async with self._lock:
            while True:
                now = self._monotonic()
                if now < self._blocked_until:
                    await self._sleep(max(self._blocked_until - now, _MIN_SLEEP))
                    continue
                self._expire(now)
                excess = self._counted_since_index(self._head) + weight - self.capacity
                if excess <= 0:
                    self._count(now, weight)
                    return
                await self._sleep(max(self._free_at(excess) - now, _MIN_SLEEP))

    def observe(self, used_weight: int, *, window_elapsed: float | None = None) -> None:
        """Take the venue's count of weight used (``X-MBX-USED-WEIGHT-1M``).

        Weight the venue counted beyond what we counted over the same period is added as sent
        now (and stays for a whole window: the stricter choice). ``window_elapsed`` is how many
        seconds of the venue's current window had passed when it answered (Binance: since the
        start of the server-time minute). Without it the whole rolling window is compared with
        the venue's count, which misses others' weight for up to a window after the venue's
        window rolls over. A lower count than ours changes nothing.
        """
        if used_weight < 0:
            raise InvalidValue(f"used weight must be >= 0, got {used_weight!r}")
        if window_elapsed is not None and not 0 <= window_elapsed <= self.window:
            raise InvalidValue(
                f"window_elapsed must be in [0, {self.window}] seconds, got {window_elapsed!r}"
            )
        now = self._monotonic()
        self._expire(now)
        first = self._head
        if window_elapsed is not None:
            first = bisect.bisect_left(self._times, now - window_elapsed, lo=self._head)
        unseen = used_weight - self._counted_since_index(first)
        if unseen > 0:
            self._count(now, unseen)

    def block_until(self, retry_after: float) -> None:
        """Complete no acquisition for ``retry_after`` seconds from now (after a 429 or 418).

        A shorter block never shortens a longer one already in force.
        """
        if not retry_after >= 0:
            raise InvalidValue(f"retry_after must be >= 0 seconds, got {retry_after!r}")
        self._blocked_until = max(self._blocked_until, self._monotonic() + retry_after)

    def _count(self, now: float, weight: int) -> None:
        self._times.append(now)
        self._totals.append((self._totals[-1] if self._totals else 0) + weight)

    def _counted_since_index(self, first: int) -> int:
        if first >= len(self._totals):
            return 0
        before = self._totals[first - 1] if first > 0 else 0
        return self._totals[-1] - before

    def _expire(self, now: float) -> None:
        self._head = bisect.bisect_right(self._times, now - self.window, lo=self._head)
        if self._head > 1024 and self._head * 2 > len(self._times):
            # Drop what has left the window; totals then count from the first entry kept.
            gone = self._totals[self._head - 1]
            self._totals = [total - gone for total in self._totals[self._head :]]
            self._times = self._times[self._head :]
            self._head = 0

    def _free_at(self, excess: int) -> float:
        # When the oldest entries, totalling at least ``excess``, have left the window.
        before = self._totals[self._head - 1] if self._head > 0 else 0
        last = bisect.bisect_left(self._totals, before + excess, lo=self._head)
        return self._times[last] + self.window

"""A per-client retry budget: retries may be at most a fixed share of the requests sent.

After the Google SRE book (*Handling Overload*): a client keeps the ratio of retries to requests
over a sliding window, and a retry that would take it above the ratio (10% by default) is not
made; the error goes to the caller instead. An overloaded venue therefore sees at most 1.1x its
normal traffic from us, however many of its answers are errors.

Every attempt sent counts as a request, retries included, so the promise is exact: at every
retry, the retries in the window are at most ``ratio`` of all requests in the window. A
``reserve`` of retries per window is allowed as a floor, for clients too quiet to earn any.
"""

from __future__ import annotations

from collections import deque
from fractions import Fraction

from tradeforge.connectors.resilience.timing import Monotonic
from tradeforge.domain.errors import InvalidValue

__all__ = ["RetryBudget"]


class RetryBudget:
    """Allows a retry only while retries stay within ``ratio`` of the requests in ``window``.

    Share one budget among every retrying caller of one client (one venue connection): the
    ratio is per client, not per call site.
    """

    def __init__(
        self,
        *,
        monotonic: Monotonic,
        ratio: float = 0.1,
        window: float = 60.0,
        reserve: int = 0,
    ) -> None:
        if not 0 <= ratio < 1:
            raise InvalidValue(f"retry budget ratio must be in [0, 1), got {ratio!r}")
        if not window > 0:
            raise InvalidValue(f"retry budget window must be > 0 seconds, got {window!r}")
        if reserve < 0:
            raise InvalidValue(f"retry budget reserve must be >= 0, got {reserve!r}")
        self.ratio = ratio
        self.window = window
        self.reserve = reserve
        self._ratio = Fraction(str(ratio))  # exact: 0.1 is 1/10, not 0.1000000000000000055
        self._monotonic = monotonic
        self._requests: deque[float] = deque()
        self._retries: deque[float] = deque()

    @property
    def requests(self) -> int:
        """Requests (first attempts and retries) sent in the current window."""
        self._expire(self._monotonic())
        return len(self._requests)

    @property
    def retries(self) -> int:
        """Retries sent in the current window."""
        self._expire(self._monotonic())
        return len(self._retries)

    def record_request(self) -> None:
        """Count a first attempt (a retry is counted by :meth:`try_retry`)."""
        now = self._monotonic()
        self._expire(now)
        self._requests.append(now)

    def can_retry(self) -> bool:
        """Whether a retry sent now would keep retries within the ratio; spends nothing."""
        self._expire(self._monotonic())
        retries, requests = len(self._retries) + 1, len(self._requests) + 1
        # The reserve lets a quiet client retry at all; it is a floor, not an extra on top,
        # so a busy client stays within the ratio (RELIABILITY.md CON-4: retries <= 10 %).
        return retries <= self._ratio * requests or retries <= self.reserve

    def try_retry(self) -> bool:
        """Spend one retry if the budget allows it, counting it as a request sent now."""
        if not self.can_retry():
            return False
        now = self._monotonic()
        self._retries.append(now)
        self._requests.append(now)
        return True

    def _expire(self, now: float) -> None:
        horizon = now - self.window
        for times in (self._requests, self._retries):
            while times and times[0] <= horizon:
                times.popleft()

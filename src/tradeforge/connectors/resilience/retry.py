"""Retries for reads only: a few attempts, jittered back-off, and a per-client budget.

A read (balances, open orders, an order's status, a snapshot) may be asked again; a write (submit,
cancel, modify) may not: after a timeout its outcome is unknown, and sending it again can double
an order. So the policy has no general ``call``: its one entry point is :meth:`RetryPolicy.read`,
and writes are kept out of it in two ways.

1. Venue clients mark every write with :func:`write_operation`. ``read()`` refuses a marked
   callable (also behind ``functools.partial`` or a bound method) before calling it.
2. A marked write checks, when it runs, whether it runs inside ``read()`` (a context variable
   ``read()`` sets, which tasks started inside inherit). If so it raises
   :class:`~tradeforge.connectors.errors.WriteRetryRefused` before doing anything. This catches a
   write wrapped in a lambda or another coroutine, which no inspection of the callable can see.

Either way the write is never sent, not even once, and the bug surfaces at its first test run.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

from tradeforge.connectors.errors import CircuitOpen, WriteRetryRefused
from tradeforge.connectors.resilience.backoff import Backoff
from tradeforge.connectors.resilience.budget import RetryBudget
from tradeforge.connectors.resilience.timing import Sleep
from tradeforge.domain.errors import InvalidValue, RateLimited, RetryableError
from tradeforge.observability.logging import get_logger

__all__ = ["RetryPolicy", "is_retryable", "is_write_operation", "write_operation"]

P = ParamSpec("P")
T = TypeVar("T")

_WRITE_MARK = "__tradeforge_write__"
# The name of the read() running in this context, if any; a marked write refuses to run then.
_current_read: ContextVar[str | None] = ContextVar("tradeforge_current_read", default=None)


def write_operation(fn: Callable[P, Awaitable[T]]) -> Callable[P, Coroutine[Any, Any, T]]:
    """Mark an async venue call as a write: never retried, refused inside ``read()``."""

    @functools.wraps(fn)
    async def write(*args: P.args, **kwargs: P.kwargs) -> T:
        inside = _current_read.get()
        if inside is not None:
            raise WriteRetryRefused(f"{fn.__qualname__} (called inside read {inside!r})")
        return await fn(*args, **kwargs)

    setattr(write, _WRITE_MARK, True)
    return write


def is_write_operation(fn: object) -> bool:
    """True if ``fn`` (or the function behind a ``functools.partial``) is marked as a write."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    return getattr(fn, _WRITE_MARK, False) is True


def is_retryable(exc: BaseException) -> bool:
    """The default retry test: a :class:`RetryableError`, except a breaker's fail-fast refusal.

    ``CircuitOpen`` is not retried: the breaker refuses in order to spare the venue, and a
    retry a few hundred milliseconds later would only spend budget on another refusal.
    """
    return isinstance(exc, RetryableError) and not isinstance(exc, CircuitOpen)


class RetryPolicy:
    """Runs a read up to ``max_attempts`` times, sleeping a back-off delay between attempts.

    Only errors ``retry_on`` accepts are retried (by default :func:`is_retryable`: temporary
    errors and rate limits); anything else goes to the caller at once. A
    :class:`~tradeforge.domain.errors.RateLimited` error's ``retry_after`` is a minimum wait.
    When the wait would exceed ``max_wait`` seconds, or the shared ``budget`` refuses another
    retry, the last error goes to the caller (with a note saying why).
    """

    def __init__(
        self,
        *,
        backoff: Backoff,
        budget: RetryBudget,
        sleep: Sleep,
        max_attempts: int = 3,
        max_wait: float = 30.0,
        retry_on: Callable[[BaseException], bool] = is_retryable,
    ) -> None:
        if max_attempts < 1:
            raise InvalidValue(f"max_attempts must be >= 1, got {max_attempts!r}")
        if not max_wait >= 0:
            raise InvalidValue(f"max_wait must be >= 0 seconds, got {max_wait!r}")
        self.max_attempts = max_attempts
        self.max_wait = max_wait
        self._backoff = backoff
        self._budget = budget
        self._sleep = sleep
        self._retry_on = retry_on
        self._log = get_logger("tradeforge.connectors.retry")

    async def read(self, fn: Callable[[], Awaitable[T]], *, name: str | None = None) -> T:
        """Await ``fn()``, retrying it as this policy allows; return its result.

        ``name`` labels the read in logs (default: the callable's qualified name).

        Raises:
            WriteRetryRefused: ``fn`` is, or runs, a :func:`write_operation`.
            Exception: the last error of ``fn`` when it is not retried again.
        """
        label = name if name is not None else _name_of(fn)
        if is_write_operation(fn):
            raise WriteRetryRefused(label)
        token = _current_read.set(label)
        try:
            return await self._attempts(fn, label)
        finally:
            _current_read.reset(token)

    async def _attempts(self, fn: Callable[[], Awaitable[T]], label: str) -> T:
        self._budget.record_request()
        previous = 0.0
        attempt = 1
        while True:
            try:
                return await fn()
            except Exception as exc:
                if attempt >= self.max_attempts or not self._retry_on(exc):
                    raise
                delay = self._backoff.delay(attempt - 1, previous)
                if isinstance(exc, RateLimited) and exc.retry_after is not None:
                    delay = max(delay, exc.retry_after)
                if delay > self.max_wait:
                    exc.add_note(f"not retried: a wait of {delay:.3f}s exceeds max_wait")
                    raise
                if not self._budget.can_retry():
                    self._note_budget_spent(exc, label)
                    raise
                self._log.debug(
                    "retrying read", read=label, attempt=attempt + 1, delay=delay, error=repr(exc)
                )
                await self._sleep(delay)
                # Spent when sent, so the ratio holds at send times; other reads may have
                # used the budget during the sleep.
                if not self._budget.try_retry():
                    self._note_budget_spent(exc, label)
                    raise
                previous = delay
                attempt += 1

    def _note_budget_spent(self, exc: Exception, label: str) -> None:
        exc.add_note("not retried: the client's retry budget is spent")
        self._log.debug("retry budget spent", read=label, error=repr(exc))


def _name_of(fn: object) -> str:
    while isinstance(fn, functools.partial):
        fn = fn.func
    return str(getattr(fn, "__qualname__", repr(fn)))

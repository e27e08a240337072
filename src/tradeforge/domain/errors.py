"""The error tree every TradeForge package extends, sorted by what the caller should do.

::

    TradeForgeError
    ├── RetryableError            try again later; nothing was decided
    │   ├── TemporaryError        venue or server unavailable, timeout, unknown outcome
    │   └── RateLimited           slow down; ``retry_after`` seconds when known
    ├── RequestError              the request is wrong; fix it, do not retry as is
    │   ├── InvalidValue          a value refused at construction (also a ValueError)
    │   ├── InvalidOrder          an order a venue or risk check would not take
    │   ├── InsufficientFunds     not enough free balance
    │   ├── UnknownInstrument     no such instrument
    │   └── UnknownOrder          no such order
    ├── OperatorError             stop and tell the operator
    │   ├── ConfigurationError    bad setting: names the key and the value
    │   └── InvalidTransition     a state change the order lifecycle does not allow (a bug or a
    │                             venue that broke protocol)
    └── StrategyError             user strategy code failed: names the strategy and the hook

Each package's ``errors.py`` subclasses these; the gateway maps each branch to one HTTP status.
"""

from __future__ import annotations

__all__ = [
    "ConfigurationError",
    "InsufficientFunds",
    "InvalidOrder",
    "InvalidTransition",
    "InvalidValue",
    "OperatorError",
    "RateLimited",
    "RequestError",
    "RetryableError",
    "StrategyError",
    "TemporaryError",
    "TradeForgeError",
    "UnknownInstrument",
    "UnknownOrder",
]


class TradeForgeError(Exception):
    """Base of every error TradeForge raises on purpose."""


class RetryableError(TradeForgeError):
    """Nothing was decided; the same request may succeed later."""


class TemporaryError(RetryableError):
    """A venue or server is unavailable, timed out, or the outcome is unknown."""


class RateLimited(RetryableError):
    """Too many requests; wait ``retry_after`` seconds (None when the venue did not say)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RequestError(TradeForgeError):
    """The request itself is wrong; retrying it unchanged will fail again."""


class InvalidValue(RequestError, ValueError):
    """A value was refused at construction; the message names the field and the value."""


class InvalidOrder(RequestError):
    """An order that a venue or a risk check would not take."""


class InsufficientFunds(RequestError):
    """Not enough free balance for the request."""


class UnknownInstrument(RequestError):
    """No instrument with that id is known."""


class UnknownOrder(RequestError):
    """No order with that id is known."""


class OperatorError(TradeForgeError):
    """Stop and tell the operator: the system cannot continue correctly on its own."""


class ConfigurationError(OperatorError):
    """A setting is missing or invalid; the message names the key and the bad value."""


class InvalidTransition(OperatorError):
    """A state change that the order lifecycle table does not allow."""


class StrategyError(TradeForgeError):
    """User strategy code raised; names the strategy, the hook and the time."""

    def __init__(
        self, strategy_id: str, hook: str, ts_ns: int | None, cause: BaseException
    ) -> None:
        at = f" at ts={ts_ns}" if ts_ns is not None else ""
        super().__init__(f"strategy {strategy_id!r} failed in {hook}{at}: {cause!r}")
        self.strategy_id = strategy_id
        self.hook = hook
        self.ts_ns = ts_ns
        self.cause = cause

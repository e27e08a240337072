"""Errors raised by the message bus and the clocks, placed in the domain error tree.

::

    TradeForgeError
    ├── RetryableError
    │   └── TemporaryError
    │       └── RequestTimeout        no reply to a request in time (distributed bus)
    ├── RequestError
    │   ├── InvalidValue
    │   │   ├── InvalidTopic          malformed topic, pattern or token; names it
    │   │   └── InvalidTimer          bad timer or alert arguments; names the timer
    │   └── UnknownTimer              cancel of a timer the clock does not hold
    └── OperatorError
        ├── UnknownEndpoint           send/request to a name nobody registered (wiring bug)
        ├── DuplicateEndpoint         a second handler for a registered name (wiring bug)
        └── ClockError                a clock driven wrongly: backwards, re-entered, no loop
"""

from __future__ import annotations

from tradeforge.domain.errors import (
    InvalidValue,
    OperatorError,
    RequestError,
    TemporaryError,
)

__all__ = [
    "ClockError",
    "DuplicateEndpoint",
    "InvalidTimer",
    "InvalidTopic",
    "RequestTimeout",
    "UnknownEndpoint",
    "UnknownTimer",
]


class InvalidTopic(InvalidValue):
    """A topic, pattern or token is malformed; ``topic`` holds the offending text."""

    def __init__(self, topic: str, reason: str) -> None:
        super().__init__(f"invalid topic {topic!r}: {reason}")
        self.topic = topic
        self.reason = reason


class InvalidTimer(InvalidValue):
    """Timer or alert arguments were refused; ``name`` is the timer's name."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"timer {name!r}: {reason}")
        self.name = name
        self.reason = reason


class UnknownTimer(RequestError, LookupError):
    """No timer or alert with that name is set (it may have fired or been cancelled)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no timer named {name!r} is set")
        self.name = name


class UnknownEndpoint(OperatorError, LookupError):
    """No handler is registered under that endpoint name."""

    def __init__(self, endpoint: str) -> None:
        super().__init__(f"no handler is registered for endpoint {endpoint!r}")
        self.endpoint = endpoint


class DuplicateEndpoint(OperatorError):
    """A handler is already registered under that endpoint name."""

    def __init__(self, endpoint: str) -> None:
        super().__init__(f"endpoint {endpoint!r} already has a handler")
        self.endpoint = endpoint


class RequestTimeout(TemporaryError):
    """A request got no reply within its timeout; the outcome is unknown."""

    def __init__(self, endpoint: str, timeout: float) -> None:
        super().__init__(f"no reply from endpoint {endpoint!r} within {timeout}s")
        self.endpoint = endpoint
        self.timeout = timeout


class ClockError(OperatorError):
    """A clock was driven wrongly, e.g. moved backwards or timers set without a loop."""

"""Errors raised by the exchange connectors, placed in the domain error tree.

::

    TradeForgeError
    ├── RetryableError
    │   └── TemporaryError
    │       ├── CircuitOpen           the venue's circuit breaker refuses calls for now
    │       ├── UnknownOutcome        the venue may or may not have executed the request
    │       ├── BookInvalid           the local order book is resyncing; no reads until it is live
    │       └── MalformedResponse     the venue answered with data we cannot parse or trust
    ├── RequestError
    │   ├── ClockSkew                 our timestamp is outside the venue's recvWindow
    │   └── AuthFailed                the venue refused the API key or the signature
    └── OperatorError
        └── WriteRetryRefused         a write was handed to the read-only retry policy (a bug)

``UnknownOutcome`` is retryable only in the sense that the *question* may be asked again: after
it, a write must be followed by a read of the order by its client order id, never by a blind
resubmission.
"""

from __future__ import annotations

from tradeforge.domain.errors import OperatorError, RequestError, TemporaryError

__all__ = [
    "AuthFailed",
    "BookInvalid",
    "CircuitOpen",
    "ClockSkew",
    "MalformedResponse",
    "UnknownOutcome",
    "WriteRetryRefused",
]


class CircuitOpen(TemporaryError):
    """The circuit breaker of ``venue`` is open; the call was refused without reaching it.

    ``retry_in`` is the number of seconds until a probe may be let through, or None while an
    operator holds the breaker open (or a probe is already in flight).
    """

    def __init__(self, venue: str, retry_in: float | None) -> None:
        when = "until reset by an operator" if retry_in is None else f"for {retry_in:.3f}s"
        super().__init__(f"circuit breaker for venue {venue!r} is open {when}")
        self.venue = venue
        self.retry_in = retry_in


class UnknownOutcome(TemporaryError):
    """The venue may or may not have executed the request (e.g. a timeout on an order call).

    ``client_order_id`` names the order to look up before deciding anything, when known.
    """

    def __init__(self, message: str, *, client_order_id: str | None = None) -> None:
        super().__init__(message)
        self.client_order_id = client_order_id


class BookInvalid(TemporaryError):
    """The local order book of ``symbol`` is not live (awaiting a snapshot or resyncing)."""

    def __init__(self, symbol: str, reason: str) -> None:
        super().__init__(f"order book {symbol!r} is not valid: {reason}")
        self.symbol = symbol
        self.reason = reason


class MalformedResponse(TemporaryError):
    """The venue answered with data we cannot parse or trust.

    Missing fields, wrong types, non-finite, negative, off-tick or absurdly large numbers,
    truncated JSON: not the caller's fault, and asking again may get a good answer. The bad
    payload was not turned into a domain value. After a write, the write's outcome is unknown:
    look the order up by its client order id before deciding anything.
    """


class ClockSkew(RequestError):
    """The request's timestamp fell outside the venue's ``recvWindow`` (Binance -1021).

    Retrying unchanged fails again: resync the clock with the venue's time first.
    ``skew_ms`` is our clock minus the venue's, when known.
    """

    def __init__(self, message: str, *, skew_ms: int | None = None) -> None:
        super().__init__(message)
        self.skew_ms = skew_ms


class AuthFailed(RequestError):
    """The venue refused the credentials: unknown key, bad signature, or missing permission."""


class WriteRetryRefused(OperatorError):
    """A callable marked as a write was given to the read-only retry policy (a wiring bug)."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"{name!r} is marked as a write; writes are never retried: call it once and, on an "
            "unknown outcome, look the order up by its client order id"
        )
        self.name = name

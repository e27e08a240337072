"""CCXT's exceptions sorted into the domain's error taxonomy (what the caller should do).

CCXT separates ``NetworkError`` (nothing, or an unknown outcome) from ``ExchangeError`` (the
venue answered no). Each CCXT class maps to the domain class a caller acts on; the message keeps
the venue's words. Anything unexpected becomes a ``TemporaryError`` naming the exception, never
a raw traceback for the caller.
"""

from __future__ import annotations

import re

import ccxt

from tradeforge.connectors.errors import AuthFailed, ClockSkew, UnknownOutcome
from tradeforge.domain.errors import (
    InsufficientFunds,
    InvalidOrder,
    RateLimited,
    RequestError,
    TemporaryError,
    TradeForgeError,
    UnknownInstrument,
    UnknownOrder,
)

__all__ = ["map_ccxt_error"]

# Binance's codes for "the server failed; the request may or may not have been executed"
# (-1000 unknown, -1001 disconnected, -1006 unexpected response, -1007 timeout).
_OUTCOME_UNKNOWN_CODES = frozenset({-1000, -1001, -1006, -1007})
_CODE = re.compile(r'"code"\s*:\s*(-?\d+)')

# Most specific first: CCXT's classes form a hierarchy and the first match wins.
_REQUEST: tuple[tuple[type[Exception], type[RequestError]], ...] = (
    (ccxt.InsufficientFunds, InsufficientFunds),
    (ccxt.OrderNotFound, UnknownOrder),
    (ccxt.BadSymbol, UnknownInstrument),
    (ccxt.InvalidNonce, ClockSkew),
    (ccxt.AuthenticationError, AuthFailed),
    (ccxt.PermissionDenied, AuthFailed),
    (ccxt.AccountSuspended, AuthFailed),
    (ccxt.InvalidOrder, InvalidOrder),
    (ccxt.OrderImmediatelyFillable, InvalidOrder),
    (ccxt.NotSupported, InvalidOrder),
    (ccxt.BadRequest, InvalidOrder),
)


def map_ccxt_error(
    exc: BaseException, *, venue: str, what: str, retry_after: float | None = None,
    client_order_id: str | None = None,
) -> TradeForgeError:  # fmt: skip
    """The domain error for ``exc``, raised while doing ``what`` at ``venue``.

    A network failure while sending an order (``client_order_id`` given) is an
    ``UnknownOutcome``: the venue may have taken it.
    """
    if isinstance(exc, TradeForgeError):
        return exc
    text = f"{venue}: {what}: {_venue_words(exc)}"
    code = _CODE.search(str(exc))
    server_failed = code is not None and int(code.group(1)) in _OUTCOME_UNKNOWN_CODES
    if server_failed or isinstance(
        exc, ccxt.BadResponse | ccxt.ExchangeNotAvailable | ccxt.OnMaintenance
    ):
        if client_order_id is not None:
            return UnknownOutcome(text, client_order_id=client_order_id)
        return TemporaryError(text)
    if isinstance(exc, ccxt.DDoSProtection | ccxt.RateLimitExceeded):
        return RateLimited(text, retry_after=retry_after)
    for ccxt_class, ours in _REQUEST:
        if isinstance(exc, ccxt_class):
            return ours(text)
    if isinstance(exc, ccxt.NetworkError | TimeoutError | OSError):
        if client_order_id is not None:
            return UnknownOutcome(text, client_order_id=client_order_id)
        return TemporaryError(text)
    if isinstance(exc, ccxt.ExchangeError):
        # The venue answered with an error CCXT could not classify: a request problem.
        return InvalidOrder(text) if client_order_id is not None else RequestError(text)
    # Anything else is not an answer from the venue: for a write, its outcome is unknown.
    text = f"{text} ({type(exc).__name__})"
    if client_order_id is not None:
        return UnknownOutcome(text, client_order_id=client_order_id)
    return TemporaryError(text)


def _venue_words(exc: BaseException) -> str:
    """CCXT's message without the URL noise it prepends."""
    message = " ".join(str(exc).split())
    start = message.find("{")
    return message[start:] if start >= 0 else message or type(exc).__name__

"""Errors the auth service raises, sorted by what the caller (the gateway) does with them.

::

    TradeForgeError
    ├── RetryableError
    │   └── RateLimited
    │       └── LoginThrottled         429 + Retry-After: too many failed logins (per
    │                                  account back-off or per-IP cap); nothing was verified
    ├── RequestError
    │   ├── AuthError                  base of the request errors below; carries ``code``
    │   │   ├── AuthenticationFailed   401: no valid credential (bad password, bad/expired/
    │   │   │                          revoked token or key, bad signature, replay, skew)
    │   │   ├── Forbidden              403: authenticated, but not allowed (role, key scope,
    │   │   │                          IP allow-list)
    │   │   ├── AccountLocked          423: too many failures; an admin must unlock
    │   │   ├── NotFound               404: no such object, or not yours (never says which)
    │   │   └── Conflict               409: the name is taken, the limit of keys is reached
    │   └── InvalidValue
    │       └── InvalidInput           422: a value refused (weak password, bad scope, bad
    │                                  network); names the field
    └── OperatorError
        ├── ConfigurationError         start-up refused: a default, short or missing secret,
        │                              an out-of-range setting (names the key)
        └── SecretUnreadable           500 + alert: a sealed secret does not decrypt (tampered
                                       row, swapped ciphertext, wrong key-encryption key)

Every ``AuthError`` has a stable ``code`` (``INVALID_CREDENTIALS``,
``TIMESTAMP_OUTSIDE_RECV_WINDOW``...) for the response body; the message is safe to show (it
never says whether a user exists). The gateway maps each class to one status, in one place.
"""

from __future__ import annotations

from tradeforge.domain.errors import (
    ConfigurationError,
    InvalidValue,
    OperatorError,
    RateLimited,
    RequestError,
)

__all__ = [
    "AccountLocked",
    "AuthError",
    "AuthenticationFailed",
    "ConfigurationError",
    "Conflict",
    "Forbidden",
    "InvalidInput",
    "LoginThrottled",
    "NotFound",
    "SecretUnreadable",
]


class AuthError(RequestError):
    """A refused request; ``code`` is a stable machine-readable reason."""

    default_code = "AUTH_ERROR"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code or self.default_code


class AuthenticationFailed(AuthError):
    """No valid credential came with the request (401)."""

    default_code = "INVALID_CREDENTIALS"


class Forbidden(AuthError):
    """The caller is known but may not do this (403)."""

    default_code = "FORBIDDEN"


class AccountLocked(AuthError):
    """The account (or the user name) is locked after too many failures; an admin unlocks (423)."""

    default_code = "ACCOUNT_LOCKED"


class NotFound(AuthError):
    """No such object for this caller (404): another user's object looks the same as none."""

    default_code = "NOT_FOUND"


class Conflict(AuthError):
    """The request conflicts with what exists (409)."""

    default_code = "CONFLICT"


class InvalidInput(InvalidValue):
    """A value was refused (422); ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.code = "INVALID_INPUT"


class LoginThrottled(RateLimited):
    """Too many failed logins; wait ``retry_after`` seconds (429). No password was checked."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, retry_after=retry_after)
        self.code = "TOO_MANY_ATTEMPTS"


class SecretUnreadable(OperatorError):
    """A sealed secret failed to decrypt: tampered, swapped, or sealed under an unknown key."""

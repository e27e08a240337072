"""The audit log's vocabulary: what is recorded (``AuditAction``) and what is read back
(``AuditEntry``).

Every security event and every order action is one row: when (clock ns), who (``actor``: a
user id, ``anonymous`` or ``system``), from where (``ip``), in which request (``request_id``),
what (``action``), on what (``target``), how it ended (``outcome``) and action-specific
``detail`` (text values; never a secret). The table refuses UPDATE and DELETE (migration 0002).

The service records its own events; the gateway records order actions through
``AuthService.record`` with actions such as ``order.submitted`` or ``order.cancelled``.
"""

from __future__ import annotations

import re
from enum import StrEnum

import msgspec

from tradeforge.auth.errors import InvalidInput

__all__ = ["ANONYMOUS", "SYSTEM", "AuditAction", "AuditEntry", "Outcome", "check_action"]

ANONYMOUS = "anonymous"
SYSTEM = "system"
_ACTION = re.compile(r"[a-z][a-z_]*(\.[a-z][a-z_]*)+")


class Outcome(StrEnum):
    """How an audited action ended."""

    OK = "ok"
    FAILED = "failed"  # a credential was wrong
    REFUSED = "refused"  # throttled, locked, forbidden: nothing was checked or done


class AuditAction(StrEnum):
    """The events the auth service records itself."""

    LOGIN_SUCCEEDED = "login.succeeded"
    LOGIN_FAILED = "login.failed"
    LOGIN_THROTTLED = "login.throttled"  # refused unverified: back-off, IP cap or lock
    ACCOUNT_LOCKED = "account.locked"  # the failure that reached max_failures
    ACCOUNT_UNLOCKED = "account.unlocked"
    PASSWORD_REHASHED = "password.rehashed"
    PASSWORD_CHANGED = "password.changed"
    LOGOUT = "session.logout"
    SESSION_REVOKED = "session.revoked"
    TOKEN_REFRESHED = "token.refreshed"
    TOKEN_REUSE_DETECTED = "token.reuse_detected"
    USER_CREATED = "user.created"
    USER_ROLE_CHANGED = "user.role_changed"
    USER_DISABLED = "user.disabled"
    USER_ENABLED = "user.enabled"
    REGISTRATION_THROTTLED = "registration.throttled"  # refused unchecked: too many tries
    KEY_CREATED = "api_key.created"
    KEY_REVOKED = "api_key.revoked"
    KEY_REJECTED = "api_key.rejected"  # a known key used wrongly (IP, expiry, signature...)
    ACCESS_DENIED = "access.denied"
    CREDENTIAL_STORED = "credential.stored"
    CREDENTIAL_DELETED = "credential.deleted"
    CREDENTIAL_REVEALED = "credential.revealed"  # handed to the connector wiring
    SECRET_KEY_ROTATED = "secret_key.rotated"


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One row of the audit log."""

    id: int
    ts_ns: int
    actor: str
    ip: str | None
    request_id: str | None
    action: str
    target: str | None
    outcome: Outcome
    detail: dict[str, str]


def check_action(action: str) -> str:
    """``action`` if it is a dotted lower-case name (``order.submitted``)."""
    if len(action) > 64 or not _ACTION.fullmatch(action):
        raise InvalidInput("action", f"{action!r} is not a dotted name like 'order.submitted'")
    return action

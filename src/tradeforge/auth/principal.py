"""Who is calling (``Principal``) and where the request came from (``RequestContext``)."""

from __future__ import annotations

from enum import StrEnum

import msgspec

from tradeforge.auth.roles import Permission, Role, Scope

__all__ = ["AuthMethod", "Principal", "RequestContext"]


class AuthMethod(StrEnum):
    """How a request proved who it is."""

    SESSION = "session"  # a JWT access token of a login session
    API_KEY = "api_key"  # a bearer API key
    SIGNED = "signed"  # an HMAC-signed request with a signing key


class RequestContext(msgspec.Struct, frozen=True, kw_only=True):
    """What the gateway knows about a request: audited with every security event."""

    ip: str | None = None
    request_id: str | None = None
    user_agent: str | None = None


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """An authenticated caller. ``permissions`` is what this credential grants right now.

    ``role`` is read from the database on every authentication, so a demoted or disabled user
    loses access at their next request, not when their token expires.
    """

    user_id: str
    username: str
    role: Role
    method: AuthMethod
    permissions: frozenset[Permission]
    session_id: str | None = None
    key_id: str | None = None
    scopes: frozenset[Scope] | None = None

    def can(self, permission: Permission) -> bool:
        """Whether this caller may do ``permission``."""
        return permission in self.permissions

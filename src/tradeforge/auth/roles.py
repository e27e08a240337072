"""Roles, API-key scopes and the permission matrix (docs/auth.md shows it as a table).

A user has one :class:`Role`; an API key has one or more :class:`Scope`. What a request may do
is the set of :class:`Permission` its credential grants: a user's role for a session, and the
*intersection* of the owner's role and the key's scopes for an API key (a trader's read key
cannot trade; an admin scope on a viewer's key grants nothing a viewer lacks). The gateway asks
one question per route: :func:`allowed`.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

__all__ = [
    "ROLE_PERMISSIONS",
    "SCOPE_PERMISSIONS",
    "Permission",
    "Role",
    "Scope",
    "allowed",
    "permissions_of",
]


class Role(StrEnum):
    """What a user is."""

    ADMIN = "admin"
    TRADER = "trader"
    VIEWER = "viewer"


class Scope(StrEnum):
    """What an API key may be used for (Coinbase/Binance style: a key cannot trade by default)."""

    READ = "read"
    TRADE = "trade"
    ADMIN = "admin"


class Permission(StrEnum):
    """One thing a route does; ``resource:action``."""

    MARKET_READ = "market:read"  # instruments, candles, ticker, book
    ORDERS_READ = "orders:read"  # orders, fills
    ORDERS_WRITE = "orders:write"  # place, cancel, modify
    PORTFOLIO_READ = "portfolio:read"  # positions, balances, value history
    STRATEGIES_READ = "strategies:read"
    STRATEGIES_WRITE = "strategies:write"  # create, configure, start, stop
    BACKTESTS_READ = "backtests:read"
    BACKTESTS_WRITE = "backtests:write"  # submit a job
    RISK_READ = "risk:read"
    RISK_ADMIN = "risk:admin"  # limits, kill switch
    RECONCILIATION_READ = "reconciliation:read"
    RECONCILIATION_WRITE = "reconciliation:write"  # act on a discrepancy
    KEYS_MANAGE = "keys:manage"  # one's own API keys
    CREDENTIALS_MANAGE = "credentials:manage"  # one's own exchange credentials
    USERS_ADMIN = "users:admin"  # users, roles, unlock, others' sessions and keys
    AUDIT_READ = "audit:read"
    SYSTEM_READ = "system:read"  # version, health details


_READ = frozenset(
    {
        Permission.MARKET_READ,
        Permission.ORDERS_READ,
        Permission.PORTFOLIO_READ,
        Permission.STRATEGIES_READ,
        Permission.BACKTESTS_READ,
        Permission.RISK_READ,
        Permission.RECONCILIATION_READ,
        Permission.SYSTEM_READ,
    }
)
_TRADE = frozenset(
    {
        Permission.ORDERS_WRITE,
        Permission.STRATEGIES_WRITE,
        Permission.BACKTESTS_WRITE,
        Permission.RECONCILIATION_WRITE,
    }
)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: _READ | {Permission.KEYS_MANAGE},
    Role.TRADER: _READ | _TRADE | {Permission.KEYS_MANAGE, Permission.CREDENTIALS_MANAGE},
    Role.ADMIN: frozenset(Permission),
}
"""The permission matrix: what each role may do."""

SCOPE_PERMISSIONS: dict[Scope, frozenset[Permission]] = {
    Scope.READ: _READ,
    Scope.TRADE: _READ | _TRADE,
    Scope.ADMIN: frozenset(Permission),
}
"""What each API-key scope may do (before intersecting with the owner's role)."""


def permissions_of(role: Role, scopes: Iterable[Scope] | None = None) -> frozenset[Permission]:
    """What a credential grants: the role's permissions, limited to the scopes when given."""
    granted = ROLE_PERMISSIONS[role]
    if scopes is None:
        return granted
    by_scopes: frozenset[Permission] = frozenset()
    for scope in scopes:
        by_scopes |= SCOPE_PERMISSIONS[scope]
    return granted & by_scopes


def allowed(role_or_scopes: Role | Scope | Iterable[Scope], permission: Permission | str) -> bool:
    """Whether a role, a scope or a set of scopes grants ``permission``.

    An unknown permission string is never allowed (a typo in a route denies, never grants).
    """
    try:
        wanted = Permission(permission)
    except ValueError:
        return False
    if isinstance(role_or_scopes, Role):
        return wanted in ROLE_PERMISSIONS[role_or_scopes]
    if isinstance(role_or_scopes, Scope):
        return wanted in SCOPE_PERMISSIONS[role_or_scopes]
    return any(wanted in SCOPE_PERMISSIONS[Scope(s)] for s in role_or_scopes)

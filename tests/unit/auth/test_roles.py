"""The permission matrix: the code and the table in docs/auth.md agree, keys are limited by
their owner's role, and unknown permissions are never allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradeforge.auth import (
    ROLE_PERMISSIONS,
    SCOPE_PERMISSIONS,
    Permission,
    Role,
    Scope,
    allowed,
    permissions_of,
)

DOC = Path(__file__).resolve().parents[3] / "docs" / "auth.md"
COLUMNS = [Role.ADMIN, Role.TRADER, Role.VIEWER, Scope.READ, Scope.TRADE, Scope.ADMIN]


def documented_matrix() -> dict[str, list[bool]]:
    section = DOC.read_text(encoding="utf-8").split("## Permission matrix", 1)[1]
    rows = {}
    for line in section.split("\n## ", 1)[0].splitlines():
        if line.startswith("| `"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0].strip("`")] = [c == "✓" for c in cells[2:]]
    return rows


def test_the_documented_matrix_is_the_codes() -> None:
    documented = documented_matrix()

    assert set(documented) == {p.value for p in Permission}
    for permission in Permission:
        in_code = [allowed(column, permission) for column in COLUMNS]
        assert documented[permission.value] == in_code, permission


def test_roles_nest() -> None:
    assert ROLE_PERMISSIONS[Role.VIEWER] < ROLE_PERMISSIONS[Role.TRADER]
    assert ROLE_PERMISSIONS[Role.TRADER] < ROLE_PERMISSIONS[Role.ADMIN]
    assert SCOPE_PERMISSIONS[Scope.READ] < SCOPE_PERMISSIONS[Scope.TRADE]
    assert SCOPE_PERMISSIONS[Scope.ADMIN] == frozenset(Permission)


def test_a_viewer_cannot_trade_and_only_an_admin_administers() -> None:
    assert not allowed(Role.VIEWER, Permission.ORDERS_WRITE)
    assert allowed(Role.TRADER, "orders:write")
    for role in (Role.TRADER, Role.VIEWER):
        assert not allowed(role, Permission.USERS_ADMIN)
        assert not allowed(role, Permission.RISK_ADMIN)
        assert not allowed(role, Permission.AUDIT_READ)


def test_a_keys_grant_is_its_scopes_within_its_owners_role() -> None:
    assert permissions_of(Role.TRADER, [Scope.READ]) == SCOPE_PERMISSIONS[Scope.READ]
    assert Permission.ORDERS_WRITE not in permissions_of(Role.VIEWER, [Scope.ADMIN])
    assert permissions_of(Role.VIEWER, [Scope.ADMIN]) == ROLE_PERMISSIONS[Role.VIEWER]
    assert allowed([Scope.READ, Scope.TRADE], Permission.ORDERS_WRITE)
    assert not allowed([Scope.READ], Permission.ORDERS_WRITE)
    assert not allowed([], Permission.MARKET_READ)


@pytest.mark.parametrize("permission", ["orders:delete", "", "ORDERS:WRITE", "users:admin "])
def test_an_unknown_permission_is_never_allowed(permission: str) -> None:
    assert not any(allowed(column, permission) for column in COLUMNS)

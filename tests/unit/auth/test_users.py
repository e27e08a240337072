"""Users: creation, the first admin, roles, disabling, password changes and resets."""

from __future__ import annotations

import pytest
from tests.unit.auth.conftest import CTX, PASSWORD, admin_principal, make_user

from tradeforge.auth import (
    AuthenticationFailed,
    AuthService,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Role,
)

NEW_PASSWORD = "a brand new passphrase 9"


def test_the_first_admin_is_made_once_with_a_generated_password(service: AuthService) -> None:
    made = service.ensure_admin("Admin", None, CTX)
    assert made is not None
    info, generated = made

    assert info.username == "admin"
    assert info.role is Role.ADMIN
    assert generated is not None
    assert service.login("ADMIN", generated, CTX)
    assert service.ensure_admin("admin", None, CTX) is None


def test_user_names_are_normalised_unique_and_checked(service: AuthService) -> None:
    admin = admin_principal(service)
    service.create_user(admin, "Alice", PASSWORD, Role.TRADER, CTX)

    with pytest.raises(Conflict):
        service.create_user(admin, "ALICE", PASSWORD, Role.TRADER, CTX)
    for bad in ("al", "alice smith", "x" * 65, "-alice", ""):
        with pytest.raises(InvalidInput, match="username"):
            service.create_user(admin, bad, PASSWORD, Role.TRADER, CTX)
    assert service.login(" alice ", PASSWORD, CTX)


def test_only_an_admin_manages_users_and_not_themselves(service: AuthService) -> None:
    admin = admin_principal(service)
    alice = make_user(service, "alice")

    with pytest.raises(Forbidden):
        service.create_user(alice, "bob", PASSWORD, Role.ADMIN, CTX)
    with pytest.raises(Forbidden):
        service.set_role(alice, alice.user_id, Role.ADMIN, CTX)
    with pytest.raises(Forbidden):
        service.set_role(admin, admin.user_id, Role.VIEWER, CTX)
    with pytest.raises(Forbidden):
        service.set_disabled(admin, admin.user_id, True, CTX)
    with pytest.raises(NotFound):
        service.get_user(alice, admin.user_id)
    with pytest.raises(NotFound):
        service.set_role(admin, "u_missing", Role.VIEWER, CTX)
    assert service.get_user(admin, alice.user_id).username == "alice"
    assert {u.username for u in service.list_users(admin, CTX)} == {"admin", "alice"}


def test_changing_ones_password_ends_the_other_sessions(service: AuthService) -> None:
    make_user(service, "alice")
    here = service.login("alice", PASSWORD, CTX)
    elsewhere = service.login("alice", PASSWORD, CTX)
    alice = service.authenticate(here.access_token)

    with pytest.raises(AuthenticationFailed):
        service.change_password(alice, "not my password", NEW_PASSWORD, CTX)
    service.change_password(alice, PASSWORD, NEW_PASSWORD, CTX)

    assert service.authenticate(here.access_token)
    with pytest.raises(AuthenticationFailed):
        service.authenticate(elsewhere.access_token)
    with pytest.raises(AuthenticationFailed):
        service.login("alice", PASSWORD, CTX)
    assert service.login("alice", NEW_PASSWORD, CTX)


def test_an_admin_reset_ends_every_session(service: AuthService) -> None:
    admin = admin_principal(service)
    alice = make_user(service, "alice")
    pair = service.login("alice", PASSWORD, CTX)

    service.reset_password(admin, alice.user_id, NEW_PASSWORD, CTX)

    with pytest.raises(AuthenticationFailed):
        service.authenticate(pair.access_token)
    assert service.login("alice", NEW_PASSWORD, CTX)


def test_an_api_key_cannot_change_the_password_or_manage_sessions(service: AuthService) -> None:
    alice = make_user(service, "alice")
    key = service.create_api_key(alice, name="k", scopes=["trade"], ctx=CTX)
    by_key = service.authenticate_api_key(key.secret, CTX)

    with pytest.raises(Forbidden):
        service.change_password(by_key, PASSWORD, NEW_PASSWORD, CTX)
    with pytest.raises(Forbidden):
        service.list_sessions(by_key)
    with pytest.raises(Forbidden):
        service.create_api_key(by_key, name="k2", scopes=["read"], ctx=CTX)

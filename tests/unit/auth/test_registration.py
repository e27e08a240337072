"""Self-registration (closed unless ``allow_registration``; viewers only; throttled per address
like failed logins) and the admin's ``update_user`` (role, disable: sessions end, keys revoked),
on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from tests.unit.auth.conftest import (
    CTX,
    PASSWORD,
    admin_principal,
    advance,
    fast_hasher,
    make_config,
    make_user,
)

from tradeforge.auth import (
    AuthenticationFailed,
    AuthService,
    Conflict,
    Forbidden,
    InvalidInput,
    LoginThrottled,
    NotFound,
    RequestContext,
    Role,
)
from tradeforge.bus import ReplayClock
from tradeforge.store import Database


@pytest.fixture
def open_service(database: Database, clock: ReplayClock) -> AuthService:
    config = make_config(allow_registration=True)
    return AuthService(config=config, database=database, clock=clock, hasher=fast_hasher())


def test_registration_is_closed_unless_allowed(service: AuthService) -> None:
    with pytest.raises(Forbidden, match="registration is closed") as refused:
        service.register("walkin", PASSWORD, CTX)
    assert refused.value.code == "REGISTRATION_CLOSED"
    with pytest.raises(AuthenticationFailed):
        service.login("walkin", PASSWORD, CTX)


def test_registration_makes_viewers_under_the_policy_and_is_throttled(
    open_service: AuthService, clock: ReplayClock
) -> None:
    made = open_service.register("Newbie", PASSWORD, CTX)
    assert (made.username, made.role, made.disabled) == ("newbie", Role.VIEWER, False)
    assert open_service.authenticate(open_service.login("newbie", PASSWORD, CTX).access_token)
    with pytest.raises(InvalidInput, match="password"):
        open_service.register("weakling", "password123", CTX)
    with pytest.raises(Conflict):
        open_service.register("NEWBIE", PASSWORD, CTX)
    for name in ("second", "third"):
        open_service.register(name, PASSWORD, CTX)
    with pytest.raises(LoginThrottled) as throttled:  # the 6th try from one address
        open_service.register("fourth", PASSWORD, CTX)
    assert throttled.value.retry_after is not None
    assert throttled.value.retry_after >= 1
    other = RequestContext(ip="198.51.100.9", request_id="r2", user_agent="x")
    assert open_service.register("fourth", PASSWORD, other).role is Role.VIEWER
    advance(clock, 61)  # the back-off passes
    assert open_service.register("fifth", PASSWORD, CTX).username == "fifth"


def test_update_user_changes_roles_and_disabling_revokes_sessions_and_keys(
    service: AuthService,
) -> None:
    admin = admin_principal(service)
    alice = make_user(service, "alice")
    key = service.create_api_key(alice, name="k", scopes=["trade"], ctx=CTX)
    assert service.authenticate_api_key(key.secret, CTX).user_id == alice.user_id

    viewer = service.update_user(admin, alice.user_id, role=Role.VIEWER, ctx=CTX)
    assert viewer.role is Role.VIEWER
    assert service.update_user(admin, alice.user_id, ctx=CTX) == viewer  # nothing to change
    off = service.update_user(admin, alice.user_id, disabled=True, ctx=CTX)
    assert off.disabled
    with pytest.raises(AuthenticationFailed):
        service.authenticate_api_key(key.secret, CTX)
    assert all(k.revoked_ns is not None for k in service.list_api_keys(admin, CTX, alice.user_id))
    assert service.list_sessions(admin, alice.user_id) == []
    on = service.update_user(admin, alice.user_id, disabled=False, ctx=CTX)
    assert not on.disabled
    assert service.login("alice", PASSWORD, CTX)
    with pytest.raises(AuthenticationFailed):  # a revoked key stays revoked
        service.authenticate_api_key(key.secret, CTX)


def test_update_user_needs_an_admin_an_existing_user_and_not_oneself(
    service: AuthService,
) -> None:
    admin = admin_principal(service)
    alice = make_user(service, "alice")
    with pytest.raises(Forbidden):
        service.update_user(alice, admin.user_id, role=Role.VIEWER, ctx=CTX)
    with pytest.raises(Forbidden, match="themselves"):
        service.update_user(admin, admin.user_id, disabled=True, ctx=CTX)
    with pytest.raises(NotFound):
        service.update_user(admin, "u_missing", role=Role.VIEWER, ctx=CTX)
    assert service.get_user(admin, alice.user_id).role is Role.TRADER

"""SEC-5 refresh rotation and sessions: a replayed refresh token revokes its family (every token
of it then gets 401, 100%); of two parallel refreshes with one token exactly one succeeds; a
revoked session stops working within <= 1 request."""

from __future__ import annotations

import threading

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
    AuditAction,
    AuthenticationFailed,
    AuthService,
    NotFound,
    Role,
    TokenPair,
)
from tradeforge.bus import ReplayClock
from tradeforge.store import Database


def login(service: AuthService, username: str = "alice") -> TokenPair:
    return service.login(username, PASSWORD, CTX)


def refused(action: object) -> str:
    assert callable(action)
    with pytest.raises(AuthenticationFailed) as caught:
        action()
    return caught.value.code


def test_a_refresh_rotates_both_tokens(service: AuthService, clock: ReplayClock) -> None:
    make_user(service, "alice")
    first = login(service)
    advance(clock, 60)

    second = service.refresh(first.refresh_token, CTX)

    assert second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token
    assert second.session_id == first.session_id
    assert service.authenticate(second.access_token).session_id == first.session_id


def test_a_replayed_refresh_token_revokes_the_whole_family(
    service: AuthService, clock: ReplayClock
) -> None:
    make_user(service, "alice")
    first = login(service)
    second = service.refresh(first.refresh_token, CTX)
    third = service.refresh(second.refresh_token, CTX)
    other_device = login(service)

    assert refused(lambda: service.refresh(first.refresh_token, CTX)) == "TOKEN_REUSED"

    family = [first, second, third]
    codes = [refused(lambda p=p: service.authenticate(p.access_token)) for p in family]
    codes += [refused(lambda p=p: service.refresh(p.refresh_token, CTX)) for p in family]
    assert set(codes) <= {"SESSION_REVOKED", "TOKEN_REUSED"}
    assert len(codes) == 6  # 100 % refused
    # Another session of the same user is not part of the family.
    assert service.authenticate(other_device.access_token)
    admin = admin_principal(service)
    actions = [e.action for e in service.audit_log(admin, CTX, action="token.reuse_detected")]
    assert actions
    assert set(actions) == {AuditAction.TOKEN_REUSE_DETECTED}


def race(service: AuthService, token: str) -> list[str]:
    """Two threads refresh with ``token`` at the same moment; what each got."""
    barrier = threading.Barrier(2)
    results: list[str] = []

    def refresh() -> None:
        barrier.wait()
        try:
            service.refresh(token, CTX)
            results.append("ok")
        except AuthenticationFailed as exc:
            results.append(exc.code)

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(results)


def test_two_parallel_refreshes_with_one_token_exactly_one_succeeds(
    service: AuthService,
) -> None:
    make_user(service, "alice")

    outcomes = [race(service, login(service).refresh_token) for _ in range(5)]

    assert outcomes == [["TOKEN_REUSED", "ok"]] * 5


def test_a_revoked_session_stops_at_the_next_request(service: AuthService) -> None:
    alice = make_user(service, "alice")
    pair = login(service)
    assert service.authenticate(pair.access_token)

    service.revoke_session(alice, pair.session_id, CTX)

    assert refused(lambda: service.authenticate(pair.access_token)) == "SESSION_REVOKED"
    assert refused(lambda: service.refresh(pair.refresh_token, CTX)) == "SESSION_REVOKED"


def test_with_a_session_cache_a_revocation_through_the_service_is_still_immediate(
    database: Database, clock: ReplayClock
) -> None:
    service = AuthService(
        config=make_config(session_cache_ttl_s=30.0),
        database=database,
        clock=clock,
        hasher=fast_hasher(),
    )
    alice = make_user(service, "alice")
    pair = login(service)
    assert service.authenticate(pair.access_token)  # now cached

    service.revoke_session(alice, pair.session_id, CTX)

    assert refused(lambda: service.authenticate(pair.access_token)) == "SESSION_REVOKED"


def test_sessions_are_listed_and_logout_ends_only_the_current_one(service: AuthService) -> None:
    make_user(service, "alice")
    phone, laptop = login(service), login(service)
    on_laptop = service.authenticate(laptop.access_token)

    listed = {s.id for s in service.list_sessions(on_laptop)}
    service.logout(on_laptop, CTX)

    assert {phone.session_id, laptop.session_id} <= listed
    assert refused(lambda: service.authenticate(laptop.access_token)) == "SESSION_REVOKED"
    assert service.authenticate(phone.access_token)
    on_phone = service.authenticate(phone.access_token)
    assert laptop.session_id not in {s.id for s in service.list_sessions(on_phone)}
    ended = service.list_sessions(on_phone, include_ended=True)
    assert any(s.id == laptop.session_id and s.revoked_reason == "logout" for s in ended)


def test_another_users_session_is_not_found(service: AuthService) -> None:
    make_user(service, "alice")
    bob = make_user(service, "bob")
    alice_pair = login(service)

    with pytest.raises(NotFound):
        service.revoke_session(bob, alice_pair.session_id, CTX)
    with pytest.raises(NotFound):
        service.list_sessions(bob, user_id=service.authenticate(alice_pair.access_token).user_id)
    assert service.authenticate(alice_pair.access_token)


def test_revoke_all_keeps_the_callers_own_session(service: AuthService) -> None:
    make_user(service, "alice")
    pairs = [login(service) for _ in range(3)]
    caller = service.authenticate(pairs[0].access_token)

    ended = service.revoke_all_sessions(caller, CTX)

    assert ended >= 2
    assert service.authenticate(pairs[0].access_token)
    for pair in pairs[1:]:
        assert refused(lambda p=pair: service.authenticate(p.access_token)) == "SESSION_REVOKED"


def test_disabling_a_user_and_changing_a_role_apply_at_the_next_request(
    service: AuthService,
) -> None:
    admin = admin_principal(service)
    alice = make_user(service, "alice", Role.TRADER)
    pair = login(service)

    service.set_role(admin, alice.user_id, Role.VIEWER, CTX)
    assert service.authenticate(pair.access_token).role is Role.VIEWER

    service.set_disabled(admin, alice.user_id, True, CTX)
    assert refused(lambda: service.authenticate(pair.access_token)) == "SESSION_REVOKED"
    assert refused(lambda: login(service)) == "INVALID_CREDENTIALS"


def test_a_session_ends_at_its_maximum_age_whatever_the_refreshes(
    database: Database, clock: ReplayClock
) -> None:
    config = make_config(refresh_ttl_s=3600, session_max_age_s=3 * 3600)
    service = AuthService(config=config, database=database, clock=clock, hasher=fast_hasher())
    make_user(service, "alice")
    pair = login(service)
    for _ in range(2):
        advance(clock, 3500)
        pair = service.refresh(pair.refresh_token, CTX)
    assert pair.refresh_expires_in <= 3 * 3600 - 7000

    advance(clock, pair.refresh_expires_in + config.leeway_s + 1)

    assert refused(lambda: service.refresh(pair.refresh_token, CTX)) == "TOKEN_EXPIRED"

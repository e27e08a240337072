"""SEC-8 API keys: the scanner regex (+ checksum) finds 100 % of generated keys and 0 of 10^6
random strings; a dump of the database holds 0 plaintext secrets; a read key on a trade
permission is Forbidden (100 %); the IP allow-list and the expiry are enforced."""

from __future__ import annotations

import os
import string

import pytest
from sqlalchemy import select
from tests.unit.auth.conftest import (
    CTX,
    admin_principal,
    advance,
    fast_hasher,
    make_config,
    make_user,
)

from tradeforge.auth import (
    SCANNER_REGEX,
    AuthenticationFailed,
    AuthService,
    Conflict,
    Forbidden,
    InvalidInput,
    KeyKind,
    NotFound,
    Permission,
    RequestContext,
    Role,
    Scope,
    find_api_keys,
    is_api_key,
)
from tradeforge.auth.api_keys import generate_api_key
from tradeforge.bus import ReplayClock
from tradeforge.store import Database
from tradeforge.store import tables as t

BASE62 = (string.digits + string.ascii_letters).encode()


def random_strings(count: int, length: int, prefix: str = "") -> list[str]:
    """``count`` random base62 strings (fast: one urandom call, mapped by a table)."""
    table = bytes(BASE62[i % 62] for i in range(256))
    blob = os.urandom(count * length).translate(table).decode()
    return [prefix + blob[i * length : (i + 1) * length] for i in range(count)]


def test_the_scanner_finds_every_generated_key() -> None:
    keys = [generate_api_key(kind) for kind in KeyKind for _ in range(5_000)]

    assert all(SCANNER_REGEX.fullmatch(k) and is_api_key(k) for k in keys)
    assert len(set(keys)) == len(keys)
    text = " ".join(f"line {i}: token={k};" for i, k in enumerate(keys))
    assert find_api_keys(text) == keys


def test_the_scanner_finds_none_of_a_million_random_strings() -> None:
    # Same shape as a key (prefix, 49 base62 characters): only the checksum can tell.
    lookalikes = random_strings(500_000, 49, prefix="tf_key_")
    lookalikes += random_strings(500_000, 49, prefix="tf_sig_")

    hits = sum(1 for s in lookalikes if is_api_key(s))

    print(f"\nSEC-8: scanner hits on 1,000,000 random key-shaped strings: {hits}")
    assert hits == 0
    noise = random_strings(10_000, 56)
    assert not any(SCANNER_REGEX.search(s) for s in noise)


def test_a_typo_or_a_changed_kind_fails_the_checksum() -> None:
    key = generate_api_key(KeyKind.BEARER)
    typo = key[:20] + ("A" if key[20] != "A" else "B") + key[21:]

    assert not is_api_key(typo)
    assert not is_api_key(key.replace("tf_key_", "tf_sig_"))


def test_the_database_holds_no_plaintext_secret(service: AuthService, database: Database) -> None:
    alice = make_user(service, "alice")
    made = [
        service.create_api_key(alice, name="bot", scopes=["trade"], ctx=CTX),
        service.create_api_key(alice, name="signer", scopes=["read"], signing=True, ctx=CTX),
    ]
    dump = []
    with database.engine.connect() as conn:
        for table in t.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                dump.extend(
                    bytes(v).decode("latin-1") if isinstance(v, bytes | memoryview) else str(v)
                    for v in row
                )
    text = "\n".join(dump)

    for key in made:
        assert key.secret not in text
        assert key.secret[7:-6] not in text  # not even the random part
    assert find_api_keys(text) == []
    listed = service.list_api_keys(alice, CTX)
    assert {k.id for k in listed} == {k.info.id for k in made}
    assert "secret" not in repr(listed)
    assert "***" in repr(made[0])


def test_a_key_grants_its_scopes_within_its_owners_role(service: AuthService) -> None:
    trader = make_user(service, "alice", Role.TRADER)
    read_key = service.create_api_key(trader, name="ro", scopes=[Scope.READ], ctx=CTX)
    trade_key = service.create_api_key(trader, name="rw", scopes=[Scope.TRADE], ctx=CTX)

    read = service.authenticate_api_key(read_key.secret, CTX)
    trade = service.authenticate_api_key(trade_key.secret, CTX)

    assert read.can(Permission.ORDERS_READ)
    for _ in range(100):
        with pytest.raises(Forbidden):
            service.require(read, Permission.ORDERS_WRITE, CTX)
    service.require(trade, Permission.ORDERS_WRITE, CTX)
    assert not trade.can(Permission.KEYS_MANAGE)
    assert not trade.can(Permission.USERS_ADMIN)


def test_scopes_above_the_role_are_refused(service: AuthService) -> None:
    viewer = make_user(service, "vera", Role.VIEWER)
    trader = make_user(service, "tom", Role.TRADER)

    with pytest.raises(Forbidden, match="exceeds the role"):
        service.create_api_key(viewer, name="x", scopes=["trade"], ctx=CTX)
    with pytest.raises(Forbidden, match="exceeds the role"):
        service.create_api_key(trader, name="x", scopes=["admin"], ctx=CTX)
    with pytest.raises(InvalidInput):
        service.create_api_key(trader, name="x", scopes=["root"], ctx=CTX)
    with pytest.raises(InvalidInput):
        service.create_api_key(trader, name="x", scopes=[], ctx=CTX)


def test_the_ip_allow_list_is_enforced(service: AuthService) -> None:
    alice = make_user(service, "alice")
    key = service.create_api_key(
        alice, name="office", scopes=["read"], ip_allowlist=["10.0.0.0/8", "2001:db8::/32"],
        ctx=CTX,
    )  # fmt: skip

    for ip in ("10.1.2.3", "2001:db8::1"):
        assert service.authenticate_api_key(key.secret, RequestContext(ip=ip))
    for ip in ("192.168.1.1", "11.0.0.1", "2001:db9::1", None, "not-an-ip"):
        with pytest.raises(Forbidden):
            service.authenticate_api_key(key.secret, RequestContext(ip=ip))
    with pytest.raises(InvalidInput):
        service.create_api_key(alice, name="bad", scopes=["read"], ip_allowlist=["10.0.0.300"],
                               ctx=CTX)  # fmt: skip


def test_expiry_and_revocation_are_enforced(service: AuthService, clock: ReplayClock) -> None:
    alice = make_user(service, "alice")
    key = service.create_api_key(alice, name="day", scopes=["read"], expires_in_s=86_400, ctx=CTX)
    other = service.create_api_key(alice, name="other", scopes=["read"], ctx=CTX)
    assert service.authenticate_api_key(key.secret, CTX)

    advance(clock, 86_400)
    with pytest.raises(AuthenticationFailed) as caught:
        service.authenticate_api_key(key.secret, CTX)
    assert caught.value.code == "KEY_EXPIRED"

    service.revoke_api_key(alice, other.info.id, CTX)
    with pytest.raises(AuthenticationFailed) as caught:
        service.authenticate_api_key(other.secret, CTX)
    assert caught.value.code == "KEY_REVOKED"


def test_unknown_malformed_and_signing_keys_are_refused_as_bearer(service: AuthService) -> None:
    alice = make_user(service, "alice")
    signer = service.create_api_key(alice, name="s", scopes=["read"], signing=True, ctx=CTX)

    for token in (generate_api_key(KeyKind.BEARER), "tf_key_short", "", signer.secret):
        with pytest.raises(AuthenticationFailed):
            service.authenticate_api_key(token, CTX)


def test_another_users_key_cannot_be_seen_or_revoked(service: AuthService) -> None:
    alice = make_user(service, "alice")
    bob = make_user(service, "bob")
    key = service.create_api_key(alice, name="a", scopes=["read"], ctx=CTX)

    with pytest.raises(NotFound):
        service.revoke_api_key(bob, key.info.id, CTX)
    with pytest.raises(NotFound):
        service.list_api_keys(bob, CTX, user_id=alice.user_id)
    admin = admin_principal(service)
    assert [k.id for k in service.list_api_keys(admin, CTX, user_id=alice.user_id)] == [key.info.id]
    service.revoke_api_key(admin, key.info.id, CTX)


def test_a_leaked_key_is_revoked_by_its_secret(service: AuthService) -> None:
    alice = make_user(service, "alice")
    key = service.create_api_key(alice, name="leaky", scopes=["read"], ctx=CTX)

    assert service.revoke_leaked_key(key.secret, CTX)
    assert not service.revoke_leaked_key(generate_api_key(KeyKind.BEARER), CTX)
    with pytest.raises(AuthenticationFailed):
        service.authenticate_api_key(key.secret, CTX)


def test_the_number_of_keys_per_user_is_capped(database: Database, clock: ReplayClock) -> None:
    service = AuthService(
        config=make_config(max_api_keys_per_user=3), database=database, clock=clock,
        hasher=fast_hasher(),
    )  # fmt: skip
    alice = make_user(service, "alice")
    for n in range(3):
        service.create_api_key(alice, name=f"k{n}", scopes=["read"], ctx=CTX)

    with pytest.raises(Conflict):
        service.create_api_key(alice, name="one too many", scopes=["read"], ctx=CTX)

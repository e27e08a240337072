"""SEC-14 exchange secrets at rest: AES-256-GCM, a random 96-bit nonce per encryption (100,000
encryptions -> 0 repeated nonces), AAD = (user, venue, credential id) so swapping two users'
ciphertexts fails to decrypt (100 %), envelope encryption with a rotatable KEK, and the
service never returns a secret except to the connector wiring.

``TRADEFORGE_LONG_TESTS=1`` runs the nonce count at 2,000,000.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select, update
from tests.unit.auth.conftest import CTX, PASSWORD, fast_hasher, make_config, make_user

from tradeforge.auth import (
    AuthConfig,
    AuthService,
    Forbidden,
    NotFound,
    Principal,
    Role,
    SecretUnreadable,
    SignedRequest,
    generate_key_text,
    sign_request,
)
from tradeforge.auth.config import parse_key
from tradeforge.auth.secrets_box import NONCE_BYTES, SecretsBox, kek_id
from tradeforge.bus import ReplayClock
from tradeforge.store import Database
from tradeforge.store import tables as t

SECRET = "exchange-secret-canary-7f3a9c"
API_KEY = "exchange-api-key-canary-1b2c3d"


def test_100000_encryptions_repeat_no_nonce() -> None:
    count = 2_000_000 if os.environ.get("TRADEFORGE_LONG_TESTS") == "1" else 100_000
    box = SecretsBox(os.urandom(32))
    seen: set[bytes] = set()
    for n in range(count):
        blob = box.seal(b"secret %d" % n, b"aad")
        wrap_nonce, data_nonce = box.nonces(blob)
        assert len(wrap_nonce) == len(data_nonce) == NONCE_BYTES
        seen.add(wrap_nonce)
        seen.add(data_nonce)

    print(f"\nSEC-14: {count:,} encryptions, {2 * count:,} nonces, {2 * count - len(seen)} repeats")
    assert len(seen) == 2 * count


def test_the_box_binds_the_associated_data_and_detects_tampering() -> None:
    box = SecretsBox(os.urandom(32))
    blob = box.seal(b"s3cret", b"user-1|binance|c_1")

    assert box.open(blob, b"user-1|binance|c_1") == b"s3cret"
    for aad in (b"user-2|binance|c_1", b"user-1|kraken|c_1", b"user-1|binance|c_2", b""):
        with pytest.raises(SecretUnreadable):
            box.open(blob, aad)
    for at in (0, 5, 20, 60, len(blob) - 1):
        broken = bytearray(blob)
        broken[at] ^= 0x01
        with pytest.raises(SecretUnreadable):
            box.open(bytes(broken), b"user-1|binance|c_1")
    with pytest.raises(SecretUnreadable):
        SecretsBox(os.urandom(32)).open(blob, b"user-1|binance|c_1")  # another KEK


@pytest.fixture
def two_users(service: AuthService) -> AuthService:
    for name in ("alice", "bob"):
        user = make_user(service, name, Role.TRADER)
        service.store_credential(
            user, venue="binance", label="main", api_key=f"{API_KEY}-{name}",
            secret=f"{SECRET}-{name}", ctx=CTX,
        )  # fmt: skip
        service.store_credential(
            user, venue="kraken", label="main", api_key=f"{API_KEY}-{name}-k",
            secret=f"{SECRET}-{name}-k", passphrase="pass", ctx=CTX,
        )  # fmt: skip
    return service


def rows(database: Database) -> list[tuple[str, str, bytes]]:
    with database.engine.connect() as conn:
        c = t.exchange_credentials.c
        query = select(c.id, c.user_id, c.sealed).order_by(c.id)
        return [(r.id, r.user_id, bytes(r.sealed)) for r in conn.execute(query)]


def test_the_connector_wiring_gets_the_plaintext(
    two_users: AuthService, database: Database
) -> None:
    for credential_id, user_id, _ in rows(database):
        credential = two_users.credential_for_connector(user_id, credential_id, CTX)
        assert credential.secret.startswith(SECRET)
        assert SECRET not in repr(credential)
        assert API_KEY not in repr(credential)


def test_swapped_ciphertexts_fail_to_decrypt(two_users: AuthService, database: Database) -> None:
    before = rows(database)
    # Rotate every row's ciphertext one place: each lands in another row (user or venue).
    with database.engine.begin() as conn:
        for (credential_id, _, _), (_, _, sealed) in zip(
            before, before[1:] + before[:1], strict=True
        ):
            conn.execute(
                update(t.exchange_credentials)
                .where(t.exchange_credentials.c.id == credential_id)
                .values(sealed=sealed)
            )

    failures = 0
    for credential_id, user_id, _ in before:
        with pytest.raises(SecretUnreadable):
            two_users.credential_for_connector(user_id, credential_id, CTX)
        failures += 1
    print(f"\nSEC-14: {failures}/{len(before)} swapped ciphertexts refused to decrypt")


def test_the_service_never_returns_a_secret(two_users: AuthService, database: Database) -> None:
    alice = login_as(two_users, "alice")
    listed = two_users.list_credentials(alice, CTX)
    dump = repr(rows(database)) + repr(listed)

    assert {c.venue for c in listed} == {"binance", "kraken"}
    assert SECRET not in dump
    assert API_KEY not in dump
    assert all(c.key_hint.startswith("...") for c in listed)


def login_as(service: AuthService, username: str) -> Principal:
    return service.authenticate(service.login(username, PASSWORD, CTX).access_token)


def test_credentials_are_private_and_need_the_permission(
    two_users: AuthService, database: Database
) -> None:
    bob = login_as(two_users, "bob")
    alice = login_as(two_users, "alice")
    viewer = make_user(two_users, "vera", Role.VIEWER)
    alices = [cid for cid, owner, _ in rows(database) if owner == alice.user_id]
    bobs = [c.id for c in two_users.list_credentials(bob, CTX)]

    assert len(alices) == len(bobs) == 2
    assert not set(alices) & set(bobs)
    with pytest.raises(NotFound):
        two_users.delete_credential(bob, alices[0], CTX)
    with pytest.raises(NotFound):
        two_users.credential_for_connector(alice.user_id, bobs[0], CTX)
    with pytest.raises(Forbidden):
        two_users.store_credential(viewer, venue="binance", label="x", api_key="k", secret="s",
                                   ctx=CTX)  # fmt: skip
    two_users.delete_credential(alice, alices[0], CTX)
    assert len(two_users.list_credentials(alice, CTX)) == 1


def test_the_kek_rotates_without_touching_the_secrets(
    two_users: AuthService, database: Database, clock: ReplayClock, config: AuthConfig
) -> None:
    new_kek = generate_key_text()
    rotated_config = make_config(
        jwt_secret=config.jwt_secret, secret_key=new_kek, previous_secret_keys=(config.secret_key,)
    )
    rotated = AuthService(config=rotated_config, database=database, clock=clock,
                          hasher=fast_hasher())  # fmt: skip
    only_new = AuthService(
        config=make_config(jwt_secret=config.jwt_secret, secret_key=new_kek),
        database=database, clock=clock, hasher=fast_hasher(),
    )  # fmt: skip
    signer = two_users.create_api_key(
        login_as(two_users, "alice"), name="signer", scopes=["read"], signing=True, ctx=CTX
    )
    credential_id, user_id, _ = rows(database)[0]
    with pytest.raises(SecretUnreadable):
        only_new.credential_for_connector(user_id, credential_id, CTX)

    assert rotated.rotate_secret_key(CTX) == 5  # 4 credentials and 1 signing key

    for credential_id, user_id, sealed in rows(database):
        assert SecretsBox.sealed_by(sealed) == kek_id(parse_key(new_kek, "secret_key"))
        assert only_new.credential_for_connector(user_id, credential_id, CTX).secret
    now_ms = clock.timestamp_ns() // 1_000_000
    request = SignedRequest(
        key_id=signer.info.id, timestamp_ms=now_ms, method="GET", path="/api/v1/orders",
        signature=sign_request(signer.secret, key_id=signer.info.id, timestamp_ms=now_ms,
                               method="GET", path="/api/v1/orders"),
    )  # fmt: skip
    assert only_new.authenticate_signed(request, CTX).key_id == signer.info.id

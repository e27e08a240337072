"""SEC-9 HMAC request signing: a tampered part -> 401; skew > 5,000 ms -> 401 with
TIMESTAMP_OUTSIDE_RECV_WINDOW; 1,000 replays of a valid signed request inside the window ->
100 % refused; the comparison is constant-time (hmac.compare_digest)."""

from __future__ import annotations

import pytest
from msgspec.structs import replace
from tests.unit.auth.conftest import CTX, advance, make_user

from tradeforge.auth import (
    AuthenticationFailed,
    AuthMethod,
    AuthService,
    MemoryReplayCache,
    NewApiKey,
    Permission,
    Principal,
    SignedRequest,
    sign_request,
)
from tradeforge.auth.signing import canonical_request, signatures_match
from tradeforge.bus import ReplayClock

MS = 1_000_000


@pytest.fixture
def signer(service: AuthService) -> tuple[Principal, NewApiKey]:
    alice = make_user(service, "alice")
    key = service.create_api_key(alice, name="bot", scopes=["trade"], signing=True, ctx=CTX)
    return alice, key


def signed(
    key: NewApiKey, clock: ReplayClock, *, skew_ms: int = 0, **parts: object
) -> SignedRequest:
    values: dict[str, object] = {
        "method": "POST",
        "path": "/api/v1/orders",
        "query": "symbol=BTCUSDT&side=BUY",
        "body": b'{"quantity": "0.5", "price": "100.25"}',
    }
    values.update(parts)
    timestamp_ms = clock.timestamp_ns() // MS + skew_ms
    signature = sign_request(
        key.secret, key_id=key.info.id, timestamp_ms=timestamp_ms,
        **values,  # type: ignore[arg-type]
    )  # fmt: skip
    return SignedRequest(
        key_id=key.info.id,
        timestamp_ms=timestamp_ms,
        signature=signature,
        **values,  # type: ignore[arg-type]
    )


def code_of(service: AuthService, request: SignedRequest) -> str:
    with pytest.raises(AuthenticationFailed) as caught:
        service.authenticate_signed(request, CTX)
    return caught.value.code


def test_a_signed_request_authenticates_with_the_keys_scopes(
    service: AuthService, clock: ReplayClock, signer: tuple[Principal, NewApiKey]
) -> None:
    alice, key = signer

    principal = service.authenticate_signed(signed(key, clock), CTX)

    assert principal.user_id == alice.user_id
    assert principal.method is AuthMethod.SIGNED
    assert principal.can(Permission.ORDERS_WRITE)


def test_every_tampered_part_is_refused(
    service: AuthService, clock: ReplayClock, signer: tuple[Principal, NewApiKey]
) -> None:
    _, key = signer
    good = signed(key, clock)
    tampered = [
        replace(good, method="DELETE"),
        replace(good, path="/api/v1/orders/other"),
        replace(good, query="symbol=BTCUSDT&side=SELL"),
        replace(good, query="symbol=BTCUSDT&side=BUY&extra=1"),
        replace(good, body=b'{"quantity": "5.0", "price": "100.25"}'),
        replace(good, timestamp_ms=good.timestamp_ms + 1),
        replace(good, signature=good.signature[:-1] + ("0" if good.signature[-1] != "0" else "1")),
        replace(good, signature=""),
        replace(good, key_id="k_other"),
    ]

    codes = [code_of(service, request) for request in tampered]

    assert set(codes) <= {"SIGNATURE_INVALID", "KEY_INVALID"}
    assert len(codes) == len(tampered)


def test_the_query_order_does_not_matter_but_its_content_does() -> None:
    a = canonical_request(key_id="k", timestamp_ms=1, method="get", path="/p",
                          query="b=2&a=1", body=b"")  # fmt: skip
    b = canonical_request(key_id="k", timestamp_ms=1, method="GET", path="/p",
                          query="a=1&b=2", body=b"")  # fmt: skip
    c = canonical_request(key_id="k", timestamp_ms=1, method="GET", path="/p",
                          query="a=1&b=3", body=b"")  # fmt: skip

    assert a == b != c


def test_the_receive_window_is_5000_ms_either_way(
    service: AuthService, clock: ReplayClock, signer: tuple[Principal, NewApiKey]
) -> None:
    _, key = signer

    for skew_ms in (5_001, -5_001, 60_000, -3_600_000):
        request = signed(key, clock, skew_ms=skew_ms)
        assert code_of(service, request) == "TIMESTAMP_OUTSIDE_RECV_WINDOW"
    for skew_ms in (5_000, -5_000, 0):
        assert service.authenticate_signed(signed(key, clock, skew_ms=skew_ms), CTX)


def test_1000_replays_inside_the_window_are_all_refused(
    service: AuthService, clock: ReplayClock, signer: tuple[Principal, NewApiKey]
) -> None:
    _, key = signer
    request = signed(key, clock)
    assert service.authenticate_signed(request, CTX)

    codes = []
    for _ in range(1000):
        advance(clock, 0.004)  # all 1,000 inside the 5 s window
        try:
            service.authenticate_signed(request, CTX)
            codes.append("accepted")
        except AuthenticationFailed as exc:
            codes.append(exc.code)

    print(
        f"\nSEC-9: 1,000 replays inside the window -> {codes.count('SIGNATURE_REPLAYED')} refused"
    )
    assert codes == ["SIGNATURE_REPLAYED"] * 1000
    advance(clock, 2)  # and once the window has passed, the timestamp refuses it
    assert code_of(service, request) == "TIMESTAMP_OUTSIDE_RECV_WINDOW"


def test_the_replay_cache_forgets_signatures_once_their_window_has_passed() -> None:
    cache = MemoryReplayCache()
    for n in range(100):
        assert cache.first_use(f"k:{n}", expires_ns=1_000 + n, now_ns=0)
    assert not cache.first_use("k:5", expires_ns=2_000, now_ns=10)

    assert cache.first_use("late", expires_ns=10_000, now_ns=5_000)
    assert len(cache) == 1


def test_a_bearer_key_cannot_sign(service: AuthService, clock: ReplayClock) -> None:
    alice = make_user(service, "alice")
    bearer = service.create_api_key(alice, name="b", scopes=["read"], ctx=CTX)

    assert code_of(service, signed(bearer, clock)) == "KEY_INVALID"


def test_signatures_are_compared_in_constant_time() -> None:
    # hmac.compare_digest's time does not depend on where the strings differ.
    assert signatures_match("ab" * 32, "ab" * 32)
    assert not signatures_match("ab" * 32, "ab" * 31 + "ac")
    assert not signatures_match("ab" * 32, "")

"""SEC-4 JWT abuse: every forged, altered, mistyped or out-of-time token is refused (401, 100%).

Tokens signed with the real key are built the way an insider with the key would: the access
and refresh keys are HMAC-SHA256(secret, "tradeforge-jwt-<typ>") (tokens.py documents it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from tests.unit.auth.conftest import CTX, PASSWORD, T0, advance, fast_hasher, make_user

from tradeforge.auth import (
    AuthConfig,
    AuthenticationFailed,
    AuthService,
    TokenPair,
    generate_key_text,
)
from tradeforge.auth.config import parse_key
from tradeforge.bus import ReplayClock
from tradeforge.store import Database

NOW_S = T0 // 1_000_000_000


def key_of(config: AuthConfig, typ: str) -> bytes:
    secret = parse_key(config.jwt_secret, "jwt_secret")
    return hmac.new(secret, b"tradeforge-jwt-" + typ.encode(), hashlib.sha256).digest()


def claims(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "iss": "tradeforge",
        "aud": "tradeforge-api",
        "sub": "u_x",
        "sid": "s_x",
        "jti": "j_x",
        "typ": "access",
        "iat": NOW_S,
        "nbf": NOW_S,
        "exp": NOW_S + 900,
    }
    values.update(overrides)
    return values


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    return ".".join(
        [b64(json.dumps(header).encode()), b64(json.dumps(payload).encode()), b64(signature)]
    )


@pytest.fixture
def session(service: AuthService) -> TokenPair:
    make_user(service, "alice")
    return service.login("alice", PASSWORD, CTX)


def real_claims(service: AuthService, session: TokenPair) -> dict[str, Any]:
    principal = service.authenticate(session.access_token)
    return claims(sub=principal.user_id, sid=principal.session_id)


def forged_tokens(service: AuthService, config: AuthConfig, good: dict[str, Any]) -> list[str]:
    """The SEC-4 list; each would be accepted if the check it targets were missing."""
    access_key = key_of(config, "access")
    refresh_key = key_of(config, "refresh")
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"typ": "at+jwt"}

    def signed(payload: dict[str, Any], key: bytes = access_key, **head: Any) -> str:
        return jwt.encode(payload, key, algorithm="HS256", headers={**header, **head})

    def hs_with(key: bytes, payload: dict[str, Any]) -> str:
        # PyJWT refuses PEM-looking HMAC keys, so sign by hand like an attacker would.
        head = b64(json.dumps({"alg": "HS256", "typ": "at+jwt"}).encode())
        body = b64(json.dumps(payload).encode())
        mac = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
        return f"{head}.{body}.{b64(mac)}"

    good_token = signed(good)
    flipped = bytearray(base64.urlsafe_b64decode(good_token.split(".")[2] + "=="))
    flipped[0] ^= 0x01
    return [
        # alg none, in three spellings
        unsigned({"alg": "none", "typ": "at+jwt"}, good),
        unsigned({"alg": "None", "typ": "at+jwt"}, good),
        unsigned({"alg": "NONE", "typ": "at+jwt"}, good),
        # HS/RS swap: RS256 with the attacker's key; HS256 keyed with a public key
        jwt.encode(good, rsa_key, algorithm="RS256", headers=header),
        hs_with(public_pem, good),
        # another HMAC algorithm, even with the right key
        jwt.encode(good, access_key, algorithm="HS512", headers=header),
        # kid payloads (path traversal, SQL), signed with an empty or guessed key, or ours
        hs_with(b"", good).replace(
            b64(json.dumps({"alg": "HS256", "typ": "at+jwt"}).encode()),
            b64(json.dumps({"alg": "HS256", "typ": "at+jwt", "kid": "../../dev/null"}).encode()),
        ),
        signed(good, kid="../../../../dev/null"),
        signed(good, kid="' UNION SELECT 'key' --"),
        # jku / x5u / jwk pointing elsewhere
        signed(good, jku="https://attacker.example/jwks.json"),
        signed(good, x5u="https://attacker.example/cert.pem"),
        signed(good, jwk={"kty": "oct", "k": b64(b"attacker")}),
        # times: expired by 1 s past the leeway, nbf and iat in the future
        signed({**good, "exp": NOW_S - config.leeway_s - 1}),
        signed({**good, "nbf": NOW_S + config.leeway_s + 1}),
        signed({**good, "iat": NOW_S + config.leeway_s + 1}),
        # wrong issuer, audience (also as a list), type (claim, header)
        signed({**good, "iss": "someone-else"}),
        signed({**good, "aud": "other-api"}),
        signed({**good, "aud": ["other-api", "tradeforge-api"]}),
        signed({**good, "typ": "refresh"}),
        jwt.encode(good, access_key, algorithm="HS256", headers={"typ": "JWT"}),
        # a refresh token (its own key, typ and header) presented as an access token
        jwt.encode({**good, "typ": "refresh"}, refresh_key, algorithm="HS256",
                   headers={"typ": "rt+jwt"}),
        # missing claims
        signed({k: v for k, v in good.items() if k != "jti"}),
        signed({k: v for k, v in good.items() if k != "exp"}),
        signed({**good, "exp": str(NOW_S + 900)}),
        # a flipped signature bit
        ".".join([*good_token.split(".")[:2], b64(bytes(flipped))]),
        # 16 KB
        signed({**good, "pad": "x" * 16_384}),
        # garbage
        "",
        "not.a.token",
        good_token + ".extra",
    ]  # fmt: skip


def test_the_genuine_token_built_the_insider_way_is_accepted(
    service: AuthService, config: AuthConfig, session: TokenPair
) -> None:
    good = real_claims(service, session)
    token = jwt.encode(good, key_of(config, "access"), algorithm="HS256",
                       headers={"typ": "at+jwt"})  # fmt: skip

    assert service.authenticate(token).user_id == good["sub"]


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # the HS512 forgery
def test_every_forged_token_is_refused(
    service: AuthService, config: AuthConfig, session: TokenPair
) -> None:
    tokens = forged_tokens(service, config, real_claims(service, session))
    accepted = []
    for token in tokens:
        try:
            service.authenticate(token)
        except AuthenticationFailed:
            continue
        accepted.append(token)

    print(f"\nSEC-4: {len(tokens)} forged tokens, {len(tokens) - len(accepted)} refused")
    assert accepted == []


def test_an_access_token_is_not_a_refresh_token(service: AuthService, session: TokenPair) -> None:
    with pytest.raises(AuthenticationFailed, match="invalid token"):
        service.refresh(session.access_token, CTX)
    with pytest.raises(AuthenticationFailed, match="invalid token"):
        service.authenticate(session.refresh_token)


def test_expiry_uses_the_clock_and_the_leeway(
    service: AuthService, clock: ReplayClock, config: AuthConfig, session: TokenPair
) -> None:
    advance(clock, config.access_ttl_s + config.leeway_s - 1)
    assert service.authenticate(session.access_token)

    advance(clock, 2)  # expired by 1 s past the leeway
    with pytest.raises(AuthenticationFailed) as caught:
        service.authenticate(session.access_token)
    assert caught.value.code == "TOKEN_EXPIRED"


def test_tokens_signed_before_a_rotation_stay_valid_with_the_previous_secret(
    service: AuthService, database: Database, clock: ReplayClock, config: AuthConfig,
    session: TokenPair,
) -> None:  # fmt: skip
    rotated = AuthConfig(
        jwt_secret=generate_key_text(),
        jwt_previous_secrets=(config.jwt_secret,),
        secret_key=config.secret_key,
    )
    after = AuthService(config=rotated, database=database, clock=clock, hasher=fast_hasher())
    dropped = AuthConfig(jwt_secret=rotated.jwt_secret, secret_key=config.secret_key)
    later = AuthService(config=dropped, database=database, clock=clock, hasher=fast_hasher())

    assert after.authenticate(session.access_token)
    new_pair = after.refresh(session.refresh_token, CTX)
    assert later.authenticate(new_pair.access_token)
    with pytest.raises(AuthenticationFailed):
        later.authenticate(session.access_token)

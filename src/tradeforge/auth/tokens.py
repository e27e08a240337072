"""``TokenCodec``: JWT access and refresh tokens, issued and verified as RFC 8725 asks.

- One algorithm, HS256, on an allow-list: ``none``, RS/ES/PS (an HS/RS swap) and anything
  else is refused before a key is touched.
- The key is >= 256 random bits (checked at start-up, :func:`~tradeforge.auth.config.parse_key`),
  and access and refresh tokens are signed with different keys derived from it, so the two
  kinds can never validate as each other (§3.12) even before ``typ`` is compared.
- Explicit typing (§3.11): the header ``typ`` is ``at+jwt`` (RFC 9068) or ``rt+jwt`` and the
  claim ``typ`` is ``access`` or ``refresh``; both must match what the caller expects.
- Required claims: ``iss``, ``aud`` (exactly ours), ``sub``, ``sid``, ``jti``, ``iat``, ``nbf``,
  ``exp``. Times are read from the injected clock (PyJWT would read the wall clock), with a
  leeway of at most 30 s.
- Received header parameters are not trusted (§3.10): a header with anything but ``alg`` and
  ``typ`` (``kid``, ``jku``, ``x5u``, ``jwk``, ``crit``...) is refused; nothing is fetched.
- A token longer than 4 KiB is refused unread.

Key rotation: verification also accepts the previous secrets given (in order), so tokens signed
before a rotation stay valid until they expire; new tokens use the current secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

import jwt
import msgspec

from tradeforge.auth.errors import AuthenticationFailed
from tradeforge.bus import Clock

__all__ = ["ALGORITHM", "MAX_TOKEN_CHARS", "Claims", "TokenCodec", "TokenType"]

ALGORITHM = "HS256"
MAX_TOKEN_CHARS = 4096
_NS = 1_000_000_000


class TokenType(StrEnum):
    """The two kinds of token; one never passes as the other."""

    ACCESS = "access"
    REFRESH = "refresh"


_HEADER_TYP = {TokenType.ACCESS: "at+jwt", TokenType.REFRESH: "rt+jwt"}
_REQUIRED = ["iss", "aud", "sub", "sid", "jti", "iat", "nbf", "exp", "typ"]


class Claims(msgspec.Struct, frozen=True, kw_only=True):
    """The verified claims of a token (times in seconds since the epoch)."""

    typ: TokenType
    sub: str
    sid: str
    jti: str
    iat: int
    nbf: int
    exp: int


class TokenCodec:
    """Issues and verifies tokens for one issuer and audience."""

    def __init__(
        self,
        *,
        secret: bytes,
        previous_secrets: Sequence[bytes] = (),
        issuer: str,
        audience: str,
        clock: Clock,
        leeway_s: int,
    ) -> None:
        self._keys = {
            typ: [_derive(key, typ) for key in (secret, *previous_secrets)] for typ in TokenType
        }
        self.issuer = issuer
        self.audience = audience
        self._clock = clock
        self._leeway = leeway_s

    def issue(self, typ: TokenType, *, subject: str, session_id: str, ttl_s: int) -> Claims:
        """New claims of ``typ`` valid from now for ``ttl_s`` seconds, with a random ``jti``."""
        now = self._clock.timestamp_ns() // _NS
        return Claims(
            typ=typ,
            sub=subject,
            sid=session_id,
            jti=secrets.token_hex(16),
            iat=now,
            nbf=now,
            exp=now + ttl_s,
        )

    def encode(self, claims: Claims) -> str:
        """The signed compact JWT of ``claims``."""
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            **msgspec.structs.asdict(claims),
        }
        payload["typ"] = claims.typ.value
        return jwt.encode(
            payload,
            self._keys[claims.typ][0],
            algorithm=ALGORITHM,
            headers={"typ": _HEADER_TYP[claims.typ]},
        )

    def verify(self, token: str, typ: TokenType) -> Claims:
        """The claims of ``token`` if it is a valid, current token of ``typ``.

        Raises:
            AuthenticationFailed: ``TOKEN_INVALID`` for anything malformed, forged, of another
                kind, issuer or audience; ``TOKEN_EXPIRED`` once ``exp`` (+ leeway) has passed.
        """
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
            raise _invalid("token too long")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise _invalid("malformed token") from None
        if (
            header.get("alg") != ALGORITHM
            or set(header) != {"alg", "typ"}
            or header.get("typ") != _HEADER_TYP[typ]
        ):
            raise _invalid("unexpected token header")
        payload = self._decode(token, typ)
        claims = _claims(payload, typ, self.audience)
        now = self._clock.timestamp_ns() / _NS
        if now >= claims.exp + self._leeway:
            raise AuthenticationFailed("token expired", code="TOKEN_EXPIRED")
        if claims.nbf > now + self._leeway or claims.iat > now + self._leeway:
            raise _invalid("token not valid yet")
        return claims

    def _decode(self, token: str, typ: TokenType) -> dict[str, Any]:
        options: dict[str, Any] = {
            "require": _REQUIRED,
            "verify_exp": False,  # checked against the injected clock instead
            "verify_nbf": False,
            "verify_iat": False,
        }
        for key in self._keys[typ]:
            try:
                payload: dict[str, Any] = jwt.decode(
                    token,
                    key,
                    algorithms=[ALGORITHM],
                    audience=self.audience,
                    issuer=self.issuer,
                    options=options,  # type: ignore[arg-type]
                )
            except jwt.InvalidSignatureError:
                continue
            except jwt.PyJWTError:
                raise _invalid("invalid token") from None
            return payload
        raise _invalid("bad signature")


def _claims(payload: dict[str, Any], typ: TokenType, audience: str) -> Claims:
    strings = ("sub", "sid", "jti")
    times = ("iat", "nbf", "exp")
    if (
        payload.get("typ") != typ.value
        or payload.get("aud") != audience
        or any(not isinstance(payload.get(k), str) or not payload[k] for k in strings)
        or any(type(payload.get(k)) is not int for k in times)
    ):
        raise _invalid("unexpected claims")
    return Claims(typ=typ, **{k: payload[k] for k in (*strings, *times)})


def _derive(secret: bytes, typ: TokenType) -> bytes:
    return hmac.new(secret, b"tradeforge-jwt-" + typ.value.encode(), hashlib.sha256).digest()


def _invalid(why: str) -> AuthenticationFailed:
    return AuthenticationFailed(f"invalid token: {why}", code="TOKEN_INVALID")

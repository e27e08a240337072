"""API keys: the token format, and ``ApiKeyManager`` (create, authenticate, list, revoke).

Format (GitHub's 2021 scheme): ``tf_<kind>_<43 random base62 chars><6-char CRC32>``, 56
characters. 43 base62 characters are 256 bits from ``secrets``; the CRC32 of everything before
it, in base62, lets a scanner (:data:`SCANNER_REGEX` + :func:`is_api_key`) tell a real key from
a random string without a database, and a typo from a revoked key.

Two kinds:

- ``tf_key_``: a bearer key, sent with each request. Stored only as SHA-256 (a 256-bit random
  secret needs no slow KDF); shown once, never recoverable.
- ``tf_sig_``: a signing key for HMAC request signing (:mod:`tradeforge.auth.signing`). The
  secret never travels after creation: the client sends the key id and a signature. The server
  must recompute signatures, so the secret is stored *recoverably*, sealed in the secrets box
  (AES-256-GCM under the key-encryption key kept outside the database). The trade-off: a
  database dump alone still yields no secret, but the database plus the KEK yields the signing
  secrets (never the bearer ones). A signing key is refused as a bearer key.

A key grants its owner's role intersected with its scopes (``read``, ``trade``, ``admin``); it
may be limited to IP networks and may expire.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import secrets
import string
import zlib
from collections.abc import Iterable
from enum import StrEnum

import msgspec

from tradeforge.auth.audit import AuditAction, Outcome
from tradeforge.auth.config import AuthConfig
from tradeforge.auth.errors import (
    AuthenticationFailed,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    SecretUnreadable,
)
from tradeforge.auth.principal import AuthMethod, Principal, RequestContext
from tradeforge.auth.records import KeyRecord, UserRecord, new_id
from tradeforge.auth.repository import AuthRepository
from tradeforge.auth.roles import ROLE_PERMISSIONS, SCOPE_PERMISSIONS, Scope, permissions_of
from tradeforge.auth.secrets_box import SecretsBox
from tradeforge.auth.signing import ReplayCache, SignedRequest, sign_request, signatures_match
from tradeforge.bus import Clock

__all__ = [
    "SCANNER_REGEX",
    "ApiKeyInfo",
    "ApiKeyManager",
    "KeyKind",
    "NewApiKey",
    "find_api_keys",
    "generate_api_key",
    "is_api_key",
]

_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_RANDOM_CHARS = 43  # 43 * log2(62) = 256.03 bits
_CRC_CHARS = 6  # 62**6 > 2**32
SCANNER_REGEX = re.compile(r"\btf_(?:key|sig)_[0-9A-Za-z]{49}\b")
"""Matches every key this module makes (confirm a hit with :func:`is_api_key`)."""
_MS = 1_000_000
_NS = 1_000_000_000
_TOUCH_EVERY_NS = 60 * _NS
_MAX_NETWORKS = 32
_MAX_LIFETIME_S = 366 * 86_400


class KeyKind(StrEnum):
    """How a key is used."""

    BEARER = "key"
    SIGNING = "sig"


class ApiKeyInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What may be shown about a key (never its secret)."""

    id: str
    user_id: str
    name: str
    kind: KeyKind
    hint: str
    scopes: tuple[Scope, ...]
    ip_allowlist: tuple[str, ...]
    created_ns: int
    expires_ns: int | None
    last_used_ns: int | None
    revoked_ns: int | None


class NewApiKey(msgspec.Struct, frozen=True, kw_only=True):
    """A key just created: ``secret`` is shown this once and cannot be read again."""

    info: ApiKeyInfo
    secret: str

    def __repr__(self) -> str:
        return f"NewApiKey(info={self.info!r}, secret='***')"


def _base62(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, digit = divmod(value, 62)
        chars.append(_BASE62[digit])
    return "".join(reversed(chars))


def _checksum(head: str) -> str:
    return _base62(zlib.crc32(head.encode()), _CRC_CHARS)


def generate_api_key(kind: KeyKind) -> str:
    """A new random key of ``kind``."""
    head = f"tf_{kind.value}_" + "".join(secrets.choice(_BASE62) for _ in range(_RANDOM_CHARS))
    return head + _checksum(head)


def is_api_key(text: str) -> bool:
    """Whether ``text`` is exactly a well-formed key with a valid checksum."""
    if not SCANNER_REGEX.fullmatch(text):
        return False
    head, crc = text[:-_CRC_CHARS], text[-_CRC_CHARS:]
    return secrets.compare_digest(_checksum(head), crc)


def find_api_keys(text: str) -> list[str]:
    """Every key in ``text`` (a log, a commit): regex hits whose checksum holds."""
    return [m.group(0) for m in SCANNER_REGEX.finditer(text) if is_api_key(m.group(0))]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aad(user_id: str, key_id: str) -> bytes:
    return f"api-key\x1f{user_id}\x1f{key_id}".encode()


def _info(key: KeyRecord) -> ApiKeyInfo:
    return ApiKeyInfo(
        id=key.id,
        user_id=key.user_id,
        name=key.name,
        kind=KeyKind(key.kind),
        hint=key.hint,
        scopes=tuple(sorted(key.scopes)),
        ip_allowlist=key.ip_allowlist,
        created_ns=key.created_ns,
        expires_ns=key.expires_ns,
        last_used_ns=key.last_used_ns,
        revoked_ns=key.revoked_ns,
    )


def _networks(allowlist: Iterable[str]) -> tuple[str, ...]:
    out = []
    for entry in allowlist:
        try:
            out.append(str(ipaddress.ip_network(entry.strip(), strict=False)))
        except ValueError:
            raise InvalidInput(
                "ip_allowlist", f"{entry!r} is not an IP address or network"
            ) from None
    if len(out) > _MAX_NETWORKS:
        raise InvalidInput("ip_allowlist", f"at most {_MAX_NETWORKS} networks")
    return tuple(dict.fromkeys(out))


def _ip_allowed(allowlist: tuple[str, ...], ip: str | None) -> bool:
    if not allowlist:
        return True
    if ip is None:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net) for net in allowlist)


class ApiKeyManager:
    """Creates keys and turns a presented key (or a signed request) into a Principal."""

    def __init__(
        self,
        *,
        repository: AuthRepository,
        clock: Clock,
        box: SecretsBox,
        replay_cache: ReplayCache,
        config: AuthConfig,
    ) -> None:
        self._repo = repository
        self._clock = clock
        self._box = box
        self._replays = replay_cache
        self._config = config

    def create(
        self,
        owner: UserRecord,
        *,
        name: str,
        scopes: Iterable[Scope | str],
        kind: KeyKind,
        ip_allowlist: Iterable[str],
        expires_in_s: int | None,
        actor: str,
        ctx: RequestContext,
    ) -> NewApiKey:
        """A new key for ``owner``; its scopes may not exceed the owner's role."""
        name = name.strip()
        if not 0 < len(name) <= 100:
            raise InvalidInput("name", "1 to 100 characters")
        try:
            wanted = frozenset(Scope(s) for s in scopes)
        except ValueError:
            raise InvalidInput("scopes", f"each one of {[s.value for s in Scope]}") from None
        if not wanted:
            raise InvalidInput("scopes", "at least one scope")
        for scope in sorted(wanted):
            if not SCOPE_PERMISSIONS[scope] <= ROLE_PERMISSIONS[owner.role]:
                raise Forbidden(
                    f"scope {scope.value!r} exceeds the role {owner.role.value!r}",
                    code="SCOPE_EXCEEDS_ROLE",
                )
        if expires_in_s is not None and not 0 < expires_in_s <= _MAX_LIFETIME_S:
            raise InvalidInput("expires_in_s", f"1..{_MAX_LIFETIME_S} seconds, or none")
        networks = _networks(ip_allowlist)
        now = self._clock.timestamp_ns()
        secret = generate_api_key(kind)
        key = KeyRecord(
            id=new_id("k"),
            user_id=owner.id,
            name=name,
            kind=kind.value,
            hint=f"{secret[:11]}...{secret[-4:]}",
            secret_sha256=_digest(secret),
            sealed_secret=None,
            kek_id=None,
            scopes=wanted,
            ip_allowlist=networks,
            created_ns=now,
            expires_ns=now + expires_in_s * _NS if expires_in_s is not None else None,
            last_used_ns=None,
            revoked_ns=None,
        )
        if kind is KeyKind.SIGNING:
            sealed = self._box.seal(secret.encode(), _aad(owner.id, key.id))
            key = msgspec.structs.replace(key, sealed_secret=sealed, kek_id=self._box.current_id)
        with self._repo.write() as tx:
            if tx.count_active_keys(owner.id, now) >= self._config.max_api_keys_per_user:
                raise Conflict(
                    f"at most {self._config.max_api_keys_per_user} active keys per user",
                    code="TOO_MANY_KEYS",
                )
            tx.insert_key(key)
            tx.record(
                now, ctx, actor, AuditAction.KEY_CREATED, key.id,
                owner=owner.id, kind=kind.value, scopes=",".join(sorted(wanted)),
            )  # fmt: skip
        return NewApiKey(info=_info(key), secret=secret)

    def authenticate(self, token: str, ctx: RequestContext) -> Principal:
        """The Principal of a bearer key.

        Raises:
            AuthenticationFailed: not a key, unknown, revoked, expired, a signing key, or its
                owner is disabled.
            Forbidden: the request's IP is outside the key's allow-list.
        """
        if not is_api_key(token):
            raise AuthenticationFailed("invalid API key", code="KEY_INVALID")
        with self._repo.read() as tx:
            found = tx.key_with_user(secret_sha256=_digest(token))
        if found is None:
            raise AuthenticationFailed("invalid API key", code="KEY_INVALID")
        key, user = found
        if key.kind != KeyKind.BEARER:
            self._reject(key, ctx, "signing key sent as a bearer key")
            raise AuthenticationFailed(
                "a signing key signs requests; it is never sent", code="KEY_INVALID"
            )
        return self._admit(key, user, ctx, AuthMethod.API_KEY)

    def authenticate_signed(self, request: SignedRequest, ctx: RequestContext) -> Principal:
        """The Principal of an HMAC-signed request (see :mod:`tradeforge.auth.signing`).

        Raises:
            AuthenticationFailed: ``TIMESTAMP_OUTSIDE_RECV_WINDOW`` (skew over the window),
                ``SIGNATURE_INVALID``, ``SIGNATURE_REPLAYED``, or the key checks of
                :meth:`authenticate`.
            Forbidden: the IP is outside the key's allow-list.
        """
        now = self._clock.timestamp_ns()
        window_ms = self._config.recv_window_ms
        if abs(now // _MS - request.timestamp_ms) > window_ms:
            raise AuthenticationFailed(
                f"timestamp {request.timestamp_ms} is outside the receive window of {window_ms} ms",
                code="TIMESTAMP_OUTSIDE_RECV_WINDOW",
            )
        with self._repo.read() as tx:
            found = tx.key_with_user(key_id=request.key_id)
        if found is None or found[0].kind != KeyKind.SIGNING or found[0].sealed_secret is None:
            raise AuthenticationFailed("invalid API key", code="KEY_INVALID")
        key, user = found
        assert key.sealed_secret is not None
        try:
            secret = self._box.open(key.sealed_secret, _aad(key.user_id, key.id)).decode()
        except SecretUnreadable:
            self._reject(key, ctx, "sealed secret unreadable")
            raise
        expected = sign_request(
            secret,
            key_id=key.id,
            timestamp_ms=request.timestamp_ms,
            method=request.method,
            path=request.path,
            query=request.query,
            body=request.body,
        )
        if not signatures_match(expected, request.signature):
            self._reject(key, ctx, "bad signature")
            raise AuthenticationFailed("signature does not match", code="SIGNATURE_INVALID")
        expires_ns = (request.timestamp_ms + window_ms + 1) * _MS
        if not self._replays.first_use(f"{key.id}:{expected}", expires_ns, now):
            self._reject(key, ctx, "replayed signature")
            raise AuthenticationFailed("request already seen", code="SIGNATURE_REPLAYED")
        return self._admit(key, user, ctx, AuthMethod.SIGNED)

    def _admit(
        self, key: KeyRecord, user: UserRecord, ctx: RequestContext, method: AuthMethod
    ) -> Principal:
        now = self._clock.timestamp_ns()
        if key.revoked_ns is not None or user.disabled:
            self._reject(key, ctx, "revoked" if key.revoked_ns is not None else "owner disabled")
            raise AuthenticationFailed("API key revoked", code="KEY_REVOKED")
        if key.expires_ns is not None and now >= key.expires_ns:
            self._reject(key, ctx, "expired")
            raise AuthenticationFailed("API key expired", code="KEY_EXPIRED")
        if not _ip_allowed(key.ip_allowlist, ctx.ip):
            self._reject(key, ctx, "ip not allowed")
            raise Forbidden(f"IP {ctx.ip} is not allowed for this key", code="IP_NOT_ALLOWED")
        if key.last_used_ns is None or key.last_used_ns < now - _TOUCH_EVERY_NS:
            with self._repo.write() as tx:
                tx.touch_key(key.id, now, _TOUCH_EVERY_NS)
        return Principal(
            user_id=user.id,
            username=user.username,
            role=user.role,
            method=method,
            permissions=permissions_of(user.role, key.scopes),
            key_id=key.id,
            scopes=key.scopes,
        )

    def _reject(self, key: KeyRecord, ctx: RequestContext, why: str) -> None:
        with self._repo.write() as tx:
            tx.record(
                self._clock.timestamp_ns(), ctx, key.user_id, AuditAction.KEY_REJECTED, key.id,
                outcome=Outcome.REFUSED, reason=why,
            )  # fmt: skip

    def keys_of(self, user_id: str) -> list[ApiKeyInfo]:
        """The keys of ``user_id``, newest first (revoked and expired ones included)."""
        with self._repo.read() as tx:
            return [_info(k) for k in tx.keys_of(user_id)]

    def get(self, key_id: str) -> ApiKeyInfo | None:
        """One key, or None."""
        with self._repo.read() as tx:
            found = tx.key_with_user(key_id=key_id)
        return _info(found[0]) if found else None

    def revoke(self, key_id: str, *, owner_id: str | None, actor: str, ctx: RequestContext) -> None:
        """Revoke a key (of ``owner_id`` when given: another user's key is NotFound)."""
        now = self._clock.timestamp_ns()
        with self._repo.write() as tx:
            found = tx.key_with_user(key_id=key_id)
            if found is None or (owner_id is not None and found[0].user_id != owner_id):
                raise NotFound("no such API key")
            tx.revoke_key(key_id, now)
            tx.record(now, ctx, actor, AuditAction.KEY_REVOKED, key_id, owner=found[0].user_id)

    def revoke_all_of(self, user_id: str, *, actor: str, reason: str, ctx: RequestContext) -> int:
        """Revoke every key of ``user_id`` still in force (each audited); how many."""
        now = self._clock.timestamp_ns()
        revoked = 0
        with self._repo.write() as tx:
            for key in tx.keys_of(user_id):
                if tx.revoke_key(key.id, now):
                    revoked += 1
                    tx.record(now, ctx, actor, AuditAction.KEY_REVOKED, key.id, owner=user_id,
                              reason=reason)  # fmt: skip
        return revoked

    def revoke_leaked(self, token: str, ctx: RequestContext) -> bool:
        """Revoke the key whose secret is ``token`` (a secret-scanning report); True if found."""
        if not is_api_key(token):
            return False
        now = self._clock.timestamp_ns()
        with self._repo.write() as tx:
            found = tx.key_with_user(secret_sha256=_digest(token))
            if found is None:
                return False
            tx.revoke_key(found[0].id, now)
            tx.record(
                now, ctx, "system", AuditAction.KEY_REVOKED, found[0].id,
                owner=found[0].user_id, reason="leaked",
            )  # fmt: skip
            return True

    def reseal_all(self) -> int:
        """Re-wrap every signing secret under the current KEK; how many rows changed."""
        with self._repo.write() as tx:
            stale = tx.sealed_keys_not_by(self._box.current_id)
            for key in stale:
                assert key.sealed_secret is not None
                blob = self._box.rewrap(key.sealed_secret, _aad(key.user_id, key.id))
                tx.reseal_key(key.id, blob, self._box.current_id)
        return len(stale)

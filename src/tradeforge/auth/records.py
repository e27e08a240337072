"""The rows of the auth tables as typed values (what ``AuthRepository`` reads and writes).

These hold secrets' hashes and sealed blobs: they stay inside the package; the public
``*Info`` structs of each module are what leaves it.
"""

from __future__ import annotations

import secrets

import msgspec

from tradeforge.auth.roles import Role, Scope

__all__ = [
    "CredentialRecord",
    "KeyRecord",
    "SessionRecord",
    "ThrottleRecord",
    "UserRecord",
    "new_id",
]


def new_id(prefix: str) -> str:
    """A new random row id (128 bits), e.g. ``u_3f9c...``: unguessable, so never enumerable."""
    return f"{prefix}_{secrets.token_hex(16)}"


class UserRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    username: str
    password_hash: str
    role: Role
    disabled: bool
    created_ns: int
    updated_ns: int
    password_changed_ns: int


class SessionRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    user_id: str
    created_ns: int
    last_seen_ns: int
    expires_ns: int
    ip: str | None
    user_agent: str | None
    revoked_ns: int | None
    revoked_reason: str | None


class KeyRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    user_id: str
    name: str
    kind: str
    hint: str
    secret_sha256: str
    sealed_secret: bytes | None
    kek_id: str | None
    scopes: frozenset[Scope]
    ip_allowlist: tuple[str, ...]
    created_ns: int
    expires_ns: int | None
    last_used_ns: int | None
    revoked_ns: int | None


class ThrottleRecord(msgspec.Struct, frozen=True, kw_only=True):
    username: str
    failures: int
    next_allowed_ns: int
    locked: bool
    last_failure_ns: int


class CredentialRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    user_id: str
    venue: str
    label: str
    key_hint: str
    sealed: bytes
    kek_id: str
    created_ns: int
    updated_ns: int

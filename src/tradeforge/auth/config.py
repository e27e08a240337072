"""Settings of the auth service (``[auth]``, ``TRADEFORGE__AUTH__*``) and its key material.

Limits are checked when the struct is built and name the key. The secrets (``jwt_secret``,
``secret_key``, or the files holding them) are checked when the service starts
(:func:`load_key`): a missing, default, short or patterned secret refuses start-up with a
``ConfigurationError`` that says how to make a good one. A secret is the base64url or hex text
of at least 32 random bytes (256 bits, RFC 7518 §3.2 / RFC 8725 §3.5).
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
from pathlib import Path

import msgspec

from tradeforge.domain.errors import ConfigurationError

__all__ = ["MIN_KEY_BYTES", "AuthConfig", "generate_key_text", "load_key", "parse_key"]

MIN_KEY_BYTES = 32
_KNOWN_DEFAULTS = frozenset(
    {
        "",
        "changethis",
        "changeme",
        "change-me",
        "secret",
        "your-secret-key",
        "supersecret",
        "password",
        "tradeforge",
    }
)
_HOW = "make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"


class AuthConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The auth service's settings (durations in seconds)."""

    jwt_secret: str = ""
    """Signs access and refresh tokens (HS256): >= 32 random bytes as base64url or hex."""
    jwt_secret_file: str = ""
    """A file holding ``jwt_secret`` instead (must not be readable by group or others)."""
    jwt_previous_secrets: tuple[str, ...] = ()
    """Still accepted for verification after a rotation (drop after ``refresh_ttl_s``)."""
    secret_key: str = ""
    """The key-encryption key of the secrets box (exchange credentials, signing keys)."""
    secret_key_file: str = ""
    """A file holding ``secret_key`` instead."""
    previous_secret_keys: tuple[str, ...] = ()
    """Older key-encryption keys, still unwrapping rows until ``rotate_secret_key()``."""
    admin_username: str = "admin"
    """The user ``tradeforge up`` creates on its first start."""
    admin_password: str = ""
    """That user's password; empty: a generated one is printed once."""
    issuer: str = "tradeforge"
    audience: str = "tradeforge-api"
    access_ttl_s: int = 900
    refresh_ttl_s: int = 7 * 86_400
    session_max_age_s: int = 30 * 86_400
    leeway_s: int = 10
    session_cache_ttl_s: float = 0.0
    """How long a checked session is trusted without reading it again (0: every request)."""
    min_password_length: int = 12
    max_password_length: int = 256
    login_free_failures: int = 5
    """Failures in a row before the back-off starts."""
    backoff_first_s: int = 60
    backoff_max_s: int = 900
    max_failures: int = 50
    """Failures in a row that lock the account until an admin unlocks it (NIST: <= 100)."""
    failure_memory_s: int = 86_400
    """A failure streak older than this is forgotten."""
    ip_failures_per_minute: int = 20
    recv_window_ms: int = 5_000
    max_api_keys_per_user: int = 100
    allow_registration: bool = False
    """Anyone may create a ``viewer`` account (``POST /api/v1/auth/register``); closed by
    default: admins create users."""

    def __post_init__(self) -> None:
        _check(0 < self.access_ttl_s <= 900, "access_ttl_s", self.access_ttl_s, "1..900 (15 min)")
        _check(0 <= self.leeway_s <= 30, "leeway_s", self.leeway_s, "0..30")
        _check(
            self.access_ttl_s < self.refresh_ttl_s <= self.session_max_age_s,
            "refresh_ttl_s",
            self.refresh_ttl_s,
            "above access_ttl_s and at most session_max_age_s",
        )
        _check(
            0 <= self.session_cache_ttl_s <= 60,
            "session_cache_ttl_s",
            self.session_cache_ttl_s,
            "0..60",
        )
        _check(
            8 <= self.min_password_length <= 64,
            "min_password_length",
            self.min_password_length,
            "8..64 (NIST SP 800-63B)",
        )
        _check(
            64 <= self.max_password_length <= 4096,
            "max_password_length",
            self.max_password_length,
            "64..4096",
        )
        _check(
            0 < self.login_free_failures < self.max_failures,
            "login_free_failures",
            self.login_free_failures,
            "1..max_failures-1",
        )
        _check(
            0 < self.backoff_first_s <= self.backoff_max_s <= 3600,
            "backoff_first_s",
            self.backoff_first_s,
            "1..backoff_max_s, and backoff_max_s <= 3600",
        )
        _check(
            0 < self.max_failures < 100,
            "max_failures",
            self.max_failures,
            "1..99 (NIST SP 800-63B: never 100 failures on one account)",
        )
        _check(self.failure_memory_s > 0, "failure_memory_s", self.failure_memory_s, "> 0")
        _check(
            0 < self.ip_failures_per_minute <= 1000,
            "ip_failures_per_minute",
            self.ip_failures_per_minute,
            "1..1000",
        )
        _check(
            100 <= self.recv_window_ms <= 60_000,
            "recv_window_ms",
            self.recv_window_ms,
            "100..60000",
        )
        _check(
            0 < self.max_api_keys_per_user <= 1000,
            "max_api_keys_per_user",
            self.max_api_keys_per_user,
            "1..1000",
        )
        _check(bool(self.issuer), "issuer", self.issuer, "not empty")
        _check(bool(self.audience), "audience", self.audience, "not empty")


def _check(ok: bool, key: str, value: object, expected: str) -> None:
    if not ok:
        name = f"TRADEFORGE__AUTH__{key.upper()}"
        raise ConfigurationError(f"{name} = {value!r}: expected {expected}")


def generate_key_text() -> str:
    """A new secret for ``jwt_secret`` or ``secret_key`` (32 random bytes, base64url)."""
    return base64.urlsafe_b64encode(os.urandom(MIN_KEY_BYTES)).rstrip(b"=").decode()


def parse_key(text: str, key: str) -> bytes:
    """The bytes of a secret written as base64url or hex; refuses weak ones, naming ``key``.

    Refused: a known default, fewer than 32 bytes, or a text/byte pattern no random generator
    makes (few distinct characters or bytes, e.g. ``changethis`` repeated or ``deadbeef`` * 8).
    """
    name = f"TRADEFORGE__AUTH__{key.upper()}"
    value = text.strip()
    if value.lower() in _KNOWN_DEFAULTS:
        raise ConfigurationError(f"{name} is missing or a known default; {_HOW}")
    raw = _decode(value)
    if raw is None or len(raw) < MIN_KEY_BYTES:
        got = "not base64url or hex" if raw is None else f"{len(raw) * 8} bits"
        raise ConfigurationError(
            f"{name} must be >= {MIN_KEY_BYTES * 8} random bits as base64url or hex ({got}); {_HOW}"
        )
    # 32 random bytes have ~30 distinct values (fewer than 20: p < 1e-6); base64 text of them
    # has ~31 distinct characters. A memorable or repeated phrase fails one of the two.
    distinct_chars = len(set(value))
    text_floor = 12 if _is_hex(value) else 20
    if len(set(raw)) < min(20, len(raw)) or distinct_chars < text_floor:
        raise ConfigurationError(f"{name} does not look random; {_HOW}")
    return raw


def _is_hex(value: str) -> bool:
    return len(value) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in value)


def _decode(value: str) -> bytes | None:
    if _is_hex(value):
        return bytes.fromhex(value)
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None


def load_key(text: str, file: str, key: str) -> bytes:
    """The secret from its setting, else from its file; refuses a weak or unreadable one.

    The file must belong to the user running TradeForge and be unreadable by group and others.
    """
    if text:
        return parse_key(text, key)
    if not file:
        return parse_key("", key)
    path = Path(file).expanduser()
    name = f"TRADEFORGE__AUTH__{key.upper()}_FILE"
    try:
        mode = path.stat().st_mode
        content = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{name} = {file!r}: cannot read the key file: {exc}") from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"{name} = {file!r}: the key file is readable by others; chmod 600 {path}"
        )
    return parse_key(content, key)

"""Settings of the API gateway (``[gateway]``, ``TRADEFORGE__GATEWAY__*``) and of the Redis
server it shares counters through (``[redis]``, ``TRADEFORGE__REDIS__*``).

Limits are checked when the struct is built, and a refusal names the environment variable.
Rate limits count requests in a sliding window of ``rate_limit_window_s`` seconds, per API key,
per user and per client IP (``docs/api.md``); 0 turns one of them off. With ``redis.url`` set,
every gateway process counts in the same Redis, so N processes together admit no more than one.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

import msgspec

from tradeforge.domain.errors import ConfigurationError

__all__ = ["GatewayConfig", "RedisConfig"]

_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")


class GatewayConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The gateway's limits, CORS allow-list and transport settings."""

    rate_limit_window_s: int = 60
    """The sliding window the request limits below count in."""
    rate_limit_per_key: int = 600
    """Requests per window with one API key (0: no limit)."""
    rate_limit_per_user: int = 1200
    """Requests per window by one user, all their sessions and keys together (0: no limit)."""
    rate_limit_per_ip: int = 1200
    """Requests per window from one client address, authenticated or not (0: no limit)."""
    cors_origins: tuple[str, ...] = ()
    """Web origins (``https://app.example.com``) whose pages may call the API; none by default.
    ``*`` is refused: the API takes bearer credentials."""
    trusted_proxies: tuple[str, ...] = ()
    """Addresses of reverse proxies whose ``X-Forwarded-For``/``-Proto`` are believed; none by
    default (the client address is the socket's peer)."""
    hsts_max_age_s: int = 31_536_000
    """``Strict-Transport-Security`` max-age, sent on HTTPS requests only (0: never)."""
    web_dir: str = ""
    """The built web UI (``index.html`` and ``assets/``) served at ``/``; empty: the source
    tree's ``web/dist`` when it was built, else no UI."""

    def __post_init__(self) -> None:
        _check(
            1 <= self.rate_limit_window_s <= 86_400,
            "rate_limit_window_s",
            self.rate_limit_window_s,
            "1..86400",
        )
        for key in ("rate_limit_per_key", "rate_limit_per_user", "rate_limit_per_ip"):
            value = getattr(self, key)
            _check(0 <= value <= 1_000_000, key, value, "0 (no limit)..1000000")
        for origin in self.cors_origins:
            _check(
                origin != "*",
                "cors_origins",
                origin,
                "explicit origins: '*' would let any web page call the API",
            )
            _check(
                bool(_ORIGIN.fullmatch(origin)),
                "cors_origins",
                origin,
                "origins like https://app.example.com (scheme, host, optional port; no path)",
            )
        for proxy in self.trusted_proxies:
            _check(_is_network(proxy), "trusted_proxies", proxy, "IP addresses or networks")
        _check(
            0 <= self.hsts_max_age_s <= 63_072_000,
            "hsts_max_age_s",
            self.hsts_max_age_s,
            "0..63072000 (2 years)",
        )


class RedisConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The Redis server shared by gateway processes (none by default: counters in memory)."""

    url: str = ""
    """``redis://[user@]host:port/db`` (or ``rediss://``, ``unix://``); empty: no Redis."""
    password: str = ""
    """The server's password, kept out of ``url`` so that ``config show`` hides it."""
    key_prefix: str = "tradeforge:"
    """Prepended to every key, so several deployments can share one server."""

    def __post_init__(self) -> None:
        if self.url and not self.url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigurationError(
                "TRADEFORGE__REDIS__URL: expected redis://host:port/db, rediss://... or unix://..."
            )
        if urlsplit(self.url).password:
            raise ConfigurationError(
                "TRADEFORGE__REDIS__URL must not contain the password (it would be shown with "
                "the settings): set TRADEFORGE__REDIS__PASSWORD instead"
            )
        if not 0 < len(self.key_prefix) <= 64:
            raise ConfigurationError("TRADEFORGE__REDIS__KEY_PREFIX: expected 1..64 characters")


def _is_network(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


def _check(ok: bool, key: str, value: object, expected: str) -> None:
    if not ok:
        name = f"TRADEFORGE__GATEWAY__{key.upper()}"
        raise ConfigurationError(f"{name} = {value!r}: expected {expected}")

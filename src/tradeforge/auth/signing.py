"""HMAC request signing (the optional mode of a signing API key), shared by client and server.

A signed request carries the key id, a millisecond ``timestamp`` and ``signature`` =
hex(HMAC-SHA256(secret, canonical request)), where the canonical request is::

    TF1-HMAC-SHA256\\n<key id>\\n<timestamp ms>\\n<METHOD>\\n<path>\\n<canonical query>\\n
    <hex sha256 of the body>

and the canonical query is the query's ``name=value`` pairs sorted and percent-encoded (RFC
3986 unreserved characters kept), so a client library may order its parameters freely. The
server refuses a timestamp more than the receive window (5,000 ms) from its clock
(``TIMESTAMP_OUTSIDE_RECV_WINDOW``), compares signatures in constant time, and remembers each
accepted signature until its timestamp leaves the window, so a replay inside the window is
refused too (stricter than Binance, which relies on the window alone).

:class:`MemoryReplayCache` serves one process; gateways behind a load balancer need a shared
cache (for example Redis ``SET key 1 NX PX <window>``) implementing :class:`ReplayCache`.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import threading
from typing import Protocol
from urllib.parse import parse_qsl, quote

import msgspec

from tradeforge.domain.errors import RateLimited

__all__ = [
    "SIGNATURE_VERSION",
    "MemoryReplayCache",
    "ReplayCache",
    "SignedRequest",
    "canonical_request",
    "sign_request",
    "signatures_match",
]

SIGNATURE_VERSION = "TF1-HMAC-SHA256"


class SignedRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What the gateway hands over for a signed request: headers and the raw request parts."""

    key_id: str
    timestamp_ms: int
    signature: str
    method: str
    path: str
    query: str = ""
    body: bytes = b""


def canonical_request(
    *, key_id: str, timestamp_ms: int, method: str, path: str, query: str, body: bytes
) -> bytes:
    """The bytes that are signed (see the module docstring)."""
    pairs = sorted(parse_qsl(query, keep_blank_values=True))
    canonical_query = "&".join(
        f"{quote(name, safe='-_.~')}={quote(value, safe='-_.~')}" for name, value in pairs
    )
    lines = [
        SIGNATURE_VERSION,
        key_id,
        str(timestamp_ms),
        method.upper(),
        path,
        canonical_query,
        hashlib.sha256(body).hexdigest(),
    ]
    return "\n".join(lines).encode()


def sign_request(
    secret: str,
    *,
    key_id: str,
    timestamp_ms: int,
    method: str,
    path: str,
    query: str = "",
    body: bytes = b"",
) -> str:
    """The hex signature of a request, as a client computes it."""
    message = canonical_request(
        key_id=key_id, timestamp_ms=timestamp_ms, method=method, path=path, query=query, body=body
    )
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signatures_match(expected: str, given: str) -> bool:
    """Constant-time comparison of two hex signatures."""
    return hmac.compare_digest(expected.encode(), given.encode())


class ReplayCache(Protocol):
    """Remembers accepted signatures until they expire."""

    def first_use(self, key: str, expires_ns: int, now_ns: int) -> bool:
        """True the first time ``key`` is seen before ``expires_ns``; False for a replay."""
        ...


class MemoryReplayCache:
    """An in-process :class:`ReplayCache` holding at most ``max_entries`` live signatures."""

    def __init__(self, max_entries: int = 1_000_000) -> None:
        self._seen: dict[str, int] = {}
        self._expiry: list[tuple[int, str]] = []
        self._lock = threading.Lock()
        self._max = max_entries

    def first_use(self, key: str, expires_ns: int, now_ns: int) -> bool:
        """See :meth:`ReplayCache.first_use`; RateLimited when full of live signatures."""
        with self._lock:
            while self._expiry and self._expiry[0][0] <= now_ns:
                _, old = heapq.heappop(self._expiry)
                if self._seen.get(old, now_ns + 1) <= now_ns:
                    del self._seen[old]
            if key in self._seen:
                return False
            if len(self._seen) >= self._max:
                raise RateLimited("too many signed requests in the window", retry_after=1.0)
            self._seen[key] = expires_ns
            heapq.heappush(self._expiry, (expires_ns, key))
            return True

    def __len__(self) -> int:
        return len(self._seen)

"""Request rate limits: sliding-window logs, in this process or shared through Redis.

A :class:`Quota` is one policy (``ip``, ``user``, ``key``) applied to one subject (an address, a
user id, an API key id): at most ``limit`` requests in any ``window_s`` seconds. The window
slides: a request is admitted when fewer than ``limit`` admitted requests lie in the last
``window_s`` seconds, so no interval of that length ever holds more than ``limit`` (a fixed
window lets twice as many through around its boundary). Refused requests are not counted.

:meth:`RateLimiter.hit` checks several quotas at once and admits the request only if every
one has room, counting it in all of them or none.

- :class:`MemoryRateLimiter` keeps the log of each subject in this process.
- :class:`RedisRateLimiter` keeps it in a Redis sorted set per subject, read and written by one
  Lua script (atomic on the server, timed by the server's clock), so any number of gateway
  processes admit no more than one would. While Redis cannot be reached it falls back to its
  own memory counters (logged) rather than refusing every request or admitting all of them.
"""

from __future__ import annotations

import math
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Protocol

import msgspec
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from tradeforge.gateway.config import RedisConfig
from tradeforge.observability import get_logger

__all__ = [
    "Decision",
    "MemoryRateLimiter",
    "Quota",
    "RateLimiter",
    "RedisRateLimiter",
    "Usage",
    "make_rate_limiter",
    "redis_client",
]

log = get_logger("tradeforge.gateway.rate_limit")
_US = 1_000_000


class Quota(msgspec.Struct, frozen=True, kw_only=True):
    """At most ``limit`` requests by ``subject`` in any ``window_s`` seconds under ``policy``."""

    policy: str
    subject: str
    limit: int
    window_s: int

    @property
    def key(self) -> str:
        """The counter's name."""
        return f"rl:{self.policy}:{self.subject}"


class Usage(msgspec.Struct, frozen=True, kw_only=True):
    """Where one quota stands after a decision (what the ``RateLimit`` header reports)."""

    policy: str
    limit: int
    window_s: int
    remaining: int
    reset_s: float
    """Seconds until the quota has room for one more request than now."""


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    """Whether a request was admitted, and every quota's usage afterwards."""

    allowed: bool
    usage: tuple[Usage, ...]

    @property
    def retry_after_s(self) -> float | None:
        """When refused: the wait until every exhausted quota has room again."""
        if self.allowed:
            return None
        return max((u.reset_s for u in self.usage if u.remaining <= 0), default=0.0)


class RateLimiter(Protocol):
    """Counts requests against quotas."""

    async def hit(self, quotas: Sequence[Quota]) -> Decision:
        """Admit one request if every quota has room (counting it in all), else refuse it."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


def _usage(quota: Quota, count: int, edge: float | None, admitted: bool, now: float) -> Usage:
    # ``count``: requests in the window before this one; ``edge``: when the entry that must
    # leave the window for one more request to fit was admitted (None: the log is empty).
    reset = quota.window_s if edge is None else max(0.0, edge + quota.window_s - now)
    return Usage(
        policy=quota.policy,
        limit=quota.limit,
        window_s=quota.window_s,
        remaining=max(0, quota.limit - count - int(admitted)),
        reset_s=reset,
    )


class MemoryRateLimiter:
    """Sliding-window logs in this process's memory (one deque of admission times per subject).

    Memory is bounded by the requests admitted within one window; logs of idle subjects are
    swept every ``sweep_every`` hits.
    """

    def __init__(
        self,
        *,
        now: Callable[[], float] = time.monotonic,  # wall-clock: request rates are real time
        sweep_every: int = 10_000,
    ) -> None:
        self._now = now
        self._logs: dict[str, tuple[int, deque[float]]] = {}
        self._sweep_every = sweep_every
        self._hits = 0

    @property
    def subjects(self) -> int:
        """How many subjects have a log (for tests and metrics)."""
        return len(self._logs)

    async def hit(self, quotas: Sequence[Quota]) -> Decision:
        """See :meth:`RateLimiter.hit`; never awaits, so it is atomic within the event loop."""
        now = self._now()
        self._hits += 1
        if self._hits % self._sweep_every == 0:
            self._sweep(now)
        seen: list[tuple[Quota, deque[float], int]] = []
        allowed = True
        for quota in quotas:
            log = self._logs.get(quota.key)
            if log is None:
                log = self._logs[quota.key] = (quota.window_s, deque())
            entries = log[1]
            while entries and entries[0] <= now - quota.window_s:
                entries.popleft()
            count = len(entries)
            allowed = allowed and count < quota.limit
            seen.append((quota, entries, count))
        usage = []
        for quota, entries, count in seen:
            if allowed:
                entries.append(now)
            index = max(0, count - quota.limit) if not allowed else 0
            edge = entries[index] if entries else None
            usage.append(_usage(quota, count, edge, allowed, now))
        return Decision(allowed=allowed, usage=tuple(usage))

    def _sweep(self, now: float) -> None:
        idle = [
            key
            for key, (window, entries) in self._logs.items()
            if not entries or entries[-1] <= now - window
        ]
        for key in idle:
            del self._logs[key]

    async def close(self) -> None:
        """Nothing to release."""


# KEYS: one sorted set per quota. ARGV[1]: a unique member; then (limit, window in µs) per key.
# Returns {admitted, now_us, count_1, edge_1, count_2, edge_2, ...}; edge -1: empty log.
_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local counts, edges = {}, {}
local admitted = 1
for i = 1, #KEYS do
  local limit = tonumber(ARGV[2 * i])
  local window = tonumber(ARGV[2 * i + 1])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  local count = redis.call('ZCARD', KEYS[i])
  local index = 0
  if count >= limit then
    admitted = 0
    index = count - limit
  end
  local edge = -1
  if count > 0 then
    edge = tonumber(redis.call('ZRANGE', KEYS[i], index, index, 'WITHSCORES')[2])
  end
  counts[i] = count
  edges[i] = edge
end
local out = {admitted, now}
for i = 1, #KEYS do
  if admitted == 1 then
    redis.call('ZADD', KEYS[i], now, ARGV[1])
    redis.call('PEXPIRE', KEYS[i], math.ceil(tonumber(ARGV[2 * i + 1]) / 1000) + 1000)
    if counts[i] == 0 then edges[i] = now end
  end
  out[#out + 1] = counts[i]
  out[#out + 1] = edges[i]
end
return out
"""


class RedisRateLimiter:
    """Sliding-window logs in Redis, shared by every gateway process that uses the same
    server and ``prefix``; this process's memory while Redis is unreachable."""

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        prefix: str = "tradeforge:",
        fallback: MemoryRateLimiter | None = None,
        retry_after_error_s: float = 5.0,
        now: Callable[[], float] = time.monotonic,  # wall-clock: when to try Redis again
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._script = client.register_script(_SCRIPT)
        self._fallback = fallback or MemoryRateLimiter(now=now)
        self._retry_after_error_s = retry_after_error_s
        self._now = now
        self._down_until: float | None = None

    @property
    def degraded(self) -> bool:
        """Whether Redis failed recently and this process counts alone."""
        return self._down_until is not None

    async def hit(self, quotas: Sequence[Quota]) -> Decision:
        """See :meth:`RateLimiter.hit`."""
        if not quotas:
            return Decision(allowed=True, usage=())
        if self._down_until is not None and self._now() < self._down_until:
            return await self._fallback.hit(quotas)
        args: list[str | int] = [os.urandom(12).hex()]
        for quota in quotas:
            args += [quota.limit, quota.window_s * _US]
        try:
            reply = await self._script(keys=[self._prefix + q.key for q in quotas], args=args)
        except (RedisError, OSError) as exc:
            if self._down_until is None:
                log.error("redis unreachable: rate limits counted per process", error=repr(exc))
            self._down_until = self._now() + self._retry_after_error_s
            return await self._fallback.hit(quotas)
        if self._down_until is not None:
            log.warning("redis reachable again: rate limits shared")
            self._down_until = None
        admitted, now_us = bool(int(reply[0])), int(reply[1])
        usage = []
        for i, quota in enumerate(quotas):
            count, edge_us = int(reply[2 + 2 * i]), int(reply[3 + 2 * i])
            edge = None if edge_us < 0 else edge_us / _US
            usage.append(_usage(quota, count, edge, admitted, now_us / _US))
        return Decision(allowed=admitted, usage=tuple(usage))

    async def close(self) -> None:
        """Close the client and its connection pool."""
        await self._client.aclose(close_connection_pool=True)


def redis_client(url: str, *, password: str = "", max_connections: int = 32) -> aioredis.Redis:
    """A client for ``url`` whose pool makes a burst of requests wait for a free connection
    (up to 2 s) instead of failing: a failure would count the burst per process. A server that
    does not answer within 1 s counts as unreachable."""
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        password=password or None,
        max_connections=max_connections,
        timeout=2.0,
        socket_timeout=1.0,
        socket_connect_timeout=1.0,
        health_check_interval=30,
    )
    return aioredis.Redis(connection_pool=pool)


def make_rate_limiter(config: RedisConfig) -> RateLimiter:
    """Redis-backed when ``config.url`` is set, else in memory."""
    if not config.url:
        return MemoryRateLimiter()
    client = redis_client(config.url, password=config.password)
    return RedisRateLimiter(client, prefix=config.key_prefix)


def ceil_s(seconds: float) -> int:
    """Whole seconds, rounded up (what ``Retry-After`` and ``RateLimit`` carry)."""
    return max(0, math.ceil(seconds - 1e-9))

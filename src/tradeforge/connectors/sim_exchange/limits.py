"""Request weights and order counts per IP, as Binance limits them.

Weight is counted in fixed one-minute windows (``X-MBX-USED-WEIGHT-1M``). Past the limit a
request gets HTTP 429 with ``Retry-After`` (seconds to the next window); an IP that keeps
sending while told to wait is banned (HTTP 418, ``Retry-After`` until the ban ends). New orders
are also counted per account in ten-second and one-day windows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from tradeforge.connectors.sim_exchange.binance_errors import BinanceError

__all__ = ["RateLimits", "WEIGHTS", "depth_weight"]

WEIGHTS: dict[tuple[str, str], int] = {
    ("GET", "/api/v3/ping"): 1,
    ("GET", "/api/v3/time"): 1,
    ("GET", "/api/v3/exchangeInfo"): 20,
    ("GET", "/api/v3/trades"): 25,
    ("GET", "/api/v3/aggTrades"): 4,
    ("GET", "/api/v3/klines"): 2,
    ("GET", "/api/v3/ticker/price"): 2,
    ("GET", "/api/v3/ticker/bookTicker"): 2,
    ("GET", "/api/v3/ticker/24hr"): 2,
    ("GET", "/api/v3/account"): 20,
    ("POST", "/api/v3/order"): 1,
    ("GET", "/api/v3/order"): 4,
    ("DELETE", "/api/v3/order"): 1,
    ("GET", "/api/v3/openOrders"): 6,
    ("DELETE", "/api/v3/openOrders"): 1,
    ("GET", "/api/v3/allOrders"): 20,
    ("GET", "/api/v3/myTrades"): 20,
    ("POST", "/api/v3/order/oco"): 1,
    ("POST", "/api/v3/orderList/oco"): 1,
    ("POST", "/api/v3/userDataStream"): 2,
    ("PUT", "/api/v3/userDataStream"): 2,
    ("DELETE", "/api/v3/userDataStream"): 2,
}


def depth_weight(limit: int) -> int:
    """The weight of ``GET /api/v3/depth`` for ``limit`` levels."""
    if limit <= 100:
        return 5
    if limit <= 500:
        return 25
    if limit <= 1000:
        return 50
    return 250


@dataclass
class _Ip:
    window: int = -1
    used: int = 0
    wait_until_ms: int = 0
    strikes: int = 0
    banned_until_ms: int = 0
    refused_429: int = 0
    refused_418: int = 0
    early: int = 0  # requests that came while told to wait (before Retry-After)


@dataclass
class _Orders:
    ten_s_window: int = -1
    ten_s: int = 0
    day_window: int = -1
    day: int = 0


@dataclass
class RateLimits:
    """The limits of one server; ``now_ms`` is its clock."""

    now_ms: Callable[[], int]
    weight_per_minute: int = 6000
    orders_per_10s: int = 100
    orders_per_day: int = 200_000
    strikes_before_ban: int = 5
    ban_seconds: int = 120
    _ips: dict[str, _Ip] = field(default_factory=dict)
    _orders: dict[int, _Orders] = field(default_factory=dict)

    def charge(self, ip: str, weight: int) -> int:
        """Count ``weight`` for ``ip``; returns the weight used this minute, or raises 429/418."""
        now = self.now_ms()
        state = self._ips.setdefault(ip, _Ip())
        if state.banned_until_ms > now:
            state.refused_418 += 1
            raise BinanceError.banned(
                state.banned_until_ms, math.ceil((state.banned_until_ms - now) / 1000)
            )
        if state.wait_until_ms > now:
            state.strikes += 1
            state.early += 1
            if state.strikes >= self.strikes_before_ban:
                state.banned_until_ms = now + self.ban_seconds * 1000
                state.strikes = 0
                state.refused_418 += 1
                raise BinanceError.banned(state.banned_until_ms, self.ban_seconds)
            state.refused_429 += 1
            raise BinanceError.too_many_requests(
                self.weight_per_minute, math.ceil((state.wait_until_ms - now) / 1000)
            )
        window = now // 60_000
        if window != state.window:
            state.window, state.used = window, 0
        if state.used + weight > self.weight_per_minute:
            state.wait_until_ms = (window + 1) * 60_000
            state.refused_429 += 1
            raise BinanceError.too_many_requests(
                self.weight_per_minute, math.ceil((state.wait_until_ms - now) / 1000)
            )
        state.used += weight
        state.strikes = 0
        return state.used

    def stats(self) -> dict[str, dict[str, int]]:
        """Per IP: weight used this minute, requests refused with 429 and 418, and requests
        that came before their ``Retry-After`` had passed (for tests and operators)."""
        return {
            ip: {
                "used": self.used(ip),
                "refused_429": s.refused_429,
                "refused_418": s.refused_418,
                "early": s.early,
            }
            for ip, s in self._ips.items()
        }

    def used(self, ip: str) -> int:
        """The weight ``ip`` has used in the current minute."""
        state = self._ips.get(ip)
        if state is None or state.window != self.now_ms() // 60_000:
            return 0
        return state.used

    def force_wait(self, ip: str, seconds: int) -> None:
        """Make ``ip`` wait ``seconds`` as after a 429 (fault injection)."""
        state = self._ips.setdefault(ip, _Ip())
        state.wait_until_ms = max(state.wait_until_ms, self.now_ms() + seconds * 1000)

    def count_order(self, account_no: int) -> tuple[int, int]:
        """Count one new order; returns (this 10 s, today), or raises -1015 with HTTP 429."""
        now = self.now_ms()
        state = self._orders.setdefault(account_no, _Orders())
        if now // 10_000 != state.ten_s_window:
            state.ten_s_window, state.ten_s = now // 10_000, 0
        if now // 86_400_000 != state.day_window:
            state.day_window, state.day = now // 86_400_000, 0
        if state.ten_s >= self.orders_per_10s:
            retry = math.ceil(((state.ten_s_window + 1) * 10_000 - now) / 1000)
            raise BinanceError(
                -1015,
                f"Too many new orders; current limit is {self.orders_per_10s} orders per "
                "TEN_SECONDS.",
                status=429,
                retry_after=retry,
            )
        if state.day >= self.orders_per_day:
            raise BinanceError(
                -1015,
                f"Too many new orders; current limit is {self.orders_per_day} orders per DAY.",
                status=429,
                retry_after=math.ceil(((state.day_window + 1) * 86_400_000 - now) / 1000),
            )
        state.ten_s += 1
        state.day += 1
        return state.ten_s, state.day

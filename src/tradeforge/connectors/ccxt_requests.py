"""``CcxtRequests``: the path every REST request of a CCXT venue client takes.

Around every request, in this order:

1. the client-side weight limiter (``WeightLimiter``): it waits until the request's weight fits
   under 95 % of the venue's budget, follows the used-weight header the venue returns, and
   after a 429/418 sends nothing until ``Retry-After`` has passed;
2. the venue's circuit breaker: five consecutive failures open it, then one probe per
   cool-down;
3. for reads only, a ``RetryPolicy`` (at most 3 attempts, full-jitter back-off, a 10 % retry
   budget). Writes are never retried.

Every failure reaches the caller as a domain error (``ccxt_errors``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
import ccxt.async_support as ccxt_async

from tradeforge.connectors.ccxt_errors import map_ccxt_error
from tradeforge.connectors.resilience import CircuitBreaker, RetryPolicy, WeightLimiter
from tradeforge.domain import RateLimited, TradeForgeError, Venue

__all__ = ["CcxtRequests"]

T = TypeVar("T")

# Request weights of Binance Spot (the venue the weight header speaks for); others weigh 1.
_BINANCE_WEIGHTS = {
    "fetch_time": 1, "load_markets": 20, "fetch_balance": 20, "create_order": 1,
    "cancel_order": 1, "fetch_order": 4, "fetch_open_orders": 6, "fetch_my_trades": 20,
    "fetch_order_book": 5, "depth_snapshot": 50, "fetch_trades": 25, "fetch_ohlcv": 2,
    "fetch_orders": 20, "fetch_open_orders_all": 80, "create_order_list": 1,
}  # fmt: skip


class CcxtRequests:
    """Sends a venue's CCXT calls through its limiter, its breaker and, for reads, retries.

    ``retry`` may be replaced (a test does, to see the breaker without retries in between).
    """

    def __init__(
        self,
        rest: Any,
        *,
        venue: Venue,
        binance: bool,
        limiter: WeightLimiter,
        breaker: CircuitBreaker,
        retry: RetryPolicy,
    ) -> None:
        self.rest = rest
        self.venue = venue
        self.binance = binance
        self.limiter = limiter
        self.breaker = breaker
        self.retry = retry

    def weight(self, name: str) -> int:
        """The request weight of the CCXT call ``name``."""
        return _BINANCE_WEIGHTS.get(name, 1) if self.binance else 1

    def header(self, name: str) -> str | None:
        """A header of the venue's last answer (any case), or None."""
        headers = getattr(self.rest, "last_response_headers", None) or {}
        wanted = name.lower()
        for key, value in headers.items():
            if key.lower() == wanted:
                return str(value)
        return None

    async def once(
        self, name: str, fn: Callable[[], Awaitable[T]], *, client_order_id: str | None = None
    ) -> T:
        """Call ``fn`` once, through the limiter and the breaker; failures as domain errors."""
        await self.limiter.acquire(self.weight(name))

        async def guarded() -> T:
            try:
                return await fn()
            except TradeForgeError:
                raise
            except Exception as exc:
                retry_after = self.header("Retry-After")
                error = map_ccxt_error(
                    _cut_short(exc),
                    venue=str(self.venue),
                    what=name,
                    retry_after=float(retry_after) if retry_after else None,
                    client_order_id=client_order_id,
                )
                if isinstance(error, RateLimited):
                    self.limiter.block_until(error.retry_after or 1.0)
                raise error from exc
            finally:
                used = self.header("X-MBX-USED-WEIGHT-1M")
                if used is not None and used.isdigit():
                    self.limiter.observe(int(used))

        return await self.breaker.call(guarded)

    async def read(self, name: str, fn: Callable[[], Awaitable[T]]) -> T:
        """Call ``fn`` as :meth:`once` does, retried by the retry policy."""
        return await self.retry.read(lambda: self.once(name, fn), name=name)


def _cut_short(exc: Exception) -> Exception:
    """A CCXT error as what it is when the answer broke in transit.

    CCXT reports an aiohttp failure that is not a connection error (a body cut short by a reset:
    ``ClientPayloadError``; an answer that is not valid HTTP: ``ClientResponseError``) as an
    ``ExchangeError``, which reads as "the venue refused". The venue may well have executed the
    request: it is a network failure (for a write, an unknown outcome).
    """
    if isinstance(exc.__cause__, aiohttp.ClientPayloadError | aiohttp.ClientResponseError):
        network: Exception = ccxt_async.NetworkError(str(exc))
        return network
    return exc

"""``ExchangeServer``: the simulated exchange as a running service.

It owns the exchange (accounts and matching), the market feeds that drive it, the rate limits,
the armed faults, the listen keys and the stream hub, and runs the market loop: every
``tick_ms`` it advances each feed to the wall clock, applies the events and flushes the depth
streams at their 100 ms and 1,000 ms cadences. ``app.create_app`` puts the HTTP and WebSocket
API in front of it; ``serve`` runs both under uvicorn.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tradeforge.bus import LiveClock
from tradeforge.connectors.sim_exchange.exchange import Account, Exchange
from tradeforge.connectors.sim_exchange.faults import Fault, Faults
from tradeforge.connectors.sim_exchange.limits import RateLimits
from tradeforge.connectors.sim_exchange.market import MarketFeed
from tradeforge.connectors.sim_exchange.store import ExchangeStore
from tradeforge.connectors.sim_exchange.streams import StreamHub
from tradeforge.connectors.sim_exchange.symbols import ListedSymbol

__all__ = ["ExchangeServer", "ServerOptions"]

LISTEN_KEY_TTL_MS = 60 * 60 * 1000


@dataclass(frozen=True)
class ServerOptions:
    """How a server runs (the ``exchange serve`` flags)."""

    data_dir: Path
    weight_per_minute: int = 6000
    orders_per_10s: int = 100
    ban_seconds: int = 120
    tick_ms: int = 50
    faults: Sequence[Fault] = ()
    admin_token: str | None = None


@dataclass
class _ListenKey:
    account: Account
    expires_ms: int


@dataclass
class ExchangeServer:
    """Everything one running simulated exchange holds."""

    listed: list[ListedSymbol]
    feeds: dict[str, MarketFeed]
    options: ServerOptions
    clock: LiveClock = field(default_factory=LiveClock)
    faults: Faults = field(default_factory=Faults)

    def __post_init__(self) -> None:
        self.store = ExchangeStore(self.options.data_dir)
        self.exchange = Exchange(self.listed, self.store, self.clock)
        self.limits = RateLimits(
            self.exchange.now_ms,
            weight_per_minute=self.options.weight_per_minute,
            orders_per_10s=self.options.orders_per_10s,
            ban_seconds=self.options.ban_seconds,
        )
        for fault in self.options.faults:
            self.faults.arm(fault)
        self.hub = StreamHub(self.exchange.markets, self.exchange.now_ms)
        self.hub.skip_depth = lambda sym: self.faults.take("skip_depth", "WS", sym) is not None
        self.exchange.public_sink = self.hub.on_market
        self.listen_keys: dict[str, _ListenKey] = {}
        self._task: asyncio.Task[None] | None = None
        self._started = False
        self.paused = False  # the admin endpoint freezes the market for tests
        self.request_counts: dict[str, int] = {}  # "METHOD /path" -> requests received

    # ----------------------------------------------------------- market loop
    def start_market(self) -> None:
        """Load each feed's book and start the loop (inside the running event loop)."""
        if not self._started:
            for symbol, feed in self.feeds.items():
                feed.advance(self.clock.timestamp_ns())
                self.exchange.on_market(symbol, feed.snapshot())
            self._started = True
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop_market(self) -> None:
        """Stop the loop and close the store."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.hub.drop_all()
        self.store.close()

    async def _run(self) -> None:
        tick = self.options.tick_ms / 1000
        last_slow = 0
        while True:
            await asyncio.sleep(tick)
            self.step()
            now_ms = self.exchange.now_ms()
            if self.faults.take("drop_ws") is not None:
                self.hub.drop_all()
            if now_ms // 100 != last_slow // 100:
                self.hub.flush_depth(100)
            if now_ms // 1000 != last_slow // 1000:
                self.hub.flush_depth(1000)
            last_slow = now_ms

    def step(self) -> None:
        """Advance every feed to now and apply what happened."""
        now = self.clock.timestamp_ns()
        if self.paused:
            return
        for symbol, feed in self.feeds.items():
            for event in feed.advance(now):
                self.exchange.on_market(symbol, event)

    # ------------------------------------------------------------ listen keys
    def new_listen_key(self, account: Account) -> str:
        """A listen key for ``account``'s user-data stream (Binance returns the same key while
        one is valid)."""
        now = self.exchange.now_ms()
        for key, entry in self.listen_keys.items():
            if entry.account is account and entry.expires_ms > now:
                entry.expires_ms = now + LISTEN_KEY_TTL_MS
                return key
        key = secrets.token_urlsafe(45)[:60]
        self.listen_keys[key] = _ListenKey(account, now + LISTEN_KEY_TTL_MS)
        return key

    def listen_key(self, key: str) -> _ListenKey | None:
        """A valid listen key's entry, or None."""
        entry = self.listen_keys.get(key)
        if entry is None or entry.expires_ms <= self.exchange.now_ms():
            return None
        return entry

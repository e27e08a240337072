"""WebSocket fan-out: one stream (``orders``) delivered to 100 subscribers while orders are placed
over REST, and what happens to a subscriber that reads too slowly.

``subscribers`` connections (``websockets``, the trader's access token as ``?token=``) each
subscribe to ``orders`` and read and decode every message; one more, the *slow* subscriber,
reads one message every ``slow_interval_s``. Once all are subscribed, ``drivers`` REST clients
place market orders (as in :mod:`bench.gateway.rest_case`) for ``seconds``; the readers keep
reading 3 s after the last order, then close. Every order event the node publishes goes to each
subscription: published = the distinct events (order id, event type, ``ts_init``) any subscriber
received, delivered = what each received. Lag is the arrival time (wall clock, after decoding)
minus the event's ``ts_init`` (the node's wall clock, when it made the event), per subscriber.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import websockets

from bench.exchange.stats import Latencies
from bench.gateway.platform import Credentials, PlatformProcess
from bench.gateway.rest_case import Advance, cpu_self, place

CHANNEL = "orders"
SLOW_RCVBUF = 65_536  # the slow subscriber's socket receive buffer, fixed (see _subscribe)
DRAIN_S = 3.0
CATCH_UP_S = 60.0  # reading after the last order, for the events still on their way

Key = tuple[str, str, int]  # client_order_id, event type, ts_init


@dataclass
class Reader:
    """What one subscriber received."""

    keys: set[Key] = field(default_factory=set)
    lag: Latencies = field(default_factory=Latencies)
    closed: str = ""  # the close the server sent, if it did ("1008 too slow...")
    closed_after_s: float | None = None  # seconds into the phase when it was closed
    closed_ns: int = 0  # wall clock of the close
    last_lag_ns: int = 0  # the lag of the last message it read
    duplicates: int = 0
    interval_s: float = 0.0  # wait after each message (0: read as fast as it can)


@dataclass
class FanoutOutcome:
    """One fan-out phase."""

    backend: str
    subscribers: int
    drivers: int
    slow_interval_s: float
    name: str = "fan"  # prefix of the client order ids
    started_ns: int = 0  # wall clock when orders started
    seconds: float = 0.0  # how long orders were placed
    orders: int = 0
    order_errors: Counter[str] = field(default_factory=Counter)
    readers: list[Reader] = field(default_factory=list)
    slow: Reader = field(default_factory=Reader)
    server_cpu: float = 0.0
    harness_cpu: float = 0.0
    rss_before_mib: float = 0.0
    rss_peak_mib: float = 0.0

    @property
    def published(self) -> set[Key]:
        """Every event any subscriber got (the slow one included)."""
        out: set[Key] = set(self.slow.keys)
        for reader in self.readers:
            out |= reader.keys
        return out

    @property
    def delivered(self) -> int:
        """Messages the normal subscribers received, all together."""
        return sum(len(r.keys) for r in self.readers)

    @property
    def lag(self) -> Latencies:
        """Every normal subscriber's lag samples, pooled."""
        out = Latencies()
        for reader in self.readers:
            out.extend(reader.lag)
        return out

    def per_second(self, count: float) -> float:
        """``count`` per second of the order-placing window."""
        return count / self.seconds if self.seconds > 0 else 0.0


async def _read(ws: Any, reader: Reader, started: float, stop: asyncio.Event) -> None:
    try:
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=0.5)
            except TimeoutError:
                continue
            now = time.time_ns()
            message = json.loads(raw)
            data = message.get("data")
            if not isinstance(data, dict):
                continue
            key = (data.get("client_order_id", ""), data.get("type", ""), data.get("ts_init", 0))
            if key in reader.keys:
                reader.duplicates += 1
            reader.keys.add(key)
            reader.last_lag_ns = now - int(data.get("ts_init", now))
            reader.lag.add(reader.last_lag_ns)
            if reader.interval_s:
                await asyncio.sleep(reader.interval_s)
    except websockets.ConnectionClosed as exc:
        close = exc.rcvd
        reader.closed = f"{close.code} {close.reason}" if close else "no close frame"
        reader.closed_after_s = time.perf_counter() - started
        reader.closed_ns = time.time_ns()


async def _subscribe(url: str, rcvbuf: int | None = None) -> Any:
    """A connection subscribed to ``CHANNEL``. With ``rcvbuf`` (the slow subscriber) the
    client sends no keepalive pings of its own, so whatever ends the connection is the
    server's doing."""
    # websockets' default queue (16 frames): a reader that does not keep up stops reading its
    # socket (with no bound, the library would read everything into this process's memory).
    # ``rcvbuf`` fixes the socket's receive buffer: Linux otherwise grows it (here up to
    # net.ipv4.tcp_rmem's 32 MiB), and a slow reader's backlog waits in its own kernel, unseen
    # by the server, for tens of thousands of messages.
    sock = None
    if rcvbuf is not None:
        parts = urlsplit(url)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.connect((parts.hostname or "127.0.0.1", parts.port or 80))
    ping = None if rcvbuf is not None else 20.0  # websockets' default interval
    ws = await websockets.connect(url, open_timeout=30, sock=sock, ping_interval=ping)
    await ws.send(json.dumps({"op": "subscribe", "channels": [CHANNEL]}))
    ack = json.loads(await ws.recv())
    if ack != {"op": "subscribed", "channels": [CHANNEL]}:
        raise RuntimeError(f"subscribe answered {ack}")
    return ws


async def _drive(
    platform: PlatformProcess, credentials: Credentials, out: FanoutOutcome, *,
    stop_at: float, advance: Advance, until: Callable[[], bool] = lambda: False,
) -> None:  # fmt: skip
    """``out.drivers`` clients place market orders until ``stop_at`` or ``until()``."""

    async def client(n: int) -> None:
        async with httpx.AsyncClient(base_url=platform.base, timeout=30,
                                     headers=credentials.headers("bearer")) as http:  # fmt: skip
            i = 0
            while time.perf_counter() < stop_at and not until():
                i += 1
                failed = await place(http, f"{out.name}-{n}-{i}", "BUY" if i % 2 else "SELL")
                if failed is None:
                    out.orders += 1
                    advance(1)
                else:
                    out.order_errors[failed] += 1

    await asyncio.gather(*(client(n) for n in range(out.drivers)))


def run_fanout(
    platform: PlatformProcess, credentials: Credentials, backend: str, *, subscribers: int,
    drivers: int, seconds: float, slow_interval_s: float, advance: Advance = lambda _n: None,
) -> FanoutOutcome:  # fmt: skip
    """One phase (see the module docstring)."""
    out = FanoutOutcome(backend=backend, subscribers=subscribers, drivers=drivers,
                        slow_interval_s=slow_interval_s, seconds=seconds)  # fmt: skip
    url = platform.base.replace("http", "ws") + f"/api/v1/ws?token={credentials.bearer}"

    async def go() -> None:
        sockets = [await _subscribe(url) for _ in range(subscribers)]
        slow = await _subscribe(url, SLOW_RCVBUF)
        out.readers = [Reader() for _ in sockets]
        out.slow.interval_s = slow_interval_s
        stop = asyncio.Event()
        out.rss_before_mib = out.rss_peak_mib = platform.rss_mib()
        server0, harness0 = platform.cpu_seconds(), cpu_self()
        started = time.perf_counter()
        tasks = [asyncio.create_task(_read(ws, r, started, stop))
                 for ws, r in zip(sockets, out.readers, strict=True)]  # fmt: skip
        tasks.append(asyncio.create_task(_read(slow, out.slow, started, stop)))

        async def watch_rss() -> None:
            while not stop.is_set():
                out.rss_peak_mib = max(out.rss_peak_mib, platform.rss_mib())
                await asyncio.sleep(0.5)

        watcher = asyncio.create_task(watch_rss())
        await _drive(platform, credentials, out, stop_at=started + out.seconds, advance=advance)
        out.seconds = time.perf_counter() - started
        await asyncio.sleep(DRAIN_S)
        out.server_cpu = platform.cpu_seconds() - server0
        out.harness_cpu = cpu_self() - harness0
        stop.set()
        await asyncio.gather(*tasks, watcher)
        await asyncio.gather(*(ws.close() for ws in [*sockets, slow]), return_exceptions=True)

    asyncio.run(go())
    return out


def run_cutoff(
    platform: PlatformProcess, credentials: Credentials, backend: str, *, drivers: int,
    slow_interval_s: float, seconds: float, advance: Advance = lambda _n: None,
) -> FanoutOutcome:  # fmt: skip
    """The slow subscriber beside one that reads everything (it tells what was published),
    while ``drivers`` clients place orders for ``seconds``; then the slow one reads as fast as
    it can (at most ``CATCH_UP_S``) to find what the server left in its socket: the messages
    queued before it was cut off, then the close."""
    out = FanoutOutcome(backend=backend, subscribers=1, drivers=drivers, name="cut",
                        slow_interval_s=slow_interval_s, seconds=seconds)  # fmt: skip
    url = platform.base.replace("http", "ws") + f"/api/v1/ws?token={credentials.bearer}"

    async def go() -> None:
        normal, slow = await _subscribe(url), await _subscribe(url, SLOW_RCVBUF)
        out.readers = [Reader()]
        out.slow.interval_s = slow_interval_s
        stop = asyncio.Event()
        out.rss_before_mib = out.rss_peak_mib = platform.rss_mib()
        server0, harness0 = platform.cpu_seconds(), cpu_self()
        out.started_ns = time.time_ns()
        started = time.perf_counter()
        tasks = [asyncio.create_task(_read(normal, out.readers[0], started, stop)),
                 asyncio.create_task(_read(slow, out.slow, started, stop))]  # fmt: skip

        async def watch_rss() -> None:
            while not stop.is_set():
                out.rss_peak_mib = max(out.rss_peak_mib, platform.rss_mib())
                await asyncio.sleep(0.5)

        watcher = asyncio.create_task(watch_rss())
        await _drive(platform, credentials, out, stop_at=started + seconds, advance=advance)
        out.seconds = time.perf_counter() - started
        out.server_cpu = platform.cpu_seconds() - server0
        out.harness_cpu = cpu_self() - harness0
        out.slow.interval_s = 0.0  # catch up: what is left in its socket, then the close
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(tasks[1]), CATCH_UP_S)
        stop.set()
        await asyncio.gather(*tasks, watcher)
        await asyncio.gather(normal.close(), slow.close(), return_exceptions=True)

    asyncio.run(go())
    return out

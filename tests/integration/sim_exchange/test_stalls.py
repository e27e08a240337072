"""CON-10: stalls and lifetime of our Binance book stream, against tiny WebSocket servers.

- A silent socket (connected, then no data and no ping) for ``X`` s leads to a reconnect within
  **X + 2 s** (and not before ``X``): each server connection sends one depth update, so the
  stream syncs, then says nothing; we measure from that last message to the next connection.
- Our client answers **100 %** of server pings within **1 s**: the server pings every 0.2 s
  while it streams updates and waits at most 1 s for each pong.
- Regressions of the stream's lifetime: a snapshot that cannot be fetched, or a refused
  handshake, reconnects (both used to end the stream with a raw or a domain exception), and the
  back-off keeps growing until the book is synced again (no connect storm while REST is down).

The make-before-break reconnect on ``serverShutdown`` and the 24 h rollover (also CON-10) are
not tested here: the stream does not implement them yet.

``TF_SOAK=1`` runs the long version (X = 5 s for 20 stalls; pings for 60 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from http import HTTPStatus
from typing import Any

import pytest
from tests.kit.sim_exchange import free_port
from tests.kit.stubs import btcusdt
from websockets.asyncio.server import Request, Response, ServerConnection, serve

from tradeforge.connectors.binance_book import BinanceBookStream
from tradeforge.connectors.errors import CircuitOpen
from tradeforge.connectors.order_book_sync import DepthSnapshot
from tradeforge.connectors.resilience import FullJitter
from tradeforge.domain import OrderBookSnapshot

SOAK = os.environ.get("TF_SOAK") == "1"
pytestmark = [pytest.mark.integration, pytest.mark.timeout(900 if SOAK else 120)]
INST = btcusdt()


def update(first: int, last: int) -> str:
    ask = ["100.01", f"{last % 7 + 1}.000"]
    return json.dumps({"e": "depthUpdate", "E": 0, "s": "BTCUSDT", "U": first, "u": last,
                       "b": [["100.00", "1.000"]], "a": [ask]})  # fmt: skip


async def snapshot_at(last_update_id: int) -> DepthSnapshot:
    return DepthSnapshot(last_update_id=last_update_id, bids=((Decimal("100.00"), Decimal(1)),))


@dataclass
class Venue:
    """A tiny depth-stream server; what each connection does is up to ``handler``."""

    handler: Callable[[Venue, ServerConnection], Awaitable[None]]
    port: int = field(default_factory=free_port)
    accepted: list[float] = field(default_factory=list)
    last_sent: list[float] = field(default_factory=list)
    refuse: int = 0  # refuse this many handshakes with HTTP 503 first
    last_id: int = 0  # the last update id sent

    async def snapshot(self) -> DepthSnapshot:
        return await snapshot_at(self.last_id)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    async def _connection(self, ws: ServerConnection) -> None:
        self.accepted.append(time.monotonic())
        await self.handler(self, ws)

    def _handshake(self, ws: ServerConnection, request: Request) -> Response | None:
        if self.refuse > 0:
            self.refuse -= 1
            return ws.respond(HTTPStatus.SERVICE_UNAVAILABLE, "busy\n")
        return None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Venue]:
        async with serve(self._connection, "127.0.0.1", self.port, ping_interval=None,
                         process_request=self._handshake):  # fmt: skip
            yield self


async def one_update_then_silence(venue: Venue, ws: ServerConnection) -> None:
    n = len(venue.accepted)
    await ws.send(update(n * 10 + 1, n * 10 + 2))
    venue.last_sent.append(time.monotonic())
    await ws.wait_closed()  # no data, no ping: a stalled venue


def stream_for(venue: Venue, fetch: Callable[[], Awaitable[DepthSnapshot]], **kw: Any) -> Any:
    return BinanceBookStream(
        INST, ws_url=venue.url, fetch_snapshot=fetch, now_ns=time.time_ns, **kw
    )


async def consume(stream: BinanceBookStream, into: list[Any]) -> None:
    async for item in stream.updates():
        into.append(item)


def test_a_silent_socket_is_reconnected_within_x_plus_2_seconds() -> None:
    stall, stalls = (5.0, 20) if SOAK else (0.8, 5)
    venue = Venue(one_update_then_silence)

    async def go() -> list[float]:
        async with venue.running():

            async def fetch() -> DepthSnapshot:
                return await snapshot_at(len(venue.accepted) * 10 + 1)

            stream = stream_for(venue, fetch, stall_timeout=stall)
            seen: list[Any] = []
            task = asyncio.create_task(consume(stream, seen))
            try:
                async with asyncio.timeout(stalls * (stall + 2) + 10):
                    while len(venue.accepted) <= stalls:
                        await asyncio.sleep(0.05)
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            assert stream.stats.syncs >= stalls  # each connection synced before it went quiet
            assert sum(isinstance(s, OrderBookSnapshot) for s in seen) >= stalls
        return [venue.accepted[i + 1] - venue.last_sent[i] for i in range(stalls)]

    silences = asyncio.run(go())

    assert len(silences) == stalls
    assert all(stall <= s <= stall + 2.0 for s in silences), silences
    assert max(silences) < stall + 0.5  # in fact: the first back-off after a sync is <= 50 ms


def test_a_socket_silent_from_the_start_is_reconnected_too() -> None:
    stall = 0.8

    async def silent(venue: Venue, ws: ServerConnection) -> None:
        venue.last_sent.append(time.monotonic())  # the handshake was its last word
        await ws.wait_closed()

    venue = Venue(silent)

    async def go() -> None:
        async with venue.running():
            stream = stream_for(venue, lambda: snapshot_at(1), stall_timeout=stall)
            task = asyncio.create_task(consume(stream, []))
            try:
                async with asyncio.timeout(10):
                    while len(venue.accepted) < 3:
                        await asyncio.sleep(0.05)
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    asyncio.run(go())

    silences = [venue.accepted[i + 1] - venue.last_sent[i] for i in range(2)]
    assert all(stall <= s <= stall + 2.0 for s in silences), silences


def test_server_pings_are_all_answered_within_1_second() -> None:
    seconds = 60.0 if SOAK else 3.0
    pings = int(seconds / 0.2)
    pongs: list[float] = []
    unanswered: list[float] = []

    async def stream_and_ping(venue: Venue, ws: ServerConnection) -> None:
        async def send_updates() -> None:
            while True:
                venue.last_id += 1
                await ws.send(update(venue.last_id, venue.last_id))
                await asyncio.sleep(0.05)

        sender = asyncio.create_task(send_updates())
        try:
            for _ in range(pings):
                await asyncio.sleep(0.2)
                sent = time.monotonic()
                waiter = await ws.ping()
                try:
                    await asyncio.wait_for(waiter, 1.0)
                    pongs.append(time.monotonic() - sent)
                except TimeoutError:
                    unanswered.append(sent)
            await ws.wait_closed()  # done pinging; the updates keep coming
        finally:
            sender.cancel()

    venue = Venue(stream_and_ping)

    async def go() -> BinanceBookStream:
        async with venue.running():
            stream = stream_for(venue, venue.snapshot, stall_timeout=5.0)
            task = asyncio.create_task(consume(stream, []))
            try:
                async with asyncio.timeout(seconds * 1.2 + 5):
                    while len(pongs) + len(unanswered) < pings:
                        await asyncio.sleep(0.1)
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            return stream

    stream = asyncio.run(go())

    assert unanswered == []
    assert len(pongs) == pings
    assert max(pongs) < 1.0
    assert stream.stats.connects == 1  # the pings never cost the connection
    assert stream.stats.syncs == 1


# ----------------------------------------------------------------------------- lifetime fixes
async def streaming(venue: Venue, ws: ServerConnection) -> None:
    while True:
        venue.last_id += 1
        await ws.send(update(venue.last_id, venue.last_id))
        await asyncio.sleep(0.02)


class Attempts:
    """A back-off that records the attempt numbers it is asked about and waits 10 ms."""

    def __init__(self) -> None:
        self.asked: list[int] = []

    def delay(self, attempt: int, previous: float = 0.0) -> float:
        self.asked.append(attempt)
        return 0.01


def test_a_snapshot_that_cannot_be_fetched_reconnects_instead_of_ending_the_stream() -> None:
    """It used to raise out of ``updates()``: one REST outage ended the book for its consumer."""
    venue = Venue(streaming)
    failures = 3
    backoff = Attempts()

    async def fetch() -> DepthSnapshot:
        nonlocal failures
        if failures > 0:
            failures -= 1
            raise CircuitOpen("SIM", 1.0)
        return await venue.snapshot()

    async def go() -> tuple[BinanceBookStream, list[Any]]:
        async with venue.running():
            stream = stream_for(venue, fetch, backoff=backoff)
            seen: list[Any] = []
            task = asyncio.create_task(consume(stream, seen))
            try:
                async with asyncio.timeout(10):
                    while not any(isinstance(s, OrderBookSnapshot) for s in seen):
                        await asyncio.sleep(0.02)
                assert not task.done()
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            return stream, seen

    stream, _ = asyncio.run(go())

    assert stream.stats.reconnects == 3
    assert len(venue.accepted) == 4
    assert backoff.asked == [0, 1, 2]  # growing while no sync: no connect storm


def test_a_refused_handshake_reconnects_instead_of_ending_the_stream() -> None:
    """``InvalidStatus`` (an HTTP 503 instead of the upgrade) used to escape ``updates()``."""
    venue = Venue(streaming, refuse=2)

    async def go() -> BinanceBookStream:
        async with venue.running():
            stream = stream_for(venue, venue.snapshot, backoff=FullJitter(base=0.01, cap=0.05))
            updates = stream.updates()
            async with asyncio.timeout(10):
                first = await anext(updates)
            await updates.aclose()
            assert isinstance(first, OrderBookSnapshot)
            return stream

    stream = asyncio.run(go())

    assert stream.stats.reconnects == 2
    assert stream.stats.connects == 1

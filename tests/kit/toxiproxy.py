"""A Toxiproxy-style TCP proxy for tests: a real socket between a client and a server, with toxics.

``ToxiProxy(upstream_port).start()`` listens on a free port of 127.0.0.1 and forwards every
connection to the upstream, in a thread of its own (its own event loop), so the network keeps
misbehaving whatever the client's loop is doing. ``proxy.add(toxic)`` / ``proxy.clear()`` change
what the network does, for existing and new connections alike, as Toxiproxy's toxics do:

- :class:`Latency`: each chunk is delivered ``latency`` ± ``jitter`` seconds after it arrived
  (order kept, pipelined: a stream is delayed, not slowed);
- :class:`Bandwidth`: at most ``rate`` bytes a second per connection and direction;
- :class:`ResetPeer`: after ``timeout`` seconds every connection is reset (TCP RST, via
  ``SO_LINGER`` 0), new ones as soon as they are accepted;
- :class:`Timeout`: nothing is forwarded (and, ``timeout`` > 0, the connection is closed after
  that long); data is held, not lost, and flows again when the toxic is removed;
- :class:`Slicer`: each chunk is cut into pieces of ``average_size`` ± ``size_variation`` bytes,
  ``delay`` seconds apart.

A toxic acts on ``stream``: ``"downstream"`` (server to client, Toxiproxy's default),
``"upstream"`` (client to server) or ``"both"``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Bandwidth", "Latency", "ResetPeer", "Slicer", "Timeout", "ToxiProxy", "Toxic"]

_CHUNK = 16 * 1024
_QUEUE = 64  # chunks read ahead per direction before the reader waits (back-pressure)


@dataclass(frozen=True)
class Latency:
    latency: float
    jitter: float = 0.0
    stream: str = "downstream"


@dataclass(frozen=True)
class Bandwidth:
    rate: int  # bytes per second
    stream: str = "downstream"


@dataclass(frozen=True)
class ResetPeer:
    timeout: float = 0.0
    stream: str = "both"


@dataclass(frozen=True)
class Timeout:
    timeout: float = 0.0  # 0: hold the data until the toxic is removed, never close
    stream: str = "both"


@dataclass(frozen=True)
class Slicer:
    average_size: int
    size_variation: int = 0
    delay: float = 0.0
    stream: str = "downstream"


Toxic = Latency | Bandwidth | ResetPeer | Timeout | Slicer


@dataclass
class ProxyStats:
    """What the proxy did so far."""

    connections: int = 0
    resets: int = 0
    timeouts_closed: int = 0
    bytes_up: int = 0
    bytes_down: int = 0


@dataclass(eq=False)
class _Link:
    client: asyncio.StreamWriter
    server: asyncio.StreamWriter
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    closed: bool = False

    def reset(self) -> None:
        """Abort both sockets with an RST."""
        self.closed = True
        for writer in (self.client, self.server):
            sock = writer.get_extra_info("socket")
            with contextlib.suppress(OSError, AttributeError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()

    def close(self) -> None:
        self.closed = True
        for writer in (self.client, self.server):
            writer.close()


class ToxiProxy:
    """A TCP proxy to ``127.0.0.1:upstream_port`` with toxics (see the module docstring)."""

    def __init__(self, upstream_port: int, *, host: str = "127.0.0.1", seed: int = 0) -> None:
        self.upstream = (host, upstream_port)
        self.port = 0
        self.stats = ProxyStats()
        self._toxics: tuple[Toxic, ...] = ()
        self._rng = random.Random(seed)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()

    # ------------------------------------------------------------------ control
    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> ToxiProxy:
        self._thread.start()
        self._server = self._call(self._listen())
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._call(self._shutdown())
            self._server = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def add(self, toxic: Toxic) -> None:
        self._toxics = (*self._toxics, toxic)

    def clear(self) -> None:
        self._toxics = ()

    @contextlib.contextmanager
    def toxic(self, *toxics: Toxic) -> Iterator[ToxiProxy]:
        for toxic in toxics:
            self.add(toxic)
        try:
            yield self
        finally:
            self.clear()

    def __enter__(self) -> ToxiProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ the proxy
    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)

    async def _listen(self) -> asyncio.Server:
        server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        return server

    async def _shutdown(self) -> None:
        assert self._server is not None
        self._server.close()
        for link in list(self._links):
            link.close()
            for task in link.tasks:
                task.cancel()
        await self._server.wait_closed()

    def _active(self, kind: type[Any], direction: str) -> list[Any]:
        return [t for t in self._toxics if isinstance(t, kind) and t.stream in (direction, "both")]

    async def _accept(self, c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        self.stats.connections += 1
        try:
            s_reader, s_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            c_writer.transport.abort()
            return
        link = _Link(c_writer, s_writer)
        self._links.add(link)
        link.tasks = [
            asyncio.create_task(self._pipe(link, c_reader, s_writer, "upstream")),
            asyncio.create_task(self._pipe(link, s_reader, c_writer, "downstream")),
            asyncio.create_task(self._watch(link)),
        ]
        try:
            await asyncio.gather(*link.tasks[:2], return_exceptions=True)
        finally:
            link.tasks[2].cancel()
            if not link.closed:
                link.close()
            self._links.discard(link)

    async def _watch(self, link: _Link) -> None:
        """Connection-wide toxics: reset_peer, and timeout's close."""
        held_since: float | None = None
        while not link.closed:
            resets = [t for t in self._toxics if isinstance(t, ResetPeer)]
            if resets:
                await asyncio.sleep(resets[0].timeout)
                if any(isinstance(t, ResetPeer) for t in self._toxics):
                    self.stats.resets += 1
                    link.reset()
                    return
            timeouts = [t for t in self._toxics if isinstance(t, Timeout) and t.timeout > 0]
            if timeouts:
                held_since = held_since or time.monotonic()
                if time.monotonic() - held_since >= timeouts[0].timeout:
                    self.stats.timeouts_closed += 1
                    link.close()
                    return
            else:
                held_since = None
            await asyncio.sleep(0.01)

    async def _pipe(
        self, link: _Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, way: str
    ) -> None:
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue(_QUEUE)

        async def read() -> None:
            try:
                while data := await reader.read(_CHUNK):
                    await queue.put((time.monotonic(), data))
            except (OSError, asyncio.IncompleteReadError):
                pass
            await queue.put(None)

        reading = asyncio.create_task(read())
        try:
            while (item := await queue.get()) is not None:
                arrived, data = item
                await self._deliver(link, writer, way, arrived, data)
            if not link.closed and writer.can_write_eof():
                writer.write_eof()  # half-close: the other way may still be talking
        except (OSError, ConnectionError):
            link.close()
        finally:
            reading.cancel()

    async def _deliver(
        self, link: _Link, writer: asyncio.StreamWriter, way: str, arrived: float, data: bytes
    ) -> None:
        while self._active(Timeout, way) and not link.closed:
            await asyncio.sleep(0.01)  # held: nothing gets through, nothing is lost
        for latency in self._active(Latency, way):
            delay = latency.latency + self._rng.uniform(-latency.jitter, latency.jitter)
            wait = arrived + max(0.0, delay) - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        for piece, pause in self._pieces(data, way):
            if link.closed:
                return
            writer.write(piece)
            await writer.drain()
            if way == "upstream":
                self.stats.bytes_up += len(piece)
            else:
                self.stats.bytes_down += len(piece)
            if pause > 0:
                await asyncio.sleep(pause)

    def _pieces(self, data: bytes, way: str) -> Iterator[tuple[bytes, float]]:
        """``data`` cut as the slicer and bandwidth toxics want, with the pause after each."""
        slicers = self._active(Slicer, way)
        limits = self._active(Bandwidth, way)
        rate = min((b.rate for b in limits), default=0)
        at = 0
        while at < len(data):
            if slicers:
                s = slicers[0]
                size = s.average_size + self._rng.randint(-s.size_variation, s.size_variation)
                pause = s.delay
            else:
                size, pause = len(data), 0.0
            if rate:
                size = min(size, max(1, rate // 20))  # ~50 ms of the allowance at a time
            size = max(1, size)
            piece = data[at : at + size]
            at += len(piece)
            yield piece, max(pause, len(piece) / rate if rate else 0.0)

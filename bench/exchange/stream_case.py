"""Market-data messages per second from the server to one WebSocket consumer.

One raw ``websockets`` client opens the combined stream
``/stream?streams=btcusdt@trade/btcusdt@depth@100ms/btcusdt@bookTicker`` of a server whose
random market runs at ``--events-per-second`` participant events, reads every message and
decodes its JSON, as a real consumer would. The first ``warmup`` seconds are read and dropped;
the next ``seconds`` are measured.

Whether the consumer keeps up is read from the messages themselves: trade ids count up by one
per trade (a gap is a trade published and not received); each depth diff's first update id
``U`` follows the previous diff's last ``u`` (a gap is a diff not received); the server closes
a consumer whose outbox fills (10,000 messages), which would end the read early; and the
delay from each message's event time ``E`` (set when the server publishes it) to its arrival
would grow if the consumer fell behind. A trade's ``T`` is when the market made it, so ``E - T``
is how long the server took to publish it: when the server cannot run its market at the asked
rate, that delay grows and whole seconds pass with nothing sent.
"""

from __future__ import annotations

import asyncio
import json
import resource
import time
from collections import Counter
from dataclasses import dataclass, field

import websockets

from bench.exchange.server import ServerProcess
from bench.exchange.stats import Latencies

STREAMS = ("btcusdt@trade", "btcusdt@depth@100ms", "btcusdt@bookTicker")
DELAY_LIMIT_MS = 250.0  # a delay above this (p99) is "not keeping up"


@dataclass
class StreamOutcome:
    """One consumer, one market rate."""

    events_per_second: float
    seconds: float = 0.0
    messages: Counter[str] = field(default_factory=Counter)  # by stream, in the window
    bytes: int = 0
    trades_published: int = 0  # from the trade ids, in the window
    trade_gaps: int = 0  # trades published and not received (whole run)
    depth_updates: int = 0  # book deltas covered by the diffs received, in the window
    depth_gaps: int = 0  # diffs whose U did not follow the previous u (whole run)
    closed: str | None = None  # why the server closed the connection early, if it did
    delay: Latencies = field(default_factory=Latencies)  # arrival - E, trades and diffs
    publish: Latencies = field(default_factory=Latencies)  # E - T of trades
    delay_first_s: Latencies = field(default_factory=Latencies)  # arrival - E, first second
    delay_last_s: Latencies = field(default_factory=Latencies)  # arrival - E, last second
    per_second_counts: list[int] = field(default_factory=list)  # messages in each whole second
    server_cpu: float = 0.0
    harness_cpu: float = 0.0

    @property
    def total(self) -> int:
        """Messages received in the window."""
        return sum(self.messages.values())

    def per_second(self, count: int) -> float:
        """``count`` per second of the window."""
        return count / self.seconds if self.seconds > 0 else 0.0

    @property
    def server_kept_pace(self) -> bool:
        """The server published every second of the window, each trade within
        ``DELAY_LIMIT_MS`` (p99) of the market making it."""
        silent = not self.per_second_counts or min(self.per_second_counts) == 0
        return not silent and self.publish.ms(99) <= DELAY_LIMIT_MS

    @property
    def consumer_kept_up(self) -> bool:
        """No gap, no early close, arrivals within ``DELAY_LIMIT_MS`` (p99) of publication,
        and that delay did not grow from the first second of the window to the last."""
        if self.trade_gaps or self.depth_gaps or self.closed or not len(self.delay_last_s):
            return False
        grew = self.delay_last_s.ms(50) > max(20.0, 2 * self.delay_first_s.ms(50))
        return self.delay.ms(99) <= DELAY_LIMIT_MS and not grew


def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _Reader:
    """Reads one connection and fills ``out`` (see the module docstring)."""

    def __init__(self, server: ServerProcess, out: StreamOutcome) -> None:
        self.server = server
        self.out = out
        self.last_trade: int | None = None
        self.last_u: int | None = None
        self.first_trade: int | None = None
        self.first_u: int | None = None
        self.window_start = self.window_end = 0.0
        self.counting = False
        self.cpu0 = self.server0 = 0.0

    async def read(self, seconds: float, warmup: float) -> None:
        url = f"{self.server.ws}/stream?streams={'/'.join(STREAMS)}"
        async with websockets.connect(url, max_size=None) as ws:
            begin = time.time()
            self.window_start = begin + warmup
            self.window_end = self.window_start + seconds
            while (now := time.time()) < self.window_end:
                if not self.counting and now >= self.window_start:
                    self.counting = True
                    self.cpu0, self.server0 = _cpu_self(), self.server.cpu_seconds()
                try:
                    raw = await asyncio.wait_for(ws.recv(), timeout=self.window_end - now)
                except TimeoutError:
                    break
                except websockets.ConnectionClosed as exc:
                    self.out.closed = f"code {exc.code}: {exc.reason or 'no reason'}"
                    break
                self.take(raw if isinstance(raw, str) else raw.decode(), time.time())
            self.finish()

    def take(self, text: str, arrived: float) -> None:
        out = self.out
        message = json.loads(text)
        stream, data = message["stream"], message["data"]
        if stream.endswith("@trade"):
            trade_id = data["t"]
            if self.last_trade is not None and trade_id != self.last_trade + 1:
                out.trade_gaps += trade_id - self.last_trade - 1
            self.last_trade = trade_id
        elif stream.endswith("@100ms"):
            if self.last_u is not None and data["U"] != self.last_u + 1:
                out.depth_gaps += 1
            self.last_u = data["u"]
        if not self.counting:
            return
        second = int(arrived - self.window_start)
        while len(out.per_second_counts) <= second:
            out.per_second_counts.append(0)
        out.per_second_counts[second] += 1
        out.messages[stream] += 1
        out.bytes += len(text)
        if stream.endswith("@trade"):
            if self.first_trade is None:
                self.first_trade = data["t"]
            out.publish.add((data["E"] - data["T"]) * 1_000_000)
        elif stream.endswith("@100ms") and self.first_u is None:
            self.first_u = data["U"]
        if "E" in data:
            delay = round((arrived * 1000 - data["E"]) * 1_000_000)
            out.delay.add(delay)
            if arrived < self.window_start + 1:
                out.delay_first_s.add(delay)
            elif arrived >= self.window_end - 1:
                out.delay_last_s.add(delay)

    def finish(self) -> None:
        out = self.out
        if self.counting:
            out.seconds = min(time.time(), self.window_end) - self.window_start
            out.harness_cpu = _cpu_self() - self.cpu0
            out.server_cpu = self.server.cpu_seconds() - self.server0
        whole = int(out.seconds)
        out.per_second_counts = (out.per_second_counts + [0] * whole)[:whole]
        if self.first_trade is not None and self.last_trade is not None:
            out.trades_published = self.last_trade - self.first_trade + 1
        if self.first_u is not None and self.last_u is not None:
            out.depth_updates = self.last_u - self.first_u + 1


def run_stream(
    server: ServerProcess, events_per_second: float, seconds: float, warmup: float = 2.0
) -> StreamOutcome:
    """Consume the combined stream of a running server (see the module docstring)."""
    out = StreamOutcome(events_per_second=events_per_second)
    asyncio.run(_Reader(server, out).read(seconds, warmup))
    return out

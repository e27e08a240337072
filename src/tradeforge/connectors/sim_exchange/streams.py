"""The WebSocket side of the simulated exchange: market streams and user-data streams.

Market streams speak Binance's protocol: ``/ws/<stream>`` (raw), ``/stream?streams=a/b``
(combined, each message ``{"stream": ..., "data": ...}``), and ``SUBSCRIBE`` /
``UNSUBSCRIBE`` / ``LIST_SUBSCRIPTIONS`` requests on either. Streams: ``<symbol>@trade``,
``<symbol>@depth`` and ``<symbol>@depth@100ms`` (diffs with ``U``/``u`` update ids),
``<symbol>@kline_<interval>`` and ``<symbol>@bookTicker``.

User data: ``/ws/<listenKey>`` (from ``POST /api/v3/userDataStream``), or the WebSocket API's
``userDataStream.subscribe.signature`` on ``/ws-api/v3``, which CCXT uses.

Each connection has a bounded outbox; a client that does not read is disconnected rather than
buffered without limit. More than 5 requests a second or 1,024 streams close the connection
with 1008, as Binance does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from tradeforge.connectors.sim_exchange.orders import fmt
from tradeforge.connectors.sim_exchange.public import INTERVALS, PublicMarket
from tradeforge.domain import (
    AggressorSide,
    BookSide,
    Message,
    OrderBookDelta,
    OrderBookSnapshot,
    TradeTick,
)

__all__ = ["Connection", "StreamHub"]

OUTBOX_LIMIT = 10_000
MAX_STREAMS = 1024
MAX_REQUESTS_PER_S = 5


@dataclass(eq=False)
class Connection:
    """One WebSocket client."""

    ws: WebSocket
    combined: bool
    streams: set[str] = field(default_factory=set)
    outbox: asyncio.Queue[str | None] = field(
        default_factory=lambda: asyncio.Queue(maxsize=OUTBOX_LIMIT)
    )
    closed: bool = False
    requests: list[float] = field(default_factory=list)

    def send(self, text: str) -> None:
        """Queue a message; a full outbox closes a slow client."""
        if self.closed:
            return
        try:
            self.outbox.put_nowait(text)
        except asyncio.QueueFull:
            self.close()

    def close(self) -> None:
        """Stop this connection (its writer closes the socket)."""
        if not self.closed:
            self.closed = True
            with contextlib.suppress(asyncio.QueueFull):
                self.outbox.put_nowait(None)


@dataclass
class _DepthBuffer:
    first: int = 0
    last: int = 0
    bids: dict[Decimal, Decimal] = field(default_factory=dict)
    asks: dict[Decimal, Decimal] = field(default_factory=dict)


class StreamHub:
    """Routes market events and user events to the connections that subscribed to them."""

    def __init__(self, markets: dict[str, PublicMarket], now_ms: Callable[[], int]) -> None:
        self._markets = markets
        self._now_ms = now_ms
        self._subs: dict[str, set[Connection]] = {}
        self.connections: set[Connection] = set()
        self._depth: dict[tuple[str, int], _DepthBuffer] = {}
        self._last_top: dict[str, tuple[Any, Any]] = {}
        self._minute: dict[str, int] = {}
        self.skip_depth: Callable[[str], bool] = lambda symbol: False

    # -------------------------------------------------------- subscriptions
    def subscribe(self, conn: Connection, streams: list[str]) -> str | None:
        """Add streams to a connection; an error text when one is not valid."""
        for name in streams:
            if not self.valid(name):
                return f"Invalid stream name {name!r}"
        if len(conn.streams | set(streams)) > MAX_STREAMS:
            return f"Too many streams: at most {MAX_STREAMS} per connection"
        for name in streams:
            conn.streams.add(name)
            self._subs.setdefault(name, set()).add(conn)
        return None

    def unsubscribe(self, conn: Connection, streams: list[str]) -> None:
        """Remove streams from a connection."""
        for name in streams:
            conn.streams.discard(name)
            self._subs.get(name, set()).discard(conn)

    def drop(self, conn: Connection) -> None:
        """Forget a closed connection."""
        self.unsubscribe(conn, list(conn.streams))
        self.connections.discard(conn)
        conn.close()

    def valid(self, name: str) -> bool:
        """True for a stream this server publishes."""
        symbol, at, kind = name.partition("@")
        if not at or symbol.upper() not in self._markets:
            return False
        if kind in ("trade", "depth", "depth@100ms", "depth@1000ms", "bookTicker"):
            return True
        return kind.startswith("kline_") and kind[len("kline_") :] in INTERVALS

    def drop_all(self) -> int:
        """Close every connection (fault injection); returns how many."""
        conns = list(self.connections)
        for conn in conns:
            self.drop(conn)
        return len(conns)

    # --------------------------------------------------------------- publish
    def _publish(self, stream: str, data: dict[str, Any]) -> None:
        conns = self._subs.get(stream)
        if not conns:
            return
        raw = json.dumps(data)
        wrapped: str | None = None
        for conn in list(conns):
            if conn.combined:
                if wrapped is None:
                    wrapped = '{"stream":' + json.dumps(stream) + ',"data":' + raw + "}"
                conn.send(wrapped)
            else:
                conn.send(raw)

    def on_market(self, symbol: str, event: Message) -> None:
        """A market event that the exchange has applied to its public state."""
        low = symbol.lower()
        if isinstance(event, TradeTick):
            self._on_trade(symbol, low, event)
        elif isinstance(event, OrderBookDelta):
            if self.skip_depth(symbol):
                # A fault: these update ids never reach the clients, who see U > last u + 1.
                for cadence in (100, 1000):
                    self._depth.pop((symbol, cadence), None)
                return
            for cadence in (100, 1000):
                buf = self._depth.setdefault((symbol, cadence), _DepthBuffer())
                if not buf.first:
                    buf.first = event.sequence
                buf.last = event.sequence
                side = buf.bids if event.side is BookSide.BID else buf.asks
                side[event.price.as_decimal()] = event.size.as_decimal()
            self._book_ticker(symbol, low)
        elif isinstance(event, OrderBookSnapshot):
            for cadence in (100, 1000):
                self._depth.pop((symbol, cadence), None)
            self._book_ticker(symbol, low)

    def _on_trade(self, symbol: str, low: str, tick: TradeTick) -> None:
        market = self._markets[symbol]
        row = market.trades[-1]
        ms = tick.ts_event // 1_000_000
        self._publish(
            f"{low}@trade",
            {
                "e": "trade", "E": self._now_ms(), "s": symbol, "t": row["id"],
                "p": row["price"], "q": row["qty"], "T": ms,
                "m": tick.aggressor_side is not AggressorSide.BUYER, "M": True,
            },
        )  # fmt: skip
        minute = ms - ms % 60_000
        previous = self._minute.get(symbol)
        self._minute[symbol] = minute
        for interval in INTERVALS:
            stream = f"{low}@kline_{interval}"
            if stream not in self._subs:
                continue
            candles = market.klines(interval, 2, None, None)
            if previous is not None and previous != minute and len(candles) == 2:
                closed = candles[0]
                if closed.close_ms < minute:
                    self._publish(stream, self._kline(symbol, interval, closed, closed=True))
            if candles:
                self._publish(stream, self._kline(symbol, interval, candles[-1], closed=False))

    def _kline(self, symbol: str, interval: str, k: Any, *, closed: bool) -> dict[str, Any]:
        return {
            "e": "kline",
            "E": self._now_ms(),
            "s": symbol,
            "k": k.to_stream(symbol, interval, closed),
        }

    def _book_ticker(self, symbol: str, low: str) -> None:
        market = self._markets[symbol]
        top = market.best()
        if self._last_top.get(symbol) == top:
            return
        self._last_top[symbol] = top
        bid, ask = top
        zero = (Decimal(0), Decimal(0))
        b, a = bid or zero, ask or zero
        self._publish(
            f"{low}@bookTicker",
            {
                "u": market.last_update_id, "s": symbol, "b": fmt(b[0]), "B": fmt(b[1]),
                "a": fmt(a[0]), "A": fmt(a[1]),
            },
        )  # fmt: skip

    def flush_depth(self, cadence: int) -> None:
        """Publish the diffs gathered since the last flush of ``cadence`` ms."""
        for (symbol, every), buf in list(self._depth.items()):
            if every != cadence or not buf.first:
                continue
            del self._depth[(symbol, every)]
            low = symbol.lower()
            data = {
                "e": "depthUpdate",
                "E": self._now_ms(),
                "s": symbol,
                "U": buf.first,
                "u": buf.last,
                "b": [[fmt(p), fmt(q)] for p, q in sorted(buf.bids.items(), reverse=True)],
                "a": [[fmt(p), fmt(q)] for p, q in sorted(buf.asks.items())],
            }
            if cadence == 100:
                self._publish(f"{low}@depth@100ms", data)
            else:
                self._publish(f"{low}@depth", data)
                self._publish(f"{low}@depth@1000ms", data)

    # ------------------------------------------------------------ serving
    async def serve(
        self,
        conn: Connection,
        on_request: Callable[[Connection, dict[str, Any]], dict[str, Any] | None],
    ) -> None:
        """Run one connection: a writer task drains its outbox while requests are read."""
        self.connections.add(conn)
        writer = asyncio.create_task(self._write(conn))
        try:
            while not conn.closed:
                text = await conn.ws.receive_text()
                now = time.monotonic()  # wall-clock: inbound message rate of a live socket
                conn.requests = [t for t in conn.requests if now - t < 1.0] + [now]
                if len(conn.requests) > MAX_REQUESTS_PER_S:
                    await conn.ws.close(code=1008, reason="Too many requests")
                    break
                try:
                    request = json.loads(text)
                except ValueError:
                    conn.send(json.dumps({"error": {"code": 3, "msg": "Invalid JSON"}}))
                    continue
                if not isinstance(request, dict):
                    conn.send(json.dumps({"error": {"code": 2, "msg": "Invalid request"}}))
                    continue
                answer = on_request(conn, request)
                if answer is not None:
                    conn.send(json.dumps(answer))
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            self.drop(conn)
            await writer

    @staticmethod
    async def _write(conn: Connection) -> None:
        try:
            while True:
                text = await conn.outbox.get()
                if text is None:
                    break
                await conn.ws.send_text(text)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            conn.closed = True
            with contextlib.suppress(Exception):
                await conn.ws.close()

    def market_request(self, conn: Connection, request: dict[str, Any]) -> dict[str, Any]:
        """Answer ``SUBSCRIBE`` / ``UNSUBSCRIBE`` / ``LIST_SUBSCRIPTIONS``."""
        method, rid, params = request.get("method"), request.get("id"), request.get("params", [])
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            return {"error": {"code": 2, "msg": "Invalid request: params"}, "id": rid}
        if method == "SUBSCRIBE":
            error = self.subscribe(conn, params)
            if error is not None:
                return {"error": {"code": 2, "msg": error}, "id": rid}
            return {"result": None, "id": rid}
        if method == "UNSUBSCRIBE":
            self.unsubscribe(conn, params)
            return {"result": None, "id": rid}
        if method == "LIST_SUBSCRIPTIONS":
            return {"result": sorted(conn.streams), "id": rid}
        return {"error": {"code": 2, "msg": f"Invalid request: method {method!r}"}, "id": rid}

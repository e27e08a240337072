"""``/api/v1/ws``: live order events, fills, trades and bars, pushed from the node's bus.

The client sends ``{"op": "subscribe", "channels": [...]}`` (or ``"unsubscribe"``); channels are
``orders`` (every order event, fills included), ``trades:<instrument>`` and
``bars:<instrument>``. Messages are the domain events in the bus codec's JSON, wrapped as
``{"channel": ..., "data": ...}``. Limits (RELIABILITY.md SEC-11): at most 200 subscriptions
and 5 inbound messages a second per connection (else close 1008); each connection has a
bounded outbox, and a client that does not read is disconnected rather than buffered.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from tradeforge.auth.errors import AuthenticationFailed
from tradeforge.auth.principal import Principal, RequestContext
from tradeforge.auth.roles import Permission
from tradeforge.bus import Codec, Subscription
from tradeforge.bus.topics import escape_token, join_topic
from tradeforge.domain import InstrumentId, InvalidValue, OrderEvent, TradeForgeError
from tradeforge.gateway.security import authenticate
from tradeforge.gateway.services import GatewayServices

__all__ = ["router"]

router = APIRouter()
MAX_SUBSCRIPTIONS = 200
MAX_INBOUND_PER_S = 5
OUTBOX = 10_000
_CODEC = Codec()


def _topic(channel: str, services: GatewayServices) -> str:
    kind, _, name = channel.partition(":")
    if kind == "orders" and not name:
        return "events.orders.>"
    if kind in ("trades", "bars") and name:
        try:
            iid = InstrumentId.from_str(name)
        except InvalidValue:
            raise InvalidValue(f"no instrument {name!r}") from None
        if iid not in services.node.instruments:
            raise InvalidValue(f"no instrument {name!r}")
        token = escape_token(str(iid))
        # Bars of every timeframe: a pattern (join_topic refuses wildcards; they are topics).
        return join_topic("data", kind, token) if kind == "trades" else f"data.bars.{token}.>"
    raise InvalidValue(
        f"unknown channel {channel!r}: use orders, trades:<instrument>, bars:<instrument>"
    )


@router.websocket("/api/v1/ws")
async def stream(ws: WebSocket) -> None:
    services: GatewayServices = ws.app.state.services
    principal = await _authenticate(ws, services)
    if principal is None:
        await ws.close(code=1008, reason="authentication required")
        return
    admin = Permission.USERS_ADMIN in principal.permissions
    owner = f"user:{principal.user_id}"

    def visible(message: object) -> bool:
        if admin or not isinstance(message, OrderEvent):
            return True
        order = services.node.oms.get(message.client_order_id)
        return order is not None and owner in order.spec.tags

    await ws.accept()
    outbox: asyncio.Queue[str | None] = asyncio.Queue(maxsize=OUTBOX)
    subs: dict[str, Subscription] = {}
    inbound: deque[float] = deque()
    loop = asyncio.get_running_loop()

    push = _pusher(outbox, visible)

    reason = ["too slow: messages were not read"]

    async def writer() -> None:
        while (text := await outbox.get()) is not None:
            await ws.send_text(text)
        await ws.close(code=1008, reason=reason[0])

    task = asyncio.create_task(writer())
    try:
        while True:
            raw = await ws.receive_text()
            if _too_fast(inbound, loop.time()):  # wall-clock: inbound rate of a live socket
                await ws.close(code=1008, reason="more than 5 messages a second")
                break
            answer = _handle(raw, subs, services, push)
            await outbox.put(json.dumps({k: v for k, v in answer.items() if k != "close"}))
            if answer.get("close"):  # the answer first, then 1008 (RELIABILITY.md SEC-11)
                reason[0] = str(answer["error"])
                await outbox.put(None)
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.shield(task), 5)
                break
    except WebSocketDisconnect:
        pass
    finally:
        for sub in subs.values():
            services.node.bus.unsubscribe(sub)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


def _pusher(
    outbox: asyncio.Queue[str | None], visible: Callable[[object], bool]
) -> Callable[[str], Callable[[str, object], None]]:
    """Bus handlers for one connection: visible messages into its bounded outbox; a reader
    this far behind is cut off (a None ends its writer), not buffered."""

    def push(channel: str) -> Callable[[str, object], None]:
        def handler(_topic: str, message: object) -> None:
            if not visible(message):
                return
            data = _CODEC.to_json(message).decode()
            text = '{"channel":' + json.dumps(channel) + ',"data":' + data + "}"
            try:
                outbox.put_nowait(text)
            except asyncio.QueueFull:
                _cut_off(outbox)

        return handler

    return push


def _cut_off(outbox: asyncio.Queue[str | None]) -> None:
    """End a connection whose outbox is full: what waits is dropped (the reader is going) and
    a None queued, so the writer closes with 1008 after the message it is sending. (A None put
    behind a full queue never got in: the reader stayed connected and lost messages.)"""
    while not outbox.empty():
        outbox.get_nowait()
    outbox.put_nowait(None)


def _too_fast(inbound: deque[float], now: float) -> bool:
    """Record one inbound message; True past MAX_INBOUND_PER_S in the last second."""
    inbound.append(now)
    while inbound and now - inbound[0] > 1.0:
        inbound.popleft()
    return len(inbound) > MAX_INBOUND_PER_S


async def _authenticate(ws: WebSocket, services: GatewayServices) -> Principal | None:
    """The caller of a WebSocket, or None. Browsers cannot set headers on a WebSocket: the
    access token (or API key) may come as the ``token`` query parameter instead."""
    header = ws.headers.get("authorization", "")
    token = header.partition(" ")[2].strip() if header.lower().startswith("bearer ") else ""
    token = token or ws.query_params.get("token", "")
    ctx = RequestContext(ip=ws.client.host if ws.client else None)
    try:
        if not token or len(token) > 8192:
            raise AuthenticationFailed("send a token")
        principal = await authenticate(services, token, ctx)
        await run_in_threadpool(services.auth.require, principal, Permission.ORDERS_READ, ctx)
    except TradeForgeError:
        return None
    return principal


def _handle(
    raw: str, subs: dict[str, Subscription], services: GatewayServices, push: Any
) -> dict[str, Any]:
    try:
        request = json.loads(raw)
    except ValueError:
        return {"error": "messages must be JSON objects"}
    if not isinstance(request, dict) or request.get("op") not in ("subscribe", "unsubscribe"):
        return {"error": 'send {"op": "subscribe" | "unsubscribe", "channels": [...]}'}
    channels = request.get("channels")
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        return {"error": "channels must be a list of strings"}
    if request["op"] == "unsubscribe":
        for channel in channels:
            sub = subs.pop(channel, None)
            if sub is not None:
                services.node.bus.unsubscribe(sub)
        return {"op": "unsubscribed", "channels": channels}
    if len(subs) + len([c for c in channels if c not in subs]) > MAX_SUBSCRIPTIONS:
        return {"error": f"at most {MAX_SUBSCRIPTIONS} subscriptions per connection", "close": True}
    try:
        topics = {c: _topic(c, services) for c in channels}
    except InvalidValue as exc:
        return {"error": str(exc)}
    for channel, topic in topics.items():
        if channel not in subs:
            subs[channel] = services.node.bus.subscribe(topic, push(channel))
    return {"op": "subscribed", "channels": sorted(subs)}

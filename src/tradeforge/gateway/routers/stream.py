"""``/api/v1/ws``: live order events, fills, positions, the portfolio's value, strategy events,
trades and bars, pushed from the node's bus.

The client sends ``{"op": "subscribe", "channels": [...]}`` (or ``"unsubscribe"``). Each
message is wrapped as ``{"channel": ..., "data": ...}``; the channels, what their ``data`` is
and the permission each needs (docs/api.md has the shapes):

- ``orders`` (``orders:read``): every order event (the bus codec's JSON), fills included;
- ``fills`` (``orders:read``): each fill as ``GET /fills`` shows one;
- ``positions`` (``portfolio:read``): a position after each fill, as ``GET /positions``;
- ``portfolio`` (``portfolio:read``): each value point the node records, as ``GET /portfolio``;
- ``strategies`` and ``strategies:<id>`` (``strategies:read``): each line of a strategy's log
  with the state it leaves the strategy in (``StrategyEventOut``);
- ``trades:<instrument>``, ``bars:<instrument>`` (``market:read``): the domain events.

Orders and fills are the caller's own (an admin's: everyone's), strategies those the caller
sees (``strategy_instances.can_see``). A subscribe naming an unknown channel or one the caller
may not read is refused whole with an ``error`` message. Limits (RELIABILITY.md SEC-11): at
most 200 subscriptions and 5 inbound messages a second per connection (else close 1008); each
connection has a bounded outbox, and a client that does not read is disconnected rather than
buffered.
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
from tradeforge.data import format_utc_ns
from tradeforge.domain import (
    InstrumentId,
    InvalidValue,
    OrderEvent,
    OrderFilled,
    PositionChanged,
    StrategyId,
    TradeForgeError,
)
from tradeforge.engine import StrategyLogged
from tradeforge.gateway.routers.orders import fill_out
from tradeforge.gateway.routers.portfolio import portfolio_out
from tradeforge.gateway.routers.positions import position_out
from tradeforge.gateway.routers.strategy_instances import can_see, instance_state
from tradeforge.gateway.schemas import StrategyEventOut
from tradeforge.gateway.security import authenticate
from tradeforge.gateway.services import GatewayServices
from tradeforge.trading import Valuation

__all__ = ["router"]

router = APIRouter()
MAX_SUBSCRIPTIONS = 200
MAX_INBOUND_PER_S = 5
OUTBOX = 10_000
_CODEC = Codec()


Render = Callable[[object], str | None]
"""A bus message as a channel's ``data`` (JSON), or None when the caller does not get it."""


class _Channel:
    """What one channel subscribes to, who may read it and how its messages are written."""

    __slots__ = ("permission", "render", "topic")

    def __init__(self, topic: str, permission: Permission, render: Render | None = None) -> None:
        self.topic = topic
        self.permission = permission
        self.render = render  # None: the bus codec's JSON


def _instrument(name: str, services: GatewayServices) -> str:
    try:
        iid = InstrumentId.from_str(name)
    except InvalidValue:
        raise InvalidValue(f"no instrument {name!r}") from None
    if iid not in services.node.instruments:
        raise InvalidValue(f"no instrument {name!r}")
    return escape_token(str(iid))


def _channel(channel: str, services: GatewayServices, principal: Principal) -> _Channel:
    """The channel named ``channel`` for ``principal`` (InvalidValue: no such channel)."""
    kind, _, name = channel.partition(":")
    node = services.node
    if kind == "orders" and not name:
        return _Channel("events.orders.>", Permission.ORDERS_READ)
    if kind == "fills" and not name:
        return _Channel("events.orders.>", Permission.ORDERS_READ, _fill)
    if kind == "positions" and not name:
        return _Channel("events.positions.>", Permission.PORTFOLIO_READ,
                        lambda m: _position(services, m))  # fmt: skip
    if kind == "portfolio" and not name:
        return _Channel(join_topic("events", "portfolio"), Permission.PORTFOLIO_READ, _value)
    if kind == "strategies":
        topic = "events.strategies.>"
        if name:
            try:
                sid = node.strategy(StrategyId(name)).id
            except InvalidValue:
                raise InvalidValue(f"no strategy instance {name!r}") from None
            if not can_see(services, sid, principal):  # another's is unknown too
                raise InvalidValue(f"no strategy instance {name!r}")
            topic = join_topic("events", "strategies", escape_token(sid.value))
        return _Channel(topic, Permission.STRATEGIES_READ,
                        lambda m: _strategy(services, principal, m))  # fmt: skip
    if kind == "trades" and name:
        return _Channel(join_topic("data", "trades", _instrument(name, services)),
                        Permission.MARKET_READ)  # fmt: skip
    if kind == "bars" and name:
        # Bars of every timeframe: a pattern (join_topic refuses wildcards; they are topics).
        return _Channel(f"data.bars.{_instrument(name, services)}.>", Permission.MARKET_READ)
    raise InvalidValue(
        f"unknown channel {channel!r}: use orders, fills, positions, portfolio, strategies, "
        "strategies:<id>, trades:<instrument>, bars:<instrument>"
    )


def _fill(message: object) -> str | None:
    return fill_out(message).model_dump_json() if isinstance(message, OrderFilled) else None


def _position(services: GatewayServices, message: object) -> str | None:
    node = services.node
    if not isinstance(message, PositionChanged) or node.positions is None:
        return None
    position = node.positions.get(message.position_id)  # now: it may have moved on since
    if position is None:
        return None
    return position_out(position, node.last_price(message.instrument_id)).model_dump_json()


def _value(message: object) -> str | None:
    return portfolio_out(message).model_dump_json() if isinstance(message, Valuation) else None


def _strategy(services: GatewayServices, principal: Principal, message: object) -> str | None:
    if not isinstance(message, StrategyLogged):
        return None
    sid = StrategyId(message.strategy_id)
    if not can_see(services, sid, principal):
        return None
    line = message.line
    state = "removed" if message.removed else instance_state(services.node, sid)
    return StrategyEventOut(
        strategy_id=sid.value, state=state, time=format_utc_ns(line.ts_ns), level=line.level,
        message=line.message, fields=line.fields,
    ).model_dump_json()  # fmt: skip


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
            answer = _handle(raw, subs, services, push, principal)
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


Push = Callable[[str, Render | None], Callable[[str, object], None]]


def _pusher(outbox: asyncio.Queue[str | None], visible: Callable[[object], bool]) -> Push:
    """Bus handlers for one connection: visible messages, written by the channel's ``render``
    (default: the bus codec's JSON), into its bounded outbox; a reader this far behind is cut
    off (a None ends its writer), not buffered."""

    def push(channel: str, render: Render | None = None) -> Callable[[str, object], None]:
        def handler(_topic: str, message: object) -> None:
            if not visible(message):
                return
            data = _CODEC.to_json(message).decode() if render is None else render(message)
            if data is None:
                return
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
    raw: str,
    subs: dict[str, Subscription],
    services: GatewayServices,
    push: Push,
    principal: Principal,
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
    if len(subs) + len({c for c in channels if c not in subs}) > MAX_SUBSCRIPTIONS:
        return {"error": f"at most {MAX_SUBSCRIPTIONS} subscriptions per connection", "close": True}
    try:
        wanted = {c: _channel(c, services, principal) for c in channels}
    except InvalidValue as exc:
        return {"error": str(exc)}
    refused = sorted(c for c, ch in wanted.items() if not principal.can(ch.permission))
    if refused:
        needs = ", ".join(f"{c} needs {wanted[c].permission.value}" for c in refused)
        return {"error": f"forbidden: {needs}", "channels": refused}
    for channel, wanted_channel in wanted.items():
        if channel not in subs:
            handler = push(channel, wanted_channel.render)
            subs[channel] = services.node.bus.subscribe(wanted_channel.topic, handler)
    return {"op": "subscribed", "channels": sorted(subs)}

"""Each WebSocket channel needs its own permission: a subscribe naming a channel the caller's
credential does not grant is refused whole, naming what is missing, and subscribes nothing.
(Every role and key scope of docs/auth.md grants all the read permissions together, so only a
principal built here can lack one.)"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tradeforge.auth.principal import AuthMethod, Principal
from tradeforge.auth.roles import Permission, Role
from tradeforge.bus import InMemoryBus, Subscription
from tradeforge.gateway.routers.stream import _handle, _pusher


class _Node:
    def __init__(self) -> None:
        self.bus = InMemoryBus()


class _Services:
    def __init__(self) -> None:
        self.node = _Node()


def principal(*permissions: Permission) -> Principal:
    return Principal(user_id="u_1", username="vera", role=Role.VIEWER,
                     method=AuthMethod.API_KEY, permissions=frozenset(permissions))  # fmt: skip


def subscribe(who: Principal, channels: list[str], subs: dict[str, Subscription]) -> Any:
    push = _pusher(asyncio.Queue(maxsize=10), lambda _m: True)
    raw = json.dumps({"op": "subscribe", "channels": channels})
    return _handle(raw, subs, _Services(), push, who)  # type: ignore[arg-type]


def test_a_channel_without_its_permission_is_refused_and_nothing_is_subscribed() -> None:
    orders_only = principal(Permission.ORDERS_READ)
    subs: dict[str, Subscription] = {}
    answer = subscribe(orders_only, ["orders", "fills", "positions", "portfolio", "strategies"],
                       subs)  # fmt: skip
    assert answer == {
        "error": "forbidden: portfolio needs portfolio:read, positions needs portfolio:read, "
        "strategies needs strategies:read",
        "channels": ["portfolio", "positions", "strategies"],
    }
    assert subs == {}
    assert subscribe(orders_only, ["orders", "fills"], subs) == {
        "op": "subscribed", "channels": ["fills", "orders"]}  # fmt: skip


def test_each_channel_asks_for_its_own_permission() -> None:
    cases = {
        "fills": Permission.ORDERS_READ,
        "positions": Permission.PORTFOLIO_READ,
        "portfolio": Permission.PORTFOLIO_READ,
        "strategies": Permission.STRATEGIES_READ,
    }
    for channel, needed in cases.items():
        others = [p for p in Permission if p is not needed]
        refused = subscribe(principal(*others), [channel], {})
        assert refused["channels"] == [channel], channel
        granted = subscribe(principal(needed), [channel], {})
        assert granted == {"op": "subscribed", "channels": [channel]}, channel

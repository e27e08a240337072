"""The WebSocket's fills, positions, portfolio and strategy channels over a real connection to
the embedded platform (issue 6): each user gets their own fills only (an admin everyone's),
positions after each fill, the portfolio's value every ``value_every_s``, and the lifecycle of
the strategy instances they can see; what a user may not see is refused or never sent."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import websockets
from tests.kit.served_platform import ServedPlatform

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

BTC = "BTC/USDT.SIM"
INSTANCES = "/api/v1/strategies/instances"
SMA = {"strategy": "sma_cross", "instrument_ids": [BTC],
       "params": {"fast": 5, "slow": 20, "size": "0.001"}}  # fmt: skip


def password(name: str) -> str:
    return f"amber-meadow-{len(name)}-kestrel-{sum(map(ord, name))}"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedPlatform]:
    p = ServedPlatform(tmp_path_factory.mktemp("stream"), value_every_s=0.5)
    p.start()
    yield p
    p.stop()


@pytest.fixture(scope="module")
def tokens(platform: ServedPlatform) -> dict[str, str]:
    """Access tokens of the admin and two traders."""
    admin = platform.login()
    with platform.client(admin) as http:
        for name in ("alice", "bob"):
            body = {"username": name, "role": "trader", "password": password(name)}
            assert http.post("/api/v1/users", json=body).status_code == 201
    return {"admin": admin} | {n: platform.login(n, password(n)) for n in ("alice", "bob")}


class Listener:
    """One WebSocket connection: subscribed, then collecting every message."""

    def __init__(self, platform: ServedPlatform, token: str) -> None:
        self.url = f"{platform.ws_url}?token={token}"
        self.messages: list[dict[str, Any]] = []
        self.ws: Any = None
        self._task: asyncio.Task[None] | None = None

    async def open(self, channels: list[str]) -> dict[str, Any]:
        self.ws = await websockets.connect(self.url)
        answer = await self.ask({"op": "subscribe", "channels": channels})
        self._task = asyncio.create_task(self._collect())
        return answer

    async def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send ``request``; the answer (the next message that is not a channel's)."""
        seen = len(self.messages)
        await self.ws.send(json.dumps(request))
        if self._task is None:
            answer: dict[str, Any] = json.loads(await self.ws.recv())
            return answer

        def answers() -> list[dict[str, Any]]:
            return [m for m in self.messages[seen:] if "channel" not in m]

        await until(answers, 5)
        return answers()[0]

    async def _collect(self) -> None:
        async for text in self.ws:
            self.messages.append(json.loads(text))

    def data(self, channel: str) -> list[dict[str, Any]]:
        return [m["data"] for m in self.messages if m.get("channel") == channel]

    async def close(self) -> None:
        await self.ws.close()
        if self._task is not None:
            await self._task


async def until(check: Any, seconds: float = 15) -> None:
    async with asyncio.timeout(seconds):
        while not check():
            await asyncio.sleep(0.05)


def _order(cid: str, side: str = "BUY") -> dict[str, str]:
    return {"instrument_id": BTC, "side": side, "type": "MARKET", "quantity": "0.01",
            "client_order_id": cid}  # fmt: skip


def test_fills_positions_and_portfolio_reach_their_readers_only(
    platform: ServedPlatform, tokens: dict[str, str]
) -> None:
    async def go() -> None:
        alice, bob, admin = (Listener(platform, tokens[n]) for n in ("alice", "bob", "admin"))
        channels = ["fills", "positions", "portfolio"]
        assert await alice.open(channels) == {"op": "subscribed", "channels": sorted(channels)}
        await bob.open(["fills"])
        await admin.open(["fills"])
        async with httpx.AsyncClient(base_url=platform.url, timeout=10) as http:
            for who, cid, side in (("alice", "a-1", "BUY"), ("bob", "b-1", "BUY"),
                                   ("alice", "a-2", "SELL")):  # fmt: skip
                headers = {"Authorization": f"Bearer {tokens[who]}"}
                placed = await http.post("/api/v1/orders", json=_order(cid, side),
                                         headers=headers)  # fmt: skip
                assert placed.status_code == 201, placed.text
            mine = {"Authorization": f"Bearer {tokens['alice']}"}
            rest = await http.get("/api/v1/fills", params={"client_order_id": "a-1"},
                                  headers=mine)  # fmt: skip

        def cids(listener: Listener) -> set[str]:
            return {f["client_order_id"] for f in listener.data("fills")}

        await until(lambda: cids(admin) >= {"a-1", "b-1", "a-2"})
        await until(lambda: cids(alice) >= {"a-1", "a-2"} and cids(bob) >= {"b-1"})
        await until(lambda: len(alice.data("portfolio")) >= 2)
        await asyncio.sleep(0.3)  # anything else in flight arrives now
        for listener in (alice, bob, admin):
            await listener.close()

        assert cids(alice) == {"a-1", "a-2"}  # never bob's
        assert cids(bob) == {"b-1"}  # never alice's
        (a1,) = [f for f in alice.data("fills") if f["client_order_id"] == "a-1"]
        assert a1 == rest.json()[0]  # the shape of GET /fills
        assert a1["quantity"] == "0.01000"

        positions = [p for p in alice.data("positions") if p["strategy_id"] == "manual"]
        assert len(positions) >= 3  # one per fill on the manual strategy's BTC position
        assert set(positions[-1]) == {"strategy_id", "instrument_id", "quantity", "avg_px_open",
                                      "realized_pnl", "unrealized_pnl", "last_price"}  # fmt: skip
        assert all(p["instrument_id"] == BTC for p in positions)
        assert all("E" not in p["realized_pnl"] for p in positions)

        points = alice.data("portfolio")
        assert set(points[0]) == {"base_currency", "equity", "cash", "positions_value",
                                  "realized_pnl", "unrealized_pnl", "fees", "unpriced",
                                  "ts"}  # fmt: skip
        assert points[0]["base_currency"] == "USDT"
        assert Decimal(points[-1]["equity"]) > 0
        assert [p["ts"] for p in points] == sorted(p["ts"] for p in points)
        assert all(m["channel"] in ("fills", "positions", "portfolio") for m in alice.messages)

    asyncio.run(go())


def test_strategy_events_follow_the_instances_a_user_can_see(
    platform: ServedPlatform, tokens: dict[str, str]
) -> None:
    async def go() -> None:
        alice, bob, admin = (Listener(platform, tokens[n]) for n in ("alice", "bob", "admin"))
        for listener in (alice, bob, admin):
            assert (await listener.open(["strategies"]))["op"] == "subscribed"
        path = f"{INSTANCES}/alice-sma"
        async with httpx.AsyncClient(base_url=platform.url, timeout=10,
                                     headers={"Authorization": f"Bearer {tokens['alice']}"}
                                     ) as http:  # fmt: skip
            assert (await http.post(INSTANCES, json={**SMA, "id": "alice-sma"})).status_code == 201
            one = Listener(platform, tokens["alice"])
            assert (await one.open(["strategies:alice-sma"]))["op"] == "subscribed"
            refused = await bob.ask({"op": "subscribe", "channels": ["strategies:alice-sma"]})
            assert refused == {"error": "no strategy instance 'alice-sma'"}  # as if absent
            assert (await http.post(f"{path}/start")).status_code == 200
            assert (await http.post(f"{path}/stop")).status_code == 200
            assert (await http.delete(path)).status_code == 204

        def lifecycle(listener: Listener) -> list[tuple[str, str]]:
            return [(e["message"], e["state"]) for e in listener.data("strategies")
                    if e["strategy_id"] == "alice-sma"]  # fmt: skip

        expected = [("added", "stopped"), ("started", "running"), ("stopped", "stopped"),
                    ("removed", "removed")]  # fmt: skip
        await until(lambda: lifecycle(alice)[-1:] == [("removed", "removed")])
        await until(lambda: lifecycle(admin)[-1:] == [("removed", "removed")])
        await asyncio.sleep(0.3)
        assert [e for e in lifecycle(alice) if e in expected] == expected
        assert lifecycle(admin) == lifecycle(alice)
        assert lifecycle(bob) == []  # another's instance: nothing of it
        only = [(e["message"], e["state"]) for e in one.data("strategies:alice-sma")]
        assert only == lifecycle(alice)[1:]  # subscribed once it was added
        event = alice.data("strategies")[0]
        assert set(event) == {"strategy_id", "state", "time", "level", "message", "fields"}
        assert all(m.get("channel") in ("strategies", None) for m in bob.messages)
        for listener in (alice, bob, admin, one):
            await listener.close()

    asyncio.run(go())


def test_what_a_caller_may_not_read_is_refused(
    platform: ServedPlatform, tokens: dict[str, str]
) -> None:
    async def go() -> None:
        with pytest.raises(websockets.InvalidStatus):  # no token: refused at the handshake
            async with websockets.connect(platform.ws_url):
                pass
        with platform.client(tokens["bob"]) as http:
            key = http.post("/api/v1/api-keys", json={"name": "ws", "scopes": ["read"]}).json()
            assert http.delete(f"/api/v1/api-keys/{key['id']}").status_code == 204
        with pytest.raises(websockets.InvalidStatus):  # a revoked key
            async with websockets.connect(f"{platform.ws_url}?token={key['secret']}"):
                pass
        bob = Listener(platform, tokens["bob"])
        answer = await bob.open(["fills", "positions:BTC", "nope"])
        assert "unknown channel 'positions:BTC'" in answer["error"]
        assert (await bob.ask({"op": "subscribe", "channels": ["strategies:manual"]})) == {
            "error": "no strategy instance 'manual'"
        }  # the gateway's own strategy is no instance
        subscribed = await bob.ask({"op": "subscribe", "channels": ["fills"]})
        assert subscribed == {"op": "subscribed", "channels": ["fills"]}  # nothing kept before
        await bob.close()

    asyncio.run(go())

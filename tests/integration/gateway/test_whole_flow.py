"""A user's whole path through ``tradeforge up`` over real HTTP, on SQLite and on PostgreSQL
(issue 6's Tests): register (``auth.allow_registration`` on) → an admin makes the new viewer a
trader → login → refresh → an API key → orders placed and cancelled with the key → their
events, the fill and the position arrive over the WebSocket and agree with REST → a backtest
job and its result → logout, after which the old refresh token is refused.

The PostgreSQL run uses a throwaway database on the local server (``fresh_postgres``, as SEC-1
does); it skips with a reason when the server is absent, and fails under ``CI=true``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from decimal import Decimal
from typing import Any

import httpx
import pytest
import websockets
from tests.kit.databases import fresh_postgres
from tests.kit.platform import Platform

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

BTC = "BTC/USDT.SIM"
PASSWORD = "a-long-passphrase-of-her-own-9"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def platform(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[Platform]:  # fmt: skip
    with fresh_postgres() if request.param == "postgresql" else nullcontext() as url:
        env = {"TRADEFORGE__AUTH__ALLOW_REGISTRATION": "true"}
        if url:
            env["TRADEFORGE__DB__URL"] = url
        p = Platform(tmp_path_factory.mktemp(f"flow-{request.param}"), env=env)
        p.generate(bars=3_000)
        p.start()
        yield p
        p.stop()


def _order(cid: str, **extra: str) -> dict[str, str]:
    return {"instrument_id": BTC, "side": "BUY", "type": "MARKET", "quantity": "0.01",
            "client_order_id": cid} | extra  # fmt: skip


CHANNELS = ["fills", "orders", "positions"]


async def _messages_until(ws: Any, done: Callable[[list[dict[str, Any]]], bool]
                          ) -> list[dict[str, Any]]:  # fmt: skip
    """Messages from ``ws`` until ``done(messages)`` (at most 15 s)."""
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(15):
        while not done(seen):
            message = json.loads(await ws.recv())
            assert message["channel"] in CHANNELS, message
            seen.append(message)
    return seen


def _arrived(seen: list[dict[str, Any]]) -> bool:
    kinds = {(m["channel"], m["data"].get("client_order_id"), m["data"].get("type"))
             for m in seen}  # fmt: skip
    wanted = {("orders", "carol-mkt", "OrderFilled"), ("orders", "carol-lmt", "OrderCanceled"),
              ("fills", "carol-mkt", None)}  # fmt: skip
    positions = [m for m in seen if m["channel"] == "positions"]
    return wanted <= kinds and any(p["data"]["instrument_id"] == BTC for p in positions)


async def _trade_and_watch(platform: Platform, access: str, key: str) -> list[dict[str, Any]]:
    """Subscribe with the access token, trade with the API key; what the WebSocket sent."""
    url = platform.url.replace("http", "ws") + f"/api/v1/ws?token={access}"
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"op": "subscribe", "channels": CHANNELS}))
        assert json.loads(await ws.recv()) == {"op": "subscribed", "channels": CHANNELS}
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=platform.url, headers=headers, timeout=10) as http:
            filled = await http.post("/api/v1/orders", json=_order("carol-mkt"))
            assert filled.status_code == 201, filled.text
            assert filled.json()["status"] == "FILLED"
            resting = await http.post(
                "/api/v1/orders", json=_order("carol-lmt", type="LIMIT", price="1000.00")
            )
            assert resting.status_code == 201, resting.text
            assert resting.json()["status"] == "ACCEPTED"
            canceled = await http.delete("/api/v1/orders/carol-lmt")
            assert canceled.status_code == 200, canceled.text
            assert canceled.json()["status"] == "CANCELED"
        return await _messages_until(ws, _arrived)


def test_register_to_logout(platform: Platform) -> None:
    url = platform.url
    # Register: a viewer account, no token needed; the name cannot be taken twice.
    body = {"username": "carol", "password": PASSWORD}
    made = httpx.post(url + "/api/v1/auth/register", json=body)
    assert made.status_code == 201, made.text
    assert made.json()["role"] == "viewer"
    assert httpx.post(url + "/api/v1/auth/register", json=body).status_code == 409
    with platform.client() as admin:  # the admin makes her a trader
        promoted = admin.patch(f"/api/v1/users/{made.json()['id']}", json={"role": "trader"})
        assert promoted.json()["role"] == "trader", promoted.text

    # Login, refresh: the new pair works, the access token says who she is.
    login = httpx.post(url + "/api/v1/auth/login", json=body)
    assert login.status_code == 200, login.text
    refreshed = httpx.post(url + "/api/v1/auth/refresh",
                           json={"refresh_token": login.json()["refresh_token"]})  # fmt: skip
    assert refreshed.status_code == 200, refreshed.text
    tokens = refreshed.json()
    assert tokens["session_id"] == login.json()["session_id"]
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    me = httpx.get(url + "/api/v1/auth/me", headers=bearer).json()
    assert (me["username"], me["role"], me["method"]) == ("carol", "trader", "session")

    # An API key to trade with; its secret is shown once.
    key = httpx.post(url + "/api/v1/api-keys", headers=bearer,
                     json={"name": "bot", "scopes": ["read", "trade"]})  # fmt: skip
    assert key.status_code == 201, key.text
    secret = key.json()["secret"]
    assert secret.startswith("tf_key_")
    assert secret not in httpx.get(url + "/api/v1/api-keys", headers=bearer).text

    # Orders with the key; their events, the fill and the position over the WebSocket (opened
    # with the access token), the same as REST says.
    seen = asyncio.run(_trade_and_watch(platform, tokens["access_token"], secret))
    orders = [m["data"] for m in seen if m["channel"] == "orders"]
    assert {e["client_order_id"] for e in orders} <= {"carol-mkt", "carol-lmt"}
    (event,) = [e for e in orders if e["type"] == "OrderFilled"]
    (fill,) = [m["data"] for m in seen if m["channel"] == "fills"]
    position = [m["data"] for m in seen if m["channel"] == "positions"][-1]
    assert (fill["trade_id"], Decimal(fill["quantity"])) == (event["trade_id"], Decimal("0.01"))
    assert Decimal(fill["price"]) == Decimal(event["last_px"])
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {secret}"}) as http:
        fills = http.get("/api/v1/fills", params={"client_order_id": "carol-mkt"}).json()
        assert fills == [fill]
        (held,) = [p for p in http.get("/api/v1/positions").json() if p["instrument_id"] == BTC]
        assert Decimal(held["quantity"]) == Decimal(position["quantity"]) == Decimal("0.01")
        assert (held["strategy_id"], held["avg_px_open"]) == (
            position["strategy_id"], position["avg_px_open"])  # fmt: skip
        assert http.get("/api/v1/orders/carol-lmt").json()["status"] == "CANCELED"

    # A backtest job over the generated dataset, and its result.
    job = {"strategy": "sma_cross", "instrument_ids": [BTC], "cash": "100000", "fee": "0.001",
           "params": {"fast": 5, "slow": 20, "size": "1"}}  # fmt: skip
    with httpx.Client(base_url=url, headers=bearer, timeout=10) as http:
        accepted = http.post("/api/v1/backtests", json=job)
        assert accepted.status_code == 202, accepted.text
        job_id = accepted.json()["id"]
        deadline = time.monotonic() + 60
        while (state := http.get(f"/api/v1/backtests/{job_id}").json())["state"] in (
            "queued", "running",
        ):  # fmt: skip
            assert time.monotonic() < deadline, state
            time.sleep(0.2)
        assert state["state"] == "succeeded", state
        result = http.get(f"/api/v1/backtests/{job_id}/result", params={"limit": 500}).json()
    assert result["bars"] == 3_000
    assert result["trades"]["total"] == len(result["trades"]["items"]) > 0
    assert result["metrics"]["num_trades"] == result["trades"]["total"]
    # Exact money: the cash is what the trades made, less the fees and an open position's cost.
    money = {k: Decimal(result[k]) for k in ("initial_cash", "final_cash", "realized_pnl",
                                              "fees", "open_cost")}  # fmt: skip
    assert money["realized_pnl"] == sum(Decimal(t["pnl"]) for t in result["trades"]["items"])
    assert money["final_cash"] == (money["initial_cash"] + money["realized_pnl"] - money["fees"]
                                   - money["open_cost"])  # fmt: skip

    # Logout ends the session: its tokens are refused, the newest refresh token too.
    assert httpx.post(url + "/api/v1/auth/logout", headers=bearer).status_code == 204
    assert httpx.get(url + "/api/v1/auth/me", headers=bearer).status_code == 401
    again = httpx.post(url + "/api/v1/auth/refresh",
                       json={"refresh_token": tokens["refresh_token"]})  # fmt: skip
    assert again.status_code == 401
    assert again.headers["content-type"] == "application/problem+json"
    # The API key is not a session: logout leaves it working.
    key_headers = {"Authorization": f"Bearer {secret}"}
    assert httpx.get(url + "/api/v1/orders/carol-mkt", headers=key_headers).status_code == 200

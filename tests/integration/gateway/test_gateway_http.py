"""The embedded platform (``tradeforge up``) over real HTTP: orders placed, made idempotent,
refused with problem documents, cancelled, listed page by page; fills and positions; the
OpenAPI document covers every route; a restart keeps everything."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from tests.kit.platform import ADMIN_PASSWORD, Platform

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    p = Platform(tmp_path_factory.mktemp("up"))
    p.start()
    yield p
    if p.proc is not None:
        p.proc.kill()


def market(cid: str | None = None, **extra: object) -> dict[str, object]:
    body: dict[str, object] = {"instrument_id": "BTC/USDT.SIM", "side": "BUY", "type": "MARKET",
                               "quantity": "0.01"}  # fmt: skip
    if cid:
        body["client_order_id"] = cid
    return body | extra


def test_orders_fills_positions_and_idempotency(platform: Platform) -> None:
    with platform.client() as http:
        instruments = http.get("/api/v1/instruments").json()
        assert {i["id"] for i in instruments} == {"BTC/USDT.SIM", "ETH/USDT.SIM"}
        assert http.get("/api/v1/instruments/BTC/USDT.SIM").json()["tick_size"] == "0.01"
        first = http.post("/api/v1/orders", json=market("api-1"))
        assert first.status_code == 201, first.text
        assert first.json()["status"] == "FILLED"
        again = http.post("/api/v1/orders", json=market("api-1"))
        assert again.status_code == 200
        assert again.json() == http.get("/api/v1/orders/api-1").json()
        other = http.post("/api/v1/orders", json=market("api-1", quantity="0.02"))
        assert other.status_code == 409
        assert other.headers["content-type"] == "application/problem+json"
        fills = http.get("/api/v1/fills", params={"client_order_id": "api-1"}).json()
        assert [f["quantity"] for f in fills] == ["0.01000"]
        positions = http.get("/api/v1/positions").json()
        (mine,) = [p for p in positions if p["instrument_id"] == "BTC/USDT.SIM"]
        assert mine["quantity"] == "0.01000"
        low = {"type": "LIMIT", "price": "1000.00", "client_order_id": "api-2"}
        resting = http.post("/api/v1/orders", json=market(**low))
        assert resting.json()["status"] == "ACCEPTED"
        canceled = http.delete("/api/v1/orders/api-2")
        assert canceled.json()["status"] == "CANCELED"
        assert http.delete("/api/v1/orders/api-2").status_code == 409


def test_bad_requests_get_problem_documents_and_change_nothing(platform: Platform) -> None:
    with platform.client() as http:
        before = http.get("/api/v1/orders", params={"limit": 500}).json()["items"]
        cases = [
            (market(instrument_id="DOGE/USDT.SIM"), 404),
            (market(quantity="-1"), 422),
            (market(quantity="abc"), 422),
            (market(side="HOLD"), 422),
            (market(role="admin"), 422),  # unknown fields are refused, not ignored
            (market(type="LIMIT"), 422),  # a limit order without a price
            (market(quantity="0.000001"), 422),  # off the lot
            (market(quantity="1000"), 422),  # more than the account can pay: the venue refuses
        ]
        for body, status in cases:
            answer = http.post("/api/v1/orders", json=body)
            assert answer.status_code == status, (body, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["status"] == status
            assert "Traceback" not in answer.text
        bad_json = http.post(
            "/api/v1/orders", content=b"{nope", headers={"content-type": "application/json"}
        )
        assert bad_json.status_code == 422
        huge = http.post("/api/v1/orders", content=b"x" * ((1 << 20) + 1),
                         headers={"content-type": "application/json"})  # fmt: skip
        assert huge.status_code == 413
        assert http.get("/api/v1/orders/nope").status_code == 404
        assert http.get("/api/v1/orders", params={"limit": 501}).status_code == 422
        after = http.get("/api/v1/orders", params={"limit": 500}).json()["items"]
        placed = {o["client_order_id"] for o in after} - {o["client_order_id"] for o in before}
        statuses = {o["status"] for o in after if o["client_order_id"] in placed}
        assert statuses <= {"REJECTED", "DENIED"}  # what reached the node was refused
        assert len(placed) <= 1  # only the unaffordable one got as far as the venue


def test_pagination_walks_every_order_once(platform: Platform) -> None:
    with platform.client() as http:
        for n in range(7):
            http.post("/api/v1/orders", json=market(f"page-{n}"))
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, object] = {"limit": 3}
            if cursor:
                params["cursor"] = cursor
            page = http.get("/api/v1/orders", params=params).json()
            seen += [o["client_order_id"] for o in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen))
        assert {f"page-{n}" for n in range(7)} <= set(seen)
        assert http.get("/api/v1/orders", params={"cursor": "!!"}).status_code == 422


def test_every_route_is_in_the_openapi_document(platform: Platform) -> None:
    spec = httpx.get(platform.url + "/api/v1/openapi.json").json()
    assert httpx.get(platform.url + "/api/v1/orders").status_code == 401  # not without a token
    paths = set(spec["paths"])
    expected = {"/api/v1/orders", "/api/v1/orders/{client_order_id}", "/api/v1/fills",
                "/api/v1/positions", "/api/v1/instruments", "/healthz", "/readyz"}  # fmt: skip
    assert expected <= paths
    assert httpx.get(platform.url + "/docs").status_code == 200


async def _drain(ws: object) -> None:
    """Read until the server closes the connection (at most 5 s)."""
    import asyncio

    async with asyncio.timeout(5):
        while True:
            await ws.recv()  # type: ignore[attr-defined]


def test_websocket_streams_orders_and_trades(platform: Platform) -> None:
    import asyncio
    import json

    import websockets

    headers = platform.login()

    async def go() -> None:
        url = platform.url.replace("http", "ws") + "/api/v1/ws"
        with pytest.raises(websockets.InvalidStatus):  # no token: refused at the handshake
            async with websockets.connect(url):
                pass
        token = headers["Authorization"].partition(" ")[2]
        async with websockets.connect(f"{url}?token={token}") as ws:
            await ws.send(
                json.dumps({"op": "subscribe", "channels": ["orders", "trades:BTC/USDT.SIM"]})
            )
            ack = json.loads(await ws.recv())
            assert ack == {"op": "subscribed", "channels": ["orders", "trades:BTC/USDT.SIM"]}
            await ws.send(json.dumps({"op": "subscribe", "channels": ["trades:NOPE.SIM"]}))
            async with httpx.AsyncClient(base_url=platform.url, headers=headers) as http:
                placed = await http.post("/api/v1/orders", json=market("ws-1"))
                assert placed.status_code == 201
            kinds: set[str] = set()
            errors = 0
            async with asyncio.timeout(15):
                while not ({"OrderFilled", "TradeTick"} <= kinds and errors):
                    message = json.loads(await ws.recv())
                    if "error" in message:
                        errors += 1
                        continue
                    data = message["data"]
                    kinds.add(data["type"])
                    if message["channel"] == "orders":
                        assert data["client_order_id"] == "ws-1"
            for _ in range(10):  # more than 5 requests a second: closed with 1008
                await ws.send(json.dumps({"op": "subscribe", "channels": []}))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await _drain(ws)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1008

    asyncio.run(go())


def test_a_restart_keeps_the_orders(platform: Platform) -> None:
    with platform.client() as http:
        http.post("/api/v1/orders", json=market("keep-1"))
    platform.stop()
    platform.start()
    with platform.client() as http:
        kept = http.get("/api/v1/orders/keep-1")
        assert kept.status_code == 200
        assert kept.json()["status"] == "FILLED"
        assert http.post("/api/v1/orders", json=market("keep-1")).status_code == 200


def test_roles_keys_and_other_peoples_orders(platform: Platform) -> None:
    admin = platform.login()
    with platform.client(admin) as http:
        for name, role in (("alice", "trader"), ("bob", "trader"), ("vera", "viewer")):
            body = {"username": name, "role": role, "password": f"pw-{role}-7-{len(name)}-xq"}
            made = http.post("/api/v1/users", json=body)
            assert made.status_code == 201, made.text
    alice = platform.login("alice", "pw-trader-7-5-xq")
    bob = platform.login("bob", "pw-trader-7-3-xq")
    vera = platform.login("vera", "pw-viewer-7-4-xq")
    with platform.client(alice) as http:
        assert http.post("/api/v1/orders", json=market("alice-1")).status_code == 201
        key = http.post("/api/v1/api-keys", json={"name": "reader", "scopes": ["read"]}).json()
    with platform.client(bob) as http:
        assert http.get("/api/v1/orders/alice-1").status_code == 404  # not bob's: not found
        assert "alice-1" not in {
            o["client_order_id"] for o in http.get("/api/v1/orders").json()["items"]
        }
        assert http.delete("/api/v1/orders/alice-1").status_code == 404
        assert http.post("/api/v1/orders", json=market("alice-1")).status_code == 409
        assert http.get("/api/v1/users").status_code == 403
    with platform.client(vera) as http:
        denied = http.post("/api/v1/orders", json=market("vera-1"))
        assert denied.status_code == 403
        assert http.get("/api/v1/instruments").status_code == 200
    with platform.client({"Authorization": f"Bearer {key['secret']}"}) as http:
        assert http.get("/api/v1/orders/alice-1").status_code == 200  # alice's read key
        assert http.post("/api/v1/orders", json=market("key-1")).status_code == 403
    with platform.client(admin) as http:
        assert http.get("/api/v1/orders/alice-1").status_code == 200  # an admin sees all


def test_refresh_rotates_and_a_replay_ends_the_session(platform: Platform) -> None:
    login = httpx.post(platform.url + "/api/v1/auth/login",
                       json={"username": "admin", "password": ADMIN_PASSWORD}).json()  # fmt: skip
    first = httpx.post(platform.url + "/api/v1/auth/refresh",
                       json={"refresh_token": login["refresh_token"]})  # fmt: skip
    assert first.status_code == 200
    replay = httpx.post(platform.url + "/api/v1/auth/refresh",
                        json={"refresh_token": login["refresh_token"]})  # fmt: skip
    assert replay.status_code == 401
    newest = {"Authorization": f"Bearer {first.json()['access_token']}"}
    assert httpx.get(platform.url + "/api/v1/orders", headers=newest).status_code == 401
    bad = httpx.post(platform.url + "/api/v1/auth/login",
                     json={"username": "admin", "password": "wrong-password-123"})  # fmt: skip
    assert bad.status_code == 401
    assert bad.headers["content-type"] == "application/problem+json"

"""The simulated exchange's WebSocket streams: CCXT Pro's unmodified ``binance`` class watching
trades, the order book (which must equal the server's after 10,000 updates) and its own orders;
and Binance's raw stream protocol (combined streams, SUBSCRIBE, update-id continuity, listen
keys, limits, injected gaps and drops) checked with a plain WebSocket client."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
import websockets
from tests.kit.sim_exchange import RunningExchange, run

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(exchange_factory: Callable[..., RunningExchange]) -> RunningExchange:
    return exchange_factory("--instruments", "BTC/USDT,ETH/USDT", "--events-per-second", "2000")


async def _messages(ws: Any, n: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    out = []
    async with asyncio.timeout(timeout):
        while len(out) < n:
            out.append(json.loads(await ws.recv()))
    return out


async def _drain(ws: Any) -> None:
    """Read until the server closes the connection (at most 5 s)."""
    async with asyncio.timeout(5):
        while True:
            await ws.recv()


def test_ccxt_book_equals_the_servers_after_10000_updates(server: RunningExchange) -> None:
    async def go() -> None:
        ex = server.client(pro=True)
        try:
            await ex.load_markets()
            book = await ex.watch_order_book("BTC/USDT")
            first = book["nonce"]
            while book["nonce"] - first < 10_000:
                book = await ex.watch_order_book("BTC/USDT")
            last_id = server.pause()["BTCUSDT"]
            try:
                async with asyncio.timeout(10):
                    while ex.orderbooks["BTC/USDT"]["nonce"] != last_id:
                        await asyncio.sleep(0.1)
                mine = ex.orderbooks["BTC/USDT"]
                theirs = httpx.get(
                    server.base + "/api/v3/depth", params={"symbol": "BTCUSDT", "limit": 5000}
                ).json()
                assert theirs["lastUpdateId"] == last_id
                assert [[Decimal(str(p)), Decimal(str(q))] for p, q in mine["bids"]] == [
                    [Decimal(p), Decimal(q)] for p, q in theirs["bids"]
                ]
                assert [[Decimal(str(p)), Decimal(str(q))] for p, q in mine["asks"]] == [
                    [Decimal(p), Decimal(q)] for p, q in theirs["asks"]
                ]
            finally:
                server.pause(False)
        finally:
            await ex.close()

    run(go())


def test_ccxt_watches_trades_own_orders_and_balance(server: RunningExchange) -> None:
    account = server.add_account(USDT="50000", BTC="1")

    async def go() -> None:
        ex = server.client(account, pro=True)
        try:
            await ex.load_markets()
            trades = await ex.watch_trades("BTC/USDT")
            assert trades
            assert all(t["symbol"] == "BTC/USDT" and t["amount"] > 0 for t in trades)
            watcher = asyncio.create_task(ex.watch_orders("BTC/USDT"))
            await asyncio.sleep(0.5)  # the user-data subscription is in place
            bid = (await ex.fetch_order_book("BTC/USDT"))["bids"][0][0]
            placed = await ex.create_order("BTC/USDT", "limit", "buy", 0.01, round(bid * 0.9, 2))
            seen = await asyncio.wait_for(watcher, 10)
            assert [(o["id"], o["status"]) for o in seen] == [(placed["id"], "open")]
            await ex.cancel_order(placed["id"], "BTC/USDT")
            async with asyncio.timeout(10):
                while True:
                    orders = await ex.watch_orders("BTC/USDT")
                    if orders[-1]["status"] == "canceled":
                        break
            await ex.create_order("BTC/USDT", "market", "buy", 0.01)
            async with asyncio.timeout(10):
                while True:
                    balance = await ex.watch_balance()
                    if balance.get("BTC", {}).get("total") == 1.01:
                        break
            rest = await ex.fetch_balance()
            assert balance["USDT"]["total"] == rest["total"]["USDT"]
        finally:
            await ex.close()

    run(go())


def test_combined_streams_and_update_ids_are_contiguous(server: RunningExchange) -> None:
    async def go() -> None:
        url = server.ws + "/stream?streams=btcusdt@depth@100ms/btcusdt@trade/btcusdt@bookTicker"
        by_stream: dict[str, list[dict[str, Any]]] = {}
        async with websockets.connect(url) as ws, asyncio.timeout(20):
            while len(by_stream.get("btcusdt@depth@100ms", [])) < 20:
                m = json.loads(await ws.recv())
                by_stream.setdefault(m["stream"], []).append(m["data"])
        depth = by_stream["btcusdt@depth@100ms"]
        assert all(d["e"] == "depthUpdate" and d["s"] == "BTCUSDT" for d in depth)
        for before, after in itertools.pairwise(depth):
            assert after["U"] == before["u"] + 1
        assert all(t["e"] == "trade" for t in by_stream["btcusdt@trade"])
        tops = by_stream["btcusdt@bookTicker"]
        assert all(Decimal(t["b"]) < Decimal(t["a"]) for t in tops)

    run(go())


def test_subscribe_list_unsubscribe_klines_and_bad_requests(server: RunningExchange) -> None:
    async def go() -> None:
        async with websockets.connect(server.ws + "/ws") as ws:
            await ws.send(
                json.dumps({"method": "SUBSCRIBE", "params": ["ethusdt@kline_1m"], "id": 1})
            )
            reply = json.loads(await ws.recv())
            assert reply == {"result": None, "id": 1}
            await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 2}))
            while (listed := json.loads(await ws.recv())).get("id") != 2:
                pass
            assert listed["result"] == ["ethusdt@kline_1m"]
            kline = next(m for m in await _messages(ws, 5) if m.get("e") == "kline")
            k = kline["k"]
            assert k["i"] == "1m"
            assert k["s"] == "ETHUSDT"
            assert Decimal(k["l"]) <= min(Decimal(k["o"]), Decimal(k["c"]))
            await ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["nope@trade"], "id": 3}))
            while "id" not in (answer := json.loads(await ws.recv())) or answer["id"] != 3:
                pass
            assert answer["error"]["code"] == 2
            await ws.send(
                json.dumps({"method": "UNSUBSCRIBE", "params": ["ethusdt@kline_1m"], "id": 4})
            )
            while json.loads(await ws.recv()).get("id") != 4:
                pass
            for i in range(10):  # more than 5 requests a second
                await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 10 + i}))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await _drain(ws)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1008

    run(go())


def test_listen_key_user_stream_reports_orders_and_balances(server: RunningExchange) -> None:
    account = server.add_account(USDT="10000")

    async def go() -> None:
        ex = server.client(account)
        try:
            await ex.load_markets()
            key = (await ex.publicPostUserDataStream())["listenKey"]
            assert len(key) == 60
            assert (await ex.publicPutUserDataStream({"listenKey": key})) == {}
            async with websockets.connect(f"{server.ws}/ws/{key}") as ws:
                await asyncio.sleep(0.2)
                order = await ex.create_order("BTC/USDT", "market", "buy", 0.01)
                events = await _messages(ws, 3)
            reports = [e for e in events if e["e"] == "executionReport"]
            assert [(r["x"], r["X"]) for r in reports] == [("NEW", "NEW"), ("TRADE", "FILLED")]
            assert {r["i"] for r in reports} == {int(order["id"])}
            positions = [e for e in events if e["e"] == "outboundAccountPosition"]
            assert {b["a"] for b in positions[0]["B"]} == {"BTC", "USDT"}
            await ex.publicDeleteUserDataStream({"listenKey": key})
            async with websockets.connect(f"{server.ws}/ws/{key}") as ws:
                await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 1}))
                assert json.loads(await ws.recv())["result"] == []  # a plain, empty stream now
        finally:
            await ex.close()

    run(go())


def test_injected_depth_gap_and_dropped_connections(server: RunningExchange) -> None:
    async def go() -> None:
        async with websockets.connect(server.ws + "/ws/btcusdt@depth@100ms") as ws:
            before = await _messages(ws, 2)
            server.admin(
                "POST", "/admin/faults", {"kind": "skip_depth", "count": 1, "symbol": "BTCUSDT"}
            )
            updates = before + await _messages(ws, 10)
            gaps = [
                (a["u"], b["U"]) for a, b in itertools.pairwise(updates) if b["U"] != a["u"] + 1
            ]
            assert len(gaps) == 1
            server.admin("POST", "/admin/faults", {"kind": "drop_ws", "count": 1})
            with pytest.raises(websockets.ConnectionClosed):
                await _drain(ws)
        fired = server.admin("GET", "/admin/faults")["fired"]
        assert fired["skip_depth"] == 1
        assert fired["drop_ws"] == 1

    run(go())

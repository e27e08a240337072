"""What the web UI found missing in the API (issue 6), over real HTTP to the embedded platform:
decimals written in plain notation at their precision in every response, revoked API keys
marked (and left out unless asked for), orders listed newest first with cursors that walk
either way, and the order book the node keeps from its venue's book feed."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from tests.kit.served_platform import ServedPlatform

from tradeforge.domain import InstrumentId

pytestmark = pytest.mark.integration

BTC = "BTC/USDT.SIM"
EXPONENT = re.compile(r"-?\d+(\.\d+)?[eE][+-]?\d+")


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedPlatform]:
    p = ServedPlatform(tmp_path_factory.mktemp("gaps"), value_every_s=0.2)
    p.start()
    yield p
    p.stop()


@pytest.fixture(scope="module")
def http(platform: ServedPlatform) -> Iterator[httpx.Client]:
    with platform.client(platform.login()) as client:
        yield client


def _order(cid: str, side: str = "BUY", **extra: str) -> dict[str, str]:
    return {"instrument_id": BTC, "side": side, "type": "MARKET", "quantity": "0.01",
            "client_order_id": cid} | extra  # fmt: skip


def _strings(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a JSON document, with where it is."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{where}.{key}")
    elif isinstance(value, list):
        for k, item in enumerate(value):
            yield from _strings(item, f"{where}[{k}]")


def _decimals(places: int) -> re.Pattern[str]:
    return re.compile(rf"-?\d+\.\d{{{places}}}")


def test_no_response_writes_a_decimal_in_exponent_notation(http: httpx.Client) -> None:
    # A position opened and one closed: zero PnL and zero quantities, money of 8 decimals.
    for cid, side in (("dec-1", "BUY"), ("dec-2", "SELL"), ("dec-3", "BUY")):
        assert http.post("/api/v1/orders", json=_order(cid, side)).status_code == 201
    eth = {"instrument_id": "ETH/USDT.SIM", "client_order_id": "dec-4", "quantity": "0.1000"}
    assert http.post("/api/v1/orders", json=_order("", **eth)).status_code == 201
    resting = _order("dec-5", type="LIMIT", price="1000.00")
    assert http.post("/api/v1/orders", json=resting).status_code == 201
    time.sleep(0.5)  # portfolio points
    paths = [
        "/api/v1/instruments", "/api/v1/orders?limit=500", "/api/v1/orders/dec-1",
        "/api/v1/fills?limit=500", "/api/v1/positions", "/api/v1/portfolio",
        "/api/v1/portfolio/history", f"/api/v1/market/{BTC}/candles", f"/api/v1/market/{BTC}/book",
        f"/api/v1/market/{BTC}/ticker", "/api/v1/strategies", "/api/v1/risk/limits",
        "/api/v1/risk/denials", "/api/v1/reconciliation",
    ]  # fmt: skip
    seen = 0
    for path in paths:
        answer = http.get(path)
        assert answer.status_code == 200, (path, answer.text)
        for where, text in _strings(answer.json()):
            seen += 1
            assert not EXPONENT.fullmatch(text), f"{path} {where} = {text!r}"
    assert seen > 100

    positions = {p["instrument_id"]: p for p in http.get("/api/v1/positions").json()}
    btc = positions[BTC]
    assert btc["quantity"] == "0.01000"  # the lot's 5 decimals
    assert _decimals(2).fullmatch(btc["avg_px_open"])  # the tick's 2, not 28 digits
    assert _decimals(8).fullmatch(btc["realized_pnl"])  # USDT's 8: "0.00000000", not "0E-8"
    order = http.get("/api/v1/orders/dec-1").json()
    assert _decimals(2).fullmatch(order["avg_px"])
    (fill,) = http.get("/api/v1/fills", params={"client_order_id": "dec-1"}).json()
    assert _decimals(8).fullmatch(fill["commission"])
    assert fill["time"].endswith("Z")


def test_revoked_api_keys_are_left_out_unless_asked_for_and_then_marked(
    platform: ServedPlatform, http: httpx.Client
) -> None:
    made = [http.post("/api/v1/api-keys", json={"name": n, "scopes": ["read"]}).json()
            for n in ("kept", "gone")]  # fmt: skip
    kept, gone = (key["id"] for key in made)
    assert made[0]["revoked"] is False
    assert http.delete(f"/api/v1/api-keys/{gone}").status_code == 204

    live = {k["id"]: k for k in http.get("/api/v1/api-keys").json()}
    assert kept in live
    assert gone not in live
    assert not any(k["revoked"] for k in live.values())
    every = {k["id"]: k for k in http.get("/api/v1/api-keys?include_revoked=true").json()}
    assert every[kept]["revoked"] is False
    assert every[kept]["revoked_ns"] is None
    assert every[gone]["revoked"] is True
    assert every[gone]["revoked_ns"] >= every[gone]["created_ns"]
    assert set(every) - set(live) == {gone}
    answer = httpx.get(platform.url + "/api/v1/auth/me",
                       headers={"Authorization": f"Bearer {made[1]['secret']}"})  # fmt: skip
    assert answer.status_code == 401


def _walk(http: httpx.Client, order: str, limit: int, between: Any = None) -> list[str]:
    """Every order id, page by page; ``between(n)`` runs after page n."""
    seen: list[str] = []
    params: dict[str, Any] = {"limit": limit, "order": order}
    for n in range(100):
        page = http.get("/api/v1/orders", params=params).json()
        seen += [o["client_order_id"] for o in page["items"]]
        if page["next_cursor"] is None:
            return seen
        params["cursor"] = page["next_cursor"]
        if between is not None:
            between(n)
    raise AssertionError("the walk did not end")


def test_orders_newest_first_with_cursors_that_walk_either_way(http: httpx.Client) -> None:
    for n in range(7):
        assert http.post("/api/v1/orders", json=_order(f"walk-{n}")).status_code == 201
    oldest_first = _walk(http, "asc", 3)
    newest_first = _walk(http, "desc", 3)
    assert newest_first == oldest_first[::-1]
    assert len(set(oldest_first)) == len(oldest_first)
    assert newest_first[:7] == [f"walk-{n}" for n in range(6, -1, -1)]
    first = http.get("/api/v1/orders", params={"order": "desc", "limit": 1}).json()
    assert [o["client_order_id"] for o in first["items"]] == ["walk-6"]

    # Orders placed while walking: never in a newest-first walk, at the end of an oldest-first
    # one; no order twice, none skipped.
    placed: list[str] = []

    def place(n: int) -> None:
        placed.append(f"mid-{len(placed)}")
        assert http.post("/api/v1/orders", json=_order(placed[-1])).status_code == 201

    during_desc = _walk(http, "desc", 4, place)
    assert during_desc == newest_first
    during_asc = _walk(http, "asc", 4, place)
    assert during_asc[: len(oldest_first)] == oldest_first
    assert set(during_asc[len(oldest_first) :]) <= set(placed)
    assert len(set(during_asc)) == len(during_asc)

    asc = http.get("/api/v1/orders", params={"limit": 2}).json()["next_cursor"]
    mixed = http.get("/api/v1/orders", params={"order": "desc", "cursor": asc})
    assert mixed.status_code == 422
    assert "order=asc" in mixed.json()["detail"]
    assert http.get("/api/v1/orders", params={"order": "sideways"}).status_code == 422
    assert http.get("/api/v1/orders", params={"cursor": "MTI="}).status_code == 422  # "12"


def test_the_book_is_the_latest_from_the_venue_feed(
    platform: ServedPlatform, http: httpx.Client
) -> None:
    for iid, tick in ((BTC, 2), ("ETH/USDT.SIM", 2)):
        answer = http.get(f"/api/v1/market/{iid}/book", params={"depth": 5})
        assert answer.status_code == 200, answer.text
        book = answer.json()
        assert book["instrument_id"] == iid
        bids = [Decimal(level["price"]) for level in book["bids"]]
        asks = [Decimal(level["price"]) for level in book["asks"]]
        assert 0 < len(bids) <= 5
        assert 0 < len(asks) <= 5
        assert bids == sorted(bids, reverse=True)
        assert asks == sorted(asks)
        assert bids[0] < asks[0]  # not crossed
        assert all(_decimals(tick).fullmatch(lv["price"]) for lv in book["bids"] + book["asks"])
        assert all(Decimal(lv["size"]) > 0 for lv in book["bids"] + book["asks"])
    later = http.get(f"/api/v1/market/{BTC}/book").json()
    assert len(later["bids"]) > 5  # depth 20 by default: the generated market keeps 20 a side
    assert http.get(f"/api/v1/market/{BTC}/book", params={"depth": 0}).status_code == 422

    # A feed that ended leaves no stale book behind: the route says there is none.
    assert platform.node.books is not None
    platform.node.books.forget(InstrumentId.from_str(BTC))
    gone = http.get(f"/api/v1/market/{BTC}/book")
    assert gone.status_code == 404
    assert gone.json()["type"].endswith("/no-order-book")
    assert http.get("/api/v1/market/DOGE/USDT.SIM/book").status_code == 404

"""The platform's market, risk, backtest, strategy and reconciliation resources over real HTTP
(a ``tradeforge up`` process with a 20,000-bar BTC/USDT.SIM 1m dataset in its catalog):
every route's happy path, who may call it (docs/auth.md's matrix), bad input as 4xx problem
documents, a backtest job from submission to a result whose equity and trades agree to the
cent, the kill switch from tripping to release, and what a restart keeps."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from tests.kit.platform import Platform

pytestmark = pytest.mark.integration

BTC = "BTC/USDT.SIM"
BARS = 20_000
SMA = {"strategy": "sma_cross", "instrument_ids": [BTC], "params": {"fast": 10, "slow": 30,
       "size": "1"}, "cash": "1000000", "fee": "0.001"}  # fmt: skip
Headers = dict[str, str]


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    p = Platform(tmp_path_factory.mktemp("resources"))
    p.generate(BTC, bars=BARS, seed=7)
    p.start()
    yield p
    if p.proc is not None:
        p.proc.kill()


def password(name: str) -> str:
    return f"quiet-harbour-{len(name)}-{name[::-1].upper()}-lantern"


@pytest.fixture(scope="module")
def users(platform: Platform) -> dict[str, Headers]:
    """Headers of an admin, two traders, a viewer and a trader's read-only API key."""
    admin = platform.login()
    with platform.client(admin) as http:
        for name, role in (("tina", "trader"), ("theo", "trader"), ("vic", "viewer")):
            body = {"username": name, "role": role, "password": password(name)}
            assert http.post("/api/v1/users", json=body).status_code == 201
    out = {"admin": admin}
    for who, name in (("trader", "tina"), ("other", "theo"), ("viewer", "vic")):
        out[who] = platform.login(name, password(name))
    with platform.client(out["trader"]) as http:
        key = http.post("/api/v1/api-keys", json={"name": "ro", "scopes": ["read"]}).json()
    out["read_key"] = {"Authorization": f"Bearer {key['secret']}"}
    return out


def is_problem(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    assert body["status"] == status
    assert "Traceback" not in answer.text
    return body


def limit_buy(cid: str, qty: str = "0.01") -> dict[str, Any]:
    return {"instrument_id": BTC, "side": "BUY", "type": "LIMIT", "price": "1000.00",
            "quantity": qty, "client_order_id": cid}  # fmt: skip


# ---------------------------------------------------------------------- who may call what
# docs/auth.md: market, risk, backtests, strategies and reconciliation reads for every role and
# key; backtests:write for admins and traders (not viewers, not read keys); risk:admin for
# admins only. Bodies are invalid on purpose: a caller let through gets 422, never a change.
ROUTES: list[tuple[str, str, Any, set[str]]] = [
    ("GET", f"/api/v1/market/{BTC}/candles", None, {"admin", "trader", "viewer", "read_key"}),
    ("GET", f"/api/v1/market/{BTC}/ticker", None, {"admin", "trader", "viewer", "read_key"}),
    ("GET", f"/api/v1/market/{BTC}/book", None, {"admin", "trader", "viewer", "read_key"}),
    ("GET", "/api/v1/risk/limits", None, {"admin", "trader", "viewer", "read_key"}),
    ("GET", "/api/v1/risk/kill-switch", None, {"admin", "trader", "viewer", "read_key"}),
    ("GET", "/api/v1/risk/denials", None, {"admin", "trader", "viewer", "read_key"}),
    ("PUT", "/api/v1/risk/limits", {"limits": {"bogus": "1"}, "reason": "x"}, {"admin"}),
    ("POST", "/api/v1/risk/kill-switch", {"scope": "strategy", "id": "nope", "reason": "x"},
     {"admin"}),
    ("DELETE", "/api/v1/risk/kill-switch?scope=strategy&id=nope", None, {"admin"}),
    ("GET", "/api/v1/backtests", None, {"admin", "trader", "viewer", "read_key"}),
    ("POST", "/api/v1/backtests", {**SMA, "strategy": "nope"}, {"admin", "trader"}),
    ("GET", "/api/v1/strategies", None, {"admin", "trader", "viewer", "read_key"}),
    ("GET", "/api/v1/strategies/registry", None, {"admin", "trader", "viewer", "read_key"}),
    ("GET", "/api/v1/reconciliation", None, {"admin", "trader", "viewer", "read_key"}),
]  # fmt: skip


def test_every_route_needs_its_permission(platform: Platform, users: dict[str, Headers]) -> None:
    for method, path, body, allowed in ROUTES:
        assert httpx.request(method, platform.url + path, json=body).status_code == 401, path
        for who, headers in users.items():
            if who == "other":
                continue
            answer = httpx.request(method, platform.url + path, json=body, headers=headers)
            if who in allowed:
                assert answer.status_code not in (401, 403), (who, method, path, answer.text)
                assert answer.status_code < 500, answer.text
            else:
                is_problem(answer, 403)
    spec = httpx.get(platform.url + "/api/v1/openapi.json").json()
    assert {"/api/v1/market/{instrument_id}/candles", "/api/v1/risk/limits",
            "/api/v1/risk/kill-switch", "/api/v1/risk/denials", "/api/v1/backtests",
            "/api/v1/backtests/{job_id}", "/api/v1/backtests/{job_id}/result",
            "/api/v1/strategies", "/api/v1/strategies/registry",
            "/api/v1/reconciliation"} <= set(spec["paths"])  # fmt: skip


# ---------------------------------------------------------------------- market data
def test_candles_from_history_page_through_the_catalog(
    platform: Platform, users: dict[str, Headers]
) -> None:
    with platform.client(users["viewer"]) as http:
        path = f"/api/v1/market/{BTC}/candles"
        first = http.get(path, params={"source": "history", "limit": 500}).json()
        assert first["source"] == "history"
        assert first["timeframe"] == "1m"
        assert len(first["candles"]) == 500
        assert first["candles"][0]["time"] == "2020-01-01T00:00:00Z"
        assert first["next_start"] == "2020-01-01T08:20:00Z"  # the 501st bar
        for candle in first["candles"]:
            low, high = Decimal(candle["low"]), Decimal(candle["high"])
            assert low <= Decimal(candle["open"]) <= high
            assert low <= Decimal(candle["close"]) <= high
            assert len(candle["close"].partition(".")[2]) == 2  # the dataset's precision
        second = http.get(path, params={"source": "history", "limit": 500,
                                        "start": first["next_start"]}).json()  # fmt: skip
        assert second["candles"][0]["time"] == first["next_start"]
        window = {"source": "history", "start": "2020-01-14T21:00:00Z", "limit": 500}
        tail = http.get(path, params=window).json()
        assert len(tail["candles"]) == 20  # the last 20 bars; nothing after
        assert tail["candles"][-1]["time"] == "2020-01-14T21:19:00Z"
        assert tail["next_start"] is None
        encoded = http.get("/api/v1/market/BTC%2FUSDT.SIM/candles",
                           params={"source": "history", "limit": 3}).json()  # fmt: skip
        assert encoded["candles"] == first["candles"][:3]
        # bad input: problem documents naming the field
        for params, field in (({"timeframe": "7q"}, "timeframe"), ({"start": "yesterday"}, "start"),
                              ({"start": "2020-01-02", "end": "2020-01-01"}, "end"),
                              ({"timeframe": "90s"}, "timeframe")):  # fmt: skip
            assert is_problem(http.get(path, params=params), 422)["field"] == field
        is_problem(http.get(path, params={"limit": 501}), 422)
        is_problem(http.get(path, params={"source": "magic"}), 422)
        missing = http.get(path, params={"source": "history", "timeframe": "1h"})
        assert "BTC/USDT.SIM 1m" in is_problem(missing, 404)["detail"]  # names what exists
        is_problem(http.get("/api/v1/market/DOGE/USDT.SIM/candles"), 404)
        is_problem(http.get("/api/v1/market/nonsense/candles"), 404)


def test_live_candles_ticker_and_book(platform: Platform, users: dict[str, Headers]) -> None:
    with platform.client(users["viewer"]) as http:
        deadline = time.monotonic() + 10
        ticker = http.get(f"/api/v1/market/{BTC}/ticker").json()
        while ticker["last_price"] is None and time.monotonic() < deadline:
            time.sleep(0.2)
            ticker = http.get(f"/api/v1/market/{BTC}/ticker").json()
        assert ticker["instrument_id"] == BTC
        last = Decimal(ticker["last_price"])
        assert last > 0
        assert Decimal(ticker["low_24h"]) <= last <= Decimal(ticker["high_24h"])
        assert ticker["bars_24h"] >= 0
        live = http.get(f"/api/v1/market/{BTC}/candles", params={"limit": 500}).json()
        assert live["source"] == "live"
        assert live["timeframe"] == "1m"
        # The node's first bar closes at the first minute boundary after it started, so the
        # live list may still be empty here; whatever is there must add up.
        five = http.get(f"/api/v1/market/{BTC}/candles", params={"timeframe": "5m"}).json()
        after = http.get(f"/api/v1/market/{BTC}/candles", params={"limit": 500}).json()
        assert ticker["bars_24h"] <= len(after["candles"]) or len(after["candles"]) == 500
        if after == live and len(live["candles"]) < 500:  # no bar closed in between
            assert len(five["candles"]) <= len(live["candles"])
            one_volume = sum(Decimal(c["volume"]) for c in live["candles"])
            assert one_volume == sum(Decimal(c["volume"]) for c in five["candles"])
            if live["candles"]:
                assert five["candles"][-1]["close"] == live["candles"][-1]["close"]
        # tradeforge up keeps the generated market's latest book (node.books); until its first
        # book arrives the route says there is none.
        answer = http.get(f"/api/v1/market/{BTC}/book", params={"depth": 5})
        while answer.status_code == 404 and time.monotonic() < deadline + 10:
            assert answer.json()["type"].endswith("/no-order-book")
            time.sleep(0.2)
            answer = http.get(f"/api/v1/market/{BTC}/book", params={"depth": 5})
        assert answer.status_code == 200, answer.text
        book = answer.json()
        bids = [Decimal(level["price"]) for level in book["bids"]]
        asks = [Decimal(level["price"]) for level in book["asks"]]
        assert 0 < len(bids) <= 5
        assert 0 < len(asks) <= 5
        assert bids == sorted(bids, reverse=True)
        assert asks == sorted(asks)
        assert bids[0] < asks[0]
        assert all(Decimal(level["size"]) > 0 for level in book["bids"] + book["asks"])
        is_problem(http.get(f"/api/v1/market/{BTC}/book", params={"depth": 0}), 422)
        is_problem(http.get("/api/v1/market/DOGE/USDT.SIM/ticker"), 404)


# ---------------------------------------------------------------------- strategies, reconciliation
def test_strategy_registry_running_strategies_and_reconciliation(
    platform: Platform, users: dict[str, Headers]
) -> None:
    with platform.client(users["read_key"]) as http:
        registry = {s["name"]: s for s in http.get("/api/v1/strategies/registry").json()}
        assert {"sma_cross", "rsi_reversion", "bollinger_breakout", "pairs_spread"} <= set(registry)
        fast = registry["sma_cross"]["parameters"]["fast"]
        assert fast == {"type": "int", "default": 10, "min": 2, "max": 1000, "step": 1,
                        "description": "fast SMA period (bars)"}  # fmt: skip
        assert registry["sma_cross"]["parameters"]["size"]["type"] == "decimal"
        assert registry["sma_cross"]["description"]
        running = {s["id"]: s for s in http.get("/api/v1/strategies").json()}
        manual = running["manual"]
        assert manual["state"] == "running"
        assert set(manual["instruments"]) == {BTC, "ETH/USDT.SIM"}
        assert manual["errors"] == []
        report = http.get("/api/v1/reconciliation").json()
        assert set(report) == {"adopted", "resolved", "fills_applied", "external"}
        assert report["external"] == []  # nobody else trades the platform's venue
        assert isinstance(report["fills_applied"], int)


# ---------------------------------------------------------------------- backtests
def wait_done(http: httpx.Client, job_id: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    progress = 0.0
    while True:
        job: dict[str, Any] = http.get(f"/api/v1/backtests/{job_id}").json()
        assert job["progress"] >= progress  # never goes back
        progress = job["progress"]
        if job["state"] in ("succeeded", "failed"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


def test_a_backtest_job_from_submission_to_a_consistent_result(
    platform: Platform, users: dict[str, Headers]
) -> None:
    with platform.client(users["trader"]) as http:
        submitted = http.post("/api/v1/backtests", json=SMA)
        assert submitted.status_code == 202, submitted.text
        job = submitted.json()
        assert job["state"] in ("queued", "running", "succeeded")
        assert job["request"]["strategy"] == "sma_cross"
        done = wait_done(http, job["id"])
        assert done["state"] == "succeeded", done
        assert done["progress"] == 1.0
        assert done["error"] is None
        assert None not in (done["created"], done["started"], done["finished"])
        trades: list[dict[str, Any]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 150, "points": 200}
            if cursor:
                params["cursor"] = cursor
            result = http.get(f"/api/v1/backtests/{job['id']}/result", params=params).json()
            trades += result["trades"]["items"]
            cursor = result["trades"]["next_cursor"]
            if cursor is None:
                break
        assert len(trades) == result["trades"]["total"] == result["metrics"]["num_trades"] > 10
        assert len({(t["entry_time"], t["exit_time"]) for t in trades}) == len(trades)
        assert result["bars"] == BARS
        initial = Decimal(result["initial_cash"])
        pnl = sum(Decimal(t["pnl"]) for t in trades)
        trade_fees = sum(Decimal(t["fees"]) for t in trades)
        fees, open_cost = Decimal(result["fees"]), Decimal(result["open_cost"])
        assert pnl == Decimal(result["realized_pnl"])
        assert Decimal(result["final_cash"]) == initial + pnl - fees - open_cost
        assert open_cost == 0  # this run ends flat: every fee belongs to a round trip
        assert trade_fees == fees
        cent = Decimal("0.01")
        final_equity = Decimal(result["final_equity"])
        assert final_equity.quantize(cent) == (initial + pnl - fees).quantize(cent)
        curve = result["equity"]
        assert 2 <= len(curve["equity"]) <= 200
        assert len(curve["time"]) == len(curve["equity"])
        assert curve["time"] == sorted(curve["time"])
        assert abs(Decimal(str(curve["equity"][-1])) - final_equity) < cent
        assert abs(Decimal(str(curve["equity"][0])) - initial) < 1_000  # one trade at most
        mine = http.get("/api/v1/backtests").json()
        assert job["id"] in {j["id"] for j in mine}
    with platform.client(users["other"]) as http:  # another trader: not found, not listed
        is_problem(http.get(f"/api/v1/backtests/{job['id']}"), 404)
        is_problem(http.get(f"/api/v1/backtests/{job['id']}/result"), 404)
        assert job["id"] not in {j["id"] for j in http.get("/api/v1/backtests").json()}
    with platform.client(users["admin"]) as http:  # admins see every job
        assert http.get(f"/api/v1/backtests/{job['id']}").status_code == 200


def test_bad_backtests_are_refused_naming_the_field_and_start_nothing(
    platform: Platform, users: dict[str, Headers]
) -> None:
    with platform.client(users["trader"]) as http:
        before = http.get("/api/v1/backtests").json()
        cases: list[tuple[dict[str, Any], str]] = [
            ({"strategy": "nope"}, "strategy"),
            ({"strategy": "os:system"}, "strategy"),  # never imported from a request
            ({"params": {"fast": "x"}}, "params.fast"),
            ({"params": {"fast": 50, "slow": 30}}, "params.fast"),
            ({"params": {"speed": 3}}, "params.speed"),
            ({"instrument_ids": ["ETH/USDT.SIM"]}, "instrument_ids.0"),  # no such dataset
            ({"instrument_ids": ["garbage"]}, "instrument_ids.0"),
            ({"timeframe": "1h"}, "instrument_ids.0"),  # no 1h dataset
            ({"timeframe": "7q"}, "timeframe"),
            ({"start": "2021-01-01"}, "start"),
            ({"start": "not a time"}, "start"),
            ({"start": "2020-01-05", "end": "2020-01-02"}, "end"),
            ({"cash": "0"}, "cash"),
            ({"fee": "1.5"}, "fee"),
        ]
        for change, field in cases:
            body = is_problem(http.post("/api/v1/backtests", json={**SMA, **change}), 422)
            assert body["field"] == field, (change, body)
        for change in ({"cash": "-1"}, {"extra": 1}, {"instrument_ids": []}, {"fee": 0.1}):
            is_problem(http.post("/api/v1/backtests", json={**SMA, **change}), 422)
        bad_json = http.post("/api/v1/backtests", content=b"{nope",
                             headers={"content-type": "application/json"})  # fmt: skip
        is_problem(bad_json, 422)
        assert http.get("/api/v1/backtests").json() == before  # nothing was started
        is_problem(http.get("/api/v1/backtests/" + "0" * 32), 404)
        is_problem(http.get("/api/v1/backtests/../../etc/passwd/result"), 404)
        is_problem(http.get("/api/v1/backtests/x/result", params={"points": 1}), 422)


# ---------------------------------------------------------------------- risk
def test_limits_are_read_changed_checked_and_applied(
    platform: Platform, users: dict[str, Headers]
) -> None:
    with platform.client(users["viewer"]) as http:
        limits = http.get("/api/v1/risk/limits").json()["limits"]
        assert limits["max_order_quantity"] is None
        assert limits["margin_ratio"] == "1"
    admin = platform.client(users["admin"])
    trader = platform.client(users["trader"])
    try:
        bad = [
            ({"bogus": "1"}, "limits.bogus"),
            ({"max_order_quantity": 0.5}, "limits.max_order_quantity"),  # a JSON float
            ({"max_order_quantity": "-1"}, "limits.max_order_quantity"),
            ({"max_open_orders": "x"}, "limits.max_open_orders"),
            ({"collar_pct": "0"}, "limits.collar_pct"),
            ({"strategies": {"manual": {"nope": "1"}}}, "limits.strategies[...].nope"),
        ]
        for new, field in bad:
            body = is_problem(admin.put("/api/v1/risk/limits",
                                        json={"limits": new, "reason": "t"}), 422)  # fmt: skip
            assert body["field"] == field, body
        is_problem(admin.put("/api/v1/risk/limits", json={"limits": {}}), 422)  # no reason
        assert http_json(admin.get("/api/v1/risk/limits"))["limits"] == limits  # unchanged
        tight = {"limits": {"max_order_quantity": "0.05"}, "reason": "desk limit"}
        is_problem(trader.put("/api/v1/risk/limits", json=tight), 403)
        changed = admin.put("/api/v1/risk/limits", json=tight)
        assert changed.status_code == 200, changed.text
        assert changed.json()["limits"]["max_order_quantity"] == "0.05"
        big = {"instrument_id": BTC, "side": "BUY", "quantity": "0.1", "client_order_id": "lim-1"}
        denied = is_problem(trader.post("/api/v1/orders", json=big), 422)
        assert denied["reason"] == "MAX_ORDER_QUANTITY"
        assert trader.post("/api/v1/orders", json=limit_buy("lim-2")).status_code == 201
        denials = trader.get("/api/v1/risk/denials", params={"strategy_id": "manual"}).json()
        assert denials[0]["client_order_id"] == "lim-1"
        assert denials[0]["reason"] == "MAX_ORDER_QUANTITY"
        # another trader does not see tina's refusals; an admin does
        with platform.client(users["other"]) as other:
            seen = {d["client_order_id"] for d in other.get("/api/v1/risk/denials").json()}
            assert "lim-1" not in seen
        assert "lim-1" in {
            d["client_order_id"] for d in http_json(admin.get("/api/v1/risk/denials"))
        }
        is_problem(trader.get("/api/v1/risk/denials", params={"strategy_id": "bad id!"}), 422)
        is_problem(trader.get("/api/v1/risk/denials", params={"limit": 0}), 422)
        trader.delete("/api/v1/orders/lim-2")
    finally:
        admin.put("/api/v1/risk/limits", json={"limits": {}, "reason": "test done"})
        admin.close()
        trader.close()


def http_json(answer: httpx.Response) -> Any:
    assert answer.status_code == 200, answer.text
    return answer.json()


def open_orders(http: httpx.Client) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = http_json(
        http.get("/api/v1/orders", params={"status": "open", "limit": 500})
    )["items"]
    return items


def test_the_kill_switch_cancels_refuses_and_releases(
    platform: Platform, users: dict[str, Headers]
) -> None:
    admin = platform.client(users["admin"])
    trader = platform.client(users["trader"])
    try:
        for cid in ("ks-1", "ks-2"):
            assert trader.post("/api/v1/orders", json=limit_buy(cid)).json()["status"] == "ACCEPTED"
        assert admin.post("/api/v1/orders", json=limit_buy("ks-3")).status_code == 201
        before = {o["client_order_id"] for o in open_orders(admin)}
        assert {"ks-1", "ks-2", "ks-3"} <= before
        trip = {"scope": "global", "reason": "end-to-end test"}
        is_problem(trader.post("/api/v1/risk/kill-switch", json=trip), 403)
        for body, field in (({"scope": "strategy", "id": "nope", "reason": "x"}, "id"),
                            ({"scope": "strategy", "reason": "x"}, "id"),
                            ({"scope": "account", "id": "SIM-1", "reason": "x"}, "id"),
                            ({"scope": "global", "id": "x", "reason": "x"}, "id")):  # fmt: skip
            assert (
                is_problem(admin.post("/api/v1/risk/kill-switch", json=body), 422)["field"] == field
            )
        is_problem(admin.post("/api/v1/risk/kill-switch", json={"scope": "global"}), 422)
        tripped = http_json(admin.post("/api/v1/risk/kill-switch", json=trip))
        assert tripped["active"] is True
        assert tripped["scope"] == "global"
        assert tripped["by"] == "admin"
        assert tripped["reason"] == "end-to-end test"
        assert tripped["cancelled"] == len(before)
        deadline = time.monotonic() + 5
        while open_orders(admin) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert open_orders(admin) == []
        for cid in ("ks-1", "ks-2", "ks-3"):
            assert http_json(admin.get(f"/api/v1/orders/{cid}"))["status"] == "CANCELED"
        refused = is_problem(trader.post("/api/v1/orders", json=limit_buy("ks-4")), 422)
        assert refused["type"].endswith("/order-denied")
        assert refused["reason"] == "KILL_SWITCH"
        state = {s["scope"]: s for s in http_json(trader.get("/api/v1/risk/kill-switch"))}
        assert state["global"]["active"] is True
        assert state["strategy:manual"]["active"] is False
        denials = http_json(trader.get("/api/v1/risk/denials"))
        assert denials[0]["client_order_id"] == "ks-4"
        assert denials[0]["reason"] == "KILL_SWITCH"
        is_problem(trader.delete("/api/v1/risk/kill-switch"), 403)
        released = http_json(admin.delete("/api/v1/risk/kill-switch", params={"reason": "done"}))
        assert released == {"scope": "global", "active": False, "since": None, "by": None,
                            "reason": None, "cancelled": None}  # fmt: skip
        again = trader.post("/api/v1/orders", json=limit_buy("ks-5"))
        assert again.status_code == 201, again.text
        # one strategy's switch: the manual strategy's orders stop, and start again
        scoped = {"scope": "strategy", "id": "manual", "reason": "one strategy"}
        assert http_json(admin.post("/api/v1/risk/kill-switch", json=scoped))["cancelled"] >= 1
        assert (
            is_problem(trader.post("/api/v1/orders", json=limit_buy("ks-6")), 422)["reason"]
            == "KILL_SWITCH"
        )
        admin.delete("/api/v1/risk/kill-switch", params={"scope": "strategy", "id": "manual"})
        assert trader.post("/api/v1/orders", json=limit_buy("ks-7")).status_code == 201
        trader.delete("/api/v1/orders/ks-7")
    finally:
        admin.delete("/api/v1/risk/kill-switch")
        admin.delete("/api/v1/risk/kill-switch", params={"scope": "strategy", "id": "manual"})
        admin.close()
        trader.close()


# ---------------------------------------------------------------------- a restart
def test_a_restart_keeps_limits_and_results_and_fails_unfinished_jobs(
    platform: Platform, users: dict[str, Headers]
) -> None:
    with platform.client(users["trader"]) as http:
        job = http.post("/api/v1/backtests", json={**SMA, "end": "2020-01-03"}).json()
        assert wait_done(http, job["id"])["state"] == "succeeded"
        kept = http.get(f"/api/v1/backtests/{job['id']}/result").json()
    with platform.client(users["admin"]) as http:
        tight = {"limits": {"max_order_quantity": "0.5"}, "reason": "kept across restarts"}
        assert http.put("/api/v1/risk/limits", json=tight).status_code == 200
    platform.stop()
    # What a crash in the middle of a run leaves on disk: a job recorded as running.
    jobs_dir = platform.data_dir / "platform" / "backtests"
    record = json.loads((jobs_dir / f"{job['id']}.json").read_text())
    running = {**record, "id": "f" * 32, "state": "running", "progress": 0.5,
               "finished_ns": None}  # fmt: skip
    (jobs_dir / f"{'f' * 32}.json").write_text(json.dumps(running))
    platform.start()
    trader = platform.login("tina", password("tina"))
    admin = platform.login()
    try:
        with platform.client(trader) as http:
            assert http.get(f"/api/v1/backtests/{job['id']}/result").json() == kept
            crashed = http.get(f"/api/v1/backtests/{'f' * 32}").json()
            assert crashed["state"] == "failed"
            assert crashed["error"] == "interrupted by a restart"
            nothing = is_problem(http.get(f"/api/v1/backtests/{'f' * 32}/result"), 409)
            assert nothing["state"] == "failed"
            limits = http.get("/api/v1/risk/limits").json()["limits"]
            assert limits["max_order_quantity"] == "0.5"
    finally:
        with platform.client(admin) as http:
            http.put("/api/v1/risk/limits", json={"limits": {}, "reason": "test done"})

"""The gateway's order modify, portfolio, strategy instances, registration and user admin
routes over real HTTP (a ``tradeforge up`` process): each route's happy path, who may call it
(docs/auth.md's matrix), another user's objects answering 404, bad input as 4xx problem
documents that change nothing, and the audit rows the actions leave."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.kit.platform import Platform

pytestmark = pytest.mark.integration

BTC = "BTC/USDT.SIM"
Headers = dict[str, str]


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    p = Platform(tmp_path_factory.mktemp("routes"))
    p.start()
    yield p
    if p.proc is not None:
        p.proc.kill()


def password(name: str) -> str:
    return f"amber-meadow-{len(name)}-kestrel-{sum(map(ord, name))}"


@pytest.fixture(scope="module")
def users(platform: Platform) -> dict[str, Headers]:
    """Headers of an admin, two traders, a viewer, and the first trader's read and trade keys."""
    admin = platform.login()
    with platform.client(admin) as http:
        for name, role in (("tara", "trader"), ("otto", "trader"), ("vicky", "viewer")):
            body = {"username": name, "role": role, "password": password(name)}
            assert http.post("/api/v1/users", json=body).status_code == 201
    out = {"admin": admin}
    for who, name in (("trader", "tara"), ("other", "otto"), ("viewer", "vicky")):
        out[who] = platform.login(name, password(name))
    with platform.client(out["trader"]) as http:
        for scope in ("read", "trade"):
            key = http.post("/api/v1/api-keys", json={"name": scope, "scopes": [scope]}).json()
            out[f"{scope}_key"] = {"Authorization": f"Bearer {key['secret']}"}
    return out


def is_problem(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    assert body["status"] == status
    assert "Traceback" not in answer.text
    return body


def audit_rows(platform: Platform, action: str) -> list[tuple[str, str, str]]:
    """(actor, target, detail) of the audit rows of ``action``, oldest first."""
    with sqlite3.connect(platform.data_dir / "platform" / "journal.sqlite") as db:
        query = "SELECT actor, target, detail FROM audit_log WHERE action = ? ORDER BY id"
        return list(db.execute(query, (action,)))


def user_id(platform: Platform, users: dict[str, Headers], who: str) -> str:
    with platform.client(users[who]) as http:
        me: str = http.get("/api/v1/auth/me").json()["user_id"]
    return me


# ---------------------------------------------------------------------- order modify
def test_an_open_order_is_modified_by_its_owner_only(
    platform: Platform, users: dict[str, Headers]
) -> None:
    path = "/api/v1/orders/mod-1"
    with platform.client(users["trader"]) as http:
        limit = {"instrument_id": BTC, "side": "BUY", "type": "LIMIT", "price": "1000.00",
                 "quantity": "0.01", "client_order_id": "mod-1"}  # fmt: skip
        assert http.post("/api/v1/orders", json=limit).json()["status"] == "ACCEPTED"
        changed = http.patch(path, json={"quantity": "0.02", "price": "1001.50"})
        assert changed.status_code == 200, changed.text
        assert (changed.json()["quantity"], changed.json()["price"]) == ("0.02000", "1001.50")
        assert changed.json()["status"] == "ACCEPTED"
        assert http.get(path).json() == changed.json()
    with platform.client(users["trade_key"]) as http:  # the owner's trade key may too
        assert http.patch(path, json={"price": "1001.00"}).json()["price"] == "1001.00"
    for who, status in (("other", 404), ("viewer", 403), ("read_key", 403)):
        with platform.client(users[who]) as http:
            body = is_problem(http.patch(path, json={"price": "999.00"}), status)
            assert "1001" not in str(body)  # nothing of the order in the answer
    is_problem(httpx.patch(platform.url + path, json={"price": "999.00"}), 401)
    with platform.client(users["admin"]) as http:  # an admin may act on any order
        assert http.patch(path, json={"quantity": "0.03"}).json()["quantity"] == "0.03000"
    rows = [r for r in audit_rows(platform, "order.modify") if r[1] == "mod-1"]
    assert len(rows) == 3
    assert rows[0][0] == user_id(platform, users, "trader")
    assert '"quantity": "0.02000"' in rows[0][2] or '"quantity":"0.02000"' in rows[0][2]


def test_a_bad_modify_is_a_problem_and_changes_nothing(
    platform: Platform, users: dict[str, Headers]
) -> None:
    path = "/api/v1/orders/mod-2"
    with platform.client(users["trader"]) as http:
        limit = {"instrument_id": BTC, "side": "BUY", "type": "LIMIT", "price": "1000.00",
                 "quantity": "0.01", "client_order_id": "mod-2"}  # fmt: skip
        assert http.post("/api/v1/orders", json=limit).status_code == 201
        before = http.get(path).json()
        cases: list[tuple[dict[str, Any], int, str]] = [
            ({}, 422, "at least one"),
            ({"quantity": "abc"}, 422, "schema"),
            ({"quantity": "-1"}, 422, "schema"),
            ({"quantity": "0.000001"}, 422, "lot"),
            ({"price": "1000.001"}, 422, "tick"),
            ({"trigger_price": "990.00"}, 422, "no trigger price"),
            ({"price": "1000.00", "role": "admin"}, 422, "schema"),
            ({"quantity": "1000"}, 422, ""),  # 1,000 BTC at 1,000: more than the account holds
        ]
        for body, status, words in cases:
            answer = is_problem(http.patch(path, json=body), status)
            assert words in answer["detail"] or (words == "schema" and answer["errors"]), answer
        assert is_problem(http.patch("/api/v1/orders/nope", json={"price": "1.00"}), 404)
        assert http.get(path).json() == before
        market = {"instrument_id": BTC, "side": "BUY", "quantity": "0.01",
                  "client_order_id": "mod-3"}  # fmt: skip
        assert http.post("/api/v1/orders", json=market).json()["status"] == "FILLED"
        is_problem(http.patch("/api/v1/orders/mod-3", json={"quantity": "0.02"}), 409)
        assert http.delete(path).json()["status"] == "CANCELED"
        is_problem(http.patch(path, json={"price": "1001.00"}), 409)


# ---------------------------------------------------------------------- portfolio
def test_the_portfolio_is_valued_exactly_for_every_reader(
    platform: Platform, users: dict[str, Headers]
) -> None:
    with platform.client(users["trader"]) as http:
        market = {"instrument_id": BTC, "side": "BUY", "quantity": "0.05",
                  "client_order_id": "pf-1"}  # fmt: skip
        assert http.post("/api/v1/orders", json=market).json()["status"] == "FILLED"
    with platform.client(users["admin"]) as http:
        fills = http.get("/api/v1/fills", params={"limit": 500}).json()
        value = http.get("/api/v1/portfolio").json()
    assert value["base_currency"] == "USDT"
    assert set(value["cash"]) == {"USDT", "BTC", "ETH"}
    assert value["unpriced"] == []
    assert Decimal(value["fees"]) == sum(Decimal(f["commission"]) for f in fills)
    assert Decimal(value["cash"]["BTC"]) == 10 + sum(
        Decimal(f["quantity"]) * (1 if f["side"] == "BUY" else -1) for f in fills
        if f["instrument_id"] == BTC
    )  # fmt: skip
    assert Decimal(value["equity"]) > Decimal(value["cash"]["USDT"])  # BTC and ETH priced in
    assert value["ts"].endswith("Z")
    for text in (value["equity"], value["positions_value"], value["realized_pnl"]):
        assert "e" not in text.lower()
        assert Decimal(text) == Decimal(text).quantize(Decimal("0.00000001"))  # USDT's 8
    for who in ("viewer", "read_key", "other"):
        with platform.client(users[who]) as http:
            assert http.get("/api/v1/portfolio").status_code == 200
    is_problem(httpx.get(platform.url + "/api/v1/portfolio"), 401)
    with platform.client(users["viewer"]) as http:
        for params in ({"limit": 0}, {"limit": 501}, {"start": "yesterday"},
                       {"start": "2030-01-02", "end": "2030-01-01"}):  # fmt: skip
            is_problem(http.get("/api/v1/portfolio/history", params=params), 422)


def test_the_value_history_is_recorded_every_ten_seconds(
    platform: Platform, users: dict[str, Headers]
) -> None:
    deadline = time.monotonic() + 30
    with platform.client(users["viewer"]) as http:
        points: list[dict[str, str]] = []
        while len(points) < 1 and time.monotonic() < deadline:
            points = http.get("/api/v1/portfolio/history").json()
            time.sleep(0.5)
        assert points, "no value recorded within 30 s"
        first = points[0]
        assert set(first) == {"ts", "equity"}
        assert first["ts"].endswith("Z")
        assert Decimal(first["equity"]) > 0
        assert http.get("/api/v1/portfolio/history", params={"end": first["ts"]}).json() == []
        window = http.get("/api/v1/portfolio/history", params={"start": first["ts"], "limit": 1})
        assert window.json() == [first]
    is_problem(httpx.get(platform.url + "/api/v1/portfolio/history"), 401)


# ---------------------------------------------------------------------- strategy instances
SMA = {"strategy": "sma_cross", "instrument_ids": [BTC],
       "params": {"fast": 5, "slow": 20, "size": "0.001"}}  # fmt: skip
INSTANCES = "/api/v1/strategies/instances"


def test_strategy_instances_live_through_their_lifecycle(
    platform: Platform, users: dict[str, Headers]
) -> None:
    path = f"{INSTANCES}/tara-sma"
    with platform.client(users["trader"]) as http:
        made = http.post(INSTANCES, json={**SMA, "id": "tara-sma"})
        assert made.status_code == 201, made.text
        assert made.json() == {"id": "tara-sma", "strategy": "sma_cross", "instrument_ids": [BTC],
                               "params": {"fast": 5, "slow": 20, "size": "0.001"},
                               "state": "stopped", "open_orders": 0, "errors": []}  # fmt: skip
        auto = http.post(INSTANCES, json=SMA).json()
        assert auto["id"] == "sma_cross-1"
        assert http.post(f"{INSTANCES}/tara-sma/start").json()["state"] == "running"
        assert http.get(path).json()["state"] == "running"
        is_problem(http.patch(path, json={"params": {"fast": 6, "slow": 20}}), 409)
        is_problem(http.delete(path), 409)
        logs = http.get(f"{path}/logs").json()
        assert [line["message"] for line in logs][:2] == ["added", "started"]
        assert {"time", "level", "message", "fields"} == set(logs[0])
        perf = http.get(f"{path}/performance").json()
        assert (perf["strategy_id"], perf["base_currency"]) == ("tara-sma", "USDT")
        assert (perf["fills"], perf["open_orders"], perf["positions"]) == (0, 0, [])
        assert Decimal(perf["realized_pnl"]) == Decimal(perf["fees"]) == 0
        assert http.post(f"{path}/stop").json()["state"] == "stopped"
        new = http.patch(path, json={"params": {"fast": 7, "slow": 21, "size": "0.002"}})
        assert new.json()["params"] == {"fast": 7, "slow": 21, "size": "0.002"}
        assert http.post(f"{path}/start").json()["params"]["fast"] == 7
        assert http.post(f"{path}/stop").json()["state"] == "stopped"
        mine = {i["id"] for i in http.get(INSTANCES).json()}
        assert mine == {"tara-sma", "sma_cross-1"}
    with platform.client(users["admin"]) as http:
        assert {"tara-sma", "sma_cross-1"} <= {i["id"] for i in http.get(INSTANCES).json()}
    with platform.client(users["trader"]) as http:
        assert http.delete(f"{INSTANCES}/sma_cross-1").status_code == 204
        is_problem(http.get(f"{INSTANCES}/sma_cross-1"), 404)
    starts = [row for row in audit_rows(platform, "strategy.start") if row[1] == "tara-sma"]
    assert len(starts) == 2
    assert [r[1] for r in audit_rows(platform, "strategy.configure")].count("tara-sma") == 1


def test_strategy_instances_are_their_owners_and_need_permissions(
    platform: Platform, users: dict[str, Headers]
) -> None:
    with platform.client(users["trader"]) as http:
        assert http.post(INSTANCES, json={**SMA, "id": "tara-own"}).status_code == 201
    path = f"{INSTANCES}/tara-own"
    for who in ("other", "viewer"):
        with platform.client(users[who]) as http:
            assert "tara-own" not in {i["id"] for i in http.get(INSTANCES).json()}
            assert "tara-own" not in http.get("/api/v1/strategies").text
            for method, suffix, body in (("GET", "", None), ("GET", "/logs", None),
                                         ("GET", "/performance", None)):  # fmt: skip
                is_problem(http.request(method, path + suffix, json=body), 404)
    with platform.client(users["other"]) as http:
        writes = (("POST", "/start", None), ("POST", "/stop", None),
                  ("PATCH", "", {"params": {}}), ("DELETE", "", None))  # fmt: skip
        for method, suffix, body in writes:
            body_out = is_problem(http.request(method, path + suffix, json=body), 404)
            assert "sma_cross" not in str(body_out)
    for who in ("viewer", "read_key"):
        with platform.client(users[who]) as http:
            is_problem(http.post(INSTANCES, json=SMA), 403)
            is_problem(http.post(f"{path}/start"), 403)
            is_problem(http.delete(path), 403)
    with platform.client(users["read_key"]) as http:  # the owner's read key reads
        assert http.get(path).json()["id"] == "tara-own"
        running = {s["id"]: s["state"] for s in http.get("/api/v1/strategies").json()}
        assert running["tara-own"] == "stopped"
    is_problem(httpx.get(platform.url + INSTANCES), 401)
    with platform.client(users["trader"]) as http:
        assert http.get(path).json()["state"] == "stopped"  # nothing above changed it


def test_bad_strategy_instances_are_refused_naming_the_field(
    platform: Platform, users: dict[str, Headers]
) -> None:
    with platform.client(users["trader"]) as http:
        before = http.get(INSTANCES).json()
        cases: list[tuple[dict[str, Any], int, str | None]] = [
            ({**SMA, "params": {"fast": 1, "slow": 20}}, 422, "params.fast"),
            ({**SMA, "params": {"fast": "x"}}, 422, "params.fast"),
            ({**SMA, "params": {"fast": 30, "slow": 20}}, 422, "params.fast"),
            ({**SMA, "params": {"nope": 1}}, 422, "params.nope"),
            ({**SMA, "strategy": "nope"}, 422, "strategy"),
            ({**SMA, "strategy": "tradeforge.strategy.examples.sma_cross:SmaCross"}, 422,
             "strategy"),
            ({**SMA, "instrument_ids": ["DOGE/USDT.SIM"]}, 422, "instrument_ids.0"),
            ({**SMA, "instrument_ids": ["nonsense"]}, 422, "instrument_ids.0"),
            ({**SMA, "instrument_ids": []}, 422, None),
            ({**SMA, "owner": "x"}, 422, None),
            ({**SMA, "id": "bad id!"}, 422, None),
            ({**SMA, "id": "manual"}, 409, None),
        ]  # fmt: skip
        for body, status, field in cases:
            answer = is_problem(http.post(INSTANCES, json=body), status)
            if field is not None:
                assert answer["field"] == field, answer
        assert http.get(INSTANCES).json() == before
        is_problem(http.get(f"{INSTANCES}/manual"), 404)  # the REST orders' owner: no instance
        assert http.post(INSTANCES, json={**SMA, "id": "tara-cfg"}).status_code == 201
        answer = is_problem(http.patch(f"{INSTANCES}/tara-cfg", json={"params": {"slow": 2}}),
                            422)  # fmt: skip
        assert answer["field"] == "params.slow"
        assert http.get(f"{INSTANCES}/tara-cfg").json()["params"]["slow"] == 20
        is_problem(http.get(f"{INSTANCES}/tara-cfg/logs", params={"limit": 501}), 422)


def test_strategy_instances_survive_a_restart(
    platform: Platform, users: dict[str, Headers]
) -> None:
    with platform.client(users["trader"]) as http:
        assert http.post(INSTANCES, json={**SMA, "id": "tara-keep"}).status_code == 201
        assert http.post(f"{INSTANCES}/tara-keep/start").json()["state"] == "running"
        before = {i["id"]: i for i in http.get(INSTANCES).json()}
    platform.stop()
    platform.start()
    with platform.client(users["trader"]) as http:  # sessions survive restarts too
        after = {i["id"]: i for i in http.get(INSTANCES).json()}
        assert after == before
        assert after["tara-keep"]["state"] == "running"
        assert http.get(f"{INSTANCES}/tara-keep/logs").json()[-1]["message"] == "started"
        assert http.post(f"{INSTANCES}/tara-keep/stop").json()["state"] == "stopped"
    with platform.client(users["other"]) as http:  # still its owner's
        is_problem(http.get(f"{INSTANCES}/tara-keep"), 404)


# ---------------------------------------------------------------------- users
def test_an_admin_changes_roles_and_disabling_ends_sessions_and_keys(
    platform: Platform, users: dict[str, Headers]
) -> None:
    with platform.client(users["admin"]) as http:
        body = {"username": "ulla", "role": "trader", "password": password("ulla")}
        uid = http.post("/api/v1/users", json=body).json()["id"]
    ulla = platform.login("ulla", password("ulla"))
    with platform.client(ulla) as http:
        secret = http.post("/api/v1/api-keys", json={"name": "k", "scopes": ["trade"]}).json()
    key = {"Authorization": f"Bearer {secret['secret']}"}
    order = {"instrument_id": BTC, "side": "BUY", "quantity": "0.01"}
    with platform.client(users["admin"]) as http:
        viewer = http.patch(f"/api/v1/users/{uid}", json={"role": "viewer"})
        assert viewer.json() == {"id": uid, "username": "ulla", "role": "viewer",
                                 "disabled": False}  # fmt: skip
    with platform.client(ulla) as http:
        is_problem(http.post("/api/v1/orders", json=order), 403)  # from the next request on
        assert http.get("/api/v1/orders").status_code == 200
    with platform.client(users["admin"]) as http:
        off = http.patch(f"/api/v1/users/{uid}", json={"disabled": True})
        assert off.json()["disabled"] is True
    for headers in (ulla, key):
        with platform.client(headers) as http:
            is_problem(http.get("/api/v1/orders"), 401)
    login = {"username": "ulla", "password": password("ulla")}
    is_problem(httpx.post(platform.url + "/api/v1/auth/login", json=login), 401)
    with platform.client(users["admin"]) as http:
        assert http.patch(f"/api/v1/users/{uid}", json={"disabled": False}).status_code == 200
    with platform.client(platform.login("ulla", password("ulla"))) as http:
        assert http.get("/api/v1/orders").status_code == 200
    with platform.client(key) as http:
        is_problem(http.get("/api/v1/orders"), 401)  # revoked for good
    revoked = audit_rows(platform, "api_key.revoked")
    assert [r[1] for r in revoked][-1] == secret["id"]
    assert "user_disabled" in revoked[-1][2]


def test_user_changes_need_an_admin_and_valid_input(
    platform: Platform, users: dict[str, Headers]
) -> None:
    admin_id = user_id(platform, users, "admin")
    tara_id = user_id(platform, users, "trader")
    with platform.client(users["admin"]) as http:
        before = http.get("/api/v1/users").json()
        is_problem(http.patch(f"/api/v1/users/{admin_id}", json={"role": "viewer"}), 403)
        is_problem(http.patch(f"/api/v1/users/{admin_id}", json={"disabled": True}), 403)
        is_problem(http.patch("/api/v1/users/u_nobody", json={"role": "viewer"}), 404)
        for body in ({"role": "god"}, {"disabled": "maybe"}, {"password": "x" * 20}):
            is_problem(http.patch(f"/api/v1/users/{tara_id}", json=body), 422)
        assert http.get("/api/v1/users").json() == before
    for who in ("trader", "viewer", "read_key", "trade_key"):
        with platform.client(users[who]) as http:
            is_problem(http.patch(f"/api/v1/users/{tara_id}", json={"role": "admin"}), 403)
    is_problem(httpx.patch(f"{platform.url}/api/v1/users/{tara_id}", json={"role": "admin"}), 401)


# ---------------------------------------------------------------------- registration
def test_registration_is_closed_by_default(platform: Platform) -> None:
    body = {"username": "walkin", "password": password("walkin")}
    answer = is_problem(httpx.post(platform.url + "/api/v1/auth/register", json=body), 403)
    assert answer["detail"] == "registration is closed"
    assert answer["code"] == "REGISTRATION_CLOSED"
    is_problem(httpx.post(platform.url + "/api/v1/auth/login", json=body), 401)


def test_open_registration_makes_viewers_under_the_password_policy_and_throttle(
    tmp_path: Path,
) -> None:
    p = Platform(tmp_path, env={"TRADEFORGE__AUTH__ALLOW_REGISTRATION": "true"})
    p.start()
    try:
        url = p.url + "/api/v1/auth/register"
        made = httpx.post(url, json={"username": "newbie", "password": password("newbie")})
        assert made.status_code == 201, made.text
        assert made.json()["role"] == "viewer"
        assert made.json()["disabled"] is False
        with p.client(p.login("newbie", password("newbie"))) as http:
            assert http.get("/api/v1/auth/me").json()["role"] == "viewer"
            is_problem(http.post("/api/v1/orders", json={"instrument_id": BTC, "side": "BUY",
                                                         "quantity": "0.01"}), 403)  # fmt: skip
        weak = is_problem(httpx.post(url, json={"username": "weak", "password": "password123"}),
                          422)  # fmt: skip
        assert "password" in weak["detail"]
        is_problem(httpx.post(url, json={"username": "newbie", "password": password("x")}), 409)
        is_problem(httpx.post(url, json={"username": "admin2", "password": password("a"),
                                         "role": "admin"}), 422)  # fmt: skip
        for name in ("second", "third"):
            assert httpx.post(url, json={"username": name, "password": password(name)}).is_success
        throttled = httpx.post(url, json={"username": "fourth", "password": password("f")})
        is_problem(throttled, 429)  # the sixth try from one address within a minute
        assert int(throttled.headers["Retry-After"]) >= 1
        with p.client(p.login()) as http:
            names = {u["username"]: u["role"] for u in http.get("/api/v1/users").json()}
        assert names == {"admin": "admin", "newbie": "viewer", "second": "viewer",
                         "third": "viewer"}  # fmt: skip
    finally:
        p.stop()

"""SEC-2 against ``tradeforge up`` over real HTTP: the authorisation matrix and BOLA.

**Matrix.** Every route of the gateway (read from the app itself, so a route added later is in
it at once) x {admin, trader, viewer, API key read/trade/admin, no token, an expired token, a
revoked session's token, a token for another audience}. The expected status is derived from
what the route declares (``security.route_access``: its ``requires`` permission, or PUBLIC /
SIGNED_IN) and the permission matrix of docs/auth.md (``roles.py``): a credential without the
permission gets 403, a missing or bad credential 401, and one that has it gets past both (the
body sent is never valid, so nothing changes: 4xx from validation, 404 for an unknown id). A
route that declares nothing fails the test. Keys belong to an admin, so their scopes decide.

**BOLA.** Trader A tries 1,000 requests on the object ids of trader B (orders, API keys,
sessions, backtest jobs, strategy instances where the gateway has them): every one is 404 with
the same body as for an id that never existed, none carries B's data, and B's objects are
intact afterwards. Fills have no id route: A's fills filtered by B's order ids are empty.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from tests.kit.platform import ADMIN_PASSWORD, Platform

from tradeforge.auth.config import parse_key
from tradeforge.auth.roles import ROLE_PERMISSIONS, Permission, Role, Scope, permissions_of
from tradeforge.auth.tokens import TokenCodec, TokenType
from tradeforge.bus.replay_clock import ReplayClock
from tradeforge.gateway import GatewayServices, create_app
from tradeforge.gateway.security import route_access

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

BTC = "BTC/USDT.SIM"
NO_LIMITS = {f"TRADEFORGE__GATEWAY__RATE_LIMIT_PER_{k}": "0" for k in ("IP", "USER", "KEY")}
UNKNOWN = "sec2-no-such-object"
SESSIONS = {"admin": Role.ADMIN, "trader": Role.TRADER, "viewer": Role.VIEWER}
KEYS = {"key_read": Scope.READ, "key_trade": Scope.TRADE, "key_admin": Scope.ADMIN}
BAD = ("none", "expired", "revoked", "wrong_aud")
# Served, but not HTTP operations of the API: the OpenAPI document and Swagger UI (public).
NOT_OPERATIONS = {"/api/v1/openapi.json", "/docs", "/docs/oauth2-redirect"}
# A call that ends the caller's own session: made with a login of its own.
ENDS_SESSION = {("POST", "/api/v1/auth/logout")}
Headers = dict[str, str]


def password(name: str) -> str:
    return f"amber-orchard-{len(name) * 7}-Quill-{name[::-1].upper()}"


def bearer(token: str) -> Headers:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    p = Platform(tmp_path_factory.mktemp("sec2"), env=NO_LIMITS)
    p.generate(BTC, bars=3_000, seed=3)
    p.start()
    yield p
    p.stop()


def login(platform: Platform, name: str) -> dict[str, Any]:
    pw = ADMIN_PASSWORD if name == "admin" else password(name)
    answer = httpx.post(platform.url + "/api/v1/auth/login",
                        json={"username": name, "password": pw})  # fmt: skip
    assert answer.status_code == 200, answer.text
    out: dict[str, Any] = answer.json()
    return out


def forged(platform: Platform, session: dict[str, Any], *, audience: str, age_s: int) -> str:
    """An access token signed with the platform's own key, issued ``age_s`` ago for
    ``audience``: what an attacker holding an old or misdirected token would send."""
    key = parse_key((platform.data_dir / "platform" / "keys" / "jwt.key").read_text(), "jwt_secret")
    clock = ReplayClock(time.time_ns() - age_s * 1_000_000_000)
    codec = TokenCodec(secret=key, issuer="tradeforge", audience=audience, clock=clock, leeway_s=10)
    me = httpx.get(platform.url + "/api/v1/auth/me", headers=bearer(session["access_token"]))
    claims = codec.issue(TokenType.ACCESS, subject=me.json()["user_id"],
                         session_id=session["session_id"], ttl_s=900)  # fmt: skip
    return codec.encode(claims)


@pytest.fixture(scope="module")
def credentials(platform: Platform) -> dict[str, Headers]:
    admin = bearer(login(platform, "admin")["access_token"])
    with httpx.Client(base_url=platform.url, headers=admin, timeout=30) as http:
        for name, role in (("trader", "trader"), ("viewer", "viewer")):
            body = {"username": name, "role": role, "password": password(name)}
            assert http.post("/api/v1/users", json=body).status_code == 201
        keys = {}
        for name, scope in KEYS.items():
            made = http.post("/api/v1/api-keys", json={"name": name, "scopes": [scope.value]})
            assert made.status_code == 201, made.text
            keys[name] = bearer(made.json()["secret"])
    out = {"admin": admin, **keys, "none": {}}
    for name in ("trader", "viewer"):
        out[name] = bearer(login(platform, name)["access_token"])
    gone = login(platform, "trader")
    assert httpx.post(platform.url + "/api/v1/auth/logout",
                      headers=bearer(gone["access_token"])).status_code == 204  # fmt: skip
    out["revoked"] = bearer(gone["access_token"])
    live = login(platform, "trader")
    out["expired"] = bearer(forged(platform, live, audience="tradeforge-api", age_s=3_600))
    out["wrong_aud"] = bearer(forged(platform, live, audience="another-api", age_s=0))
    return out


def granted(credential: str) -> frozenset[Permission]:
    if credential in SESSIONS:
        return ROLE_PERMISSIONS[SESSIONS[credential]]
    return permissions_of(Role.ADMIN, [KEYS[credential]])


def expected(access: object, credential: str, method: str, path: str) -> str:
    """``"401"``, ``"403"``, ``"422"`` or ``"through"`` (past authentication and authorisation:
    anything but 401/403 and never 5xx), from the route's declaration and docs/auth.md."""
    if access == "public":
        return "through"
    if credential in BAD:
        return "401"
    if access == "signed-in":
        if credential in KEYS:  # docs/auth.md: sessions are a login's (a key needs users:admin)
            if (method, path) == ("POST", "/api/v1/auth/logout"):
                return "422"  # an API key has no session to log out of
            if path.startswith("/api/v1/sessions"):
                return "through" if Permission.USERS_ADMIN in granted(credential) else "403"
        return "through"
    assert isinstance(access, Permission), f"{method} {path} declares no permission"
    return "through" if access in granted(credential) else "403"


def routes() -> dict[tuple[str, str], object]:
    app = create_app(GatewayServices(node=None, manual=None, auth=None))  # type: ignore[arg-type]
    access = route_access(app)
    for route in iter_route_contexts(app.routes):
        original = route.original_route
        if isinstance(original, APIRoute | APIWebSocketRoute):
            continue
        assert route.path_format in NOT_OPERATIONS, f"{route.path_format} is served: classify it"
    return dict(access)


def test_every_route_declares_what_it_needs() -> None:
    undeclared = sorted(f"{m} {p}" for (m, p), a in routes().items() if a is None)

    assert undeclared == [], "add a requires() dependency, or list it in PUBLIC / SIGNED_IN"


def _request(platform: Platform, headers: Headers, method: str, path: str) -> httpx.Response:
    url = platform.url + re.sub(r"\{[^}]+\}", UNKNOWN, path)
    body = {"content": json.dumps("not-an-object"), "headers": headers | {
        "content-type": "application/json"}} if method in ("POST", "PUT", "PATCH") else {
        "headers": headers}  # fmt: skip
    return httpx.request(method, url, timeout=30, **body)  # type: ignore[arg-type]


def test_authorisation_matrix(platform: Platform, credentials: dict[str, Headers]) -> None:
    table = routes()
    live = httpx.get(platform.url + "/api/v1/openapi.json").json()["paths"]
    documented = {(m.upper(), p) for p, ops in live.items() for m in ops}
    assert set(table) == documented  # the live server runs this code's routes
    mismatches, cells = [], 0
    for (method, path), access in sorted(table.items(), key=str):
        for credential, headers in credentials.items():
            want = expected(access, credential, method, path)
            sent = headers
            if (method, path) in ENDS_SESSION and credential in SESSIONS:
                sent = bearer(login(platform, credential)["access_token"])
            answer = _request(platform, sent, method, path)
            cells += 1
            got = answer.status_code
            ok = got < 500 and (got not in (401, 403) if want == "through" else got == int(want))
            if got in (401, 403):
                ok = ok and answer.headers["content-type"] == "application/problem+json"
            if got == 401:
                ok = ok and answer.headers.get("www-authenticate", "").startswith("Bearer")
            if not ok:
                mismatches.append(f"{method} {path} as {credential}: {got}, expected {want}")
    print(f"SEC-2 matrix: {len(table)} operations x {len(credentials)} credentials = {cells} "
          f"cells, {len(mismatches)} mismatches")  # fmt: skip
    assert mismatches == []


def test_websocket_needs_orders_read(platform: Platform, credentials: dict[str, Headers]) -> None:
    import websockets.sync.client
    from websockets.exceptions import InvalidStatus

    url = platform.url.replace("http", "ws") + "/api/v1/ws"
    for credential, headers in credentials.items():
        allowed = credential not in BAD and Permission.ORDERS_READ in granted(credential)
        try:
            with websockets.sync.client.connect(url, additional_headers=headers) as ws:
                ws.send(json.dumps({"op": "subscribe", "channels": ["orders"]}))
                opened = True
        except InvalidStatus:
            opened = False
        assert opened is allowed, credential


# --------------------------------------------------------------------------------------- BOLA


def _limit_buy(cid: str) -> dict[str, str]:
    return {"instrument_id": BTC, "side": "BUY", "type": "LIMIT", "price": "1001.37",
            "quantity": "0.013", "client_order_id": cid}  # fmt: skip


@pytest.fixture(scope="module")
def victim(platform: Platform, credentials: dict[str, Headers]) -> dict[str, Any]:
    """Trader B's objects: resting and filled orders, keys, sessions, a backtest job and
    (where the gateway has them) strategy instances."""
    with httpx.Client(base_url=platform.url, headers=credentials["admin"], timeout=30) as http:
        body = {"username": "robert", "role": "trader", "password": password("robert")}
        assert http.post("/api/v1/users", json=body).status_code == 201
    sessions = [login(platform, "robert") for _ in range(3)]
    b = bearer(sessions[0]["access_token"])
    out: dict[str, Any] = {"headers": b, "sessions": [s["session_id"] for s in sessions]}
    with httpx.Client(base_url=platform.url, headers=b, timeout=30) as http:
        out["orders"] = []
        for n in range(10):
            placed = http.post("/api/v1/orders", json=_limit_buy(f"bob-rest-{n}"))
            assert placed.status_code == 201, placed.text
            out["orders"].append(placed.json()["client_order_id"])
        for n in range(3):
            market = {"instrument_id": BTC, "side": "BUY", "type": "MARKET", "quantity": "0.011",
                      "client_order_id": f"bob-fill-{n}"}  # fmt: skip
            assert http.post("/api/v1/orders", json=market).status_code == 201
            out["orders"].append(f"bob-fill-{n}")
        keys = [http.post("/api/v1/api-keys", json={"name": f"bob{n}", "scopes": ["read"]}).json()
                for n in range(5)]  # fmt: skip
        out["keys"] = [k["id"] for k in keys]
        out["secrets"] = [k["secret"] for k in keys]
        backtest = {"strategy": "sma_cross", "instrument_ids": [BTC], "cash": "100000",
                    "params": {"fast": 5, "slow": 20, "size": "1"}}  # fmt: skip
        job = http.post("/api/v1/backtests", json=backtest)
        assert job.status_code == 202, job.text
        out["backtests"] = [job.json()["id"]]
        paths = httpx.get(platform.url + "/api/v1/openapi.json").json()["paths"]
        out["instances"] = []
        if "/api/v1/strategies/instances" in paths:
            for n in range(3):
                made = http.post("/api/v1/strategies/instances", json={
                    "strategy": "sma_cross", "instrument_ids": [BTC], "id": f"bob-inst-{n}",
                    "params": {"fast": 5, "slow": 20}})  # fmt: skip
                assert made.status_code == 201, made.text
                out["instances"].append(made.json()["id"])
        out["me"] = http.get("/api/v1/auth/me").json()
        deadline = time.monotonic() + 20
        while http.get("/api/v1/fills?client_order_id=bob-fill-2").json() == []:
            assert time.monotonic() < deadline, "bob's market order never filled"
            time.sleep(0.1)
    return out


def _probes(victim: dict[str, Any], paths: dict[str, Any]) -> list[tuple[str, str]]:
    """(method, path) of every object route, with B's ids."""
    out = []
    for cid in victim["orders"]:
        out += [("GET", f"/api/v1/orders/{cid}"), ("DELETE", f"/api/v1/orders/{cid}")]
        if "patch" in paths["/api/v1/orders/{client_order_id}"]:
            out.append(("PATCH", f"/api/v1/orders/{cid}"))
    out += [("DELETE", f"/api/v1/api-keys/{k}") for k in victim["keys"]]
    out += [("DELETE", f"/api/v1/sessions/{s}") for s in victim["sessions"]]
    for job in victim["backtests"]:
        out += [("GET", f"/api/v1/backtests/{job}"), ("GET", f"/api/v1/backtests/{job}/result")]
    for inst in victim["instances"]:
        base = f"/api/v1/strategies/instances/{inst}"
        out += [("GET", base), ("PATCH", base), ("DELETE", base), ("POST", base + "/start"),
                ("POST", base + "/stop"), ("GET", base + "/logs"),
                ("GET", base + "/performance")]  # fmt: skip
    return out


def _normal(text: str, oid: str) -> str:
    """A 404 body with the id asked for and the request id taken out."""
    return re.sub(r'"request_id":"[0-9a-f]+"', "", text.replace(oid, "<id>"))


def _body(method: str, path: str) -> dict[str, Any]:
    if method == "PATCH" and "/orders/" in path:
        return {"json": {"quantity": "0.02"}}
    if method == "PATCH":
        return {"json": {"params": {"fast": 6, "slow": 21}}}
    return {}


def test_bola_another_users_objects_are_not_found(
    platform: Platform, credentials: dict[str, Headers], victim: dict[str, Any]
) -> None:
    probes = _probes(victim, httpx.get(platform.url + "/api/v1/openapi.json").json()["paths"])
    secrets = [victim["me"]["user_id"], "robert", "1001.37", "0.013", *victim["secrets"]]
    other_ids = [*victim["orders"], *victim["keys"], *victim["sessions"], *victim["backtests"],
                 *victim["instances"]]  # fmt: skip
    attempts, not_found, leaks, differing = 0, 0, [], []
    with httpx.Client(base_url=platform.url, headers=credentials["trader"], timeout=30) as http:
        while attempts < 1_000:
            method, path = probes[attempts % len(probes)]
            oid = next(o for o in other_ids if f"/{o}" in path)
            answer = http.request(method, path, **_body(method, path))
            attempts += 1
            not_found += answer.status_code == 404
            text = answer.text
            leaks += [f"{method} {path}: {s}" for s in secrets if s in text]
            leaks += [f"{method} {path}: {o}" for o in other_ids if o != oid and o in text]
            never = http.request(method, path.replace(oid, UNKNOWN + "-x"), **_body(method, path))
            if _normal(text, oid) != _normal(never.text, UNKNOWN + "-x"):
                differing.append(f"{method} {path}: {text} vs {never.text}")
        fills = http.get("/api/v1/fills", params={"client_order_id": victim["orders"][-1]})
    assert fills.status_code == 200
    assert fills.json() == []
    print(f"BOLA: {attempts} requests on {len(probes)} of B's objects, {not_found} 404, "
          f"{len(leaks)} leaks")  # fmt: skip
    assert not_found == attempts
    assert leaks == []
    assert differing == []
    with httpx.Client(base_url=platform.url, headers=victim["headers"], timeout=30) as http:
        assert [http.get(f"/api/v1/orders/{cid}").json()["status"]
                for cid in victim["orders"][:10]] == ["ACCEPTED"] * 10  # fmt: skip
        assert sorted(k["id"] for k in http.get("/api/v1/api-keys").json()) == sorted(
            victim["keys"]
        )
        assert len(http.get("/api/v1/sessions").json()) == 3
        for secret in victim["secrets"]:
            assert httpx.get(platform.url + "/api/v1/auth/me",
                             headers=bearer(secret)).status_code == 200  # fmt: skip
        for inst in victim["instances"]:
            assert http.get(f"/api/v1/strategies/instances/{inst}").status_code == 200


# ------------------------------------------------------------- SEC-3 property-level authorisation
EXTRA = {"role": "admin", "user_id": "u_0000", "balance": "1000000000", "owner": "admin"}


def _declared(doc: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return set(schema.get("properties", {}))


def test_extra_fields_are_refused_on_every_write(
    platform: Platform, credentials: dict[str, Headers]
) -> None:
    """Every POST/PUT/PATCH body with a field it does not declare (``role``, ``user_id``,
    ``balance``, ``owner``) is refused with 422 naming that field: nothing is mass-assigned."""
    doc = httpx.get(platform.url + "/api/v1/openapi.json").json()
    cases, refused, other = 0, 0, []
    with httpx.Client(base_url=platform.url, headers=credentials["admin"], timeout=30) as http:
        for path, ops in doc["paths"].items():
            for method, op in ops.items():
                content = op.get("requestBody", {}).get("content", {}).get("application/json")
                if content is None:
                    continue
                url = re.sub(r"\{[^}]+\}", UNKNOWN, path)
                for field, value in EXTRA.items():
                    if field in _declared(doc, content["schema"]):
                        continue  # a real field of this body (POST /users' role)
                    answer = http.request(method.upper(), url, json={field: value})
                    cases += 1
                    named = answer.status_code == 422 and any(
                        e["loc"][-1:] == [field] for e in answer.json().get("errors", [])
                    )
                    refused += named
                    if not named:
                        other.append(f"{method.upper()} {path} +{field}: {answer.status_code}")
    print(f"SEC-3: {cases} writes with an undeclared field, {refused} refused naming it")
    assert cases > 0
    assert other == []

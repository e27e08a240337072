"""The gateway's edge, in process: security headers on every response, CORS for configured
origins only, rate limits per IP, user and API key with their headers, chunked bodies capped,
and the auth service's login throttle left to itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import argon2
import httpx
import pytest
from fastapi import FastAPI

from tradeforge.auth import AuthConfig, AuthService, PasswordHasher, RequestContext
from tradeforge.auth.config import generate_key_text
from tradeforge.bus import LiveClock
from tradeforge.gateway import GatewayServices, create_app
from tradeforge.gateway.config import GatewayConfig
from tradeforge.gateway.rate_limit import MemoryRateLimiter
from tradeforge.store import Database, sqlite_url

PASSWORD = "tangerine rooftop signal 42"
CLIENT = ("203.0.113.5", 40000)
FAST = argon2.Parameters(type=argon2.Type.ID, version=19, salt_len=16, hash_len=32,
                         time_cost=1, memory_cost=64, parallelism=1)  # fmt: skip


def make_app(tmp_path: Path, **gateway: Any) -> FastAPI:
    """The gateway over a real auth service (SQLite) with user ``admin``; no trading node (the
    routes used here do not touch it)."""
    database = Database(sqlite_url(tmp_path / "auth.sqlite"))
    database.upgrade()
    config = AuthConfig(jwt_secret=generate_key_text(), secret_key=generate_key_text())
    auth = AuthService(config=config, database=database, clock=LiveClock(),
                       hasher=PasswordHasher(FAST, insecure_for_tests=True))  # fmt: skip
    auth.ensure_admin("admin", PASSWORD, RequestContext())
    services = GatewayServices(node=None, manual=None, auth=auth)  # type: ignore[arg-type]
    return create_app(services, gateway=GatewayConfig(**gateway), limiter=MemoryRateLimiter())


def client(app: FastAPI, base_url: str = "http://testserver") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=CLIENT)
    return httpx.AsyncClient(transport=transport, base_url=base_url)


async def login(http: httpx.AsyncClient) -> dict[str, str]:
    answer = await http.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def run(test: Callable[[Path], Coroutine[Any, Any, None]]) -> Callable[[Path], None]:
    def sync(tmp_path: Path) -> None:
        asyncio.run(test(tmp_path))

    sync.__name__ = test.__name__
    return sync


def policies(response: httpx.Response) -> dict[str, dict[str, int]]:
    """``RateLimit`` as {policy: {"r": remaining, "t": reset}}."""
    out: dict[str, dict[str, int]] = {}
    for item in response.headers["ratelimit"].split(","):
        name, *params = item.strip().split(";")
        out[name.strip('"')] = {k: int(v) for k, v in (p.split("=") for p in params)}
    return out


# --- security headers ------------------------------------------------------------------


@run
async def test_every_response_carries_the_security_headers(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with client(app) as http:
        answers = [
            await http.get("/healthz"),
            await http.get("/api/v1/auth/me"),  # 401
            await http.get("/api/v1/no-such-thing"),  # 404
            await http.post("/api/v1/auth/login", content=b"x" * ((1 << 20) + 1)),  # 413
            await http.get("/api/v1/openapi.json"),
        ]
        docs = await http.get("/docs")
    for answer in [*answers, docs]:
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert "strict-transport-security" not in answer.headers  # plain HTTP
        assert answer.headers["x-request-id"]
    assert [a.status_code for a in answers] == [200, 401, 404, 413, 200]
    for answer in answers:
        assert answer.headers["content-security-policy"].startswith("default-src 'none';")
        assert "script-src" not in answer.headers["content-security-policy"]
    # Swagger UI loads its bundle from jsDelivr and fetches the document from this origin.
    csp = docs.headers["content-security-policy"]
    assert "script-src 'unsafe-inline' https://cdn.jsdelivr.net;" in csp
    assert "connect-src 'self'" in csp
    for source in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert f"https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/{source}" in docs.text


@run
async def test_hsts_is_sent_over_https_only(tmp_path: Path) -> None:
    app = make_app(tmp_path, hsts_max_age_s=600)
    async with client(app, "https://testserver") as http:
        secure = await http.get("/healthz")
    async with client(app) as http:
        plain = await http.get("/healthz")

    assert secure.headers["strict-transport-security"] == "max-age=600"
    assert "strict-transport-security" not in plain.headers


# --- CORS ------------------------------------------------------------------------------


@run
async def test_no_origin_may_call_the_api_by_default(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    origin = {"Origin": "https://evil.example"}
    async with client(app) as http:
        simple = await http.get("/api/v1/auth/me", headers=origin)
        preflight = await http.options(
            "/api/v1/orders",
            headers=origin | {"Access-Control-Request-Method": "POST",
                              "Access-Control-Request-Headers": "authorization"},
        )  # fmt: skip

    for answer in (simple, preflight):
        assert "access-control-allow-origin" not in answer.headers
        assert "access-control-allow-credentials" not in answer.headers
    assert preflight.status_code >= 400


@run
async def test_configured_origins_only_and_never_with_credentials(tmp_path: Path) -> None:
    app = make_app(tmp_path, cors_origins=("https://app.example.com",))
    ask = {"Access-Control-Request-Method": "POST",
           "Access-Control-Request-Headers": "authorization,content-type"}  # fmt: skip
    async with client(app) as http:
        mine = {"Origin": "https://app.example.com"}
        allowed = await http.options("/api/v1/orders", headers=mine | ask)
        other = await http.options(
            "/api/v1/orders", headers={"Origin": "https://evil.example"} | ask
        )
        simple = await http.get("/api/v1/auth/me", headers={"Origin": "https://app.example.com"})
        stranger = await http.get("/api/v1/auth/me", headers={"Origin": "https://evil.example"})

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers
    assert simple.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "ratelimit" in simple.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-origin" not in stranger.headers
    for answer in (allowed, other, simple, stranger):
        assert answer.headers.get("access-control-allow-origin") != "*"
        assert "access-control-allow-credentials" not in answer.headers


# --- rate limits -----------------------------------------------------------------------


@run
async def test_the_ip_over_its_limit_gets_429_with_retry_after_and_ratelimit(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path, rate_limit_per_ip=3, rate_limit_window_s=30)
    async with client(app) as http:
        first = [await http.get("/api/v1/auth/me") for _ in range(3)]
        refused = await http.get("/api/v1/auth/me", headers={"X-Forwarded-For": "198.51.100.9"})
        health = [await http.get("/healthz") for _ in range(5)]

    assert [a.status_code for a in first] == [401, 401, 401]
    assert [policies(a)["ip"]["r"] for a in first] == [2, 1, 0]
    assert first[0].headers["ratelimit-policy"] == '"ip";q=3;w=30'
    assert refused.status_code == 429  # X-Forwarded-For is not believed by default
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("/rate-limited")
    assert refused.json()["request_id"] == refused.headers["x-request-id"]
    assert 29 <= int(refused.headers["retry-after"]) <= 30
    assert policies(refused)["ip"]["r"] == 0
    assert refused.headers["ratelimit-policy"] == '"ip";q=3;w=30'
    assert [a.status_code for a in health] == [200] * 5
    assert all("ratelimit" not in a.headers for a in health)


@run
async def test_api_key_and_user_limits_count_only_authenticated_requests(tmp_path: Path) -> None:
    app = make_app(tmp_path, rate_limit_per_key=2, rate_limit_per_user=4, rate_limit_per_ip=0)
    async with client(app) as http:
        session = await login(http)
        made = await http.post("/api/v1/api-keys", headers=session,
                               json={"name": "bot", "scopes": ["read"]})  # fmt: skip
        key = {"Authorization": f"Bearer {made.json()['secret']}"}
        bogus = [await http.get("/api/v1/auth/me", headers={"Authorization": "Bearer tf_nope"})
                 for _ in range(10)]  # fmt: skip
        by_key = [await http.get("/api/v1/system/version", headers=key) for _ in range(3)]
        by_session = [await http.get("/api/v1/auth/me", headers=session) for _ in range(2)]

    assert made.status_code == 201  # the user's 1st counted request
    assert all(a.status_code == 401 and "ratelimit" not in a.headers for a in bogus)
    assert [a.status_code for a in by_key] == [200, 200, 429]
    assert policies(by_key[0]) == {"user": {"r": 2, "t": 60}, "key": {"r": 1, "t": 60}}
    assert policies(by_key[2])["key"]["r"] == 0
    assert by_key[2].headers["retry-after"]
    assert by_key[2].json()["type"].endswith("/rate-limited")
    # the refused key request was not counted for the user: one request left, then none
    assert [a.status_code for a in by_session] == [200, 429]
    assert policies(by_session[0])["user"]["r"] == 0


@run
async def test_failed_logins_meet_the_auth_services_own_throttle(tmp_path: Path) -> None:
    app = make_app(tmp_path)  # the default gateway limits are far above these few attempts
    async with client(app) as http:
        answers = [
            await http.post("/api/v1/auth/login", json={"username": "admin", "password": "nope"})
            for _ in range(7)
        ]

    statuses = [a.status_code for a in answers]
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429, 429]
    assert answers[5].json()["code"] == "TOO_MANY_ATTEMPTS"
    assert int(answers[5].headers["retry-after"]) >= 1
    assert policies(answers[5])["ip"]["r"] > 1000  # not the gateway's limit


# --- body cap --------------------------------------------------------------------------


@run
async def test_a_chunked_body_is_capped_at_one_mib(tmp_path: Path) -> None:
    app = make_app(tmp_path)

    async def chunks(total: int) -> AsyncIterator[bytes]:
        sent = 0
        while sent < total:
            piece = min(64 * 1024, total - sent)
            sent += piece
            yield b" " * piece

    async with client(app) as http:
        over = await http.post("/api/v1/auth/login", content=chunks((1 << 20) + 1),
                               headers={"content-type": "application/json"})  # fmt: skip
        at = await http.post("/api/v1/auth/login", content=chunks(1 << 20),
                             headers={"content-type": "application/json"})  # fmt: skip

    assert "content-length" not in over.request.headers
    assert over.status_code == 413
    assert over.headers["content-type"] == "application/problem+json"
    assert over.json()["type"].endswith("/payload-too-large")
    assert at.status_code == 422  # read to the end, then found not to be a login


def test_cors_star_is_refused() -> None:
    with pytest.raises(Exception, match="TRADEFORGE__GATEWAY__CORS_ORIGINS"):
        GatewayConfig(cors_origins=("*",))

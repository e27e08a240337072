"""The OpenAPI document describes what the gateway answers (SEC-1's schema conformance rests on
it): bearer security exactly where a route needs a credential, problem documents for every
error status it can give, and answers that keep to it (a 405 names the allowed methods, a body
that is not JSON is the documented 400)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import argon2
import httpx
from fastapi import FastAPI

from tradeforge.auth import AuthConfig, AuthService, PasswordHasher, RequestContext
from tradeforge.auth.config import generate_key_text
from tradeforge.bus import LiveClock
from tradeforge.gateway import GatewayServices, create_app
from tradeforge.gateway.openapi import PROBLEM_SCHEMA
from tradeforge.gateway.security import PUBLIC, route_access
from tradeforge.store import Database, sqlite_url

FAST = argon2.Parameters(type=argon2.Type.ID, version=19, salt_len=16, hash_len=32,
                         time_cost=1, memory_cost=64, parallelism=1)  # fmt: skip
PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def make_app(tmp_path: Path, **auth_settings: Any) -> FastAPI:
    """The gateway over a real auth service (SQLite); no trading node (not touched here)."""
    database = Database(sqlite_url(tmp_path / "auth.sqlite"))
    database.upgrade()
    config = AuthConfig(jwt_secret=generate_key_text(), secret_key=generate_key_text(),
                        **auth_settings)  # fmt: skip
    auth = AuthService(config=config, database=database, clock=LiveClock(),
                       hasher=PasswordHasher(FAST, insecure_for_tests=True))  # fmt: skip
    auth.ensure_admin("admin", "tangerine rooftop signal 42", RequestContext())
    return create_app(GatewayServices(node=None, manual=None, auth=auth))  # type: ignore[arg-type]


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m.upper(), p, op) for p, ops in doc["paths"].items() for m, op in ops.items()]


def test_security_is_declared_from_what_each_route_requires(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    doc = app.openapi()
    access = route_access(app)

    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for method, path, op in operations(doc):
        public = access[(method, path)] == "public" or path in ("/healthz", "/readyz")
        assert op["security"] == ([] if public else [{"bearer": []}]), (method, path)
        if not public:
            assert {"401", "403", "429"} <= set(op["responses"]), (method, path)
    assert {(m, p) for m, p, op in operations(doc) if op["security"] == []} == PUBLIC


def test_every_error_answer_is_a_documented_problem(tmp_path: Path) -> None:
    doc = make_app(tmp_path).openapi()

    assert doc["components"]["schemas"]["Problem"] == PROBLEM_SCHEMA
    assert "HTTPValidationError" not in doc["components"]["schemas"]  # 422 is a problem too
    for method, path, op in operations(doc):
        if path in ("/healthz", "/readyz"):
            continue
        for status, response in op["responses"].items():
            if status[0] in "45":
                assert response["content"] == PROBLEM, (method, path, status)
        if "requestBody" in op:
            assert {"400", "413", "422"} <= set(op["responses"]), (method, path)
        if "{" in path:
            assert "404" in op["responses"], (method, path)


def send(app: FastAPI, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await http.request(method, path, **kwargs)

    return asyncio.run(go())


def test_an_unsupported_method_is_405_with_allow(tmp_path: Path) -> None:
    # Found by Schemathesis (SEC-1, unsupported_method): the 405 problem dropped the Allow header.
    app = make_app(tmp_path)
    trace = send(app, "TRACE", "/readyz")
    patch = send(app, "PATCH", "/api/v1/risk/limits", json={})

    assert trace.status_code == 405
    assert trace.headers["allow"] == "GET"
    assert trace.headers["content-type"] == "application/problem+json"
    assert patch.status_code == 405
    assert patch.headers["allow"] == "GET, PUT"  # every method of the path, not the first route's


def test_a_body_that_is_not_json_is_the_documented_400(tmp_path: Path) -> None:
    answer = send(make_app(tmp_path), "POST", "/api/v1/auth/login", content=b"\xff\x00{",
                  headers={"content-type": "application/json"})  # fmt: skip

    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == 400


def test_allow_ignores_the_web_uis_catch_all_page_route(tmp_path: Path) -> None:
    # Found by Schemathesis (allow_header_conformance): with the web UI mounted, a 405 from
    # /api/v1/auth/login advertised GET, the catch-all page route's method.
    app = make_app(tmp_path)

    @app.get("/{path:path}", include_in_schema=False)
    async def page(path: str) -> dict[str, str]:
        return {"page": path}

    answer = send(app, "OPTIONS", "/api/v1/auth/login")

    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"


def test_the_documented_key_lifetime_is_the_one_the_auth_service_takes(tmp_path: Path) -> None:
    # Found by Schemathesis (positive_data_acceptance): the schema allowed 400 days, the service
    # refuses more than 366 with a 422.
    from tradeforge.auth.api_keys import _MAX_LIFETIME_S

    schemas = make_app(tmp_path).openapi()["components"]["schemas"]
    lifetime = schemas["ApiKeyIn"]["properties"]["expires_in_s"]["anyOf"][0]

    assert lifetime["maximum"] == _MAX_LIFETIME_S


def test_with_the_web_ui_mounted_a_wrong_method_on_an_api_path_is_still_405(
    tmp_path: Path,
) -> None:
    # Found by Schemathesis (unsupported_method): GET /api/v1/auth/login fell through to the web
    # UI's page route and answered 404.
    from tradeforge.gateway.web import mount_web

    site = tmp_path / "dist"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><title>TradeForge</title>")
    app = make_app(tmp_path)
    assert mount_web(app, site)

    wrong = send(app, "GET", "/api/v1/auth/login")
    unknown = send(app, "GET", "/api/v1/no-such-resource")
    page = send(app, "GET", "/orders")

    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "POST"
    assert unknown.status_code == 404
    assert page.status_code == 200


def test_creating_a_user_documents_the_409_for_a_taken_name(tmp_path: Path) -> None:
    # Found by Schemathesis (status_code_conformance, stateful): POST /users answered an
    # undocumented 409 for a user name that exists.
    responses = make_app(tmp_path).openapi()["paths"]["/api/v1/users"]["post"]["responses"]

    assert responses["409"]["content"] == PROBLEM


def test_disabling_a_user_takes_a_json_boolean_only(tmp_path: Path) -> None:
    # Found by Schemathesis (negative_data_rejection, the long SEC-1 run): {"disabled": 0} was
    # coerced to false and accepted.
    app = make_app(tmp_path)
    login = send(app, "POST", "/api/v1/auth/login",
                 json={"username": "admin", "password": "tangerine rooftop signal 42"})  # fmt: skip
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}

    for value in (0, 1, "true", "yes"):
        answer = send(app, "PATCH", "/api/v1/users/u_x", json={"disabled": value}, headers=headers)
        assert answer.status_code == 422, value


def test_one_key_too_many_is_a_documented_409(tmp_path: Path) -> None:
    # Found by Schemathesis (SEC-1 long run, status_code_conformance): after 100 keys the
    # 101st got 409 TOO_MANY_KEYS, which the document did not list.
    app = make_app(tmp_path, max_api_keys_per_user=2)
    login = send(app, "POST", "/api/v1/auth/login",
                 json={"username": "admin", "password": "tangerine rooftop signal 42"})  # fmt: skip
    admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
    key = {"name": "k", "scopes": ["read"]}
    made = [send(app, "POST", "/api/v1/api-keys", json=key, headers=admin) for _ in range(3)]

    assert [m.status_code for m in made] == [201, 201, 409]
    assert made[2].json()["code"] == "TOO_MANY_KEYS"
    documented = app.openapi()["paths"]["/api/v1/api-keys"]["post"]["responses"]
    assert documented["409"]["content"] == PROBLEM

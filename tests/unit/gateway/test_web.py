"""The web UI served by the gateway: the build at ``/``, client routes falling back to
``index.html``, hashed bundles cached for good, the UI's own CSP on its responses only, and
the API's paths never shadowed by the page."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tradeforge.gateway import GatewayServices, create_app
from tradeforge.gateway.config import GatewayConfig
from tradeforge.gateway.web import UI_CSP, mount_web
from tradeforge.runtime.errors import ConfigurationError
from tradeforge.runtime.platform import embedded_app

INDEX = "<!doctype html><title>TradeForge</title><div id=root></div>"
BUNDLE = "console.log('tradeforge ui')"


def build(root: Path) -> Path:
    """A directory shaped like ``npm run build``'s output."""
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "assets" / "index-3f9a1c.js").write_text(BUNDLE)
    (root / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    return root


class Http:
    """Requests to an app in process (each on its own event loop: the routes used keep none)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def request(self, method: str, path: str) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://ui.test") as http:
                return await http.request(method, path)

        return asyncio.run(go())

    def get(self, path: str) -> httpx.Response:
        return self.request("GET", path)


def gateway_app() -> FastAPI:
    # No node or auth service: the routes used here never reach them.
    services = GatewayServices(node=None, manual=None, auth=None)  # type: ignore[arg-type]
    return create_app(services, gateway=GatewayConfig())


def test_the_build_is_served_with_client_routes_falling_back_to_the_page(tmp_path: Path) -> None:
    app = gateway_app()
    assert mount_web(app, build(tmp_path / "dist"))
    http = Http(app)

    for path in ("/", "/trading", "/backtests/bt_123", "/account/keys?tab=1"):
        answer = http.get(path)
        assert answer.status_code == 200, path
        assert answer.text == INDEX
        assert answer.headers["content-type"].startswith("text/html")
        assert answer.headers["content-security-policy"] == UI_CSP
        assert answer.headers["cache-control"] == "no-cache"  # a new build is picked up
        assert answer.headers["x-frame-options"] == "DENY"  # the defaults still apply
        assert answer.headers["x-content-type-options"] == "nosniff"

    bundle = http.get("/assets/index-3f9a1c.js")
    assert bundle.status_code == 200
    assert bundle.text == BUNDLE
    assert "javascript" in bundle.headers["content-type"]
    assert bundle.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert http.get("/favicon.svg").text.startswith("<svg")
    missing = http.get("/assets/index-000000.js")  # a stale bundle is missing, not the page
    assert missing.status_code == 404
    assert missing.text != INDEX


def test_the_api_paths_are_never_shadowed(tmp_path: Path) -> None:
    app = gateway_app()
    assert mount_web(app, build(tmp_path / "dist"))
    http = Http(app)

    assert http.get("/healthz").json() == {"status": "ok"}
    assert http.get("/api/v1/orders").status_code == 401  # the route, not the page
    assert "swagger" in http.get("/docs").text.lower()
    for path in ("/api/v1/no-such-thing", "/api", "/docs/nothing", "/healthz/x", "/readyz/x"):
        answer = http.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"] == "application/problem+json"
        # The API keeps its own policy: nothing may load from its answers.
        assert answer.headers["content-security-policy"].startswith("default-src 'none'")
        assert answer.headers["cache-control"] == "no-store"
    assert http.request("PUT", "/api/v1/orders").status_code == 405
    assert http.request("POST", "/trading").status_code == 405  # the page answers GET only
    assert "/{path}" not in app.openapi()["paths"]


def test_nothing_outside_the_build_is_served(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("not for the web")
    app = gateway_app()
    assert mount_web(app, build(tmp_path / "dist"))
    http = Http(app)

    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt"):
        answer = http.get(path)
        assert "not for the web" not in answer.text, path


def test_without_a_build_only_the_api_is_served(tmp_path: Path) -> None:
    app = gateway_app()
    assert not mount_web(app, tmp_path / "dist")  # npm run build never ran
    http = Http(app)

    answer = http.get("/")
    assert answer.status_code == 404
    assert answer.headers["content-security-policy"].startswith("default-src 'none'")


def test_a_configured_directory_without_a_build_refuses_start_up(tmp_path: Path) -> None:
    gateway = GatewayConfig(web_dir=str(tmp_path / "nowhere"))
    with pytest.raises(ConfigurationError, match="TRADEFORGE__GATEWAY__WEB_DIR"):
        embedded_app(tmp_path / "data", gateway=gateway)

"""The web UI (``web/``, a Vite build) served by the gateway at ``/``.

:func:`mount_web` adds, after every API route, the built files of ``web_dir`` (``index.html``
and the hashed bundles under ``assets/``) and a fallback that answers every other ``GET`` with
``index.html``, so the single-page app's own routes (``/trading``, ``/backtests/...``) load on
a reload or a bookmark. Paths the API owns (``/api``, ``/docs``, ``/healthz``, ``/readyz``) are
never answered with the page: an unknown one stays a 404 problem document.

The UI's responses carry their own ``Content-Security-Policy`` (scripts, styles and fetches
from this origin only, the WebSocket included; nothing inline, no framing), which the gateway's
default for API responses (``default-src 'none'``) would otherwise replace. Hashed bundles may
be cached for good; ``index.html`` is revalidated on every load so a new build is picked up.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse
from starlette.exceptions import HTTPException
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from tradeforge.gateway.problems import NotFound, allowed_methods

__all__ = ["RESERVED_PREFIXES", "UI_CSP", "default_web_dir", "mount_web"]

RESERVED_PREFIXES = ("api", "docs", "healthz", "readyz")
UI_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)
_PAGE_HEADERS = {"Content-Security-Policy": UI_CSP, "Cache-Control": "no-cache"}
_ASSET_HEADERS = {
    "Content-Security-Policy": UI_CSP,
    "Cache-Control": "public, max-age=31536000, immutable",
}


def default_web_dir() -> Path:
    """``web/dist`` of the source tree this package runs from (an editable install); it does
    not exist in an installed wheel, which then serves the API only."""
    return Path(__file__).resolve().parents[3] / "web" / "dist"


def _reserved(path: str) -> bool:
    first = path.lstrip("/").split("/", 1)[0]
    return first in RESERVED_PREFIXES


class _Assets(StaticFiles):
    """Hashed bundles: immutable, with the UI's CSP."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers.update(_ASSET_HEADERS)
        return response


def mount_web(app: FastAPI, web_dir: Path) -> bool:
    """Serve the UI built into ``web_dir`` from ``app``; False (and nothing added) when it holds
    no ``index.html``. Call it after every API route is registered: the fallback catches what
    they leave."""
    root = web_dir.resolve()
    index = root / "index.html"
    if not index.is_file():
        return False
    if (root / "assets").is_dir():
        app.mount("/assets", _Assets(directory=root / "assets"), name="web-assets")

    @app.get("/{path:path}", include_in_schema=False)
    async def web_page(request: Request, path: str) -> Response:
        if _reserved(path):
            if allowed_methods(app, request.url.path):  # an API path, another method: 405
                raise HTTPException(405)
            raise NotFound(f"no resource {request.url.path}")
        wanted = (root / path).resolve()
        # A file at the top of the build (favicon, robots.txt), never outside it.
        if path and wanted.parent == root and wanted.is_file():
            return FileResponse(wanted, headers=_PAGE_HEADERS)
        return FileResponse(index, headers=_PAGE_HEADERS)

    return True

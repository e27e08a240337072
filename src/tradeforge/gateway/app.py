"""``create_app``: the FastAPI application of the API gateway.

Every response carries an ``X-Request-ID`` (the caller's, or a new one) that also goes into the
logs, and the security headers of ``edge.security_headers`` (unless a route set its own, as the
web UI's pages do: ``web.py``); bodies over 1 MiB are refused with 413; rate limits and CORS are
applied at the edge (``edge.GatewayEdge``); errors are problem documents (``problems.py``). The
OpenAPI document is at ``/api/v1/openapi.json``, the interactive docs at ``/docs``.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

from tradeforge import __version__
from tradeforge.gateway.config import GatewayConfig
from tradeforge.gateway.edge import GatewayEdge, security_headers
from tradeforge.gateway.openapi import install_openapi
from tradeforge.gateway.problems import install_problem_handlers, problem
from tradeforge.gateway.rate_limit import MemoryRateLimiter, RateLimiter
from tradeforge.gateway.routers import (
    auth,
    backtests,
    instruments,
    market,
    orders,
    portfolio,
    positions,
    reconciliation,
    risk,
    strategies,
    strategy_instances,
    stream,
    system,
)
from tradeforge.gateway.services import GatewayServices

__all__ = ["MAX_BODY_BYTES", "create_app"]

MAX_BODY_BYTES = 1 << 20


def create_app(
    services: GatewayServices,
    *,
    gateway: GatewayConfig | None = None,
    limiter: RateLimiter | None = None,
) -> FastAPI:
    """The gateway over ``services``, with the ``[gateway]`` settings and a rate limiter
    (default: in this process's memory)."""
    config = gateway or GatewayConfig()
    app = FastAPI(
        title="TradeForge API",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        description="Trading, market data and strategies of one TradeForge platform.",
    )
    app.state.services = services
    install_problem_handlers(app)
    app.add_middleware(GatewayEdge, config=config, limiter=limiter or MemoryRateLimiter(),
                       max_body_bytes=MAX_BODY_BYTES)  # fmt: skip

    @app.middleware("http")
    async def request_context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        given = request.headers.get("X-Request-ID", "")
        request_id = given if 0 < len(given) <= 64 and given.isprintable() else uuid.uuid4().hex
        request.state.request_id = request_id
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            detail = f"the body must be at most {MAX_BODY_BYTES} bytes"
            response: Response = problem(413, "payload-too-large", detail, request)
        else:
            response = await call_next(request)
        response.headers["X-Request-ID"] = request_id
        # A response that set its own policy keeps it (the web UI's pages, gateway/web.py).
        for name, value in security_headers(request.url.path, request.url.scheme, config).items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    for module in (system, auth, instruments, market, orders, positions, portfolio, strategies,
                   strategy_instances, backtests, risk, reconciliation, stream):  # fmt: skip
        app.include_router(module.router)
    install_openapi(app)
    return app

"""The HTTP and WebSocket API of the simulated exchange: a faithful subset of Binance Spot v3.

Every REST call goes through one pipeline (``rest_pipeline``): injected faults, the request
weight of the caller's IP, parameters from the query string and the form body, then for signed
endpoints the API key (``X-MBX-APIKEY``), the HMAC signature and the time window. Errors are
Binance's JSON ``{"code", "msg"}`` with Binance's HTTP status; an unexpected failure is logged
and answered -1000, never with a traceback. ``X-MBX-USED-WEIGHT-1M`` is on every answer.

The endpoints: ``public_routes`` (general, market data, tickers), ``private_routes`` (signed:
account, orders, user-data listen keys), ``admin_routes`` (faults, market pause) and
``stream_routes`` (WebSockets).
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from tradeforge.connectors.sim_exchange.admin_routes import admin_routes
from tradeforge.connectors.sim_exchange.private_routes import private_routes
from tradeforge.connectors.sim_exchange.public_routes import public_routes
from tradeforge.connectors.sim_exchange.rest_pipeline import RestPipeline
from tradeforge.connectors.sim_exchange.server import ExchangeServer
from tradeforge.connectors.sim_exchange.stream_routes import stream_routes

__all__ = ["create_app"]


def create_app(server: ExchangeServer) -> FastAPI:
    """The FastAPI application of ``server``."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> Any:
        server.start_market()
        yield
        await server.stop_market()

    app = FastAPI(
        title="TradeForge simulated exchange",
        description="A Binance Spot v3 compatible API over TradeForge's matching engine.",
        lifespan=lifespan,
    )
    api = RestPipeline(server)
    public_routes(app, server, api)
    private_routes(app, server, api)
    admin_routes(app, server)
    stream_routes(app, server)
    return app

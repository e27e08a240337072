"""The public REST endpoints of the simulated exchange: general, market data and tickers.

Each route passes its request weight to the pipeline explicitly (``limits.WEIGHTS`` lists
them all).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tradeforge.connectors.sim_exchange.binance_errors import BinanceError
from tradeforge.connectors.sim_exchange.exchange import Account
from tradeforge.connectors.sim_exchange.exchange_info import exchange_info_body
from tradeforge.connectors.sim_exchange.limits import depth_weight
from tradeforge.connectors.sim_exchange.orders import fmt
from tradeforge.connectors.sim_exchange.public import INTERVALS
from tradeforge.connectors.sim_exchange.rest_pipeline import AUTH_NONE, RestPipeline, int_param
from tradeforge.connectors.sim_exchange.server import ExchangeServer

__all__ = ["public_routes"]


def public_routes(app: FastAPI, server: ExchangeServer, api: RestPipeline) -> None:
    """Add the public REST endpoints of ``server`` to ``app``, each through ``api``."""
    ex = server.exchange

    # ------------------------------------------------------------- general
    @app.get("/api/v3/ping")
    async def ping(request: Request) -> JSONResponse:
        return await api.run(request, lambda p, a: {}, auth=AUTH_NONE, weight=1)

    @app.get("/api/v3/time")
    async def server_time(request: Request) -> JSONResponse:
        return await api.run(
            request, lambda p, a: {"serverTime": ex.now_ms()}, auth=AUTH_NONE, weight=1
        )

    @app.get("/api/v3/exchangeInfo")
    async def exchange_info(request: Request) -> JSONResponse:
        def handler(params: dict[str, str], _: Account | None) -> Any:
            return exchange_info_body(server, params)

        return await api.run(request, handler, auth=AUTH_NONE, weight=20)

    # --------------------------------------------------------- market data
    @app.get("/api/v3/depth")
    async def depth(request: Request) -> JSONResponse:
        def handler(params: dict[str, str], _: Account | None) -> Any:
            market = ex.markets[ex.symbol(params.get("symbol")).symbol]
            limit = int_param(params, "limit", 100, 1, 5000)
            book = market.depth(limit)
            if server.faults.take("stale_snapshot", "GET", "/api/v3/depth") is not None:
                book["lastUpdateId"] = max(0, book["lastUpdateId"] - 1_000_000)
            return book

        def weight(params: dict[str, str]) -> int:
            raw = params.get("limit", "100")
            return depth_weight(int(raw) if raw.isdigit() else 100)

        return await api.run(request, handler, auth=AUTH_NONE, weight=weight)

    @app.get("/api/v3/trades")
    async def trades(request: Request) -> JSONResponse:
        def handler(params: dict[str, str], _: Account | None) -> Any:
            market = ex.markets[ex.symbol(params.get("symbol")).symbol]
            limit = int_param(params, "limit", 500, 1, 1000)
            return list(market.trades)[-limit:]

        return await api.run(request, handler, auth=AUTH_NONE, weight=25)

    @app.get("/api/v3/aggTrades")
    async def agg_trades(request: Request) -> JSONResponse:
        def handler(params: dict[str, str], _: Account | None) -> Any:
            market = ex.markets[ex.symbol(params.get("symbol")).symbol]
            limit = int_param(params, "limit", 500, 1, 1000)
            rows = list(market.trades)
            if params.get("fromId"):
                start = int_param(params, "fromId", 0, 0, 2**62)
                rows = [t for t in rows if t["id"] >= start][:limit]
            else:
                rows = rows[-limit:]
            return [
                {"a": t["id"], "p": t["price"], "q": t["qty"], "f": t["id"], "l": t["id"],
                 "T": t["time"], "m": t["isBuyerMaker"], "M": True}
                for t in rows
            ]  # fmt: skip

        return await api.run(request, handler, auth=AUTH_NONE, weight=4)

    @app.get("/api/v3/klines")
    async def klines(request: Request) -> JSONResponse:
        def handler(params: dict[str, str], _: Account | None) -> Any:
            market = ex.markets[ex.symbol(params.get("symbol")).symbol]
            interval = params.get("interval")
            if not interval:
                raise BinanceError.missing("interval")
            if interval not in INTERVALS:
                raise BinanceError(-1120, "Invalid interval.")
            limit = int_param(params, "limit", 500, 1, 1000)
            start = params.get("startTime")
            end = params.get("endTime")
            rows = market.klines(
                interval,
                limit,
                int_param(params, "startTime", 0, 0, 2**62) if start else None,
                int_param(params, "endTime", 0, 0, 2**62) if end else None,
            )
            return [k.to_row() for k in rows]

        return await api.run(request, handler, auth=AUTH_NONE, weight=2)

    _ticker_routes(app, server, api)


def _ticker_routes(app: FastAPI, server: ExchangeServer, api: RestPipeline) -> None:
    ex = server.exchange

    def _symbols(params: dict[str, str]) -> list[str] | None:
        if params.get("symbol"):
            return [ex.symbol(params["symbol"]).symbol]
        if params.get("symbols"):
            try:
                names = json.loads(params["symbols"])
            except ValueError:
                raise BinanceError.bad_param("symbols", '["BTCUSDT","ETHUSDT"]') from None
            return [ex.symbol(str(n)).symbol for n in names]
        return None

    def _per_symbol(params: dict[str, str], one: Callable[[str], Any]) -> Any:
        chosen = _symbols(params)
        if chosen is not None and params.get("symbol"):
            return one(chosen[0])
        return [one(s) for s in (chosen or list(ex.markets))]

    @app.get("/api/v3/ticker/price")
    async def ticker_price(request: Request) -> JSONResponse:
        def one(symbol: str) -> dict[str, str]:
            price = ex.markets[symbol].last_price
            return {"symbol": symbol, "price": fmt(price) if price is not None else "0.00000000"}

        return await api.run(request, lambda p, a: _per_symbol(p, one), auth=AUTH_NONE,
                         weight=lambda p: 2 if p.get("symbol") else 4)  # fmt: skip

    @app.get("/api/v3/ticker/bookTicker")
    async def ticker_book(request: Request) -> JSONResponse:
        return await api.run(
            request, lambda p, a: _per_symbol(p, lambda s: ex.markets[s].book_ticker()),
            auth=AUTH_NONE, weight=lambda p: 2 if p.get("symbol") else 4,
        )  # fmt: skip

    @app.get("/api/v3/ticker/24hr")
    async def ticker_24h(request: Request) -> JSONResponse:
        return await api.run(
            request,
            lambda p, a: _per_symbol(p, lambda s: ex.markets[s].ticker_24h(ex.now_ms())),
            auth=AUTH_NONE, weight=lambda p: 2 if p.get("symbol") else 80,
        )  # fmt: skip

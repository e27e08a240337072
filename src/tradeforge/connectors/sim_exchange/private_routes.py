"""The signed REST endpoints of the simulated exchange: the account, orders and OCO lists,
order and trade queries, and user-data stream listen keys.

Each route passes its request weight to the pipeline explicitly (``limits.WEIGHTS`` lists
them all).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tradeforge.connectors.sim_exchange.binance_errors import BinanceError
from tradeforge.connectors.sim_exchange.exchange import Account
from tradeforge.connectors.sim_exchange.rest_pipeline import (
    AUTH_KEY,
    AUTH_SIGNED,
    RestPipeline,
    int_param,
)
from tradeforge.connectors.sim_exchange.server import ExchangeServer

__all__ = ["private_routes"]


def private_routes(app: FastAPI, server: ExchangeServer, api: RestPipeline) -> None:
    """Add the signed REST endpoints of ``server`` to ``app``, each through ``api``."""
    ex = server.exchange

    # ------------------------------------------------------------- account
    @app.get("/api/v3/account")
    async def account(request: Request) -> JSONResponse:
        return await api.run(
            request, lambda p, a: ex.account_json(api.need(a)), auth=AUTH_SIGNED, weight=20
        )

    @app.post("/api/v3/order")
    async def new_order(request: Request) -> JSONResponse:
        def handler(params: dict[str, str], a: Account | None) -> Any:
            acct = api.need(a)
            server.limits.count_order(acct.no)
            return ex.submit(acct, params)

        return await api.run(request, handler, auth=AUTH_SIGNED, weight=1)

    async def oco(request: Request, *, legacy: bool) -> JSONResponse:
        def handler(params: dict[str, str], a: Account | None) -> Any:
            acct = api.need(a)
            server.limits.count_order(acct.no)  # two orders
            server.limits.count_order(acct.no)
            return ex.submit_oco(acct, params, legacy=legacy)

        return await api.run(request, handler, auth=AUTH_SIGNED, weight=1)

    @app.post("/api/v3/orderList/oco")
    async def new_oco(request: Request) -> JSONResponse:
        return await oco(request, legacy=False)

    @app.post("/api/v3/order/oco")
    async def new_oco_legacy(request: Request) -> JSONResponse:
        return await oco(request, legacy=True)

    def _hidden(request: Request, created_ms: int) -> bool:  # the hide_orders fault
        return server.faults.hides("GET", request.url.path, created_ms, ex.now_ms())

    @app.get("/api/v3/order")
    async def query_order(request: Request) -> JSONResponse:
        def handler(params: dict[str, str], a: Account | None) -> Any:
            rec = ex.find(api.need(a), params)
            if _hidden(request, rec.time_ms):
                raise BinanceError.no_such_order()
            return rec.to_json()

        return await api.run(request, handler, auth=AUTH_SIGNED, weight=4)

    @app.delete("/api/v3/order")
    async def cancel_order(request: Request) -> JSONResponse:
        return await api.run(
            request, lambda p, a: ex.cancel(api.need(a), p), auth=AUTH_SIGNED, weight=1
        )

    @app.get("/api/v3/openOrders")
    async def open_orders(request: Request) -> JSONResponse:
        def handler(params: dict[str, str], a: Account | None) -> Any:
            found = ex.open_orders(api.need(a), params.get("symbol"))
            return [o for o in found if not _hidden(request, o["time"])]

        return await api.run(
            request, handler, auth=AUTH_SIGNED, weight=lambda p: 6 if p.get("symbol") else 80
        )

    @app.delete("/api/v3/openOrders")
    async def cancel_open_orders(request: Request) -> JSONResponse:
        return await api.run(
            request, lambda p, a: ex.cancel_all(api.need(a), p), auth=AUTH_SIGNED, weight=1
        )

    @app.get("/api/v3/allOrders")
    async def all_orders(request: Request) -> JSONResponse:
        def handler(params: dict[str, str], a: Account | None) -> Any:
            limit = int_param(params, "limit", 500, 1, 1000)
            found = ex.all_orders(api.need(a), params, limit)
            return [o for o in found if not _hidden(request, o["time"])]

        return await api.run(request, handler, auth=AUTH_SIGNED, weight=20)

    @app.get("/api/v3/myTrades")
    async def my_trades(request: Request) -> JSONResponse:
        def handler(params: dict[str, str], a: Account | None) -> Any:
            limit = int_param(params, "limit", 500, 1, 1000)
            return ex.my_trades(api.need(a), params, limit)

        return await api.run(request, handler, auth=AUTH_SIGNED, weight=20)

    # ---------------------------------------------------------- user data
    @app.post("/api/v3/userDataStream")
    async def new_listen_key(request: Request) -> JSONResponse:
        def handler(params: dict[str, str], a: Account | None) -> Any:
            return {"listenKey": server.new_listen_key(api.need(a))}

        return await api.run(request, handler, auth=AUTH_KEY, weight=2)

    def _keepalive(params: dict[str, str], a: Account | None) -> Any:
        entry = server.listen_key(params.get("listenKey", ""))
        if entry is None or entry.account is not a:
            raise BinanceError.bad_listen_key()
        entry.expires_ms = ex.now_ms() + 60 * 60 * 1000
        return {}

    @app.put("/api/v3/userDataStream")
    async def keepalive_listen_key(request: Request) -> JSONResponse:
        return await api.run(request, _keepalive, auth=AUTH_KEY, weight=2)

    @app.delete("/api/v3/userDataStream")
    async def close_listen_key(request: Request) -> JSONResponse:
        def handler(params: dict[str, str], a: Account | None) -> Any:
            _keepalive(params, a)
            server.listen_keys.pop(params["listenKey"], None)
            return {}

        return await api.run(request, handler, auth=AUTH_KEY, weight=2)

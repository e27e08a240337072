"""The admin endpoints of the simulated exchange: arm, list and clear faults; pause the market.

With an admin token configured, each needs it in ``X-Admin-Token``.
"""

from __future__ import annotations

import hmac

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tradeforge.connectors.sim_exchange.binance_errors import BinanceError
from tradeforge.connectors.sim_exchange.faults import parse_fault
from tradeforge.connectors.sim_exchange.server import ExchangeServer
from tradeforge.domain import InvalidValue

__all__ = ["admin_routes"]


def admin_routes(app: FastAPI, server: ExchangeServer) -> None:
    """Add the admin endpoints of ``server`` to ``app``."""

    def _admin(request: Request) -> None:
        token = server.options.admin_token
        given = request.headers.get("X-Admin-Token", "")
        if token is not None and not hmac.compare_digest(token, given):
            raise BinanceError(-2015, "Admin token required.", status=401)

    @app.get("/admin/faults")
    async def list_faults(request: Request) -> JSONResponse:
        try:
            _admin(request)
        except BinanceError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        return JSONResponse(
            {
                "armed": server.faults.armed(),
                "fired": server.faults.fired,
                "limits": server.limits.stats(),
                "requests": server.request_counts,
            }
        )

    @app.post("/admin/faults")
    async def arm_fault(request: Request) -> JSONResponse:
        try:
            _admin(request)
            body = await request.json()
            fault = parse_fault(body if isinstance(body, dict) else {})
        except BinanceError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        except (InvalidValue, ValueError) as exc:
            return JSONResponse({"code": -1100, "msg": str(exc)}, status_code=400)
        server.faults.arm(fault)
        return JSONResponse({"armed": server.faults.armed()})

    @app.post("/admin/market")
    async def market_control(request: Request) -> JSONResponse:
        try:
            _admin(request)
            body = await request.json()
        except BinanceError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        except ValueError:
            return JSONResponse({"code": -1100, "msg": "body must be JSON"}, status_code=400)
        if not isinstance(body, dict) or not isinstance(body.get("paused"), bool):
            return JSONResponse({"code": -1100, "msg": 'send {"paused": true|false}'}, 400)
        server.paused = body["paused"]
        books = {s: m.last_update_id for s, m in server.exchange.markets.items()}
        return JSONResponse({"paused": server.paused, "lastUpdateIds": books})

    @app.delete("/admin/faults")
    async def clear_faults(request: Request) -> JSONResponse:
        try:
            _admin(request)
        except BinanceError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        server.faults.clear()
        return JSONResponse({"armed": []})

"""The HTTP and WebSocket API of the simulated exchange: a faithful subset of Binance Spot v3.

Every REST call goes through one pipeline (``_Endpoint``): injected faults, the request weight
of the caller's IP, parameters from the query string and the form body, then for signed
endpoints the API key (``X-MBX-APIKEY``), the HMAC signature and the time window. Errors are
Binance's JSON ``{"code", "msg"}`` with Binance's HTTP status; an unexpected failure is logged
and answered -1000, never with a traceback. ``X-MBX-USED-WEIGHT-1M`` is on every answer.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import math
from collections.abc import Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import JSONResponse

from tradeforge.connectors.sim_exchange.binance_errors import BinanceError
from tradeforge.connectors.sim_exchange.exchange import Account
from tradeforge.connectors.sim_exchange.faults import parse_fault
from tradeforge.connectors.sim_exchange.limits import WEIGHTS, depth_weight
from tradeforge.connectors.sim_exchange.orders import fmt
from tradeforge.connectors.sim_exchange.public import INTERVALS
from tradeforge.connectors.sim_exchange.server import ExchangeServer
from tradeforge.connectors.sim_exchange.signing import check_timestamp, sign, verify
from tradeforge.connectors.sim_exchange.streams import Connection
from tradeforge.domain import InvalidValue
from tradeforge.observability import get_logger

__all__ = ["create_app"]

log = get_logger("tradeforge.sim_exchange")

Handler = Callable[[dict[str, str], Account | None], Any]
_NONE, _KEY, _SIGNED = 0, 1, 2


def _int_param(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise BinanceError.bad_param(name, "^[0-9]{1,20}$")
    value = int(raw)
    if not low <= value <= high:
        raise BinanceError(-1100, f"Illegal characters found in parameter '{name}'; legal range "
                           f"is '{low}..{high}'.")  # fmt: skip
    return value


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
    api = _Pipeline(server)
    _public_routes(app, server, api)
    _private_routes(app, server, api)
    _admin_routes(app, server)
    _stream_routes(app, server)
    return app


class _Pipeline:
    """What every REST call goes through (see the module docstring)."""

    def __init__(self, server: ExchangeServer) -> None:
        self.server = server

    async def run(
        self,
        request: Request,
        handler: Handler,
        *,
        auth: int,
        weight: int | Callable[[dict[str, str]], int],
    ) -> JSONResponse:
        method, path = request.method, request.url.path
        ip = request.client.host if request.client else "unknown"
        headers: dict[str, str] = {}
        key = f"{method} {path}"
        self.server.request_counts[key] = self.server.request_counts.get(key, 0) + 1
        try:
            storm = self.server.faults.take("rate_limit", method, path)
            if storm is not None:  # 429 with Retry-After: the fault's seconds (3 by default)
                self.server.limits.force_wait(ip, max(1, math.ceil(storm.seconds)))
            if self.server.faults.take("http_5xx", method, path) is not None:
                raise BinanceError.unavailable()
            delay = self.server.faults.take("delay", method, path)
            if delay is not None:
                await asyncio.sleep(delay.seconds)
            query = request.url.query
            body = (await request.body()).decode("utf-8", "replace")
            params = dict(parse_qsl(query, keep_blank_values=True))
            if body and "json" not in request.headers.get("content-type", ""):
                params.update(parse_qsl(body, keep_blank_values=True))
            cost = weight(params) if callable(weight) else weight
            used = self.server.limits.charge(ip, cost)
            headers["X-MBX-USED-WEIGHT-1M"] = str(used)
            account: Account | None = None
            if auth >= _KEY:
                account = self.account(request)
                if auth == _SIGNED:
                    verify(account.api_secret, query, body)
                    check_timestamp(params, self.server.exchange.now_ms())
            result = handler(params, account)
            if self.server.faults.take("drop_response", method, path) is not None:
                raise BinanceError(
                    -1007,
                    "Timeout waiting for response from backend server. Send status unknown; "
                    "execution status unknown.",
                    status=503,
                )
            return JSONResponse(result, headers=headers)
        except BinanceError as exc:
            if exc.retry_after is not None:
                headers["Retry-After"] = str(exc.retry_after)
            headers.setdefault("X-MBX-USED-WEIGHT-1M", str(self.server.limits.used(ip)))
            return JSONResponse(exc.body(), status_code=exc.status, headers=headers)
        except Exception:
            log.exception("request failed", method=method, path=path)
            return JSONResponse(BinanceError.unknown().body(), status_code=500, headers=headers)

    def account(self, request: Request) -> Account:
        key = request.headers.get("X-MBX-APIKEY")
        if not key:
            raise BinanceError(-2014, "API-key format invalid.", status=401)
        account = self.server.exchange.account(key)
        if account is None:
            raise BinanceError.bad_api_key()
        return account

    @staticmethod
    def need(account: Account | None) -> Account:
        assert account is not None  # the pipeline authenticated it
        return account


def _public_routes(app: FastAPI, server: ExchangeServer, api: _Pipeline) -> None:
    ex = server.exchange

    # ------------------------------------------------------------- general
    @app.get("/api/v3/ping")
    async def ping(request: Request) -> JSONResponse:
        return await api.run(request, lambda p, a: {}, auth=_NONE, weight=1)

    @app.get("/api/v3/time")
    async def server_time(request: Request) -> JSONResponse:
        return await api.run(
            request, lambda p, a: {"serverTime": ex.now_ms()}, auth=_NONE, weight=1
        )

    @app.get("/api/v3/exchangeInfo")
    async def exchange_info(request: Request) -> JSONResponse:
        def handler(params: dict[str, str], _: Account | None) -> Any:
            return _exchange_info(server, params)

        return await api.run(request, handler, auth=_NONE, weight=20)

    # --------------------------------------------------------- market data
    @app.get("/api/v3/depth")
    async def depth(request: Request) -> JSONResponse:
        def handler(params: dict[str, str], _: Account | None) -> Any:
            market = ex.markets[ex.symbol(params.get("symbol")).symbol]
            limit = _int_param(params, "limit", 100, 1, 5000)
            book = market.depth(limit)
            if server.faults.take("stale_snapshot", "GET", "/api/v3/depth") is not None:
                book["lastUpdateId"] = max(0, book["lastUpdateId"] - 1_000_000)
            return book

        def weight(params: dict[str, str]) -> int:
            raw = params.get("limit", "100")
            return depth_weight(int(raw) if raw.isdigit() else 100)

        return await api.run(request, handler, auth=_NONE, weight=weight)

    @app.get("/api/v3/trades")
    async def trades(request: Request) -> JSONResponse:
        def handler(params: dict[str, str], _: Account | None) -> Any:
            market = ex.markets[ex.symbol(params.get("symbol")).symbol]
            limit = _int_param(params, "limit", 500, 1, 1000)
            return list(market.trades)[-limit:]

        return await api.run(request, handler, auth=_NONE, weight=25)

    @app.get("/api/v3/aggTrades")
    async def agg_trades(request: Request) -> JSONResponse:
        def handler(params: dict[str, str], _: Account | None) -> Any:
            market = ex.markets[ex.symbol(params.get("symbol")).symbol]
            limit = _int_param(params, "limit", 500, 1, 1000)
            rows = list(market.trades)
            if params.get("fromId"):
                start = _int_param(params, "fromId", 0, 0, 2**62)
                rows = [t for t in rows if t["id"] >= start][:limit]
            else:
                rows = rows[-limit:]
            return [
                {"a": t["id"], "p": t["price"], "q": t["qty"], "f": t["id"], "l": t["id"],
                 "T": t["time"], "m": t["isBuyerMaker"], "M": True}
                for t in rows
            ]  # fmt: skip

        return await api.run(request, handler, auth=_NONE, weight=4)

    @app.get("/api/v3/klines")
    async def klines(request: Request) -> JSONResponse:
        def handler(params: dict[str, str], _: Account | None) -> Any:
            market = ex.markets[ex.symbol(params.get("symbol")).symbol]
            interval = params.get("interval")
            if not interval:
                raise BinanceError.missing("interval")
            if interval not in INTERVALS:
                raise BinanceError(-1120, "Invalid interval.")
            limit = _int_param(params, "limit", 500, 1, 1000)
            start = params.get("startTime")
            end = params.get("endTime")
            rows = market.klines(
                interval,
                limit,
                _int_param(params, "startTime", 0, 0, 2**62) if start else None,
                _int_param(params, "endTime", 0, 0, 2**62) if end else None,
            )
            return [k.to_row() for k in rows]

        return await api.run(request, handler, auth=_NONE, weight=2)

    _ticker_routes(app, server, api)


def _ticker_routes(app: FastAPI, server: ExchangeServer, api: _Pipeline) -> None:
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

        return await api.run(request, lambda p, a: _per_symbol(p, one), auth=_NONE,
                         weight=lambda p: 2 if p.get("symbol") else 4)  # fmt: skip

    @app.get("/api/v3/ticker/bookTicker")
    async def ticker_book(request: Request) -> JSONResponse:
        return await api.run(
            request, lambda p, a: _per_symbol(p, lambda s: ex.markets[s].book_ticker()),
            auth=_NONE, weight=lambda p: 2 if p.get("symbol") else 4,
        )  # fmt: skip

    @app.get("/api/v3/ticker/24hr")
    async def ticker_24h(request: Request) -> JSONResponse:
        return await api.run(
            request,
            lambda p, a: _per_symbol(p, lambda s: ex.markets[s].ticker_24h(ex.now_ms())),
            auth=_NONE, weight=lambda p: 2 if p.get("symbol") else 80,
        )  # fmt: skip


def _private_routes(app: FastAPI, server: ExchangeServer, api: _Pipeline) -> None:
    ex = server.exchange

    # ------------------------------------------------------------- account
    @app.get("/api/v3/account")
    async def account(request: Request) -> JSONResponse:
        return await api.run(
            request, lambda p, a: ex.account_json(api.need(a)), auth=_SIGNED, weight=20
        )

    @app.post("/api/v3/order")
    async def new_order(request: Request) -> JSONResponse:
        def handler(params: dict[str, str], a: Account | None) -> Any:
            acct = api.need(a)
            server.limits.count_order(acct.no)
            return ex.submit(acct, params)

        return await api.run(request, handler, auth=_SIGNED, weight=1)

    @app.post("/api/v3/orderList/oco")
    async def new_oco(request: Request) -> JSONResponse:
        def handler(params: dict[str, str], a: Account | None) -> Any:
            acct = api.need(a)
            server.limits.count_order(acct.no)
            server.limits.count_order(acct.no)
            return ex.submit_oco(acct, params, legacy=False)

        return await api.run(request, handler, auth=_SIGNED, weight=1)

    @app.post("/api/v3/order/oco")
    async def new_oco_legacy(request: Request) -> JSONResponse:
        def handler(params: dict[str, str], a: Account | None) -> Any:
            acct = api.need(a)
            server.limits.count_order(acct.no)
            server.limits.count_order(acct.no)
            return ex.submit_oco(acct, params, legacy=True)

        return await api.run(request, handler, auth=_SIGNED, weight=1)

    def _hidden(request: Request, created_ms: int) -> bool:  # the hide_orders fault
        return server.faults.hides("GET", request.url.path, created_ms, ex.now_ms())

    @app.get("/api/v3/order")
    async def query_order(request: Request) -> JSONResponse:
        def handler(params: dict[str, str], a: Account | None) -> Any:
            rec = ex.find(api.need(a), params)
            if _hidden(request, rec.time_ms):
                raise BinanceError.no_such_order()
            return rec.to_json()

        return await api.run(request, handler, auth=_SIGNED, weight=4)

    @app.delete("/api/v3/order")
    async def cancel_order(request: Request) -> JSONResponse:
        return await api.run(
            request, lambda p, a: ex.cancel(api.need(a), p), auth=_SIGNED, weight=1
        )

    @app.get("/api/v3/openOrders")
    async def open_orders(request: Request) -> JSONResponse:
        def handler(params: dict[str, str], a: Account | None) -> Any:
            found = ex.open_orders(api.need(a), params.get("symbol"))
            return [o for o in found if not _hidden(request, o["time"])]

        return await api.run(
            request, handler, auth=_SIGNED, weight=lambda p: 6 if p.get("symbol") else 80
        )

    @app.delete("/api/v3/openOrders")
    async def cancel_open_orders(request: Request) -> JSONResponse:
        return await api.run(
            request, lambda p, a: ex.cancel_all(api.need(a), p), auth=_SIGNED, weight=1
        )

    @app.get("/api/v3/allOrders")
    async def all_orders(request: Request) -> JSONResponse:
        def handler(params: dict[str, str], a: Account | None) -> Any:
            limit = _int_param(params, "limit", 500, 1, 1000)
            found = ex.all_orders(api.need(a), params, limit)
            return [o for o in found if not _hidden(request, o["time"])]

        return await api.run(request, handler, auth=_SIGNED, weight=20)

    @app.get("/api/v3/myTrades")
    async def my_trades(request: Request) -> JSONResponse:
        def handler(params: dict[str, str], a: Account | None) -> Any:
            limit = _int_param(params, "limit", 500, 1, 1000)
            return ex.my_trades(api.need(a), params, limit)

        return await api.run(request, handler, auth=_SIGNED, weight=20)

    # ---------------------------------------------------------- user data
    @app.post("/api/v3/userDataStream")
    async def new_listen_key(request: Request) -> JSONResponse:
        def handler(params: dict[str, str], a: Account | None) -> Any:
            return {"listenKey": server.new_listen_key(api.need(a))}

        return await api.run(request, handler, auth=_KEY, weight=2)

    def _keepalive(params: dict[str, str], a: Account | None) -> Any:
        entry = server.listen_key(params.get("listenKey", ""))
        if entry is None or entry.account is not a:
            raise BinanceError.bad_listen_key()
        entry.expires_ms = ex.now_ms() + 60 * 60 * 1000
        return {}

    @app.put("/api/v3/userDataStream")
    async def keepalive_listen_key(request: Request) -> JSONResponse:
        return await api.run(request, _keepalive, auth=_KEY, weight=2)

    @app.delete("/api/v3/userDataStream")
    async def close_listen_key(request: Request) -> JSONResponse:
        def handler(params: dict[str, str], a: Account | None) -> Any:
            _keepalive(params, a)
            server.listen_keys.pop(params["listenKey"], None)
            return {}

        return await api.run(request, handler, auth=_KEY, weight=2)


def _admin_routes(app: FastAPI, server: ExchangeServer) -> None:
    # -------------------------------------------------------------- admin
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


def _stream_routes(app: FastAPI, server: ExchangeServer) -> None:
    # ------------------------------------------------------------ streams
    @app.websocket("/ws")
    async def ws_root(ws: WebSocket) -> None:
        await _market_ws(ws, [], combined=False)

    @app.websocket("/ws/{path:path}")
    async def ws_raw(ws: WebSocket, path: str) -> None:
        entry = server.listen_key(path)
        if entry is not None:
            await _user_ws(ws, entry.account)
            return
        # Only stream names subscribe; a bare path such as CCXT's ``/ws/0`` opens an empty
        # connection that subscribes later with SUBSCRIBE requests.
        await _market_ws(ws, [s for s in path.split("/") if "@" in s], combined=False)

    @app.websocket("/stream")
    async def ws_combined(ws: WebSocket) -> None:
        names = ws.query_params.get("streams", "")
        await _market_ws(ws, [s for s in names.split("/") if s], combined=True)

    async def _market_ws(ws: WebSocket, streams: list[str], *, combined: bool) -> None:
        await ws.accept()
        conn = Connection(ws, combined)
        error = server.hub.subscribe(conn, streams) if streams else None
        if error is not None:
            await ws.close(code=1008, reason=error[:120])
            return
        await server.hub.serve(conn, server.hub.market_request)

    async def _user_ws(ws: WebSocket, acct: Account) -> None:
        await ws.accept()
        conn = Connection(ws, combined=False)

        def listener(message: dict[str, Any]) -> None:

            conn.send(json.dumps(message))

        acct.listeners.add(listener)
        try:
            await server.hub.serve(conn, lambda c, r: None)
        finally:
            acct.listeners.discard(listener)

    @app.websocket("/ws-api/v3")
    async def ws_api(ws: WebSocket) -> None:
        await ws.accept()
        conn = Connection(ws, combined=False)
        subscribed: list[tuple[Account, Callable[[dict[str, Any]], None]]] = []

        def on_request(c: Connection, request: dict[str, Any]) -> dict[str, Any] | None:
            return _ws_api_request(server, c, request, subscribed)

        try:
            await server.hub.serve(conn, on_request)
        finally:
            for acct, listener in subscribed:
                acct.listeners.discard(listener)


def _ws_api_request(
    server: ExchangeServer,
    conn: Connection,
    request: dict[str, Any],
    subscribed: list[tuple[Account, Callable[[dict[str, Any]], None]]],
) -> dict[str, Any]:
    """One request of Binance's WebSocket API (the user-data and time methods)."""

    rid, method = request.get("id"), request.get("method")
    params = request.get("params") or {}
    ex = server.exchange
    try:
        if method == "ping":
            return {"id": rid, "status": 200, "result": {}}
        if method == "time":
            return {"id": rid, "status": 200, "result": {"serverTime": ex.now_ms()}}
        if method != "userDataStream.subscribe.signature":
            raise BinanceError(-1020, "This operation is not supported.")
        if not isinstance(params, dict):
            raise BinanceError.missing("params")
        strings = {str(k): str(v) for k, v in params.items()}
        acct = ex.account(strings.get("apiKey", ""))
        if acct is None:
            raise BinanceError.bad_api_key()
        signature = strings.pop("signature", "")
        payload = "&".join(f"{k}={strings[k]}" for k in sorted(strings))
        if not signature or not hmac.compare_digest(sign(acct.api_secret, payload), signature):
            raise BinanceError.bad_signature()
        check_timestamp(strings, ex.now_ms())
        subscription_id = len(subscribed)

        def listener(message: dict[str, Any]) -> None:
            conn.send(json.dumps({"subscriptionId": subscription_id, "event": message}))

        acct.listeners.add(listener)
        subscribed.append((acct, listener))
        return {"id": rid, "status": 200, "result": {"subscriptionId": subscription_id}}
    except BinanceError as exc:
        return {"id": rid, "status": exc.status, "error": exc.body()}


def _exchange_info(server: ExchangeServer, params: dict[str, str]) -> dict[str, Any]:
    ex = server.exchange
    chosen = list(ex.listed.values())
    if params.get("symbol"):
        chosen = [ex.symbol(params["symbol"])]
    symbols = []
    for listed in chosen:
        inst = listed.instrument
        min_notional = inst.min_notional.amount if inst.min_notional is not None else Decimal(0)
        symbols.append(
            {
                "symbol": listed.symbol,
                "status": "TRADING",
                "baseAsset": inst.base_currency.code,
                "baseAssetPrecision": 8,
                "quoteAsset": inst.quote_currency.code,
                "quotePrecision": 8,
                "quoteAssetPrecision": 8,
                "baseCommissionPrecision": 8,
                "quoteCommissionPrecision": 8,
                "orderTypes": [
                    "LIMIT",
                    "LIMIT_MAKER",
                    "MARKET",
                    "STOP_LOSS",
                    "STOP_LOSS_LIMIT",
                    "TAKE_PROFIT_LIMIT",
                ],
                "icebergAllowed": False,
                "ocoAllowed": True,
                "otoAllowed": False,
                "quoteOrderQtyMarketAllowed": True,
                "allowTrailingStop": False,
                "cancelReplaceAllowed": False,
                "isSpotTradingAllowed": True,
                "isMarginTradingAllowed": False,
                "filters": [
                    {
                        "filterType": "PRICE_FILTER",
                        "minPrice": fmt(inst.tick_size.as_decimal()),
                        "maxPrice": fmt(inst.tick_size.as_decimal() * 10**9),
                        "tickSize": fmt(inst.tick_size.as_decimal()),
                    },
                    {
                        "filterType": "LOT_SIZE",
                        "minQty": fmt(inst.min_quantity.as_decimal()),
                        "maxQty": fmt(
                            inst.max_quantity.as_decimal()
                            if inst.max_quantity is not None
                            else inst.lot_size.as_decimal() * 10**9
                        ),
                        "stepSize": fmt(inst.lot_size.as_decimal()),
                    },
                    {
                        "filterType": "NOTIONAL",
                        "minNotional": fmt(min_notional),
                        "applyMinToMarket": True,
                        "maxNotional": fmt(inst.tick_size.as_decimal() * 10**12),
                        "applyMaxToMarket": False,
                        "avgPriceMins": 0,
                    },
                ],
                "permissions": [],
                "permissionSets": [["SPOT"]],
                "defaultSelfTradePreventionMode": "NONE",
                "allowedSelfTradePreventionModes": ["NONE"],
            }
        )
    return {
        "timezone": "UTC",
        "serverTime": ex.now_ms(),
        "rateLimits": [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": server.limits.weight_per_minute,
            },
            {
                "rateLimitType": "ORDERS",
                "interval": "SECOND",
                "intervalNum": 10,
                "limit": server.limits.orders_per_10s,
            },
            {
                "rateLimitType": "ORDERS",
                "interval": "DAY",
                "intervalNum": 1,
                "limit": server.limits.orders_per_day,
            },
        ],
        "exchangeFilters": [],
        "symbols": symbols,
    }


_ = WEIGHTS  # the weight table documents every route's cost; routes pass theirs explicitly

"""The WebSocket endpoints of the simulated exchange: market streams (raw and combined),
user-data streams by listen key, and the WebSocket API (``/ws-api/v3``).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, WebSocket

from tradeforge.connectors.sim_exchange.binance_errors import BinanceError
from tradeforge.connectors.sim_exchange.exchange import Account
from tradeforge.connectors.sim_exchange.server import ExchangeServer
from tradeforge.connectors.sim_exchange.signing import check_timestamp, sign
from tradeforge.connectors.sim_exchange.streams import Connection

__all__ = ["stream_routes"]


def stream_routes(app: FastAPI, server: ExchangeServer) -> None:
    """Add the WebSocket endpoints of ``server`` to ``app``."""

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

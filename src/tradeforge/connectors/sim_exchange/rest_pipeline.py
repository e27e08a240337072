"""``RestPipeline``: what every REST call of the simulated exchange goes through.

In order: injected faults, the request weight of the caller's IP, parameters from the query
string and the form body, then for signed endpoints the API key (``X-MBX-APIKEY``), the HMAC
signature and the time window. Errors are Binance's JSON ``{"code", "msg"}`` with Binance's
HTTP status; an unexpected failure is logged and answered -1000, never with a traceback.
``X-MBX-USED-WEIGHT-1M`` is on every answer.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import JSONResponse

from tradeforge.connectors.sim_exchange.binance_errors import BinanceError
from tradeforge.connectors.sim_exchange.exchange import Account
from tradeforge.connectors.sim_exchange.server import ExchangeServer
from tradeforge.connectors.sim_exchange.signing import check_timestamp, verify
from tradeforge.observability import get_logger

__all__ = ["AUTH_KEY", "AUTH_NONE", "AUTH_SIGNED", "Handler", "RestPipeline", "int_param"]

log = get_logger("tradeforge.sim_exchange")

Handler = Callable[[dict[str, str], Account | None], Any]
AUTH_NONE, AUTH_KEY, AUTH_SIGNED = 0, 1, 2  # public; API key only; API key and signature


def int_param(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    """The integer parameter ``name`` (``default`` when absent) within ``low..high``, else
    -1100 as Binance answers."""
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


class RestPipeline:
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
        """Answer ``request`` with ``handler(params, account)``; ``auth`` is one of the
        ``AUTH_*`` levels, ``weight`` the request weight (or how to compute it from the
        parameters)."""
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
            if auth >= AUTH_KEY:
                account = self.account(request)
                if auth == AUTH_SIGNED:
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
        """The account of the request's ``X-MBX-APIKEY`` (else -2014 or -2015)."""
        key = request.headers.get("X-MBX-APIKEY")
        if not key:
            raise BinanceError(-2014, "API-key format invalid.", status=401)
        account = self.server.exchange.account(key)
        if account is None:
            raise BinanceError.bad_api_key()
        return account

    @staticmethod
    def need(account: Account | None) -> Account:
        """The account of a handler that the pipeline authenticated."""
        assert account is not None  # the pipeline authenticated it
        return account

"""Errors as RFC 9457 problem details: one map from the error taxonomy to HTTP statuses.

Every error a request can cause becomes ``application/problem+json`` with ``type``, ``title``,
``status``, ``detail`` and the request id; a server fault never shows its traceback (it is
logged with the request id instead).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException

from tradeforge.auth.errors import AccountLocked, AuthenticationFailed, Forbidden
from tradeforge.auth.errors import Conflict as AuthConflict
from tradeforge.auth.errors import NotFound as AuthNotFound
from tradeforge.domain.errors import (
    ConfigurationError,
    InsufficientFunds,
    InvalidOrder,
    InvalidValue,
    OperatorError,
    RateLimited,
    RequestError,
    RetryableError,
    TradeForgeError,
    UnknownInstrument,
    UnknownOrder,
)
from tradeforge.observability import get_logger

__all__ = ["Conflict", "NotFound", "allowed_methods", "install_problem_handlers", "problem"]

log = get_logger("tradeforge.gateway")
_BASE = "https://tradeforge.dev/problems/"


class NotFound(RequestError):
    """The resource does not exist (or is not the caller's)."""


class Conflict(RequestError):
    """The request conflicts with what exists (e.g. a reused idempotency key)."""


# Most specific first.
_STATUS: tuple[tuple[type[Exception], int, str], ...] = (
    (AuthenticationFailed, 401, "unauthenticated"),
    (Forbidden, 403, "forbidden"),
    (AuthNotFound, 404, "not-found"),
    (AuthConflict, 409, "conflict"),
    (AccountLocked, 423, "account-locked"),
    (NotFound, 404, "not-found"),
    (UnknownOrder, 404, "unknown-order"),
    (UnknownInstrument, 404, "unknown-instrument"),
    (Conflict, 409, "conflict"),
    (InsufficientFunds, 422, "insufficient-funds"),
    (InvalidOrder, 422, "invalid-order"),
    (InvalidValue, 422, "invalid-value"),
    (RequestError, 400, "bad-request"),
    (RateLimited, 429, "rate-limited"),
    (RetryableError, 503, "temporarily-unavailable"),
    (ConfigurationError, 500, "configuration-error"),
    (OperatorError, 500, "internal-error"),
)


def problem(
    status: int, kind: str, detail: str, request: Request | None = None, **extra: Any
) -> JSONResponse:
    """A problem-details response."""
    body: dict[str, Any] = {
        "type": _BASE + kind,
        "title": kind.replace("-", " ").capitalize(),
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
        request_id = getattr(request.state, "request_id", None)
        if request_id:
            body["request_id"] = request_id
    body.update(extra)
    headers = {}
    if "retry_after" in extra and extra["retry_after"] is not None:
        headers["Retry-After"] = str(max(1, int(extra["retry_after"] + 0.999)))
    return JSONResponse(body, status_code=status, media_type="application/problem+json",
                        headers=headers)  # fmt: skip


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method an API operation serves at ``path`` (Starlette's 405 names the first
    route's; the web UI's catch-all page route is not an operation of the API)."""
    methods: set[str] = set()
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(path) and route.methods:
            methods |= route.methods
    return sorted(methods)


def install_problem_handlers(app: FastAPI) -> None:
    """Map every error to a problem document."""

    @app.exception_handler(TradeForgeError)
    async def domain_error(request: Request, exc: TradeForgeError) -> JSONResponse:
        for cls, status, kind in _STATUS:
            if isinstance(exc, cls):
                if status >= 500:
                    log.error("request failed", path=request.url.path, error=repr(exc),
                              request_id=getattr(request.state, "request_id", None))  # fmt: skip
                    return problem(status, kind, "The server could not complete the request.",
                                   request)  # fmt: skip
                retry = exc.retry_after if isinstance(exc, RateLimited) else None
                extra: dict[str, Any] = {"retry_after": retry} if retry is not None else {}
                code = getattr(exc, "code", None)
                if isinstance(code, str):
                    extra["code"] = code
                response = problem(status, kind, str(exc), request, **extra)
                if status == 401:
                    response.headers["WWW-Authenticate"] = 'Bearer realm="tradeforge"'
                return response
        return problem(400, "bad-request", str(exc), request)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(p) for p in err.get("loc", ())], "msg": str(err.get("msg", ""))}
            for err in exc.errors()
        ]
        return problem(422, "invalid-request", "The request does not match the schema.", request,
                       errors=errors)  # fmt: skip

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = {404: "not-found", 405: "method-not-allowed", 413: "payload-too-large"}.get(
            exc.status_code, "http-error"
        )
        response = problem(exc.status_code, kind, str(exc.detail), request)
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:  # Allow lists every method of the path (RFC 9110 §15.5.6)
            response.headers["Allow"] = ", ".join(allowed_methods(app, request.url.path))
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error", path=request.url.path, error=repr(exc),
                  request_id=getattr(request.state, "request_id", None))  # fmt: skip
        return problem(500, "internal-error", "The server could not complete the request.", request)

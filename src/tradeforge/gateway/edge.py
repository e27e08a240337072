"""The gateway's edge: what every request passes before a route sees it, and what every
response carries.

:class:`GatewayEdge` (ASGI middleware, registered once by ``create_app``):

- **CORS** for the origins in ``gateway.cors_origins`` only (none by default). Credentials
  (cookies) are never allowed: the API takes bearer tokens, so no origin is ever ``*`` with
  credentials.
- **Rate limits**, in two steps. Before routing, every request but ``/healthz`` and
  ``/readyz`` (the WebSocket handshake included) counts against its client address's quota
  (``ip``); an unauthenticated flood is refused here. After authentication
  (:func:`charge_principal`, called by ``security.authenticate``), it counts against its
  user's quota (``user``, all their sessions and keys) and, for an API key, the key's
  (``key``); credentials that fail to authenticate never touch anyone's quota. Every
  response reports the quotas it was counted in (``RateLimit-Policy`` and ``RateLimit``,
  draft-ietf-httpapi-ratelimit-headers); a refusal is a 429 problem document with
  ``Retry-After``. Login attempts also pass the auth service's own throttle (per account and
  per IP failures, ``docs/auth.md``); the two are separate counts.
- **Body cap**: a body that grows past 1 MiB while being read (chunked, without a
  ``Content-Length``) is refused with 413, like one whose ``Content-Length`` says so.

:func:`security_headers` are the headers ``create_app`` adds to every response.
"""

from __future__ import annotations

from contextvars import ContextVar

from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tradeforge.auth.principal import Principal
from tradeforge.domain.errors import RateLimited
from tradeforge.gateway.config import GatewayConfig
from tradeforge.gateway.problems import problem
from tradeforge.gateway.rate_limit import Quota, RateLimiter, Usage, ceil_s

__all__ = ["EXEMPT_PATHS", "GatewayEdge", "charge_principal", "security_headers"]

EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})
_API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Swagger UI (/docs) is a page: its bundle and stylesheet come from jsDelivr, it starts with an
# inline script FastAPI writes, and it fetches the OpenAPI document from this origin.
_DOCS_CSP = (
    "default-src 'none'; script-src 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src data: https://fastapi.tiangolo.com https://cdn.jsdelivr.net; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
_ALLOWED_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"]
_EXPOSED_HEADERS = ["RateLimit", "RateLimit-Policy", "Retry-After", "X-Request-ID"]


class _Meter:
    """The rate-limit state of one request: the quotas it was counted in so far."""

    def __init__(self, limiter: RateLimiter, config: GatewayConfig) -> None:
        self.limiter = limiter
        self.config = config
        self.usage: dict[str, Usage] = {}
        self.charged_principal = False

    async def charge(self, quotas: list[Quota]) -> float | None:
        """Count the request; the wait before retrying when a quota refused it, else None."""
        if not quotas:
            return None
        decision = await self.limiter.hit(quotas)
        for usage in decision.usage:
            self.usage[usage.policy] = usage
        return decision.retry_after_s

    def headers(self) -> list[tuple[bytes, bytes]]:
        if not self.usage:
            return []
        items = list(self.usage.values())
        policy = ", ".join(f'"{u.policy}";q={u.limit};w={u.window_s}' for u in items)
        state = ", ".join(f'"{u.policy}";r={u.remaining};t={ceil_s(u.reset_s)}' for u in items)
        return [(b"ratelimit-policy", policy.encode()), (b"ratelimit", state.encode())]


_METER: ContextVar[_Meter | None] = ContextVar("tradeforge_rate_meter", default=None)


async def charge_principal(principal: Principal) -> None:
    """Count the current request against its user's (and API key's) quotas, once.

    Raises :class:`~tradeforge.domain.errors.RateLimited` (429) when one has no room. Outside a
    request that passed :class:`GatewayEdge` it does nothing.
    """
    meter = _METER.get()
    if meter is None or meter.charged_principal:
        return
    meter.charged_principal = True
    config = meter.config
    quotas = []
    if config.rate_limit_per_user:
        quotas.append(Quota(policy="user", subject=principal.user_id,
                            limit=config.rate_limit_per_user,
                            window_s=config.rate_limit_window_s))  # fmt: skip
    if principal.key_id and config.rate_limit_per_key:
        quotas.append(Quota(policy="key", subject=principal.key_id,
                            limit=config.rate_limit_per_key,
                            window_s=config.rate_limit_window_s))  # fmt: skip
    retry_after = await meter.charge(quotas)
    if retry_after is not None:
        raise RateLimited("too many requests: slow down", retry_after=retry_after)


class GatewayEdge:
    """ASGI middleware: CORS, the per-IP rate limit and the meter for the later ones, the
    rate-limit headers, and the body cap for bodies of unknown length."""

    def __init__(
        self, app: ASGIApp, *, config: GatewayConfig, limiter: RateLimiter, max_body_bytes: int
    ) -> None:
        self._inner = app
        self._max_body_bytes = max_body_bytes
        self._config = config
        self._limiter = limiter
        self._app: ASGIApp = self._limited
        if config.cors_origins:
            self._app = CORSMiddleware(
                self._limited,
                allow_origins=list(config.cors_origins),
                allow_credentials=False,
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                allow_headers=_ALLOWED_HEADERS,
                expose_headers=_EXPOSED_HEADERS,
                max_age=600,
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)

    async def _limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in EXEMPT_PATHS:
            await self._inner(scope, receive, send)
            return
        config = self._config
        meter = _Meter(self._limiter, config)
        client = scope.get("client")
        address = client[0] if client else "unknown"
        quotas = []
        if config.rate_limit_per_ip:
            quotas.append(Quota(policy="ip", subject=address, limit=config.rate_limit_per_ip,
                                window_s=config.rate_limit_window_s))  # fmt: skip
        retry_after = await meter.charge(quotas)
        if retry_after is not None:
            await _refuse(scope, receive, send, retry_after, meter.headers())
            return
        token = _METER.set(meter)
        try:
            if scope["type"] == "http":
                capped = _capped(receive, self._max_body_bytes)
                await self._inner(scope, capped, _with_headers(send, meter))
            else:
                await self._inner(scope, receive, send)
        finally:
            _METER.reset(token)


async def _refuse(
    scope: Scope,
    receive: Receive,
    send: Send,
    retry_after: float,
    headers: list[tuple[bytes, bytes]],
) -> None:
    detail = "too many requests from this address: slow down"
    if scope["type"] == "http":
        response = problem(429, "rate-limited", detail, Request(scope, receive),
                           retry_after=retry_after)  # fmt: skip
        response.raw_headers += headers
        await response(scope, receive, send)
        return
    # A WebSocket handshake: an HTTP 429 where the server supports denial responses, else
    # the close the server turns into 403.
    if "websocket.http.response" in scope.get("extensions", {}):
        response = problem(429, "rate-limited", detail, None, retry_after=retry_after)
        await send({"type": "websocket.http.response.start", "status": 429,
                    "headers": response.raw_headers + headers})  # fmt: skip
        await send({"type": "websocket.http.response.body", "body": response.body})
        return
    await send({"type": "websocket.close", "code": 1008, "reason": "rate limited"})


def _capped(receive: Receive, limit: int) -> Receive:
    read = 0

    async def capped() -> Message:
        nonlocal read
        message = await receive()
        if message["type"] == "http.request":
            read += len(message.get("body", b""))
            if read > limit:
                raise HTTPException(413, f"the body must be at most {limit} bytes")
        return message

    return capped


def _with_headers(send: Send, meter: _Meter) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            extra = meter.headers()
            if extra:
                message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return sending


def security_headers(path: str, scheme: str, config: GatewayConfig) -> dict[str, str]:
    """The headers every response carries: no sniffing, no framing, no referrer, a CSP that
    allows nothing for API responses (and Swagger UI's sources for ``/docs``), HSTS over
    HTTPS."""
    headers = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Content-Security-Policy": _DOCS_CSP if path.startswith("/docs") else _API_CSP,
    }
    if scheme in ("https", "wss") and config.hsts_max_age_s:
        headers["Strict-Transport-Security"] = f"max-age={config.hsts_max_age_s}"
    return headers

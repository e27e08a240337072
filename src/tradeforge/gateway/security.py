"""Who is calling: bearer access tokens and API keys, checked by the auth service.

``requires(permission)`` is the dependency every protected route declares. It reads
``Authorization: Bearer <access token>`` or ``Authorization: Bearer tf_…`` (an API key),
asks the auth service (in a worker thread: hashing and the database are blocking), counts the
request against the caller's rate limits (``edge.charge_principal``), and checks the permission
(a refusal is audited by the service). The result carries the principal and the request context
(ip, request id, user agent) the service records in its audit log.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from tradeforge.auth.errors import AuthenticationFailed
from tradeforge.auth.principal import Principal, RequestContext
from tradeforge.auth.roles import Permission
from tradeforge.gateway.edge import charge_principal
from tradeforge.gateway.services import GatewayServices

__all__ = ["Caller", "context_of", "requires"]


@dataclass(frozen=True)
class Caller:
    """An authenticated caller and the context of its request."""

    principal: Principal
    ctx: RequestContext


def context_of(request: Request) -> RequestContext:
    """The request's ip, id and user agent, for the audit log."""
    return RequestContext(
        ip=request.client.host if request.client else None,
        request_id=getattr(request.state, "request_id", None),
        user_agent=(request.headers.get("user-agent") or "")[:200] or None,
    )


async def authenticate(services: GatewayServices, token: str, ctx: RequestContext) -> Principal:
    """The principal of a bearer token (an access token, or an API key), counted against its
    user's and key's rate limits (RateLimited when one is exhausted)."""
    auth = services.auth
    if token.startswith("tf_"):
        principal = await run_in_threadpool(auth.authenticate_api_key, token, ctx)
    else:
        principal = await run_in_threadpool(auth.authenticate, token)
    await charge_principal(principal)
    return principal


def bearer(request: Request) -> str:
    """The bearer token of a request (else 401)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("send Authorization: Bearer <access token or API key>")
    if len(token) > 8192:
        raise AuthenticationFailed("the token is too long")
    return token.strip()


def requires(permission: Permission) -> Callable[[Request], Awaitable[Caller]]:
    """A dependency that authenticates the caller and checks ``permission``."""

    async def dependency(request: Request) -> Caller:
        services: GatewayServices = request.app.state.services
        ctx = context_of(request)
        principal = await authenticate(services, bearer(request), ctx)
        await run_in_threadpool(services.auth.require, principal, permission, ctx)
        return Caller(principal, ctx)

    dependency.__name__ = f"requires_{permission.value.replace(':', '_')}"
    return dependency

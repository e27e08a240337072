"""Who is calling: bearer access tokens and API keys, checked by the auth service.

``requires(permission)`` is the dependency every protected route declares. It reads
``Authorization: Bearer <access token>`` or ``Authorization: Bearer tf_…`` (an API key),
asks the auth service (in a worker thread: hashing and the database are blocking), counts the
request against the caller's rate limits (``edge.charge_principal``), and checks the permission
(a refusal is audited by the service). The result carries the principal and the request context
(ip, request id, user agent) the service records in its audit log.

What a route needs is declared once and read back by ``access_of``: the permission of its
``requires`` dependency, or its entry in ``PUBLIC`` (no token) or ``SIGNED_IN`` (any valid
credential; the route's own code decides the rest). The OpenAPI document (``openapi.py``) and
the authorisation-matrix test (SEC-2) both derive from it, so a route that declares none of
these is caught rather than served unprotected by accident.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from starlette.concurrency import run_in_threadpool

from tradeforge.auth.errors import AuthenticationFailed
from tradeforge.auth.principal import Principal, RequestContext
from tradeforge.auth.roles import Permission
from tradeforge.gateway.edge import charge_principal
from tradeforge.gateway.services import GatewayServices

__all__ = [
    "PUBLIC",
    "SIGNED_IN",
    "Access",
    "Caller",
    "access_of",
    "context_of",
    "requires",
    "route_access",
]

Access = Permission | Literal["public", "signed-in"]
"""What a route needs: a permission, no token at all, or any valid credential."""

PUBLIC: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/auth/refresh"),
        ("POST", "/api/v1/auth/register"),  # 403 unless auth.allow_registration
    }
)
"""Routes served without a token: health, and the routes that hand out tokens."""

SIGNED_IN: frozenset[tuple[str, str]] = frozenset(
    {
        ("POST", "/api/v1/auth/logout"),  # a login session only (a key has none: 422)
        ("GET", "/api/v1/auth/me"),
        ("GET", "/api/v1/sessions"),  # a login session, or a key with users:admin (else 403)
        ("DELETE", "/api/v1/sessions/{session_id}"),
    }
)
"""Routes any valid credential may call; what they do is the caller's own (its session)."""


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
    dependency.permission = permission  # type: ignore[attr-defined]  # read by access_of
    return dependency


def access_of(route: RouteContext) -> Access | None:
    """What ``route`` needs (``None``: nothing declared, a mistake to fix).

    A ``requires`` dependency anywhere in the route's dependency tree (the route's own, or its
    router's) declares a permission; otherwise the route must be listed in ``PUBLIC`` or
    ``SIGNED_IN`` for each of its methods.
    """
    pending = list(route.dependant.dependencies) if route.dependant is not None else []
    while pending:
        dependant = pending.pop()
        permission = getattr(dependant.call, "permission", None)
        if isinstance(permission, Permission):
            return permission
        pending.extend(dependant.dependencies)
    keys = {(method, route.path_format) for method in route.methods or ()}
    if keys and keys <= PUBLIC:
        return "public"
    if keys and keys <= SIGNED_IN:
        return "signed-in"
    return None


def route_access(app: FastAPI) -> dict[tuple[str, str], Access | None]:
    """What every HTTP operation of ``app`` needs, by ``(method, path)`` (paths as in the
    OpenAPI document: ``{instrument_id}``, not ``{instrument_id:path}``)."""
    out: dict[tuple[str, str], Access | None] = {}
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or route.path_format is None:
            continue
        access = access_of(route)
        for method in route.methods or ():
            out[(method, route.path_format)] = access  # HEAD only beside a GET
    return out

"""``/api/v1/auth``, ``/api/v1/sessions``, ``/api/v1/api-keys``, ``/api/v1/users``: logging in,
refreshing, logging out, registering (when ``auth.allow_registration`` is on); one's sessions
and API keys; users (admin: list, create, change the role, disable).

Refresh one token at a time: presenting a refresh token a second time (even two requests in
parallel) counts as reuse and revokes its whole session (RFC 9700).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from tradeforge.auth.principal import Principal
from tradeforge.auth.roles import Permission, Role
from tradeforge.gateway.security import Caller, authenticate, bearer, context_of, requires
from tradeforge.gateway.services import GatewayServices

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["auth"])


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class RefreshIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: str = Field(min_length=1, max_length=8192)


class TokensOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int
    refresh_expires_in: int
    session_id: str


class MeOut(BaseModel):
    user_id: str
    username: str
    role: str
    method: str
    permissions: list[str]


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=64)
    scopes: list[Literal["read", "trade", "admin"]] = Field(min_length=1, max_length=3)
    ip_allowlist: list[str] = Field(default_factory=list, max_length=32)
    expires_in_s: int | None = Field(default=None, ge=60, le=366 * 86_400)  # the service's


class ApiKeyOut(BaseModel):
    id: str
    name: str
    hint: str
    scopes: list[str]
    ip_allowlist: list[str]
    created_ns: int
    expires_ns: int | None
    last_used_ns: int | None
    revoked: bool = Field(description="revoked: it authenticates nothing any more")
    revoked_ns: int | None = Field(description="when it was revoked (ns since the epoch)")


class NewApiKeyOut(ApiKeyOut):
    secret: str = Field(description="Shown once: store it now, it cannot be read again.")


class SessionOut(BaseModel):
    id: str
    created_ns: int
    last_seen_ns: int
    expires_ns: int
    ip: str | None
    user_agent: str | None
    revoked_ns: int | None


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    password: str = Field(min_length=1, max_length=256)
    role: Literal["admin", "trader", "viewer"] = "viewer"


class RegisterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    password: str = Field(min_length=1, max_length=256)


class UserPatchIn(BaseModel):
    """What to change: the role, and/or disable (ends the user's sessions and revokes their
    API keys) or re-enable."""

    model_config = ConfigDict(extra="forbid")
    role: Literal["admin", "trader", "viewer"] | None = None
    disabled: bool | None = Field(default=None, strict=True)  # 1 or "yes" is no boolean


class UserOut(BaseModel):
    id: str
    username: str
    role: str
    disabled: bool


def _services(request: Request) -> GatewayServices:
    services: GatewayServices = request.app.state.services
    return services


def _key_out(info: Any) -> dict[str, Any]:
    return {
        "id": info.id, "name": info.name, "hint": info.hint,
        "scopes": [str(s.value if hasattr(s, "value") else s) for s in info.scopes],
        "ip_allowlist": list(info.ip_allowlist), "created_ns": info.created_ns,
        "expires_ns": info.expires_ns, "last_used_ns": info.last_used_ns,
        "revoked": info.revoked_ns is not None, "revoked_ns": info.revoked_ns,
    }  # fmt: skip


_LOGIN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "wrong user name or password"},
    423: {"description": "locked"},
    429: {"description": "too many tries"},
}


@router.post("/auth/login", response_model=TokensOut, responses=_LOGIN_ERRORS)
async def login(request: Request, body: LoginIn) -> Any:
    auth = _services(request).auth
    ctx = context_of(request)
    pair = await run_in_threadpool(auth.login, body.username, body.password, ctx)
    return TokensOut(**{f: getattr(pair, f) for f in TokensOut.model_fields})


@router.post("/auth/refresh", response_model=TokensOut,
             responses={401: {"description": "expired, revoked or reused"}})  # fmt: skip
async def refresh(request: Request, body: RefreshIn) -> Any:
    auth = _services(request).auth
    pair = await run_in_threadpool(auth.refresh, body.refresh_token, context_of(request))
    return TokensOut(**{f: getattr(pair, f) for f in TokensOut.model_fields})


async def _principal(request: Request) -> Principal:
    return await authenticate(_services(request), bearer(request), context_of(request))


_REGISTER_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "registration is closed"},
    409: {"description": "the user name is taken"},
    429: {"description": "too many registrations from this address"},
}


@router.post("/auth/register", response_model=UserOut, status_code=201,
             responses=_REGISTER_ERRORS)  # fmt: skip
async def register(request: Request, body: RegisterIn) -> UserOut:
    auth = _services(request).auth
    user = await run_in_threadpool(auth.register, body.username, body.password,
                                   context_of(request))  # fmt: skip
    return UserOut(id=user.id, username=user.username, role=user.role.value, disabled=user.disabled)


@router.post("/auth/logout", status_code=204, response_class=Response)
async def logout(request: Request) -> Response:
    principal = await _principal(request)
    await run_in_threadpool(_services(request).auth.logout, principal, context_of(request))
    return Response(status_code=204)


@router.get("/auth/me", response_model=MeOut)
async def me(request: Request) -> MeOut:
    p = await _principal(request)
    permissions = sorted(x.value for x in p.permissions)
    return MeOut(user_id=p.user_id, username=p.username, role=p.role.value,
                 method=p.method.value, permissions=permissions)  # fmt: skip


@router.get("/sessions", response_model=list[SessionOut])
async def list_sessions(request: Request) -> list[SessionOut]:
    p = await _principal(request)
    sessions = await run_in_threadpool(_services(request).auth.list_sessions, p)
    return [SessionOut(**{f: getattr(s, f) for f in SessionOut.model_fields}) for s in sessions]


@router.delete("/sessions/{session_id}", status_code=204, response_class=Response)
async def revoke_session(request: Request, session_id: str) -> Response:
    p = await _principal(request)
    auth = _services(request).auth
    await run_in_threadpool(auth.revoke_session, p, session_id[:64], context_of(request))
    return Response(status_code=204)


@router.post("/api-keys", response_model=NewApiKeyOut, status_code=201,
             responses={409: {"description": "the caller has auth.max_api_keys_per_user "
                                             "active keys already (TOO_MANY_KEYS)"}})  # fmt: skip
async def create_api_key(
    request: Request, body: ApiKeyIn,
    caller: Annotated[Caller, Depends(requires(Permission.KEYS_MANAGE))],
) -> NewApiKeyOut:  # fmt: skip
    auth = _services(request).auth
    new = await run_in_threadpool(
        lambda: auth.create_api_key(
            caller.principal, name=body.name, scopes=body.scopes, ip_allowlist=body.ip_allowlist,
            expires_in_s=body.expires_in_s, ctx=caller.ctx,
        )
    )  # fmt: skip
    return NewApiKeyOut(**_key_out(new.info), secret=new.secret)


@router.get("/api-keys", response_model=list[ApiKeyOut])
async def list_api_keys(
    request: Request,
    caller: Annotated[Caller, Depends(requires(Permission.KEYS_MANAGE))],
    include_revoked: Annotated[bool, Query()] = False,
) -> list[ApiKeyOut]:
    """The caller's API keys, newest first: those not revoked (expired ones included, with
    their ``expires_ns``); with ``include_revoked=true`` the revoked ones too, marked."""
    keys = await run_in_threadpool(
        _services(request).auth.list_api_keys, caller.principal, caller.ctx
    )
    return [ApiKeyOut(**_key_out(k)) for k in keys if include_revoked or k.revoked_ns is None]


@router.delete("/api-keys/{key_id}", status_code=204, response_class=Response)
async def revoke_api_key(
    request: Request, key_id: str,
    caller: Annotated[Caller, Depends(requires(Permission.KEYS_MANAGE))],
) -> Response:  # fmt: skip
    auth = _services(request).auth
    await run_in_threadpool(auth.revoke_api_key, caller.principal, key_id[:64], caller.ctx)
    return Response(status_code=204)


@router.get("/users", response_model=list[UserOut], tags=["users"])
async def list_users(
    request: Request, caller: Annotated[Caller, Depends(requires(Permission.USERS_ADMIN))]
) -> list[UserOut]:
    users = await run_in_threadpool(
        _services(request).auth.list_users, caller.principal, caller.ctx
    )
    return [
        UserOut(id=u.id, username=u.username, role=u.role.value, disabled=u.disabled) for u in users
    ]


@router.post("/users", response_model=UserOut, status_code=201, tags=["users"],
             responses={409: {"description": "the user name is taken"}})  # fmt: skip
async def create_user(
    request: Request, body: UserIn,
    caller: Annotated[Caller, Depends(requires(Permission.USERS_ADMIN))],
) -> UserOut:  # fmt: skip
    auth = _services(request).auth
    user = await run_in_threadpool(
        auth.create_user,
        caller.principal,
        body.username,
        body.password,
        Role(body.role),
        caller.ctx,
    )
    return UserOut(id=user.id, username=user.username, role=user.role.value, disabled=user.disabled)


@router.patch("/users/{user_id}", response_model=UserOut, tags=["users"],
              responses={403: {"description": "one's own role or account"},
                         404: {"description": "no such user"}})  # fmt: skip
async def update_user(
    request: Request, user_id: str, body: UserPatchIn,
    caller: Annotated[Caller, Depends(requires(Permission.USERS_ADMIN))],
) -> UserOut:  # fmt: skip
    auth = _services(request).auth
    user = await run_in_threadpool(
        lambda: auth.update_user(
            caller.principal, user_id[:64], role=Role(body.role) if body.role else None,
            disabled=body.disabled, ctx=caller.ctx,
        )
    )  # fmt: skip
    return UserOut(id=user.id, username=user.username, role=user.role.value, disabled=user.disabled)

"""``/api/v1/risk``: pre-trade risk limits, the kill switch and the orders risk refused.

``PUT /limits`` replaces the whole configuration (``docs/risk.md``; keys left out take their
defaults, decimals are strings): it is checked as ``RiskConfig`` would be at start-up, applied
from the next order (``update_config``), kept in the node's journal so a restart keeps it, and
audited. The kill switch is the node's (``node.kill``): tripping it cancels the scope's open
orders and refuses new ones with ``KILL_SWITCH`` until it is released; it survives restarts.
Changing limits and the switch needs ``risk:admin``; reading them ``risk:read``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import msgspec
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from tradeforge.auth.roles import Permission
from tradeforge.data import format_utc_ns
from tradeforge.domain import ConfigurationError, InvalidValue, OrderDenied, StrategyId
from tradeforge.engine import TradingNode
from tradeforge.gateway.problems import problem
from tradeforge.gateway.schemas import (
    DenialOut,
    KillSwitchIn,
    KillSwitchOut,
    RiskLimitsIn,
    RiskLimitsOut,
)
from tradeforge.gateway.security import Caller, requires
from tradeforge.gateway.services import GatewayServices
from tradeforge.trading import GLOBAL, RiskConfig, Scope

__all__ = ["LIMITS_STATE_KEY", "restore_limits", "router"]

router = APIRouter(prefix="/api/v1/risk", tags=["risk"])
LIMITS_STATE_KEY = "risk.limits"


def _services(request: Request) -> GatewayServices:
    services: GatewayServices = request.app.state.services
    return services


def _invalid(request: Request, field: str, detail: str, where: str = "body") -> JSONResponse:
    return problem(422, "invalid-request", detail, request, field=field,
                   errors=[{"loc": [where, *field.split(".", 1)], "msg": detail}])  # fmt: skip


def restore_limits(node: TradingNode) -> bool:
    """Apply the limits last set over the API (kept in the node's journal); whether any were.
    Saved limits that no longer read as a ``RiskConfig`` stop start-up (``ConfigurationError``)."""
    saved = node.journal.load_state(LIMITS_STATE_KEY)
    if not saved:
        return False
    try:
        config = msgspec.convert(saved["config"], RiskConfig)
    except (msgspec.ValidationError, KeyError, TypeError) as exc:
        # Starting with looser limits than an admin set would be worse than not starting.
        raise ConfigurationError(
            f"the risk limits set over the API (journal state {LIMITS_STATE_KEY!r}) no longer "
            f"read as a risk configuration: {exc}"
        ) from None
    node.risk.update_config(config, by=str(saved.get("by", "api")), reason="restored at start")
    node.save_risk_state()
    return True


@router.get("/limits", response_model=RiskLimitsOut,
            dependencies=[Depends(requires(Permission.RISK_READ))])  # fmt: skip
async def get_limits(request: Request) -> RiskLimitsOut:
    return RiskLimitsOut(limits=msgspec.to_builtins(_services(request).node.risk.config))


def _float_at(value: Any, path: str) -> str | None:
    """The path of the first JSON float in ``value`` (decimals must be strings)."""
    if isinstance(value, float):
        return path
    if isinstance(value, dict):
        items: list[tuple[str, Any]] = [(f"{path}.{k}", v) for k, v in value.items()]
    elif isinstance(value, list):
        items = [(f"{path}.{k}", v) for k, v in enumerate(value)]
    else:
        return None
    for where, item in items:
        found = _float_at(item, where)
        if found is not None:
            return found
    return None


@router.put("/limits", response_model=RiskLimitsOut,
            responses={422: {"description": "an unknown key or a bad value"}})  # fmt: skip
async def put_limits(
    request: Request,
    body: RiskLimitsIn,
    caller: Annotated[Caller, Depends(requires(Permission.RISK_ADMIN))],
) -> RiskLimitsOut | JSONResponse:
    floating = _float_at(body.limits, "limits")
    if floating is not None:
        return _invalid(request, floating, 'decimals are strings ("0.5"), never JSON numbers')
    try:
        config = msgspec.convert(body.limits, RiskConfig)
    except msgspec.ValidationError as exc:
        return _invalid(request, _field_of(str(exc)), str(exc))
    except (ConfigurationError, InvalidValue) as exc:
        at = re.match(r"risk\.(\S+?):?\s", str(exc))
        return _invalid(request, f"limits.{at[1]}" if at else "limits", str(exc))
    services = _services(request)
    node, principal = services.node, caller.principal
    entry = node.risk.update_config(config, by=principal.username, reason=body.reason)
    node.journal.save_state(
        LIMITS_STATE_KEY,
        {"config": msgspec.to_builtins(config), "by": principal.username},
        node.clock.timestamp_ns(),
    )
    node.save_risk_state()
    changes = {k: v[:200] for k, v in list(entry.details.items())[:50]}
    await run_in_threadpool(
        services.auth.record, "risk.limits.update", principal, caller.ctx,
        target="risk.limits", detail={"reason": body.reason, **changes},
    )  # fmt: skip
    return RiskLimitsOut(limits=msgspec.to_builtins(config))


def _field_of(message: str) -> str:
    """The body field a msgspec message names: ``... - at `$.a[...].b``` (plus an unknown key)."""
    at = re.search(r"at `\$\.?([^`]*)`", message)
    unknown = re.search(r"unknown field `([^`]+)`", message)
    parts = ["limits", *(p for p in (at[1] if at else "", unknown[1] if unknown else "") if p)]
    return ".".join(parts)


def _scope(request: Request, kind: str, ident: str | None) -> Scope | JSONResponse:
    node = _services(request).node
    if kind == "global":
        return GLOBAL if ident is None else _invalid(request, "id", "the global scope has no id")
    if kind == "account":
        if ident is not None:
            detail = "the node checks every order under its one account: leave id out"
            return _invalid(request, "id", detail)
        return Scope.account(None)
    if ident is None:
        return _invalid(request, "id", "a strategy scope needs the strategy's id")
    try:
        strategy = node.strategy(StrategyId(ident))
    except InvalidValue:
        known = ", ".join(s.id.value for s in node.strategies)
        return _invalid(request, "id", f"no strategy {ident!r} in this node (strategies: {known})")
    return Scope.strategy(strategy.id)


def _switch(node: TradingNode, scope: Scope, cancelled: int | None = None) -> KillSwitchOut:
    active = node.risk.kill_switch.active(scope)
    if active is None:
        return KillSwitchOut(scope=str(scope), active=False, cancelled=cancelled)
    return KillSwitchOut(scope=str(scope), active=True, since=format_utc_ns(active.ts_ns),
                         by=active.by, reason=active.reason, cancelled=cancelled)  # fmt: skip


@router.get("/kill-switch", response_model=list[KillSwitchOut],
            dependencies=[Depends(requires(Permission.RISK_READ))])  # fmt: skip
async def kill_switches(request: Request) -> list[KillSwitchOut]:
    node = _services(request).node
    scopes = [GLOBAL, Scope.account(None), *(Scope.strategy(s.id) for s in node.strategies)]
    return [_switch(node, scope) for scope in scopes]


@router.post("/kill-switch", response_model=KillSwitchOut,
             responses={422: {"description": "an unknown scope or strategy"}})  # fmt: skip
async def trip(
    request: Request,
    body: KillSwitchIn,
    caller: Annotated[Caller, Depends(requires(Permission.RISK_ADMIN))],
) -> KillSwitchOut | JSONResponse:
    scope = _scope(request, body.scope, body.id)
    if isinstance(scope, JSONResponse):
        return scope
    services = _services(request)
    await run_in_threadpool(
        services.auth.record, "risk.kill_switch.activate", caller.principal, caller.ctx,
        target=str(scope), detail={"reason": body.reason},
    )  # fmt: skip
    cancelled = await services.node.kill(scope, by=caller.principal.username, reason=body.reason)
    return _switch(services.node, scope, cancelled)


@router.delete("/kill-switch", response_model=KillSwitchOut,
               responses={422: {"description": "an unknown scope or strategy"}})  # fmt: skip
async def release(
    request: Request,
    caller: Annotated[Caller, Depends(requires(Permission.RISK_ADMIN))],
    scope: Annotated[Literal["global", "account", "strategy"], Query()] = "global",
    id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    reason: Annotated[str, Query(min_length=1, max_length=500)] = "released over the API",
) -> KillSwitchOut | JSONResponse:
    target = _scope(request, scope, id)
    if isinstance(target, JSONResponse):
        return target
    services = _services(request)
    node = services.node
    node.risk.kill_switch.release(target, by=caller.principal.username, reason=reason)
    node.save_risk_state()
    await run_in_threadpool(
        services.auth.record, "risk.kill_switch.release", caller.principal, caller.ctx,
        target=str(target), detail={"reason": reason},
    )  # fmt: skip
    return _switch(node, target)


def _visible(request: Request, denial: OrderDenied, caller: Caller) -> bool:
    """The orders rule: a caller sees its own orders' refusals; an admin sees every one."""
    if Permission.USERS_ADMIN in caller.principal.permissions:
        return True
    order = _services(request).node.oms.get(denial.client_order_id)
    return order is not None and f"user:{caller.principal.user_id}" in order.spec.tags


@router.get("/denials", response_model=list[DenialOut])
async def denials(
    request: Request,
    strategy_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    caller: Annotated[Caller | None, Depends(requires(Permission.RISK_READ))] = None,
) -> list[DenialOut] | JSONResponse:
    assert caller is not None
    try:
        sid = StrategyId(strategy_id) if strategy_id is not None else None
    except InvalidValue as exc:
        return _invalid(request, "strategy_id", str(exc), where="query")
    node = _services(request).node
    admin = Permission.USERS_ADMIN in caller.principal.permissions
    rows = node.journal.denials(sid, limit=limit if admin else 5_000)  # newest first
    return [
        DenialOut(
            client_order_id=d.client_order_id.value,
            strategy_id=d.strategy_id.value,
            instrument_id=str(d.instrument_id),
            reason=d.reason.value,
            message=d.message,
            time=format_utc_ns(d.ts_event),
        )
        for d in rows
        if _visible(request, d, caller)
    ][:limit]

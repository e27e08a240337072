"""``/api/v1/strategies/instances``: strategy instances created, configured, started, stopped
and removed while the node runs; their recent log lines and live performance.

An instance is a registered strategy with its instruments and parameters (checked by the
strategy's declared parameters: a bad value is 422 naming ``params.<name>``). It is created
stopped; ``PATCH`` (new parameters) and ``DELETE`` need it stopped (else 409); stopping cancels
its open orders. An instance belongs to whoever created it: another user's is 404, unless the
caller is an admin; the node's own strategies (from its configuration) are shown to every
reader and changed by admins only. The gateway's ``manual`` strategy (orders placed over REST)
is not an instance. The node keeps instances in its journal: a restart brings them back.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from tradeforge.auth.errors import Forbidden
from tradeforge.auth.principal import Principal
from tradeforge.auth.roles import Permission
from tradeforge.data import format_utc_ns
from tradeforge.domain import InstrumentId, InvalidValue, StrategyId
from tradeforge.engine import TradingNode, strategy_performance
from tradeforge.gateway.numbers import plain, plain_or_none
from tradeforge.gateway.problems import Conflict, NotFound, problem
from tradeforge.gateway.schemas import (
    InstrumentPerformanceOut,
    StrategyConfigureIn,
    StrategyErrorOut,
    StrategyInstanceIn,
    StrategyInstanceOut,
    StrategyLogLineOut,
    StrategyPerformanceOut,
)
from tradeforge.gateway.security import Caller, requires
from tradeforge.gateway.services import GatewayServices
from tradeforge.strategy import Strategy

__all__ = ["can_see", "instance_state", "router"]

router = APIRouter(prefix="/api/v1/strategies/instances", tags=["strategies"])
Read = Annotated[Caller, Depends(requires(Permission.STRATEGIES_READ))]
Write = Annotated[Caller, Depends(requires(Permission.STRATEGIES_WRITE))]
MAX_PER_OWNER = 50
Responses = dict[int | str, dict[str, Any]]
_NOT_FOUND: Responses = {404: {"description": "no such instance (or not the caller's)"}}
_STOPPED_ONLY: Responses = {
    **_NOT_FOUND,
    409: {"description": "the instance is running: stop it first"},
}


def _services(request: Request) -> GatewayServices:
    services: GatewayServices = request.app.state.services
    return services


def _admin(caller: Caller) -> bool:
    return Permission.USERS_ADMIN in caller.principal.permissions


def can_see(services: GatewayServices, strategy_id: StrategyId, principal: Principal) -> bool:
    """Whether ``principal`` sees the strategy: the node's own (from its configuration) and
    the caller's instances, every one for an admin; never the gateway's ``manual``."""
    if strategy_id == services.manual.id:
        return False
    owner = services.node.owner(strategy_id)
    admin = Permission.USERS_ADMIN in principal.permissions
    return admin or owner is None or owner == principal.user_id


def _visible(services: GatewayServices, strategy: Strategy, caller: Caller) -> bool:
    return can_see(services, strategy.id, caller.principal)


def _instance(request: Request, instance_id: str, caller: Caller, *, write: bool) -> Strategy:
    services = _services(request)
    try:
        strategy = services.node.strategy(StrategyId(instance_id))
    except InvalidValue:
        raise NotFound(f"no strategy instance {instance_id!r}") from None
    if not _visible(services, strategy, caller):  # another's is not found (BOLA)
        raise NotFound(f"no strategy instance {instance_id!r}")
    if write and services.node.owner(strategy.id) is None and not _admin(caller):
        raise Forbidden("the node's configured strategies are changed by admins only")
    return strategy


def _registered_name(services: GatewayServices, strategy: Strategy) -> str:
    registry = services.registry
    for name in registry.names():
        try:
            if registry.load(name) is type(strategy):
                return name
        except InvalidValue:
            continue
    return type(strategy).name


def _plain(value: Any) -> Any:
    return plain(value) if isinstance(value, Decimal) else value


def instance_state(node: TradingNode, sid: StrategyId) -> Literal["running", "stopped", "failed"]:
    """Where the strategy stands: running; stopped; or failed (stopped by an error since it
    last started)."""
    if node.is_running(sid):
        return "running"
    return "failed" if node.errors_since_start(sid) else "stopped"


def instance_out(services: GatewayServices, strategy: Strategy) -> StrategyInstanceOut:
    """An instance as the API shows it."""
    node = services.node
    return StrategyInstanceOut(
        id=strategy.id.value,
        strategy=_registered_name(services, strategy),
        instrument_ids=[str(i) for i in strategy.instrument_ids],
        params={k: _plain(v) for k, v in strategy.params.items()},
        state=instance_state(node, strategy.id),
        open_orders=len(node.oms.open_orders(strategy.id)),
        errors=[
            StrategyErrorOut(
                hook=e.hook,
                message=str(e),
                time=format_utc_ns(e.ts_ns) if e.ts_ns is not None else None,
            )
            for e in node.errors_since_start(strategy.id)
        ],
    )


def _invalid(request: Request, field: str, message: str) -> JSONResponse:
    return problem(422, "invalid-request", message, request, field=field,
                   errors=[{"loc": ["body", *field.split(".")], "msg": message}])  # fmt: skip


def _build(
    request: Request,
    cls: type[Strategy],
    params: dict[str, Any],
    instance_id: str,
    instruments: list[InstrumentId],
) -> Strategy | JSONResponse:
    try:
        return cls(params, strategy_id=instance_id, instruments=instruments)
    except InvalidValue as exc:
        found = re.search(r"parameter '([^']+)'", str(exc))
        return _invalid(request, f"params.{found[1]}" if found else "params", str(exc))
    except Exception as exc:  # user code: a strategy's own checks may raise anything
        return _invalid(request, "params", f"{type(exc).__name__}: {exc}")


@router.get("", response_model=list[StrategyInstanceOut])
async def list_instances(request: Request, caller: Read) -> list[StrategyInstanceOut]:
    services = _services(request)
    return [
        instance_out(services, s)
        for s in list(services.node.strategies)
        if _visible(services, s, caller)
    ]


_CREATE: Responses = {
    409: {"description": "the id is taken, or too many instances"},
    422: {"description": "unknown strategy or instrument, bad parameter"},
}


@router.post("", response_model=StrategyInstanceOut, status_code=201, responses=_CREATE)
async def create_instance(
    request: Request, body: StrategyInstanceIn, caller: Write
) -> StrategyInstanceOut | JSONResponse:
    services = _services(request)
    node = services.node
    if body.strategy not in services.registry.names():
        known = ", ".join(services.registry.names())
        return _invalid(request, "strategy", f"unknown strategy {body.strategy!r} (known: {known})")
    try:
        cls = services.registry.load(body.strategy)
    except InvalidValue as exc:
        return _invalid(request, "strategy", str(exc))
    instruments = []
    for k, text in enumerate(body.instrument_ids):
        try:
            iid = InstrumentId.from_str(text)
        except InvalidValue as exc:
            return _invalid(request, f"instrument_ids.{k}", str(exc))
        if iid not in node.instruments:
            return _invalid(request, f"instrument_ids.{k}", f"{text} is not traded by this node")
        instruments.append(iid)
    mine = [s for s in node.strategies if node.owner(s.id) == caller.principal.user_id]
    if len(mine) >= MAX_PER_OWNER:
        raise Conflict(f"at most {MAX_PER_OWNER} strategy instances each: delete one first")
    taken = {s.id.value for s in node.strategies}
    instance_id = body.id
    if instance_id is None:
        instance_id = next(f"{body.strategy}-{n}" for n in range(1, 10_000)
                           if f"{body.strategy}-{n}" not in taken)  # fmt: skip
    elif instance_id in taken:
        raise Conflict(f"a strategy instance {instance_id!r} already exists")
    built = _build(request, cls, body.params, instance_id, instruments)
    if isinstance(built, JSONResponse):
        return built
    await run_in_threadpool(
        services.auth.record, "strategy.create", caller.principal, caller.ctx,
        target=instance_id, detail={"strategy": body.strategy},
    )  # fmt: skip
    node.add_strategy(built, owner=caller.principal.user_id)
    return instance_out(services, built)


@router.get("/{instance_id}", response_model=StrategyInstanceOut, responses=_NOT_FOUND)
async def get_instance(request: Request, instance_id: str, caller: Read) -> StrategyInstanceOut:
    strategy = _instance(request, instance_id, caller, write=False)
    return instance_out(_services(request), strategy)


@router.patch("/{instance_id}", response_model=StrategyInstanceOut,
              responses={**_STOPPED_ONLY, 422: {"description": "a bad parameter"}})  # fmt: skip
async def configure_instance(
    request: Request, instance_id: str, body: StrategyConfigureIn, caller: Write
) -> StrategyInstanceOut | JSONResponse:
    services = _services(request)
    strategy = _instance(request, instance_id, caller, write=True)
    if services.node.is_running(strategy.id):
        raise Conflict(f"strategy instance {instance_id} is running: stop it first")
    built = _build(request, type(strategy), body.params, strategy.id.value,
                   list(strategy.configured_instruments))  # fmt: skip
    if isinstance(built, JSONResponse):
        return built
    await run_in_threadpool(
        services.auth.record, "strategy.configure", caller.principal, caller.ctx,
        target=strategy.id.value,
    )  # fmt: skip
    services.node.replace_strategy(built)
    return instance_out(services, built)


async def _lifecycle(request: Request, instance_id: str, caller: Caller, action: str) -> Any:
    services = _services(request)
    node = services.node
    strategy = _instance(request, instance_id, caller, write=True)
    if action == "start" and not node.running:
        raise Conflict("the node is not running")
    await run_in_threadpool(
        services.auth.record, f"strategy.{action}", caller.principal, caller.ctx,
        target=strategy.id.value,
    )  # fmt: skip
    if action == "start":
        node.start_strategy(strategy.id)
    else:
        node.stop_strategy(strategy.id)
    return instance_out(services, node.strategy(strategy.id))


@router.post("/{instance_id}/start", response_model=StrategyInstanceOut,
             responses={**_NOT_FOUND, 409: {"description": "the node is not running"}})  # fmt: skip
async def start_instance(request: Request, instance_id: str, caller: Write) -> Any:
    return await _lifecycle(request, instance_id, caller, "start")


@router.post("/{instance_id}/stop", response_model=StrategyInstanceOut, responses=_NOT_FOUND)
async def stop_instance(request: Request, instance_id: str, caller: Write) -> Any:
    return await _lifecycle(request, instance_id, caller, "stop")


@router.delete("/{instance_id}", status_code=204, response_class=Response,
               responses=_STOPPED_ONLY)  # fmt: skip
async def delete_instance(request: Request, instance_id: str, caller: Write) -> Response:
    services = _services(request)
    strategy = _instance(request, instance_id, caller, write=True)
    if services.node.is_running(strategy.id):
        raise Conflict(f"strategy instance {instance_id} is running: stop it first")
    await run_in_threadpool(
        services.auth.record, "strategy.delete", caller.principal, caller.ctx,
        target=strategy.id.value,
    )  # fmt: skip
    services.node.remove_strategy(strategy.id)
    return Response(status_code=204)


@router.get("/{instance_id}/logs", response_model=list[StrategyLogLineOut], responses=_NOT_FOUND)
async def instance_logs(
    request: Request,
    instance_id: str,
    caller: Read,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[StrategyLogLineOut]:
    strategy = _instance(request, instance_id, caller, write=False)
    lines = _services(request).node.logs.lines(strategy.id, limit)
    return [
        StrategyLogLineOut(time=format_utc_ns(line.ts_ns), level=line.level,
                           message=line.message, fields=line.fields)
        for line in lines
    ]  # fmt: skip


@router.get("/{instance_id}/performance", response_model=StrategyPerformanceOut,
            responses=_NOT_FOUND)  # fmt: skip
async def instance_performance(
    request: Request, instance_id: str, caller: Read
) -> StrategyPerformanceOut:
    strategy = _instance(request, instance_id, caller, write=False)
    node = _services(request).node
    perf = strategy_performance(node, strategy.id)

    def places(instrument_id: str) -> tuple[int | None, int | None]:  # price, size
        inst = node.instruments.get(InstrumentId.from_str(instrument_id))
        return (inst.price_precision, inst.size_precision) if inst else (None, None)

    return StrategyPerformanceOut(
        strategy_id=perf.strategy_id,
        time=format_utc_ns(perf.ts_ns),
        base_currency=perf.base_currency,
        realized_pnl=plain(perf.realized_pnl),
        unrealized_pnl=plain(perf.unrealized_pnl),
        fees=plain(perf.fees),
        fills=perf.fills,
        orders=perf.orders,
        open_orders=perf.open_orders,
        positions=[
            InstrumentPerformanceOut(
                instrument_id=p.instrument_id,
                quantity=plain(p.quantity, places(p.instrument_id)[1]),
                avg_px_open=plain_or_none(p.avg_px_open, places(p.instrument_id)[0]),
                last_price=plain_or_none(p.last_price),
                realized_pnl=plain(p.realized_pnl),
                unrealized_pnl=plain_or_none(p.unrealized_pnl),
                fees=plain(p.fees),
                currency=p.currency,
            )
            for p in perf.positions
        ],
    )

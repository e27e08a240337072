"""``/api/v1/strategies``: the strategies one can run, and those the node runs.

``/registry`` lists the registered strategies with their declared parameters (type, default,
range, choices: what the optimiser and forms read). ``/strategies`` lists the node's strategies
with their parameters, state and errors (instances created over the API included, another
user's left out unless the caller is an admin; they are managed under ``/instances``,
``strategy_instances.py``).
"""

from __future__ import annotations

import inspect
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request

from tradeforge.auth.roles import Permission
from tradeforge.data import format_utc_ns
from tradeforge.domain import InvalidValue
from tradeforge.gateway.numbers import plain
from tradeforge.gateway.schemas import StrategyErrorOut, StrategyInfoOut, StrategyOut
from tradeforge.gateway.security import Caller, requires
from tradeforge.gateway.services import GatewayServices
from tradeforge.observability import get_logger
from tradeforge.strategy import Strategy

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/strategies", tags=["strategies"])
Read = Annotated[Caller, Depends(requires(Permission.STRATEGIES_READ))]
log = get_logger("tradeforge.gateway")


def _services(request: Request) -> GatewayServices:
    services: GatewayServices = request.app.state.services
    return services


def _plain(value: Any) -> Any:
    return plain(value) if isinstance(value, Decimal) else value


def _info(name: str, cls: type[Strategy]) -> StrategyInfoOut:
    description = (inspect.getdoc(cls) or "").split("\n\n", 1)[0].replace("\n", " ")
    parameters = {key: param.schema() for key, param in cls.parameters.items()}
    return StrategyInfoOut(name=name, description=description, parameters=parameters)


@router.get("/registry", response_model=list[StrategyInfoOut])
async def registry(request: Request, caller: Read) -> list[StrategyInfoOut]:
    found = _services(request).registry
    out = []
    for name in found.names():
        try:
            out.append(_info(name, found.load(name)))
        except InvalidValue as exc:  # a registered module that no longer imports
            log.warning("strategy not loadable", strategy=name, error=str(exc))
    return out


@router.get("", response_model=list[StrategyOut])
async def running(request: Request, caller: Read) -> list[StrategyOut]:
    node = _services(request).node
    admin = Permission.USERS_ADMIN in caller.principal.permissions
    out = []
    for strategy in node.strategies:
        if not admin and node.owner(strategy.id) not in (None, caller.principal.user_id):
            continue  # another user's instance (BOLA)
        errors = [e for e in node.errors if e.strategy_id == strategy.id.value]
        state: Literal["running", "stopped", "failed"] = (
            "running" if node.is_running(strategy.id) else "failed" if errors else "stopped"
        )
        out.append(
            StrategyOut(
                id=strategy.id.value,
                name=strategy.name,
                instruments=[str(i) for i in strategy.instrument_ids],
                params={k: _plain(v) for k, v in strategy.params.items()},
                state=state,
                open_orders=len(node.oms.open_orders(strategy.id)),
                errors=[
                    StrategyErrorOut(
                        hook=e.hook,
                        time=format_utc_ns(e.ts_ns) if e.ts_ns is not None else None,
                        message=str(e),
                    )
                    for e in errors
                ],
            )
        )
    return out

"""``/api/v1/positions``: every strategy's positions, marked to the last price."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Depends, Request

from tradeforge.auth.roles import Permission
from tradeforge.gateway.schemas import PositionOut
from tradeforge.gateway.security import requires
from tradeforge.gateway.services import GatewayServices

__all__ = ["router"]

router = APIRouter(
    prefix="/api/v1/positions",
    tags=["positions"],
    dependencies=[Depends(requires(Permission.PORTFOLIO_READ))],
)


def _text(value: Decimal) -> str:
    """A decimal as plain digits (never ``0E-8``)."""
    return format(value, "f")


@router.get("", response_model=list[PositionOut])
async def list_positions(request: Request) -> list[PositionOut]:
    services: GatewayServices = request.app.state.services
    node = services.node
    out = []
    for position in node.positions or []:
        mark = node.last_price(position.instrument.id)
        flat = position.is_flat
        out.append(
            PositionOut(
                strategy_id=position.strategy_id.value,
                instrument_id=str(position.instrument.id),
                quantity=str(position.signed_qty),
                avg_px_open=None if flat else str(position.avg_px_open),
                realized_pnl=str(position.realized_pnl.amount),
                unrealized_pnl=(
                    str(position.unrealized_pnl(mark).amount)
                    if mark is not None and not flat
                    else None
                ),
                last_price=str(mark) if mark is not None else None,
            )
        )
    return out

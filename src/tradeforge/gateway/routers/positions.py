"""``/api/v1/positions``: every strategy's positions, marked to the last price."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from tradeforge.auth.roles import Permission
from tradeforge.domain import Position, Price
from tradeforge.gateway.numbers import plain, plain_or_none
from tradeforge.gateway.schemas import PositionOut
from tradeforge.gateway.security import requires
from tradeforge.gateway.services import GatewayServices

__all__ = ["position_out", "router"]

router = APIRouter(
    prefix="/api/v1/positions",
    tags=["positions"],
    dependencies=[Depends(requires(Permission.PORTFOLIO_READ))],
)


def position_out(position: Position, mark: Price | None) -> PositionOut:
    """A position as the API shows it (and the ``positions`` stream sends it), marked to
    ``mark``: quantities at the instrument's size precision, prices at its price precision,
    PnL at its currency's."""
    inst = position.instrument
    flat = position.is_flat
    return PositionOut(
        strategy_id=position.strategy_id.value,
        instrument_id=str(inst.id),
        quantity=plain(position.signed_qty, inst.size_precision),
        avg_px_open=None if flat else plain_or_none(position.avg_px_open, inst.price_precision),
        realized_pnl=plain(position.realized_pnl),
        unrealized_pnl=(
            plain(position.unrealized_pnl(mark)) if mark is not None and not flat else None
        ),
        last_price=plain_or_none(mark),
    )


@router.get("", response_model=list[PositionOut])
async def list_positions(request: Request) -> list[PositionOut]:
    services: GatewayServices = request.app.state.services
    node = services.node
    return [
        position_out(position, node.last_price(position.instrument.id))
        for position in node.positions or []
    ]

"""``/api/v1/instruments``: what can be traded."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from tradeforge.auth.roles import Permission
from tradeforge.domain import CurrencyPair, Instrument, InstrumentId, InvalidValue
from tradeforge.gateway.numbers import plain, plain_or_none
from tradeforge.gateway.problems import NotFound
from tradeforge.gateway.schemas import InstrumentOut
from tradeforge.gateway.security import requires
from tradeforge.gateway.services import GatewayServices

__all__ = ["instrument_out", "router"]

router = APIRouter(
    prefix="/api/v1/instruments",
    tags=["instruments"],
    dependencies=[Depends(requires(Permission.MARKET_READ))],
)


def instrument_out(inst: Instrument) -> InstrumentOut:
    """An instrument as the API shows it."""
    return InstrumentOut(
        id=str(inst.id),
        symbol=inst.id.symbol.value,
        venue=inst.id.venue.value,
        kind=inst.kind.value,
        base=inst.base_currency.code if isinstance(inst, CurrencyPair) else None,
        quote=inst.quote_currency.code,
        tick_size=plain(inst.tick_size),
        lot_size=plain(inst.lot_size),
        min_quantity=plain(inst.min_quantity),
        min_notional=plain_or_none(inst.min_notional),
        maker_fee=plain(inst.maker_fee),
        taker_fee=plain(inst.taker_fee),
    )


def find_instrument(request: Request, instrument_id: str) -> Instrument:
    """The instrument named in a request (404 when unknown or malformed)."""
    services: GatewayServices = request.app.state.services
    try:
        iid = InstrumentId.from_str(instrument_id)
    except InvalidValue:
        raise NotFound(f"no instrument {instrument_id!r}") from None
    inst = services.node.instruments.get(iid)
    if inst is None:
        raise NotFound(f"no instrument {instrument_id!r}")
    return inst


@router.get("", response_model=list[InstrumentOut])
async def list_instruments(request: Request) -> list[InstrumentOut]:
    services: GatewayServices = request.app.state.services
    return [
        instrument_out(i)
        for i in sorted(services.node.instruments.values(), key=lambda i: str(i.id))
    ]


@router.get("/{instrument_id:path}", response_model=InstrumentOut,
            responses={404: {"description": "no such instrument"}})  # fmt: skip
async def get_instrument(request: Request, instrument_id: str) -> InstrumentOut:
    return instrument_out(find_instrument(request, instrument_id))

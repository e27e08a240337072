"""OCO order lists as Binance takes them: ``POST /api/v3/orderList/oco`` (above/below legs)
and the older ``POST /api/v3/order/oco`` (a LIMIT_MAKER leg and a stop leg).

Each leg is checked exactly like a single order (``parse_order``), then the two are linked
into one domain ``OrderList`` (contingency OCO): the venue locks funds once for the pair, and
when one leg fills the matching engine cancels the other (Binance reports it EXPIRED).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec

from tradeforge.connectors.sim_exchange.binance_errors import BinanceError
from tradeforge.connectors.sim_exchange.orders import (
    OrderRequest,
    check_client_order_id,
    new_client_order_id,
    parse_order,
)
from tradeforge.domain import (
    ClientOrderId,
    ContingencyType,
    Instrument,
    InvalidValue,
    OrderList,
    OrderListId,
)

__all__ = ["OcoRequest", "parse_oco"]

_LEG_TYPES = {"LIMIT_MAKER", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"}


@dataclass(frozen=True)
class OcoRequest:
    """A checked OCO: the two legs (above, below) and the list's ids."""

    list_client_id: str
    above: OrderRequest
    below: OrderRequest
    order_list: OrderList


def _leg(prefix: str, params: dict[str, str], side: str, quantity: str) -> dict[str, str]:
    leg_type = (params.get(f"{prefix}Type") or "").upper()
    if not leg_type:
        raise BinanceError.missing(f"{prefix}Type")
    if leg_type not in _LEG_TYPES:
        raise BinanceError(-1116, f"Invalid {prefix}Type.")
    out = {"side": side, "type": leg_type, "quantity": quantity}
    for name in ("Price", "StopPrice", "TimeInForce", "ClientOrderId"):
        value = params.get(prefix + name)
        if value:
            key = {"Price": "price", "StopPrice": "stopPrice", "TimeInForce": "timeInForce",
                   "ClientOrderId": "newClientOrderId"}[name]  # fmt: skip
            out[key] = value
    return out


def _legacy_legs(
    params: dict[str, str], side: str, quantity: str
) -> tuple[dict[str, str], dict[str, str]]:
    """``order/oco``: ``price`` is the LIMIT_MAKER leg; ``stopPrice`` (+ ``stopLimitPrice``) the
    stop leg. For a SELL the limit is above and the stop below; for a BUY the reverse."""
    for name in ("price", "stopPrice"):
        if not params.get(name):
            raise BinanceError.missing(name)
    limit = {"side": side, "type": "LIMIT_MAKER", "quantity": quantity, "price": params["price"]}
    if params.get("limitClientOrderId"):
        limit["newClientOrderId"] = params["limitClientOrderId"]
    stop = {"side": side, "quantity": quantity, "stopPrice": params["stopPrice"]}
    if params.get("stopLimitPrice"):
        stop |= {"type": "STOP_LOSS_LIMIT", "price": params["stopLimitPrice"],
                 "timeInForce": params.get("stopLimitTimeInForce") or "GTC"}  # fmt: skip
    else:
        stop["type"] = "STOP_LOSS"
    if params.get("stopClientOrderId"):
        stop["newClientOrderId"] = params["stopClientOrderId"]
    return (limit, stop) if side == "SELL" else (stop, limit)


def parse_oco(
    inst: Instrument,
    params: dict[str, str],
    *,
    legacy: bool,
    list_id: int,
    market_price: Decimal | None,
    taken: Callable[[str], bool],
) -> OcoRequest:
    """Check an OCO request like Binance and link its legs (``taken(id)`` is True for a client
    order id already open)."""
    side = (params.get("side") or "").upper()
    if not side:
        raise BinanceError.missing("side")
    if side not in ("BUY", "SELL"):
        raise BinanceError(-1117, "Invalid side.")
    quantity = params.get("quantity")
    if not quantity:
        raise BinanceError.missing("quantity")
    if legacy:
        above_p, below_p = _legacy_legs(params, side, quantity)
    else:
        above_p, below_p = (
            _leg("above", params, side, quantity),
            _leg("below", params, side, quantity),
        )
    for leg in (above_p, below_p):
        leg.setdefault("newClientOrderId", new_client_order_id())
        leg["newOrderRespType"] = "RESULT"
    above = parse_order(inst, above_p, market_price)
    below = parse_order(inst, below_p, market_price)
    a_price = above.spec.trigger_price or above.spec.price
    b_price = below.spec.trigger_price or below.spec.price
    if a_price is None or b_price is None or a_price <= b_price:
        raise BinanceError.rejected("The relationship of the prices for the orders is not correct.")
    ids = (above.spec.client_order_id, below.spec.client_order_id)
    if ids[0] == ids[1]:
        raise BinanceError.rejected("Duplicate order sent.")
    if any(taken(i.value) for i in ids):
        raise BinanceError.rejected("Duplicate order sent.")
    list_client = check_client_order_id(
        params.get("listClientOrderId") or new_client_order_id(), "listClientOrderId"
    )
    olid = OrderListId(f"OL-{list_id}")

    def linked(spec: Any, other: ClientOrderId) -> Any:
        return msgspec.structs.replace(
            spec,
            contingency_type=ContingencyType.OCO,
            order_list_id=olid,
            linked_order_ids=(other,),
        )

    try:
        a_spec, b_spec = linked(above.spec, ids[1]), linked(below.spec, ids[0])
        order_list = OrderList(order_list_id=olid, orders=(a_spec, b_spec))
    except InvalidValue as exc:
        raise BinanceError(-1013, f"Invalid order list: {exc}") from None
    return OcoRequest(
        list_client,
        OrderRequest(a_spec, above.binance_type, "RESULT"),
        OrderRequest(b_spec, below.binance_type, "RESULT"),
        order_list,
    )

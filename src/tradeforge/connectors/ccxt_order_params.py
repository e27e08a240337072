"""``CcxtOrderParams``: our orders as the arguments of CCXT's order methods, checked first.

CCXT would round an off-tick price or an off-lot quantity silently; these refuse them
(``InvalidOrder``), as they refuse an order type, a time in force or a flag the venue does not
take. Binance-protocol venues get Binance's own order types and, for an OCO pair, the parameters
of ``POST /api/v3/orderList/oco``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from tradeforge.domain import (
    ContingencyType,
    Instrument,
    InvalidOrder,
    OrderList,
    OrderSpec,
    OrderType,
    TimeInForce,
    Venue,
)

__all__ = ["CcxtOrderParams"]

_BINANCE_TYPES = {
    (OrderType.MARKET, False): "market",
    (OrderType.LIMIT, False): "limit",
    (OrderType.LIMIT, True): "LIMIT_MAKER",
    (OrderType.STOP_MARKET, False): "STOP_LOSS",
    (OrderType.STOP_LIMIT, False): "STOP_LOSS_LIMIT",
    (OrderType.LIMIT_IF_TOUCHED, False): "TAKE_PROFIT_LIMIT",
}
# A leg of a Binance OCO list: its limit leg must be LIMIT_MAKER (it rests, never takes).
_BINANCE_OCO_LEGS = {
    OrderType.LIMIT: "LIMIT_MAKER",
    OrderType.STOP_MARKET: "STOP_LOSS",
    OrderType.STOP_LIMIT: "STOP_LOSS_LIMIT",
    OrderType.LIMIT_IF_TOUCHED: "TAKE_PROFIT_LIMIT",
}


class CcxtOrderParams:
    """Builds the CCXT order arguments of one venue (see the module docstring)."""

    def __init__(self, venue: Venue, *, binance: bool, reduce_only: bool) -> None:
        self.venue = venue
        self.binance = binance
        self.reduce_only = reduce_only

    def order(self, spec: OrderSpec, inst: Instrument) -> tuple[str, dict[str, Any]]:
        """The CCXT order type and the extra parameters of ``spec`` (else ``InvalidOrder``)."""
        for label, value in (("price", spec.price), ("trigger price", spec.trigger_price)):
            if value is not None and not inst.is_on_tick(value):
                raise InvalidOrder(
                    f"{label} {value} is not a multiple of {inst.id}'s tick size {inst.tick_size}"
                )
        if not inst.is_on_lot(spec.quantity):
            raise InvalidOrder(
                f"quantity {spec.quantity} is not a multiple of {inst.id}'s lot size "
                f"{inst.lot_size}"
            )
        params: dict[str, Any] = {"clientOrderId": spec.client_order_id.value}
        if self.binance:
            kind = _BINANCE_TYPES.get((spec.order_type, spec.post_only))
            if kind is None:
                raise InvalidOrder(f"{self.venue} does not take {spec.order_type} orders")
            params["newOrderRespType"] = "RESULT"
        else:
            kind = "market" if spec.order_type is OrderType.MARKET else "limit"
            if spec.order_type not in (OrderType.MARKET, OrderType.LIMIT) and spec.trigger_price:
                params["triggerPrice"] = spec.trigger_price.as_float()
            if spec.post_only:
                params["postOnly"] = True
        if spec.trigger_price is not None and self.binance:
            params["stopPrice"] = str(spec.trigger_price)
        if spec.order_type is not OrderType.MARKET and not spec.post_only:
            params["timeInForce"] = spec.time_in_force.value
        if spec.reduce_only:
            if not self.reduce_only:
                raise InvalidOrder(f"{self.venue} has no reduce-only orders")
            params["reduceOnly"] = True
        if spec.time_in_force not in (TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK):
            raise InvalidOrder(f"{self.venue} takes GTC, IOC and FOK orders only")
        return kind, params

    def oco(self, order_list: OrderList, inst: Instrument) -> dict[str, Any]:
        """Binance's ``orderList/oco`` parameters: the leg with the higher price is above."""
        specs = order_list.orders
        if len(specs) != 2 or any(s.contingency_type is not ContingencyType.OCO for s in specs):
            raise InvalidOrder(f"order list {order_list.order_list_id}: an OCO is two orders")
        first, second = specs
        if first.side is not second.side or first.quantity != second.quantity:
            raise InvalidOrder(
                f"order list {order_list.order_list_id}: {self.venue}'s OCO legs share one "
                "side and one quantity"
            )

        def level(spec: OrderSpec) -> Decimal:
            px = spec.trigger_price or spec.price
            assert px is not None  # every leg type below has a price or a trigger
            return px.as_decimal()

        for spec in specs:
            self.order(msgspec.structs.replace(spec, reduce_only=False), inst)  # tick, lot
            if spec.order_type not in _BINANCE_OCO_LEGS:
                raise InvalidOrder(f"{self.venue} takes no {spec.order_type} leg in an OCO")
        above, below = sorted(specs, key=level, reverse=True)
        params: dict[str, Any] = {
            "symbol": inst.raw_symbol,
            "side": first.side.value,
            "quantity": str(first.quantity),
            "listClientOrderId": order_list.order_list_id.value[:36],
        }
        for prefix, spec in (("above", above), ("below", below)):
            kind = _BINANCE_OCO_LEGS[spec.order_type]
            params[f"{prefix}Type"] = kind
            params[f"{prefix}ClientOrderId"] = spec.client_order_id.value
            if spec.price is not None:
                params[f"{prefix}Price"] = str(spec.price)
            if spec.trigger_price is not None:
                params[f"{prefix}StopPrice"] = str(spec.trigger_price)
            if kind.endswith("_LIMIT"):
                params[f"{prefix}TimeInForce"] = spec.time_in_force.value
        return params

"""Binance order requests in, domain ``OrderSpec`` out; and the order as Binance shows it.

``parse_order`` checks a ``POST /api/v3/order`` request the way Binance does (mandatory
parameters, enums, filters) and builds the domain order the matching engine runs.
``OrderRecord`` follows that order through its events and renders the JSON objects of the API
(``order``, ``openOrders``, ``allOrders``, ``executionReport``).
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from tradeforge.connectors.sim_exchange.binance_errors import BinanceError
from tradeforge.domain import (
    ClientOrderId,
    Instrument,
    InvalidValue,
    OrderSide,
    OrderSpec,
    OrderType,
    Price,
    Quantity,
    StrategyId,
    TimeInForce,
)

__all__ = [
    "OrderRecord",
    "OrderRequest",
    "check_client_order_id",
    "fmt",
    "new_client_order_id",
    "parse_order",
    "restored_spec",
]

API_STRATEGY = StrategyId("api")
_ID_CHARS = string.ascii_letters + string.digits
_ALLOWED_ID = set(string.ascii_letters + string.digits + ".:/_-")

# Binance type -> (domain type, needs price, needs stopPrice, post only)
_TYPES: dict[str, tuple[OrderType, bool, bool, bool]] = {
    "MARKET": (OrderType.MARKET, False, False, False),
    "LIMIT": (OrderType.LIMIT, True, False, False),
    "LIMIT_MAKER": (OrderType.LIMIT, True, False, True),
    "STOP_LOSS": (OrderType.STOP_MARKET, False, True, False),
    "STOP_LOSS_LIMIT": (OrderType.STOP_LIMIT, True, True, False),
    "TAKE_PROFIT_LIMIT": (OrderType.LIMIT_IF_TOUCHED, True, True, False),
}
_TIF = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK}
_OPEN = {"NEW", "PARTIALLY_FILLED"}


def fmt(value: Decimal) -> str:
    """A decimal as Binance prints it: eight places."""
    return f"{value:.8f}"


def new_client_order_id() -> str:
    """An order id for a client that sent none, in Binance's style (22 random characters)."""
    return "".join(secrets.choice(_ID_CHARS) for _ in range(22))


def _decimal(params: dict[str, str], name: str) -> Decimal | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise BinanceError.bad_param(name, "^([0-9]{1,20})(\\.[0-9]{1,20})?$") from None
    if not value.is_finite() or value < 0:
        raise BinanceError.bad_param(name, "^([0-9]{1,20})(\\.[0-9]{1,20})?$")
    return value


def _on_step(value: Decimal, step: Decimal) -> bool:
    return value % step == 0


def parse_price(inst: Instrument, params: dict[str, str], name: str) -> Price | None:
    """A price parameter, on the symbol's tick (else ``Filter failure: PRICE_FILTER``)."""
    value = _decimal(params, name)
    if value is None:
        return None
    if value <= 0 or not _on_step(value, inst.tick_size.as_decimal()):
        raise BinanceError.filter_failure("PRICE_FILTER")
    return Price.from_decimal(value.quantize(inst.tick_size.as_decimal()), inst.price_precision)


def parse_quantity(inst: Instrument, params: dict[str, str], name: str) -> Quantity | None:
    """A quantity parameter, on the symbol's lot and within its bounds (else ``LOT_SIZE``)."""
    value = _decimal(params, name)
    if value is None:
        return None
    lot = inst.lot_size.as_decimal()
    too_big = inst.max_quantity is not None and value > inst.max_quantity.as_decimal()
    if value < inst.min_quantity.as_decimal() or too_big or not _on_step(value, lot):
        raise BinanceError.filter_failure("LOT_SIZE")
    return Quantity.from_decimal(value.quantize(lot), inst.size_precision)


def check_client_order_id(value: str, name: str = "newClientOrderId") -> str:
    """A client order id as Binance allows it: 1 to 36 of ``[A-Za-z0-9.:/_-]``."""
    if not 0 < len(value) <= 36 or not set(value) <= _ALLOWED_ID:
        raise BinanceError.bad_param(name, "^[\\.A-Z\\:/a-z0-9_-]{1,36}$")
    return value


@dataclass(frozen=True)
class OrderRequest:
    """A checked ``POST /api/v3/order``: the domain order and what Binance echoes back."""

    spec: OrderSpec
    binance_type: str
    response_type: str
    quote_order_qty: Decimal | None = None


def parse_order(
    inst: Instrument, params: dict[str, str], market_price: Decimal | None
) -> OrderRequest:
    """Check a new-order request like Binance and build its domain order.

    ``market_price`` is what a market order would pay now (used to turn ``quoteOrderQty`` into
    a quantity). Raises ``BinanceError`` with Binance's code for anything Binance refuses.
    """
    for name in ("side", "type"):
        if not params.get(name):
            raise BinanceError.missing(name)
    side_text, type_text = params["side"].upper(), params["type"].upper()
    if side_text not in ("BUY", "SELL"):
        raise BinanceError(-1117, "Invalid side.")
    if type_text not in _TYPES:
        raise BinanceError(-1116, "Invalid orderType.")
    side = OrderSide.BUY if side_text == "BUY" else OrderSide.SELL
    order_type, needs_price, needs_stop, post_only = _TYPES[type_text]
    tif = TimeInForce.GTC
    if needs_price and type_text != "LIMIT_MAKER":
        tif_text = params.get("timeInForce")
        if not tif_text:
            raise BinanceError.missing("timeInForce")
        if tif_text.upper() not in _TIF:
            raise BinanceError(-1115, "Invalid timeInForce.")
        tif = _TIF[tif_text.upper()]
    elif type_text in ("MARKET", "STOP_LOSS"):
        tif = TimeInForce.IOC if type_text == "MARKET" else TimeInForce.GTC
    price = parse_price(inst, params, "price")
    if needs_price and price is None:
        raise BinanceError.missing("price")
    stop = parse_price(inst, params, "stopPrice")
    if needs_stop and stop is None:
        raise BinanceError.missing("stopPrice")
    quantity = parse_quantity(inst, params, "quantity")
    quote_qty = _decimal(params, "quoteOrderQty")
    if quantity is None and type_text == "MARKET" and quote_qty is not None:
        quantity = _quantity_for_quote(inst, quote_qty, market_price)
    if quantity is None:
        raise BinanceError.missing("quantity")
    client_id = check_client_order_id(params.get("newClientOrderId") or new_client_order_id())
    response_type = (params.get("newOrderRespType") or "").upper() or (
        "FULL" if type_text in ("MARKET", "LIMIT") else "ACK"
    )
    if response_type not in ("ACK", "RESULT", "FULL"):
        raise BinanceError(-1100, "Illegal characters found in parameter 'newOrderRespType'.")
    try:
        spec = OrderSpec(
            client_order_id=ClientOrderId(client_id),
            strategy_id=API_STRATEGY,
            instrument_id=inst.id,
            side=side,
            order_type=order_type,
            quantity=quantity,
            time_in_force=tif,
            price=price if order_type.has_limit_price else None,
            trigger_price=stop if needs_stop else None,
            post_only=post_only,
        )
    except InvalidValue as exc:
        raise BinanceError(-1013, f"Invalid order: {exc}") from None
    return OrderRequest(spec, type_text, response_type, quote_qty)


def _quantity_for_quote(inst: Instrument, quote: Decimal, price: Decimal | None) -> Quantity:
    if price is None or price <= 0:
        raise BinanceError.rejected("Market is closed.")
    lot = inst.lot_size.as_decimal()
    qty = (quote / price // lot) * lot
    if qty < inst.min_quantity.as_decimal():
        raise BinanceError.filter_failure("NOTIONAL")
    return Quantity.from_decimal(qty.quantize(lot), inst.size_precision)


@dataclass
class OrderRecord:
    """One order as the exchange reports it, kept current by the order's events."""

    symbol: str
    order_id: int
    client_order_id: str
    side: str
    type: str
    time_in_force: str
    price: Decimal
    orig_qty: Decimal
    stop_price: Decimal
    time_ms: int
    order_list_id: int = -1
    status: str = "NEW"
    executed_qty: Decimal = Decimal(0)
    cumulative_quote: Decimal = Decimal(0)
    update_ms: int = 0
    is_working: bool = True
    working_ms: int = 0
    orig_quote_qty: Decimal = Decimal(0)
    user_canceled: bool = False
    fills: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        """NEW or PARTIALLY_FILLED."""
        return self.status in _OPEN

    @classmethod
    def new(cls, request: OrderRequest, symbol: str, order_id: int, now_ms: int) -> OrderRecord:
        """The record of an order the exchange has just taken."""
        spec = request.spec
        trigger = spec.trigger_price
        stop = trigger is not None
        return cls(
            symbol=symbol,
            order_id=order_id,
            client_order_id=spec.client_order_id.value,
            side=spec.side.value,
            type=request.binance_type,
            time_in_force=spec.time_in_force.value,
            price=spec.price.as_decimal() if spec.price is not None else Decimal(0),
            orig_qty=spec.quantity.as_decimal(),
            stop_price=trigger.as_decimal() if trigger is not None else Decimal(0),
            time_ms=now_ms,
            update_ms=now_ms,
            is_working=not stop,
            working_ms=now_ms if not stop else -1,
            orig_quote_qty=request.quote_order_qty or Decimal(0),
        )

    def fill(self, qty: Decimal, price: Decimal, now_ms: int) -> None:
        """A fill of ``qty`` at ``price``."""
        self.executed_qty += qty
        self.cumulative_quote += qty * price
        self.status = "FILLED" if self.executed_qty >= self.orig_qty else "PARTIALLY_FILLED"
        self.is_working = True
        self.update_ms = now_ms

    def to_json(self) -> dict[str, Any]:
        """The order as ``GET /api/v3/order`` shows it."""
        return {
            "symbol": self.symbol,
            "orderId": self.order_id,
            "orderListId": self.order_list_id,
            "clientOrderId": self.client_order_id,
            "price": fmt(self.price),
            "origQty": fmt(self.orig_qty),
            "executedQty": fmt(self.executed_qty),
            "cummulativeQuoteQty": fmt(self.cumulative_quote),
            "status": self.status,
            "timeInForce": self.time_in_force,
            "type": self.type,
            "side": self.side,
            "stopPrice": fmt(self.stop_price),
            "icebergQty": fmt(Decimal(0)),
            "time": self.time_ms,
            "updateTime": self.update_ms,
            "isWorking": self.is_working,
            "workingTime": self.working_ms,
            "origQuoteOrderQty": fmt(self.orig_quote_qty),
            "selfTradePreventionMode": "NONE",
        }

    def to_response(self, response_type: str, now_ms: int) -> dict[str, Any]:
        """The answer to ``POST /api/v3/order`` in the requested ``newOrderRespType``."""
        ack: dict[str, Any] = {
            "symbol": self.symbol,
            "orderId": self.order_id,
            "orderListId": self.order_list_id,
            "clientOrderId": self.client_order_id,
            "transactTime": now_ms,
        }
        if response_type == "ACK":
            return ack
        body = self.to_json()
        for key in ("stopPrice", "icebergQty", "time", "updateTime", "isWorking"):
            body.pop(key)
        body["transactTime"] = now_ms
        if response_type == "FULL":
            body["fills"] = list(self.fills)
        return body

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> OrderRecord:
        """A stored order back (the inverse of ``to_json``)."""
        return cls(
            symbol=body["symbol"],
            order_id=body["orderId"],
            client_order_id=body["clientOrderId"],
            side=body["side"],
            type=body["type"],
            time_in_force=body["timeInForce"],
            price=Decimal(body["price"]),
            orig_qty=Decimal(body["origQty"]),
            stop_price=Decimal(body["stopPrice"]),
            time_ms=body["time"],
            order_list_id=body["orderListId"],
            status=body["status"],
            executed_qty=Decimal(body["executedQty"]),
            cumulative_quote=Decimal(body["cummulativeQuoteQty"]),
            update_ms=body["updateTime"],
            is_working=body["isWorking"],
            working_ms=body["workingTime"],
            orig_quote_qty=Decimal(body["origQuoteOrderQty"]),
        )


def restored_spec(inst: Instrument, rec: OrderRecord) -> OrderSpec:
    """The domain order that puts an open ``rec`` back on the book after a restart: what is
    left of it, and a stop order that had triggered as the limit order it became."""
    order_type, _, _, post_only = _TYPES[rec.type]
    triggered = order_type.has_trigger and rec.is_working
    if triggered:
        order_type = OrderType.LIMIT if order_type.has_limit_price else OrderType.MARKET
    return OrderSpec(
        client_order_id=ClientOrderId(rec.client_order_id),
        strategy_id=API_STRATEGY,
        instrument_id=inst.id,
        side=OrderSide.BUY if rec.side == "BUY" else OrderSide.SELL,
        order_type=order_type,
        quantity=inst.make_qty(rec.orig_qty - rec.executed_qty),
        time_in_force=_TIF.get(rec.time_in_force, TimeInForce.GTC),
        price=inst.make_price(rec.price) if order_type.has_limit_price else None,
        trigger_price=inst.make_price(rec.stop_price) if order_type.has_trigger else None,
        post_only=post_only,
    )

"""The gateway's request and response bodies (the OpenAPI schema is built from these).

Prices, quantities and money are decimal strings, never JSON floats, so nothing is rounded on
the way through.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "FillOut",
    "InstrumentOut",
    "OrderIn",
    "OrderOut",
    "OrderPage",
    "PositionOut",
    "VersionOut",
]

DecimalStr = str


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class VersionOut(_Out):
    """What is running."""

    version: str
    mode: str


class InstrumentOut(_Out):
    """A tradable instrument."""

    id: str
    symbol: str
    venue: str
    kind: str
    base: str | None
    quote: str
    tick_size: DecimalStr
    lot_size: DecimalStr
    min_quantity: DecimalStr
    min_notional: DecimalStr | None
    maker_fee: DecimalStr
    taker_fee: DecimalStr


class OrderIn(BaseModel):
    """A new order. ``client_order_id`` makes the request idempotent: sending the same id
    again returns the first order (or 409 when the other fields differ)."""

    model_config = ConfigDict(extra="forbid")

    instrument_id: str = Field(examples=["BTC/USDT.SIM"], max_length=128)
    side: Literal["BUY", "SELL"]
    type: Literal["MARKET", "LIMIT", "STOP_MARKET", "STOP_LIMIT"] = "MARKET"
    quantity: DecimalStr = Field(examples=["0.01"], max_length=40, pattern=r"^\d+(\.\d+)?$")
    price: DecimalStr | None = Field(default=None, max_length=40, pattern=r"^\d+(\.\d+)?$")
    trigger_price: DecimalStr | None = Field(default=None, max_length=40, pattern=r"^\d+(\.\d+)?$")
    time_in_force: Literal["GTC", "IOC", "FOK"] = "GTC"
    post_only: bool = False
    reduce_only: bool = False
    client_order_id: str | None = Field(
        default=None, min_length=1, max_length=36, pattern=r"^[A-Za-z0-9._:/-]+$"
    )


class OrderOut(_Out):
    """An order and where it stands."""

    client_order_id: str
    venue_order_id: str | None
    strategy_id: str
    instrument_id: str
    side: str
    type: str
    status: str
    quantity: DecimalStr
    filled_qty: DecimalStr
    price: DecimalStr | None
    trigger_price: DecimalStr | None
    avg_px: DecimalStr | None
    time_in_force: str


class OrderPage(_Out):
    """One page of orders; pass ``next_cursor`` as ``cursor`` for the next one."""

    items: list[OrderOut]
    next_cursor: str | None


class FillOut(_Out):
    """One execution."""

    trade_id: str
    client_order_id: str
    instrument_id: str
    side: str
    quantity: DecimalStr
    price: DecimalStr
    commission: DecimalStr
    commission_currency: str


class PositionOut(_Out):
    """A strategy's position in an instrument."""

    strategy_id: str
    instrument_id: str
    quantity: DecimalStr
    avg_px_open: DecimalStr | None
    realized_pnl: DecimalStr
    unrealized_pnl: DecimalStr | None
    last_price: DecimalStr | None

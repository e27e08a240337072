"""The bodies of the ``orders`` and ``fills`` resources: a new order, a change to one, an
order as it stands, and an execution.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tradeforge.gateway.schema_base import DecimalStr, FrozenOut

__all__ = ["FillOut", "OrderIn", "OrderModifyIn", "OrderOut", "OrderPage"]


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


class OrderModifyIn(BaseModel):
    """A change to an open order: a new total quantity (above what has filled), a new limit
    price, a new trigger price; at least one. The order keeps its id."""

    model_config = ConfigDict(extra="forbid")

    quantity: DecimalStr | None = Field(
        default=None, examples=["0.02"], max_length=40, pattern=r"^\d+(\.\d+)?$"
    )
    price: DecimalStr | None = Field(default=None, max_length=40, pattern=r"^\d+(\.\d+)?$")
    trigger_price: DecimalStr | None = Field(default=None, max_length=40, pattern=r"^\d+(\.\d+)?$")


class OrderOut(FrozenOut):
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


class OrderPage(FrozenOut):
    """One page of orders; pass ``next_cursor`` as ``cursor`` for the next one."""

    items: list[OrderOut]
    next_cursor: str | None


class FillOut(FrozenOut):
    """One execution."""

    trade_id: str
    client_order_id: str
    instrument_id: str
    side: str
    quantity: DecimalStr
    price: DecimalStr
    commission: DecimalStr
    commission_currency: str
    time: str = Field(description="when it executed (ISO-8601 UTC)")

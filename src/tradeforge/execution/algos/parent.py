"""``ParentOrder``: what an execution algorithm is asked to fill, and ``ChildStyle``, how its
children take liquidity."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from tradeforge.domain import (
    ClientOrderId,
    Instrument,
    InstrumentId,
    InvalidOrder,
    OrderSide,
    Price,
    Quantity,
    StrategyId,
)

__all__ = ["MAX_PARENT_ID_LENGTH", "ChildStyle", "ParentOrder"]

MAX_PARENT_ID_LENGTH: Final = 29
"""Children are named ``<parent>-c<n>``; 29 characters leave room for ``-c999999`` in 36."""


class ChildStyle(enum.StrEnum):
    """How children are priced.

    ``MARKET``: take liquidity now. A market order (IOC), or, when the parent has a limit
    price, a limit IOC at that price, so no child ever trades through the parent's limit.
    ``LIMIT``: rest at the near touch (best bid for a buy, best ask for a sell) moved
    ``offset_ticks`` towards the other side, never beyond the parent's limit.
    """

    MARKET = "MARKET"
    LIMIT = "LIMIT"


@dataclass(frozen=True, slots=True, kw_only=True)
class ParentOrder:
    """A parent order: buy or sell ``quantity`` of ``instrument``, never beyond ``limit_price``.

    ``arrival_price`` is the benchmark slippage is measured against (the mid when the order
    arrived); when None the algorithm takes the first mid (or trade, or bar close) it sees.
    ``allow_odd_final``: the venue accepts a final child below ``min_quantity`` (see the
    rounding rule in ``docs/execution-algorithms.md``).

    Raises:
        InvalidOrder: quantity zero, off the lot or below the instrument's minimum (unless
            ``allow_odd_final``), a limit or arrival price off the tick, or an id too long to
            name children after.
    """

    client_order_id: ClientOrderId
    strategy_id: StrategyId
    instrument: Instrument
    side: OrderSide
    quantity: Quantity
    limit_price: Price | None = None
    arrival_price: Price | None = None
    allow_odd_final: bool = False

    def __post_init__(self) -> None:
        name = f"parent order {self.client_order_id}"
        inst = self.instrument
        if len(self.client_order_id.value) > MAX_PARENT_ID_LENGTH:
            raise InvalidOrder(
                f"{name}: client_order_id must have at most {MAX_PARENT_ID_LENGTH} characters "
                "so its children's ids fit"
            )
        if self.quantity.is_zero():
            raise InvalidOrder(f"{name}: quantity must be positive, got {self.quantity}")
        if not inst.is_on_lot(self.quantity):
            raise InvalidOrder(
                f"{name}: quantity {self.quantity} is not a multiple of lot size {inst.lot_size}"
            )
        if self.quantity < inst.min_quantity and not self.allow_odd_final:
            raise InvalidOrder(
                f"{name}: quantity {self.quantity} is below min_quantity {inst.min_quantity}"
            )
        for field in ("limit_price", "arrival_price"):
            price: Price | None = getattr(self, field)
            if price is not None and not inst.is_on_tick(price):
                raise InvalidOrder(
                    f"{name}: {field} {price} is not a multiple of tick size {inst.tick_size}"
                )

    @property
    def instrument_id(self) -> InstrumentId:
        """The instrument's id."""
        return self.instrument.id

    def within_limit(self, price: Price) -> bool:
        """True when ``price`` does not go beyond the limit (always, without a limit)."""
        limit = self.limit_price
        if limit is None:
            return True
        return price <= limit if self.side is OrderSide.BUY else price >= limit

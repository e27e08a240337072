"""``OrderSpec``: the immutable description of an order, and ``OrderList`` for contingent groups.

A spec that exists is a valid order shape: each type has the prices it needs and none it cannot
use, time in force fits the type, flags fit the type, contingency links are complete. Whether a
venue or a risk check accepts it (tick, lot, balance) is decided later, against an instrument.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TypedDict

import msgspec

from tradeforge.domain.enums import (
    ContingencyType,
    OrderSide,
    OrderType,
    TimeInForce,
    TrailingOffsetType,
)
from tradeforge.domain.errors import InvalidValue
from tradeforge.domain.identifiers import ClientOrderId, InstrumentId, OrderListId, StrategyId
from tradeforge.domain.values import Price, Quantity

__all__ = ["OrderIds", "OrderList", "OrderSpec"]

_MARKET_TIFS = (TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK)


class OrderIds(TypedDict):
    """The three ids every order event carries: ``OrderFilled(**spec.ids(), ...)``."""

    client_order_id: ClientOrderId
    strategy_id: StrategyId
    instrument_id: InstrumentId


class OrderSpec(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Everything needed to create an order; refused at construction when inconsistent."""

    client_order_id: ClientOrderId
    strategy_id: StrategyId
    instrument_id: InstrumentId
    side: OrderSide
    order_type: OrderType
    quantity: Quantity
    time_in_force: TimeInForce = TimeInForce.GTC
    price: Price | None = None
    trigger_price: Price | None = None
    trailing_offset: Decimal | None = None
    trailing_offset_type: TrailingOffsetType | None = None
    expire_time_ns: int | None = None
    post_only: bool = False
    reduce_only: bool = False
    display_qty: Quantity | None = None
    contingency_type: ContingencyType = ContingencyType.NONE
    order_list_id: OrderListId | None = None
    linked_order_ids: tuple[ClientOrderId, ...] = ()
    parent_order_id: ClientOrderId | None = None
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if (  # the most common shape, a plain market order: nothing else to check
            self.order_type is OrderType.MARKET
            and self.price is None
            and self.trigger_price is None
            and self.trailing_offset is None
            and self.trailing_offset_type is None
            and self.expire_time_ns is None
            and not self.post_only
            and self.display_qty is None
            and self.contingency_type is ContingencyType.NONE
            and not self.linked_order_ids
            and self.parent_order_id is None
            and self.time_in_force in _MARKET_TIFS
            and not self.quantity.is_zero()
        ):
            return
        self._check_quantities()
        self._check_prices()
        self._check_time_in_force()
        self._check_flags()
        self._check_contingency()

    def _refuse(self, field: str, problem: str) -> InvalidValue:
        return InvalidValue(f"order {self.client_order_id} ({self.order_type}): {field} {problem}")

    def _check_quantities(self) -> None:
        if self.quantity.is_zero():
            raise self._refuse("quantity", "must be positive, got 0")
        if self.display_qty is not None:
            if not self.order_type.has_limit_price:
                raise self._refuse("display_qty", "is only for orders with a limit price")
            if self.display_qty.is_zero() or self.display_qty > self.quantity:
                raise self._refuse(
                    "display_qty",
                    f"must be in (0, quantity={self.quantity}], got {self.display_qty}",
                )

    def _check_prices(self) -> None:
        kind = self.order_type
        if kind.has_limit_price and self.price is None:
            raise self._refuse("price", "is required")
        if not kind.has_limit_price and self.price is not None:
            raise self._refuse("price", f"must not be set, got {self.price}")
        needs_trigger = kind.has_trigger and kind is not OrderType.TRAILING_STOP
        if needs_trigger and self.trigger_price is None:
            raise self._refuse("trigger_price", "is required")
        if not kind.has_trigger and self.trigger_price is not None:
            raise self._refuse("trigger_price", f"must not be set, got {self.trigger_price}")
        if kind is OrderType.TRAILING_STOP:
            offset = self.trailing_offset
            if offset is None or self.trailing_offset_type is None:
                raise self._refuse("trailing_offset", "and trailing_offset_type are required")
            if not offset.is_finite() or offset <= 0:
                raise self._refuse("trailing_offset", f"must be positive, got {offset}")
            if self.trailing_offset_type is TrailingOffsetType.PERCENT and offset >= 100:
                raise self._refuse("trailing_offset", f"must be below 100 percent, got {offset}")
        elif self.trailing_offset is not None or self.trailing_offset_type is not None:
            raise self._refuse("trailing_offset", "is only for TRAILING_STOP orders")

    def _check_time_in_force(self) -> None:
        tif = self.time_in_force
        if self.order_type is OrderType.MARKET and tif not in _MARKET_TIFS:
            raise self._refuse("time_in_force", f"must be GTC, IOC or FOK, got {tif}")
        if tif is TimeInForce.GTD and self.expire_time_ns is None:
            raise self._refuse("expire_time_ns", "is required for GTD")
        if tif is not TimeInForce.GTD and self.expire_time_ns is not None:
            raise self._refuse("expire_time_ns", f"is only for GTD, time_in_force is {tif}")
        if self.expire_time_ns is not None and self.expire_time_ns <= 0:
            raise self._refuse("expire_time_ns", f"must be positive, got {self.expire_time_ns}")

    def _check_flags(self) -> None:
        if self.post_only:
            if not self.order_type.has_limit_price:
                raise self._refuse("post_only", "is only for orders with a limit price")
            if self.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
                raise self._refuse("post_only", f"cannot be combined with {self.time_in_force}")

    def _check_contingency(self) -> None:
        if self.contingency_type is ContingencyType.NONE:
            if self.linked_order_ids:
                raise self._refuse("linked_order_ids", "need a contingency_type")
        else:
            if self.order_list_id is None:
                raise self._refuse("order_list_id", f"is required for {self.contingency_type}")
            if not self.linked_order_ids:
                raise self._refuse("linked_order_ids", f"are required for {self.contingency_type}")
        if self.client_order_id in self.linked_order_ids:
            raise self._refuse("linked_order_ids", "must not contain the order itself")
        if self.parent_order_id == self.client_order_id:
            raise self._refuse("parent_order_id", "must not be the order itself")

    @property
    def is_buy(self) -> bool:
        """True for a buy order."""
        return self.side is OrderSide.BUY

    def ids(self) -> OrderIds:
        """The ids an event about this order carries."""
        return {
            "client_order_id": self.client_order_id,
            "strategy_id": self.strategy_id,
            "instrument_id": self.instrument_id,
        }


class OrderList(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A contingent group (OCO, OTO or bracket), submitted and managed together.

    Links must be complete both ways: an OCO member names every other member; an OTO parent names
    its children and each child names the parent in ``parent_order_id``.
    """

    order_list_id: OrderListId
    orders: tuple[OrderSpec, ...]

    def __post_init__(self) -> None:
        name = f"order list {self.order_list_id}"
        if len(self.orders) < 2:
            raise InvalidValue(f"{name}: needs at least 2 orders, got {len(self.orders)}")
        ids = [spec.client_order_id for spec in self.orders]
        if len(set(ids)) != len(ids):
            raise InvalidValue(f"{name}: client_order_ids must be unique")
        instrument = self.orders[0].instrument_id
        by_id = {spec.client_order_id: spec for spec in self.orders}
        for spec in self.orders:
            if spec.instrument_id != instrument:
                raise InvalidValue(f"{name}: all orders must be for {instrument}")
            if spec.order_list_id != self.order_list_id:
                raise InvalidValue(
                    f"{name}: order {spec.client_order_id} has order_list_id {spec.order_list_id}"
                )
            for linked in spec.linked_order_ids:
                if linked not in by_id:
                    raise InvalidValue(
                        f"{name}: order {spec.client_order_id} links to {linked}, not in the list"
                    )
            if spec.parent_order_id is not None:
                parent = by_id.get(spec.parent_order_id)
                if (
                    parent is None
                    or spec.client_order_id not in parent.linked_order_ids
                    or (parent.contingency_type is not ContingencyType.OTO)
                ):
                    raise InvalidValue(
                        f"{name}: order {spec.client_order_id} names parent "
                        f"{spec.parent_order_id}, which is not an OTO order in the list linking it"
                    )
            if spec.contingency_type is ContingencyType.OCO:
                self._check_oco(name, spec, by_id)
            if spec.contingency_type is ContingencyType.OTO:
                for child in spec.linked_order_ids:
                    if by_id[child].parent_order_id != spec.client_order_id:
                        raise InvalidValue(
                            f"{name}: child {child} must name {spec.client_order_id} as parent"
                        )

    @staticmethod
    def _check_oco(name: str, spec: OrderSpec, by_id: dict[ClientOrderId, OrderSpec]) -> None:
        for other in spec.linked_order_ids:
            peer = by_id[other]
            if peer.contingency_type is not ContingencyType.OCO:
                raise InvalidValue(f"{name}: OCO order {spec.client_order_id} links to non-OCO")
            if spec.client_order_id not in peer.linked_order_ids:
                raise InvalidValue(
                    f"{name}: OCO link {spec.client_order_id} -> {other} is not mutual"
                )

    @property
    def instrument_id(self) -> InstrumentId:
        """The one instrument every order of the list is for."""
        return self.orders[0].instrument_id

    @property
    def first(self) -> OrderSpec:
        """The first order (the entry of a bracket)."""
        return self.orders[0]

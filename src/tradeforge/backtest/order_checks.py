"""What a venue checks before it accepts an order or a change to one: the rules of the
instrument and the market."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from tradeforge.backtest.working_order import WorkingOrder
from tradeforge.domain import Instrument, OrderSpec, Price, Quantity, RejectReason
from tradeforge.domain.exact import exact_remainder
from tradeforge.domain.notional import notional as notional_of

__all__ = ["Rejection", "modify_rejection", "venue_rejection"]


Rejection = tuple[RejectReason, str]


def venue_rejection(
    instrument: Instrument,
    spec: OrderSpec,
    ts: int,
    reference: Callable[[bool], Decimal | None],
) -> Rejection | None:
    """Why a venue would refuse ``spec`` at ``ts`` (None when it would take it).

    ``reference(is_buy)`` is what a marketable order would pay now (the ask for a buy), used for
    the notional of market orders and the post-only check.
    """
    inst = instrument
    if spec.instrument_id is not inst.id and spec.instrument_id != inst.id:
        return RejectReason.UNKNOWN_INSTRUMENT, f"{spec.instrument_id} is not traded here"
    if spec.price is not None or spec.trigger_price is not None:
        for label, value in (("price", spec.price), ("trigger price", spec.trigger_price)):
            if value is not None and not inst.is_on_tick(value):
                return RejectReason.PRICE_OFF_TICK, (
                    f"{label} {value} is not a multiple of tick size {inst.tick_size}"
                )
    qty = spec.quantity
    size = qty.as_decimal()
    if exact_remainder(size, inst.lot_size.as_decimal()):
        return RejectReason.QUANTITY_OFF_LOT, (
            f"quantity {qty} is not a multiple of lot size {inst.lot_size}"
        )
    if size < inst.min_quantity.as_decimal():
        return RejectReason.BELOW_MIN_QUANTITY, f"quantity {qty} < min {inst.min_quantity}"
    if inst.max_quantity is not None and qty > inst.max_quantity:
        return RejectReason.ABOVE_MAX_QUANTITY, f"quantity {qty} > max {inst.max_quantity}"
    minimum = inst.min_notional
    # The minimum is in the quote currency; inverse contracts' notional is in the base.
    if minimum is not None and not inst.is_inverse:
        limit = spec.price or spec.trigger_price
        price = limit.as_decimal() if limit is not None else reference(spec.is_buy)
        if price is not None:
            notional = notional_of(inst, size, price)
            if notional < minimum:
                return RejectReason.BELOW_MIN_NOTIONAL, f"notional {notional} < min {minimum}"
    if spec.expire_time_ns is not None and spec.expire_time_ns <= ts:
        return RejectReason.OTHER, f"expire time {spec.expire_time_ns} is not in the future"
    if spec.post_only and spec.price is not None:
        opposite = reference(spec.is_buy)
        px = spec.price.as_decimal()
        if opposite is not None and (px >= opposite if spec.is_buy else px <= opposite):
            return RejectReason.POST_ONLY_WOULD_CROSS, f"post-only {px} would cross {opposite}"
    return None


def modify_rejection(
    instrument: Instrument,
    order: WorkingOrder,
    *,
    quantity: Quantity | None,
    price: Price | None,
    trigger_price: Price | None,
    reference: Callable[[bool], Decimal | None],
) -> Rejection | None:
    """Why a venue would refuse to change working ``order`` (None when it would)."""
    inst = instrument
    if price is not None and (order.price is None or not inst.is_on_tick(price)):
        why = "has no limit price" if order.price is None else f"{price} is off tick"
        return RejectReason.PRICE_OFF_TICK, f"price {why}"
    if trigger_price is not None and (order.trigger is None or not inst.is_on_tick(trigger_price)):
        return RejectReason.PRICE_OFF_TICK, "trigger price not valid"
    if quantity is not None and (
        not inst.is_on_lot(quantity) or quantity.as_decimal() <= order.filled
    ):
        msg = f"quantity {quantity} must be on lot and above the filled {order.filled}"
        return RejectReason.QUANTITY_OFF_LOT, msg
    if price is not None and order.spec.post_only:
        opposite = reference(order.is_buy)
        new = price.as_decimal()
        if opposite is not None and (new >= opposite if order.is_buy else new <= opposite):
            return RejectReason.POST_ONLY_WOULD_CROSS, f"post-only {new} would cross {opposite}"
    return None

"""``WorkingOrder``: the venue's record of one order while it works in a matching engine.

It knows at which price level it acts when the market moves from one price to another, which is
all the matching engine needs to walk a bar's price path or a stream of trades.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Final

from mypy_extensions import mypyc_attr

from tradeforge.domain import (
    ClientOrderId,
    ContingencyType,
    OrderSide,
    OrderSpec,
    OrderType,
    TimeInForce,
    TrailingOffsetType,
    VenueOrderId,
)

__all__ = ["WorkingOrder"]

_ZERO: Final = Decimal(0)  # shared: building a Decimal costs more than reading one

_HUNDRED: Final = Decimal(100)


@mypyc_attr(acyclic=True)
class WorkingOrder:
    """Mutable venue-side state of an order: leaves, trigger state, trailing reference."""

    __slots__ = (
        "activation",
        "expire_ns",
        "filled",
        "held",
        "is_buy",
        "marketable_on_arrival",
        "order_type",
        "price",
        "quantity",
        "seq",
        "spec",
        "trail_ref",
        "trigger",
        "triggered",
        "venue_order_id",
    )

    def __init__(
        self, spec: OrderSpec, venue_order_id: VenueOrderId, seq: int, expire_ns: int | None
    ) -> None:
        self.spec = spec
        self.venue_order_id = venue_order_id
        self.seq = seq
        self.is_buy = spec.side is OrderSide.BUY  # (``spec.is_buy`` is interpreted code)
        self.order_type = spec.order_type
        self.quantity = spec.quantity.as_decimal()
        self.filled = _ZERO
        self.price = spec.price.as_decimal() if spec.price is not None else None
        given = spec.trigger_price.as_decimal() if spec.trigger_price is not None else None
        trailing = spec.order_type is OrderType.TRAILING_STOP
        # A trailing stop's trigger_price is its activation price; its trigger comes from trailing.
        self.activation = given if trailing else None
        self.trigger = None if trailing else given
        self.triggered = not spec.order_type.has_trigger
        self.trail_ref: Decimal | None = None
        self.held = False
        self.marketable_on_arrival = False
        self.expire_ns = expire_ns

    @property
    def id(self) -> ClientOrderId:
        """Client order id."""
        return self.spec.client_order_id

    @property
    def leaves(self) -> Decimal:
        """Quantity still to fill."""
        return self.quantity - self.filled

    @property
    def time_in_force(self) -> TimeInForce:
        """Time in force of the order."""
        return self.spec.time_in_force

    @property
    def is_market(self) -> bool:
        """True for a market order, or a triggered stop-market / trailing stop."""
        kind = self.order_type
        return kind is OrderType.MARKET or (
            self.triggered and kind in (OrderType.STOP_MARKET, OrderType.TRAILING_STOP)
        )

    @property
    def is_resting_limit(self) -> bool:
        """True for a limit order working at its price (including triggered stop-limits)."""
        return self.triggered and self.order_type.has_limit_price

    @property
    def is_oco(self) -> bool:
        """True when the order cancels (or reduces) its linked orders when it fills."""
        return self.spec.contingency_type is ContingencyType.OCO

    def trail(self, price: Decimal, tick: Decimal) -> None:
        """Follow the market: start trailing at ``price`` (once the activation price is reached,
        if there is one), then move the reference with every favourable price."""
        if self.order_type is not OrderType.TRAILING_STOP:
            return
        ref = self.trail_ref
        if ref is None:
            act = self.activation
            # A sell trails once the market has risen to its activation, a buy once it fell.
            if act is None or (price <= act if self.is_buy else price >= act):
                self.trail_ref = price
                self.trigger = self._trail_trigger(tick)
            return
        if (self.is_buy and price < ref) or (not self.is_buy and price > ref):
            self.trail_ref = price
            self.trigger = self._trail_trigger(tick)

    def _trail_trigger(self, tick: Decimal) -> Decimal:
        ref = self.trail_ref
        offset = self.spec.trailing_offset
        assert ref is not None
        assert offset is not None
        if self.spec.trailing_offset_type is TrailingOffsetType.PERCENT:
            offset = ref * offset / _HUNDRED
        raw = ref + offset if self.is_buy else ref - offset
        # Round away from the market: a buy stop up, a sell stop down.
        steps = (raw / tick).to_integral_value(
            rounding=ROUND_CEILING if self.is_buy else ROUND_FLOOR
        )
        return steps * tick

    def touched_by_quote(self, bid: Decimal, ask: Decimal, tick: Decimal) -> bool:
        """Whether the bid/ask reaches this untriggered order's trigger (after trailing)."""
        self.trail(ask if self.is_buy else bid, tick)
        trigger = self.trigger
        if trigger is None:
            return False
        if self.order_type is OrderType.LIMIT_IF_TOUCHED:
            return ask <= trigger if self.is_buy else bid >= trigger
        return ask >= trigger if self.is_buy else bid <= trigger

    def crosses(self, price: Decimal) -> bool:
        """True when its limit is marketable at ``price`` (a buy limit at or above it)."""
        limit = self.price
        return limit is not None and (limit >= price if self.is_buy else limit <= price)

    def beyond(self, price: Decimal) -> bool:
        """True when the market at ``price`` is already past this untriggered order's trigger."""
        level = self.level(up=True)
        if level is not None:
            return price >= level
        level = self.level(up=False)
        return level is not None and price <= level

    def level(self, up: bool) -> Decimal | None:
        """The price at which this order acts when the market moves up (or down), if any."""
        if self.held:
            return None
        if self.triggered:
            if not self.order_type.has_limit_price:
                return None  # a triggered market order fills as soon as it can, not at a level
            # A resting buy limit is hit by a falling market, a sell limit by a rising one.
            return self.price if up is not self.is_buy else None
        if self.order_type is OrderType.LIMIT_IF_TOUCHED:
            # A buy if-touched waits for the market to fall to its trigger; a sell for a rise.
            return self.trigger if up is not self.is_buy else None
        # Stops (and trailing stops): a buy stop waits for a rise, a sell stop for a fall.
        return self.trigger if up is self.is_buy else None

    def __repr__(self) -> str:
        side = "BUY" if self.is_buy else "SELL"
        return (
            f"WorkingOrder({self.id}, {side} {self.leaves}/{self.quantity} {self.order_type} "
            f"px={self.price} trg={self.trigger} triggered={self.triggered} held={self.held})"
        )

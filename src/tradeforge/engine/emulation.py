"""Stop, stop-limit, trailing-stop and limit-if-touched orders held by the node for a venue
that lacks the type (``VenueCapabilities``).

The order passes pre-trade risk and is journaled (``OrderInitialized``) like any other, then
stays in the node, ``INITIALIZED`` and **armed** here, instead of going to the venue. Every trade
the node sees moves it: when the market reaches the trigger, the order is released as what the
venue would have made of it (a stop or trailing stop as a MARKET order, a stop-limit or
limit-if-touched as a LIMIT at its price), under the same client order id, through the usual
journal-then-send path. Triggers, as venues define them:

- stop (market or limit): a buy when a trade is at or above the trigger, a sell at or below;
- limit-if-touched: a buy when a trade is at or below the trigger, a sell at or above;
- trailing stop: the stop follows the best price since it was armed (the highest for a sell,
  the lowest for a buy) at ``trailing_offset`` (a price distance, or a percent of that price,
  rounded to the tick away from the market); with a ``trigger_price`` it starts trailing only
  once the market has reached that activation price.

What is armed, with each trailing stop's best price so far, is kept in the journal's state
(``emulation``) at every change, so a restarted node arms the same orders again instead of
cancelling them as never sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import msgspec

from tradeforge.domain import (
    ClientOrderId,
    Instrument,
    InstrumentId,
    Order,
    OrderSide,
    OrderSpec,
    OrderType,
    TimeInForce,
    TrailingOffsetType,
)
from tradeforge.execution import VenueCapabilities

__all__ = ["STATE_KEY", "OrderEmulator", "needs_emulation"]

STATE_KEY = "emulation"
_MARKET_TIFS = (TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK)


def needs_emulation(spec: OrderSpec, capabilities: VenueCapabilities) -> bool:
    """True when the venue cannot take ``spec``'s type and the node must hold it."""
    kind = spec.order_type
    if kind in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT):
        return not capabilities.stop_orders
    if kind is OrderType.TRAILING_STOP:
        return not capabilities.trailing_stop_orders
    if kind is OrderType.LIMIT_IF_TOUCHED:
        return not capabilities.if_touched_orders
    return False


@dataclass
class _Armed:
    spec: OrderSpec
    best: Decimal | None = None  # trailing: the best price since armed (and activated)


class OrderEmulator:
    """The armed orders (see the module docstring). ``instrument(iid)`` gives the tick for a
    trailing stop's level."""

    def __init__(self, instrument: Callable[[InstrumentId], Instrument | None]) -> None:
        self._instrument = instrument
        self._armed: dict[ClientOrderId, _Armed] = {}

    def __contains__(self, client_order_id: object) -> bool:
        return client_order_id in self._armed

    @property
    def armed(self) -> list[ClientOrderId]:
        """The client order ids held here, oldest first."""
        return list(self._armed)

    def arm(self, order: Order, best: Decimal | None = None) -> None:
        """Hold ``order`` until its trigger."""
        self._armed[order.client_order_id] = _Armed(order.spec, best)

    def disarm(self, client_order_id: ClientOrderId) -> bool:
        """Stop holding an order (cancelled, or released); False if it was not held."""
        return self._armed.pop(client_order_id, None) is not None

    def stop_level(self, client_order_id: ClientOrderId) -> Decimal | None:
        """Where the order triggers now (a trailing stop's moving level; None before a
        trailing stop has seen a price or reached its activation price)."""
        armed = self._armed.get(client_order_id)
        if armed is None:
            return None
        if armed.spec.order_type is OrderType.TRAILING_STOP:
            return self._trail(armed)
        trigger = armed.spec.trigger_price
        return trigger.as_decimal() if trigger is not None else None

    def on_trade(self, instrument_id: InstrumentId, price: Decimal) -> tuple[list[OrderSpec], bool]:
        """The orders a trade at ``price`` releases (as the specs to send), and whether a
        trailing stop moved (the state to save changed)."""
        released: list[OrderSpec] = []
        moved = False
        for cid, armed in list(self._armed.items()):
            spec = armed.spec
            if spec.instrument_id != instrument_id:
                continue
            if spec.order_type is OrderType.TRAILING_STOP:
                moved |= self._follow(armed, price)
                level = self._trail(armed)
                hit = level is not None and (price >= level if spec.is_buy else price <= level)
            else:
                trigger = spec.trigger_price
                assert trigger is not None  # a stop or if-touched order has one
                level = trigger.as_decimal()
                stop_like = spec.order_type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT)
                rising = spec.is_buy == stop_like
                hit = price >= level if rising else price <= level
            if hit:
                del self._armed[cid]
                released.append(_released(spec))
        return released, moved

    def _follow(self, armed: _Armed, price: Decimal) -> bool:
        spec = armed.spec
        if armed.best is None:
            activation = spec.trigger_price
            if activation is not None:
                level = activation.as_decimal()
                reached = price <= level if spec.is_buy else price >= level
                if not reached:
                    return False
            armed.best = price
            return True
        better = price < armed.best if spec.is_buy else price > armed.best
        if better:
            armed.best = price
        return better

    def _trail(self, armed: _Armed) -> Decimal | None:
        spec, best = armed.spec, armed.best
        if best is None or spec.trailing_offset is None:
            return None
        offset = spec.trailing_offset
        if spec.trailing_offset_type is TrailingOffsetType.PERCENT:
            offset = best * offset / 100
        level = best + offset if spec.is_buy else best - offset
        inst = self._instrument(spec.instrument_id)
        if inst is None:
            return level
        tick = inst.tick_size.as_decimal()
        # Away from the market: a sell's stop rounds down, a buy's up.
        rounding = ROUND_CEILING if spec.side is OrderSide.BUY else ROUND_FLOOR
        return (level / tick).to_integral_value(rounding) * tick

    # ------------------------------------------------------------ persistence
    def dump(self) -> dict[str, Any]:
        """The state to keep in the journal (client order id -> best price or None)."""
        return {
            "armed": {
                cid.value: (str(a.best) if a.best is not None else None)
                for cid, a in self._armed.items()
            }
        }

    @staticmethod
    def saved(body: dict[str, Any] | None) -> dict[str, Decimal | None]:
        """What ``dump`` kept: client order id -> best price."""
        if not body:
            return {}
        armed = body.get("armed") or {}
        return {cid: (Decimal(best) if best is not None else None) for cid, best in armed.items()}


def _released(spec: OrderSpec) -> OrderSpec:
    """What goes to the venue once ``spec`` triggered: a MARKET or a LIMIT order."""
    if spec.order_type in (OrderType.STOP_LIMIT, OrderType.LIMIT_IF_TOUCHED):
        return msgspec.structs.replace(
            spec, order_type=OrderType.LIMIT, trigger_price=None,
            trailing_offset=None, trailing_offset_type=None,
        )  # fmt: skip
    tif = spec.time_in_force if spec.time_in_force in _MARKET_TIFS else TimeInForce.GTC
    return msgspec.structs.replace(
        spec, order_type=OrderType.MARKET, price=None, trigger_price=None,
        trailing_offset=None, trailing_offset_type=None, time_in_force=tif,
        expire_time_ns=None, post_only=False, display_qty=None,
    )  # fmt: skip

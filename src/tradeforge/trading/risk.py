"""Pre-trade risk: checks that run on every order before it leaves the node.

A refusal is an ``OrderDenied`` with a ``DenyReason``; nothing here raises for a refused order.
This module holds the checks the backtester needs from day one; the trading service adds the
rest of the control list (rates, daily loss, budgets) on the same shape.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from tradeforge.domain import DenyReason, Instrument, InstrumentId, OrderSpec, Price

__all__ = ["RiskConfig", "RiskEngine"]


class RiskConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Limits per order; None means no limit."""

    max_order_quantity: Decimal | None = None
    max_order_notional: Decimal | None = None
    restricted_instruments: frozenset[str] = frozenset()
    halted: bool = False  # the kill switch: no new orders at all


class RiskEngine:
    """Runs the configured checks on an order spec."""

    def __init__(self, config: RiskConfig | None = None) -> None:
        self.config = config or RiskConfig()

    def check(
        self, spec: OrderSpec, instrument: Instrument, reference: Price | None
    ) -> tuple[DenyReason, str] | None:
        """Why ``spec`` must not be sent, or None when it may go."""
        cfg = self.config
        if cfg.halted:
            return DenyReason.KILL_SWITCH, "trading is halted"
        if cfg.restricted_instruments and str(spec.instrument_id) in cfg.restricted_instruments:
            return DenyReason.RESTRICTED_INSTRUMENT, f"{spec.instrument_id} is restricted"
        if cfg.max_order_quantity is None and cfg.max_order_notional is None:
            return None
        qty = spec.quantity.as_decimal()
        if cfg.max_order_quantity is not None and qty > cfg.max_order_quantity:
            msg = f"quantity {qty} exceeds the limit {cfg.max_order_quantity}"
            return DenyReason.MAX_ORDER_QUANTITY, msg
        price = spec.price or spec.trigger_price or reference
        if cfg.max_order_notional is not None and price is not None:
            notional = instrument.notional(spec.quantity, price)
            if notional.amount > cfg.max_order_notional:
                msg = f"notional {notional} exceeds the limit {cfg.max_order_notional}"
                return DenyReason.MAX_ORDER_NOTIONAL, msg
        return None

    def restricted(self, instrument_id: InstrumentId) -> bool:
        """True when the instrument may not be traded."""
        return str(instrument_id) in self.config.restricted_instruments

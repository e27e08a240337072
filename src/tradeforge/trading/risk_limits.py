"""The limits that apply to one order route: (account, strategy, instrument), resolved once.

Resolving walks the three scopes (node, account, strategy), replaces each scope's value with the
instrument's where one is set, then keeps the tightest per-order limit and, for the limits on a
scope's totals, one value per scope level. The engine caches the result per route and drops the
cache when the configuration changes, so a new limit applies to the very next order (R18).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tradeforge.trading.risk_config import Limits, RiskConfig

__all__ = ["LEVELS", "ConfigTraits", "Levels", "ResolvedLimits", "resolve", "scope_limits"]

LEVELS = 3  # global, account, strategy: the order of every per-level tuple

_ORDER_KEYS = (
    "max_order_quantity",
    "max_order_notional",
    "collar_pct",
    "collar_passive_pct",
    "drift_pct",
    "fat_finger_multiple",
    "fat_finger_pct",
    "typical_quantity",
)
Levels = tuple[Limits | None, Limits | None, Limits | None]


class ResolvedLimits:
    """Per-order limits (tightest across scopes) and the per-level position limits."""

    __slots__ = (
        "collar_passive_pct",
        "collar_pct",
        "drift_pct",
        "fat_finger_multiple",
        "fat_finger_pct",
        "max_order_notional",
        "max_order_quantity",
        "max_position",
        "needs_price",
        "restricted",
        "typical_quantity",
    )

    restricted: bool
    max_order_quantity: Decimal | None
    max_order_notional: Decimal | None
    collar_pct: Decimal | None
    collar_passive_pct: Decimal | None
    drift_pct: Decimal | None
    fat_finger_multiple: Decimal | None
    fat_finger_pct: Decimal | None
    typical_quantity: Decimal | None
    max_position: tuple[Decimal | None, Decimal | None, Decimal | None]  # per level
    needs_price: bool  # some check needs the order's price or a reference


def scope_limits(config: RiskConfig, account_key: str | None, strategy_key: str) -> Levels:
    """The ``Limits`` of each level for a route (None where the config has none)."""
    account = config.accounts.get(account_key) if account_key else None
    return config, account, config.strategies.get(strategy_key)


def _value(limits: Limits | None, instrument_key: str, key: str) -> Any:
    if limits is None:
        return None
    override = limits.instruments.get(instrument_key) if limits.instruments else None
    if override is not None:
        value = getattr(override, key)
        if value is not None:
            return value
    return getattr(limits, key)


def resolve(
    config: RiskConfig, account_key: str | None, strategy_key: str, instrument_key: str
) -> ResolvedLimits:
    """The limits for orders of ``strategy_key`` in ``instrument_key`` through ``account_key``."""
    levels = scope_limits(config, account_key, strategy_key)
    out = ResolvedLimits()
    out.restricted = any(
        limits is not None and instrument_key in limits.restricted_instruments for limits in levels
    )
    for key in _ORDER_KEYS:
        values = [v for v in (_value(lim, instrument_key, key) for lim in levels) if v is not None]
        setattr(out, key, min(values) if values else None)
    out.max_position = (
        _value(levels[0], instrument_key, "max_position"),
        _value(levels[1], instrument_key, "max_position"),
        _value(levels[2], instrument_key, "max_position"),
    )
    out.needs_price = (
        out.max_order_notional is not None
        or out.collar_pct is not None
        or out.collar_passive_pct is not None
        or out.drift_pct is not None
        or out.fat_finger_pct is not None
        or any(lim is not None and lim.capital_budget is not None for lim in levels)
        or config.check_free_balance
    )
    return out


class ConfigTraits:
    """What a configuration asks of the engine as a whole."""

    __slots__ = ("limited", "needs_reference", "stateful")

    def __init__(self, config: RiskConfig) -> None:
        everything: list[Limits] = []
        for limits in config.scopes():
            everything.append(limits)
            everything.extend(limits.instruments.values())

        def uses(*keys: str) -> bool:
            return any(getattr(lim, key) is not None for lim in everything for key in keys)

        self.stateful: bool = (
            uses(*_STATEFUL_KEYS)
            or config.duplicate_window_ms is not None
            or config.check_free_balance
        )
        """Some control needs the engine to count orders and follow their events."""
        self.limited: bool = (
            self.stateful
            or config.halted
            or uses(*_ORDER_KEYS)
            or any(lim.restricted_instruments for lim in everything)
        )
        """Some check can refuse an order."""
        self.needs_reference: bool = config.check_free_balance or uses(
            "max_order_notional",
            "collar_pct",
            "collar_passive_pct",
            "drift_pct",
            "fat_finger_pct",
            "capital_budget",
        )
        """Some check needs a reference price."""


_STATEFUL_KEYS = (
    "self_trade_prevention",
    "max_position",
    "max_open_orders",
    "capital_budget",
    "max_submits_per_s",
    "max_modifies_per_s",
    "max_cancels_per_s",
    "max_executions",
    "max_daily_loss",
    "max_drawdown",
    "drift_pct",
    "fat_finger_multiple",
)

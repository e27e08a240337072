"""Pre-trade risk configuration: typed, frozen, refusing unknown keys, validated once.

``RiskConfig`` holds the node-wide limits (its own ``Limits`` fields) plus ``accounts`` and
``strategies``, each a ``Limits`` for one account or strategy. Any ``Limits`` may carry
``instruments``: per-instrument values that replace the scope's value for that instrument.

How limits combine: within one scope an instrument's value replaces the scope's default; across
scopes (node, account, strategy) every limit applies, each to its own scope's totals, so the
tightest one decides. ``None`` means no limit. Percentages are percent (``5`` is 5 %).
Quantities are in the instrument's units, notionals in its settlement currency.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import msgspec

from tradeforge.domain import (
    AccountId,
    ConfigurationError,
    InstrumentId,
    InvalidValue,
    StrategyId,
)
from tradeforge.trading.self_trade import STP_MODES

__all__ = ["INSTRUMENT_KEYS", "Limits", "RiskConfig", "config_changes"]


class Limits(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The limits of one scope (the node, an account or a strategy); None means no limit."""

    # R1: one order's size
    max_order_quantity: Decimal | None = None
    max_order_notional: Decimal | None = None
    # R2: price collar against the reference: how far a buy may be above it (a sell below it),
    # and how far on the passive side (a buy below, a sell above); None leaves that side open
    collar_pct: Decimal | None = None
    collar_passive_pct: Decimal | None = None
    # R3: collar over a period: accepted prices of one side may not span more than this
    # within ``RiskConfig.drift_window_ms``
    drift_pct: Decimal | None = None
    # R16: soft block unless confirmed: quantity above k x typical, or price x % off reference
    fat_finger_multiple: Decimal | None = None
    fat_finger_pct: Decimal | None = None
    typical_quantity: Decimal | None = None  # None: learned from recent accepted orders
    # R4: worst-case position per instrument, counting open orders
    max_position: Decimal | None = None
    # R6: open orders of the scope
    max_open_orders: int | None = None
    # R5: worst-case exposure notional of the scope (its capital budget)
    capital_budget: Decimal | None = None
    # R7: messages per rolling second
    max_submits_per_s: int | None = None
    max_modifies_per_s: int | None = None
    max_cancels_per_s: int | None = None
    # R8: fills within ``RiskConfig.execution_window_ms`` that disable the scope
    max_executions: int | None = None
    # R10: the day's loss and drawdown that switch the scope to REDUCING
    max_daily_loss: Decimal | None = None
    max_drawdown: Decimal | None = None
    # R11
    restricted_instruments: frozenset[str] = frozenset()
    # R14: refuse an order that would trade against the account's own resting order
    # ("expire_taker"; see ``tradeforge.trading.self_trade``)
    self_trade_prevention: str | None = None
    # per-instrument replacements (only the keys in INSTRUMENT_KEYS)
    instruments: dict[str, Limits] = msgspec.field(default_factory=dict)


# The limits that make sense for one instrument; the others are totals of a scope.
INSTRUMENT_KEYS = frozenset(
    {
        "max_order_quantity",
        "max_order_notional",
        "collar_pct",
        "collar_passive_pct",
        "drift_pct",
        "fat_finger_multiple",
        "fat_finger_pct",
        "typical_quantity",
        "max_position",
    }
)

_DECIMAL_KEYS = (
    "max_order_quantity",
    "max_order_notional",
    "collar_pct",
    "collar_passive_pct",
    "drift_pct",
    "fat_finger_multiple",
    "fat_finger_pct",
    "typical_quantity",
    "max_position",
    "capital_budget",
    "max_daily_loss",
    "max_drawdown",
)
_POSITIVE_KEYS = frozenset(
    {"collar_pct", "collar_passive_pct", "drift_pct", "fat_finger_multiple", "fat_finger_pct"}
)
_INT_KEYS = (
    "max_open_orders",
    "max_submits_per_s",
    "max_modifies_per_s",
    "max_cancels_per_s",
    "max_executions",
)


class RiskConfig(Limits, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Node-wide limits, per-account and per-strategy limits, and how the checks run.

    The unlisted keys come from ``Limits`` and are the node-wide limits.
    """

    accounts: dict[str, Limits] = msgspec.field(default_factory=dict)
    strategies: dict[str, Limits] = msgspec.field(default_factory=dict)
    halted: bool = False  # start with trading halted (the node-wide kill switch in config)
    # R2: a reference price older than this is stale (None: never stale once known)
    reference_max_age_ms: int | None = None
    drift_window_ms: int = 60_000  # R3
    duplicate_window_ms: int | None = None  # R9: same order again within this is a duplicate
    execution_window_ms: int = 60_000  # R8
    check_free_balance: bool = False  # R5: orders must fit the account's free balance
    margin_ratio: Decimal = Decimal(1)  # R5: share of a derivative's notional it needs
    confirm_tag: str = "confirmed"  # R16 (and R9): the OrderSpec tag that confirms an order
    kill_switch_allows_reducing: bool = False  # R13: let exposure-reducing orders through
    fat_finger_samples: int = 20  # R16: accepted orders a learned typical size is taken over
    remember_client_order_ids: int = 1_000_000  # R9: ids kept for the duplicate-id check

    def __post_init__(self) -> None:
        _check_limits("risk", self)
        for section, table, parse in (
            ("accounts", self.accounts, AccountId),
            ("strategies", self.strategies, StrategyId),
        ):
            for key, limits in table.items():
                _check_id(f"risk.{section}", key, parse)
                _check_limits(f"risk.{section}.{key}", limits)
        for key in ("reference_max_age_ms", "duplicate_window_ms"):
            value = getattr(self, key)
            if value is not None and (type(value) is not int or value <= 0):
                raise ConfigurationError(f"risk.{key} must be a positive int, got {value!r}")
        for key in (
            "drift_window_ms",
            "execution_window_ms",
            "fat_finger_samples",
            "remember_client_order_ids",
        ):
            value = getattr(self, key)
            if type(value) is not int or value <= 0:
                raise ConfigurationError(f"risk.{key} must be a positive int, got {value!r}")
        if not self.margin_ratio.is_finite() or not 0 < self.margin_ratio <= 1:
            raise ConfigurationError(
                f"risk.margin_ratio must be in (0, 1], got {self.margin_ratio}"
            )
        if not self.confirm_tag:
            raise ConfigurationError("risk.confirm_tag must not be empty")

    def scopes(self) -> Iterator[Limits]:
        """Every ``Limits`` in the config: the node's, each account's, each strategy's."""
        yield self
        yield from self.accounts.values()
        yield from self.strategies.values()


def _check_id(path: str, key: str, parse: type[AccountId] | type[StrategyId]) -> None:
    try:
        parse(key)
    except InvalidValue as exc:
        raise ConfigurationError(f"{path}: key {key!r} is not a valid id: {exc}") from None


def _check_limits(path: str, limits: Limits) -> None:
    for key in _DECIMAL_KEYS:
        value = getattr(limits, key)
        if value is None:
            continue
        if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
            raise ConfigurationError(f"{path}.{key} must be a number >= 0, got {value!r}")
        if key in _POSITIVE_KEYS and value == 0:
            raise ConfigurationError(f"{path}.{key} must be positive, got {value}")
    for key in _INT_KEYS:
        value = getattr(limits, key)
        if value is not None and (type(value) is not int or value < 0):
            raise ConfigurationError(f"{path}.{key} must be an int >= 0, got {value!r}")
    for text in limits.restricted_instruments:
        _check_instrument(f"{path}.restricted_instruments", text)
    stp = limits.self_trade_prevention
    if stp is not None and stp not in STP_MODES:
        raise ConfigurationError(
            f"{path}.self_trade_prevention must be one of {sorted(STP_MODES)}, got {stp!r} "
            "(before an order is sent only the incoming order can be refused)"
        )
    for text, override in limits.instruments.items():
        _check_instrument(f"{path}.instruments", text)
        where = f"{path}.instruments.{text}"
        _check_limits(where, override)
        if (
            override.instruments
            or override.restricted_instruments
            or override.self_trade_prevention is not None
        ):
            raise ConfigurationError(
                f"{where}: an instrument's limits cannot nest instruments, restrict instruments "
                "or set self_trade_prevention (a limit of the whole scope)"
            )
        for key in _DECIMAL_KEYS + _INT_KEYS:
            if key not in INSTRUMENT_KEYS and getattr(override, key) is not None:
                raise ConfigurationError(
                    f"{where}.{key}: is a limit of the whole scope, not of one instrument "
                    f"(per instrument: {', '.join(sorted(INSTRUMENT_KEYS))})"
                )


def _check_instrument(path: str, text: str) -> None:
    try:
        InstrumentId.from_str(text)
    except InvalidValue as exc:
        raise ConfigurationError(f"{path}: {exc}") from None


def config_changes(old: RiskConfig, new: RiskConfig) -> dict[str, str]:
    """The keys whose values differ, dotted (``strategies.x.max_position``), as 'old -> new'."""
    # Unset values (None, empty sets) are left out, so a scope added or removed shows only
    # the limits it sets.
    before = {k: v for k, v in _flatten("", msgspec.to_builtins(old)) if v not in ("None", "")}
    after = {k: v for k, v in _flatten("", msgspec.to_builtins(new)) if v not in ("None", "")}
    changes: dict[str, str] = {}
    for key in sorted(before.keys() | after.keys()):
        was, now = before.get(key, "None"), after.get(key, "None")
        if was != now:
            changes[key] = f"{was} -> {now}"
    return changes


def _flatten(prefix: str, value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(f"{prefix}.{key}" if prefix else str(key), item)
    elif isinstance(value, list | tuple | set | frozenset):
        yield prefix, ",".join(sorted(str(v) for v in value))
    else:
        yield prefix, str(value)

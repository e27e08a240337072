"""The bodies of the ``risk`` resource: the pre-trade limits, kill switches and denied orders."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tradeforge.gateway.schema_base import FrozenOut

__all__ = ["DenialOut", "KillSwitchIn", "KillSwitchOut", "RiskLimitsIn", "RiskLimitsOut"]


class RiskLimitsOut(FrozenOut):
    """The effective pre-trade risk configuration (``docs/risk.md``; decimals as strings)."""

    limits: dict[str, Any]


class RiskLimitsIn(BaseModel):
    """A whole new risk configuration (keys left out take their defaults) and why."""

    model_config = ConfigDict(extra="forbid")

    limits: dict[str, Any] = Field(examples=[{"max_order_quantity": "2", "collar_pct": "5"}])
    reason: str = Field(min_length=1, max_length=500)


class KillSwitchIn(BaseModel):
    """Trip the kill switch of the node (``global``), its account, or one strategy."""

    model_config = ConfigDict(extra="forbid")

    scope: Literal["global", "account", "strategy"] = "global"
    id: str | None = Field(default=None, min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=500)


class KillSwitchOut(FrozenOut):
    """A kill switch: on since ``since`` (by, why), or off."""

    scope: str
    active: bool
    since: str | None = None
    by: str | None = None
    reason: str | None = None
    cancelled: int | None = None


class DenialOut(FrozenOut):
    """An order pre-trade risk refused (``reason`` is the ``DenyReason`` code)."""

    client_order_id: str
    strategy_id: str
    instrument_id: str
    reason: str
    message: str
    time: str

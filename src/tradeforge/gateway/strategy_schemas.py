"""The bodies of the ``strategies`` resource: registered strategies, the instances the node
runs (``strategies/instances``), their log lines and their performance.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tradeforge.gateway.schema_base import DecimalStr, FrozenOut

__all__ = [
    "InstrumentPerformanceOut",
    "StrategyConfigureIn",
    "StrategyErrorOut",
    "StrategyEventOut",
    "StrategyInfoOut",
    "StrategyInstanceIn",
    "StrategyInstanceOut",
    "StrategyLogLineOut",
    "StrategyOut",
    "StrategyPerformanceOut",
]


class StrategyInfoOut(FrozenOut):
    """A registered strategy: its parameters as the optimiser and forms read them."""

    name: str
    description: str
    parameters: dict[str, dict[str, Any]]


class StrategyErrorOut(FrozenOut):
    """A strategy hook that raised (the node stopped the strategy)."""

    hook: str
    time: str | None
    message: str


class StrategyOut(FrozenOut):
    """A strategy the node runs: ``state`` is running, stopped or failed."""

    id: str
    name: str
    instruments: list[str]
    params: dict[str, Any]
    state: Literal["running", "stopped", "failed"]
    open_orders: int
    errors: list[StrategyErrorOut]


_INSTANCE_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$"


class StrategyInstanceIn(BaseModel):
    """A strategy instance to create (stopped): a registered strategy, its instruments and
    parameters (checked by the strategy's declared parameters); ``id`` is chosen when left
    out."""

    model_config = ConfigDict(extra="forbid")

    strategy: str = Field(examples=["sma_cross"], min_length=1, max_length=64)
    instrument_ids: list[str] = Field(examples=[["BTC/USDT.SIM"]], min_length=1, max_length=10)
    params: dict[str, Any] = Field(default_factory=dict, examples=[{"fast": 10, "slow": 30}])
    id: str | None = Field(default=None, examples=["sma-btc"], pattern=_INSTANCE_ID)


class StrategyConfigureIn(BaseModel):
    """New parameters of a stopped instance: the whole set (keys left out take their
    defaults)."""

    model_config = ConfigDict(extra="forbid")

    params: dict[str, Any] = Field(examples=[{"fast": 5, "slow": 20}])


class StrategyInstanceOut(FrozenOut):
    """A strategy instance: ``state`` is running, stopped or failed (a hook raised since it
    last started: ``errors``)."""

    id: str
    strategy: str
    instrument_ids: list[str]
    params: dict[str, Any]
    state: Literal["running", "stopped", "failed"]
    open_orders: int
    errors: list[StrategyErrorOut]


class StrategyEventOut(FrozenOut):
    """What the ``strategies`` stream sends: a line of a strategy's log and where the strategy
    stands after it (``removed``: it left the node)."""

    strategy_id: str
    state: Literal["running", "stopped", "failed", "removed"]
    time: str
    level: Literal["info", "warning", "error"]
    message: str
    fields: dict[str, str]


class StrategyLogLineOut(FrozenOut):
    """One recent log line of an instance (its own lines, errors, what the node did)."""

    time: str
    level: Literal["info", "warning", "error"]
    message: str
    fields: dict[str, str]


class InstrumentPerformanceOut(FrozenOut):
    """An instance's position in one instrument (money in ``currency``)."""

    instrument_id: str
    quantity: DecimalStr
    avg_px_open: DecimalStr | None
    last_price: DecimalStr | None
    realized_pnl: DecimalStr
    unrealized_pnl: DecimalStr | None
    fees: DecimalStr
    currency: str


class StrategyPerformanceOut(FrozenOut):
    """An instance's live performance (totals in ``base_currency``)."""

    strategy_id: str
    time: str
    base_currency: str
    realized_pnl: DecimalStr
    unrealized_pnl: DecimalStr
    fees: DecimalStr
    fills: int
    orders: int
    open_orders: int
    positions: list[InstrumentPerformanceOut]

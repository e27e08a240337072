"""The bodies of the ``backtests`` resource: a backtest job, its trades and its result."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tradeforge.gateway.schema_base import DecimalStr, FrozenOut

__all__ = [
    "BacktestIn",
    "BacktestJobOut",
    "BacktestResultOut",
    "BacktestTradeOut",
    "BacktestTradePage",
    "EquityOut",
]


class BacktestIn(BaseModel):
    """A backtest to run as a job: a registered strategy and its parameters over catalog
    datasets. ``start``/``end`` are ISO-8601 (UTC when naive; ``end`` exclusive)."""

    model_config = ConfigDict(extra="forbid")

    strategy: str = Field(examples=["sma_cross"], min_length=1, max_length=64)
    params: dict[str, Any] = Field(default_factory=dict, examples=[{"fast": 10, "slow": 30}])
    instrument_ids: list[str] = Field(examples=[["BTC/USDT.SIM"]], min_length=1, max_length=10)
    timeframe: str = Field(default="1m", max_length=8)
    start: str | None = Field(default=None, max_length=40)
    end: str | None = Field(default=None, max_length=40)
    cash: DecimalStr = Field(default="1000000", max_length=40, pattern=r"^\d+(\.\d+)?$")
    fee: DecimalStr | None = Field(default=None, max_length=40, pattern=r"^\d+(\.\d+)?$")


class BacktestJobOut(FrozenOut):
    """A backtest job: ``state`` is queued, running, succeeded or failed; ``progress`` 0 to 1;
    ``warnings`` are strategy errors of a finished run."""

    id: str
    state: str
    progress: float
    error: str | None
    warnings: list[str]
    created: str
    started: str | None
    finished: str | None
    request: BacktestIn


class BacktestTradeOut(FrozenOut):
    """One round trip (``pnl`` before ``fees``, both in ``currency``)."""

    instrument_id: str
    strategy_id: str
    side: str
    quantity: DecimalStr
    entry_time: str
    exit_time: str
    entry_price: DecimalStr
    exit_price: DecimalStr
    pnl: DecimalStr
    fees: DecimalStr
    currency: str


class BacktestTradePage(FrozenOut):
    """One page of trades, oldest first; pass ``next_cursor`` as ``cursor`` for the next."""

    items: list[BacktestTradeOut]
    total: int
    next_cursor: str | None


class EquityOut(FrozenOut):
    """The equity curve at bar closes, thinned to at most ``points`` points (float64)."""

    time: list[str]
    equity: list[float]


class BacktestResultOut(FrozenOut):
    """What a finished backtest produced (money exact, as strings, in ``currency``)."""

    id: str
    currency: str
    initial_cash: DecimalStr
    final_cash: DecimalStr
    final_equity: DecimalStr
    realized_pnl: DecimalStr
    fees: DecimalStr
    open_cost: DecimalStr
    bars: int
    orders: int
    fills: int
    metrics: dict[str, Any]
    errors: list[str]
    trades: BacktestTradePage
    equity: EquityOut

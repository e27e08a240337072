"""The gateway's request and response bodies (the OpenAPI schema is built from these).

Prices, quantities and money are decimal strings, never JSON floats, so nothing is rounded on
the way through.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "BacktestIn",
    "BacktestJobOut",
    "BacktestResultOut",
    "BacktestTradeOut",
    "BacktestTradePage",
    "BookLevelOut",
    "BookOut",
    "CandleOut",
    "CandlesOut",
    "DenialOut",
    "EquityOut",
    "FillOut",
    "InstrumentOut",
    "KillSwitchIn",
    "KillSwitchOut",
    "InstrumentPerformanceOut",
    "OrderIn",
    "OrderModifyIn",
    "OrderOut",
    "OrderPage",
    "PortfolioOut",
    "PortfolioPointOut",
    "PositionOut",
    "ReconciliationOut",
    "RiskLimitsIn",
    "RiskLimitsOut",
    "StrategyConfigureIn",
    "StrategyErrorOut",
    "StrategyEventOut",
    "StrategyInfoOut",
    "StrategyInstanceIn",
    "StrategyInstanceOut",
    "StrategyLogLineOut",
    "StrategyOut",
    "StrategyPerformanceOut",
    "TickerOut",
    "VersionOut",
]

DecimalStr = str


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class VersionOut(_Out):
    """What is running."""

    version: str
    mode: str


class InstrumentOut(_Out):
    """A tradable instrument."""

    id: str
    symbol: str
    venue: str
    kind: str
    base: str | None
    quote: str
    tick_size: DecimalStr
    lot_size: DecimalStr
    min_quantity: DecimalStr
    min_notional: DecimalStr | None
    maker_fee: DecimalStr
    taker_fee: DecimalStr


class OrderIn(BaseModel):
    """A new order. ``client_order_id`` makes the request idempotent: sending the same id
    again returns the first order (or 409 when the other fields differ)."""

    model_config = ConfigDict(extra="forbid")

    instrument_id: str = Field(examples=["BTC/USDT.SIM"], max_length=128)
    side: Literal["BUY", "SELL"]
    type: Literal["MARKET", "LIMIT", "STOP_MARKET", "STOP_LIMIT"] = "MARKET"
    quantity: DecimalStr = Field(examples=["0.01"], max_length=40, pattern=r"^\d+(\.\d+)?$")
    price: DecimalStr | None = Field(default=None, max_length=40, pattern=r"^\d+(\.\d+)?$")
    trigger_price: DecimalStr | None = Field(default=None, max_length=40, pattern=r"^\d+(\.\d+)?$")
    time_in_force: Literal["GTC", "IOC", "FOK"] = "GTC"
    post_only: bool = False
    reduce_only: bool = False
    client_order_id: str | None = Field(
        default=None, min_length=1, max_length=36, pattern=r"^[A-Za-z0-9._:/-]+$"
    )


class OrderModifyIn(BaseModel):
    """A change to an open order: a new total quantity (above what has filled), a new limit
    price, a new trigger price; at least one. The order keeps its id."""

    model_config = ConfigDict(extra="forbid")

    quantity: DecimalStr | None = Field(
        default=None, examples=["0.02"], max_length=40, pattern=r"^\d+(\.\d+)?$"
    )
    price: DecimalStr | None = Field(default=None, max_length=40, pattern=r"^\d+(\.\d+)?$")
    trigger_price: DecimalStr | None = Field(default=None, max_length=40, pattern=r"^\d+(\.\d+)?$")


class OrderOut(_Out):
    """An order and where it stands."""

    client_order_id: str
    venue_order_id: str | None
    strategy_id: str
    instrument_id: str
    side: str
    type: str
    status: str
    quantity: DecimalStr
    filled_qty: DecimalStr
    price: DecimalStr | None
    trigger_price: DecimalStr | None
    avg_px: DecimalStr | None
    time_in_force: str


class OrderPage(_Out):
    """One page of orders; pass ``next_cursor`` as ``cursor`` for the next one."""

    items: list[OrderOut]
    next_cursor: str | None


class FillOut(_Out):
    """One execution."""

    trade_id: str
    client_order_id: str
    instrument_id: str
    side: str
    quantity: DecimalStr
    price: DecimalStr
    commission: DecimalStr
    commission_currency: str
    time: str = Field(description="when it executed (ISO-8601 UTC)")


class PositionOut(_Out):
    """A strategy's position in an instrument."""

    strategy_id: str
    instrument_id: str
    quantity: DecimalStr
    avg_px_open: DecimalStr | None
    realized_pnl: DecimalStr
    unrealized_pnl: DecimalStr | None
    last_price: DecimalStr | None


# ------------------------------------------------------------------ portfolio
class PortfolioOut(_Out):
    """The account's value now, in ``base_currency``: ``equity`` is every balance priced at the
    last prices (positions are held as balances, so they are in it); ``cash`` is each
    currency's total balance in that currency; ``positions_value`` the open positions marked to
    the last price (part of ``equity``); PnL and ``fees`` summed over every position;
    ``unpriced`` lists currencies with no price against the base yet (left out)."""

    base_currency: str
    equity: DecimalStr
    cash: dict[str, DecimalStr]
    positions_value: DecimalStr
    realized_pnl: DecimalStr
    unrealized_pnl: DecimalStr
    fees: DecimalStr
    unpriced: list[str]
    ts: str


class PortfolioPointOut(_Out):
    """One point of the value time series (``ts`` ISO-8601 UTC, whole milliseconds)."""

    ts: str
    equity: DecimalStr


# ------------------------------------------------------------------ market data
class BookLevelOut(_Out):
    """One price level: the price and the quantity resting at it."""

    price: DecimalStr
    size: DecimalStr


class BookOut(_Out):
    """The order book as the node last received it from the venue: ``bids`` best (highest)
    first, ``asks`` best (lowest) first, at most ``depth`` levels each; ``sequence`` is the
    venue's update id and ``time`` its time (ISO-8601 UTC)."""

    instrument_id: str
    bids: list[BookLevelOut]
    asks: list[BookLevelOut]
    sequence: int
    time: str


class CandleOut(_Out):
    """One bar: ``time`` is its open (UTC, ISO-8601)."""

    time: str
    open: DecimalStr
    high: DecimalStr
    low: DecimalStr
    close: DecimalStr
    volume: DecimalStr


class CandlesOut(_Out):
    """Bars of one instrument, oldest first. ``source`` is ``live`` (what the node built from
    trades since it started) or ``history`` (the catalog); for history, ``next_start`` is where
    the next page starts (None at the end of the range)."""

    instrument_id: str
    timeframe: str
    source: Literal["live", "history"]
    candles: list[CandleOut]
    next_start: str | None = None


class TickerOut(_Out):
    """The last price and the last 24 hours as the node saw them (its closed bars of that
    window; ``since`` is the open of the first, None when it has none yet)."""

    instrument_id: str
    last_price: DecimalStr | None
    open_24h: DecimalStr | None
    high_24h: DecimalStr | None
    low_24h: DecimalStr | None
    volume_24h: DecimalStr
    change_24h: DecimalStr | None
    change_pct_24h: DecimalStr | None
    bars_24h: int
    since: str | None
    as_of: str


# ------------------------------------------------------------------ risk
class RiskLimitsOut(_Out):
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


class KillSwitchOut(_Out):
    """A kill switch: on since ``since`` (by, why), or off."""

    scope: str
    active: bool
    since: str | None = None
    by: str | None = None
    reason: str | None = None
    cancelled: int | None = None


class DenialOut(_Out):
    """An order pre-trade risk refused (``reason`` is the ``DenyReason`` code)."""

    client_order_id: str
    strategy_id: str
    instrument_id: str
    reason: str
    message: str
    time: str


# ------------------------------------------------------------------ backtests
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


class BacktestJobOut(_Out):
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


class BacktestTradeOut(_Out):
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


class BacktestTradePage(_Out):
    """One page of trades, oldest first; pass ``next_cursor`` as ``cursor`` for the next."""

    items: list[BacktestTradeOut]
    total: int
    next_cursor: str | None


class EquityOut(_Out):
    """The equity curve at bar closes, thinned to at most ``points`` points (float64)."""

    time: list[str]
    equity: list[float]


class BacktestResultOut(_Out):
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


# ------------------------------------------------------------------ strategies
class StrategyInfoOut(_Out):
    """A registered strategy: its parameters as the optimiser and forms read them."""

    name: str
    description: str
    parameters: dict[str, dict[str, Any]]


class StrategyErrorOut(_Out):
    """A strategy hook that raised (the node stopped the strategy)."""

    hook: str
    time: str | None
    message: str


class StrategyOut(_Out):
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


class StrategyInstanceOut(_Out):
    """A strategy instance: ``state`` is running, stopped or failed (a hook raised since it
    last started: ``errors``)."""

    id: str
    strategy: str
    instrument_ids: list[str]
    params: dict[str, Any]
    state: Literal["running", "stopped", "failed"]
    open_orders: int
    errors: list[StrategyErrorOut]


class StrategyEventOut(_Out):
    """What the ``strategies`` stream sends: a line of a strategy's log and where the strategy
    stands after it (``removed``: it left the node)."""

    strategy_id: str
    state: Literal["running", "stopped", "failed", "removed"]
    time: str
    level: Literal["info", "warning", "error"]
    message: str
    fields: dict[str, str]


class StrategyLogLineOut(_Out):
    """One recent log line of an instance (its own lines, errors, what the node did)."""

    time: str
    level: Literal["info", "warning", "error"]
    message: str
    fields: dict[str, str]


class InstrumentPerformanceOut(_Out):
    """An instance's position in one instrument (money in ``currency``)."""

    instrument_id: str
    quantity: DecimalStr
    avg_px_open: DecimalStr | None
    last_price: DecimalStr | None
    realized_pnl: DecimalStr
    unrealized_pnl: DecimalStr | None
    fees: DecimalStr
    currency: str


class StrategyPerformanceOut(_Out):
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


# ------------------------------------------------------------------ reconciliation
class ReconciliationOut(_Out):
    """What the node's reconciliations with its venues found and did since it started."""

    adopted: list[str]
    resolved: list[str]
    fills_applied: int
    external: list[str]

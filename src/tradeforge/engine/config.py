"""``NodeConfig``: what ``tradeforge run --config node.toml`` reads.

Secrets never live in the file: a venue names the environment variables that hold its API key
and secret. Errors name the key and the bad value. Example::

    mode = "paper"                 # paper: simulated fills; live: orders go to the venue
    timeframe = "1m"
    base_currency = "USDT"
    database = "sqlite:///node/journal.sqlite"   # default: <data dir>/node/journal.sqlite

    [[venues]]
    name = "SIM"
    exchange = "binance"           # a CCXT exchange id; omit for an in-process random market
    rest_url = "http://127.0.0.1:8100"   # to point CCXT at our simulated exchange
    ws_url = "ws://127.0.0.1:8100"
    api_key_env = "SIMX_API_KEY"
    secret_env = "SIMX_API_SECRET"
    balances = { USDT = "100000" } # paper: the simulated account's starting balances

    [[strategies]]
    strategy = "sma_cross"         # a registered name or package.module:Class
    instruments = ["BTC/USDT.SIM"]
    params = { fast = 10, slow = 30, size = "0.01" }

    [risk]
    max_order_quantity = "1"

    [data]
    record_bars = true             # append the bars built from trades to the history catalog
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import msgspec

from tradeforge.domain.errors import ConfigurationError
from tradeforge.engine.venue_health import DisconnectPolicy
from tradeforge.trading import RiskConfig

__all__ = ["NodeConfig", "NodeDataConfig", "StrategyConfig", "VenueConfig", "load_node_config"]


class VenueConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One venue of the node."""

    name: str
    exchange: str | None = None
    rest_url: str | None = None
    ws_url: str | None = None
    api_key_env: str | None = None
    secret_env: str | None = None
    balances: dict[str, Decimal] = msgspec.field(default_factory=dict)
    instruments: list[str] = msgspec.field(default_factory=list)
    seed: int = 7
    events_per_second: float = 20.0
    options: dict[str, Any] = msgspec.field(default_factory=dict)


class StrategyConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One strategy of the node."""

    strategy: str
    instruments: list[str]
    params: dict[str, Any] = msgspec.field(default_factory=dict)
    id: str | None = None


class NodeDataConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the node keeps of the market data it sees."""

    record_bars: bool = False  # append the bars built from trades to <data dir>'s catalog
    record_batch: int = 60  # bars of one instrument written together
    record_every_s: float = 300.0  # ... or once the oldest waiting bar is this much older


class NodeConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A trading node."""

    mode: Literal["paper", "live"] = "paper"
    timeframe: str = "1m"
    base_currency: str = "USDT"
    database: str | None = None
    cancel_on_stop: bool = True
    inflight_timeout: float = 5.0  # seconds before an unanswered order is looked up
    inflight_interval: float = 2.0  # between lookups (the venue's visibility lag)
    inflight_retries: int = 5
    reconcile_every_s: float = 60.0  # periodic check of open orders and fills (0: only at start)
    value_every_s: float = 10.0  # the account's value recorded this often (0: never)
    venues: list[VenueConfig] = msgspec.field(default_factory=list)
    strategies: list[StrategyConfig] = msgspec.field(default_factory=list)
    risk: RiskConfig = msgspec.field(default_factory=RiskConfig)
    data: NodeDataConfig = msgspec.field(default_factory=NodeDataConfig)
    disconnect: DisconnectPolicy = msgspec.field(default_factory=DisconnectPolicy)  # R15


def load_node_config(path: Path) -> NodeConfig:
    """Read and check ``path`` (errors name the file, the key and the value)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"node config {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"node config {path}: not valid TOML: {exc}") from None
    try:
        config = msgspec.convert(raw, NodeConfig, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigurationError(f"node config {path}: {exc}") from None
    if not config.venues:
        raise ConfigurationError(f"node config {path}: add at least one [[venues]] table")
    if not config.strategies:
        raise ConfigurationError(f"node config {path}: add at least one [[strategies]] table")
    if config.value_every_s < 0:
        raise ConfigurationError(
            f"node config {path}: value_every_s = {config.value_every_s}: expected >= 0"
        )
    if config.data.record_batch < 1:
        raise ConfigurationError(
            f"node config {path}: data.record_batch = {config.data.record_batch}: expected >= 1"
        )
    if not config.data.record_every_s > 0:
        raise ConfigurationError(
            f"node config {path}: data.record_every_s = {config.data.record_every_s}: expected > 0"
        )
    names = [v.name for v in config.venues]
    if len(set(names)) != len(names):
        raise ConfigurationError(f"node config {path}: venue names must be unique, got {names}")
    for strategy in config.strategies:
        for instrument in strategy.instruments:
            venue = instrument.rpartition(".")[2]
            if venue not in names:
                raise ConfigurationError(
                    f"node config {path}: strategy {strategy.strategy!r} trades {instrument!r} "
                    f"but no venue is named {venue!r} (venues: {names})"
                )
    return config

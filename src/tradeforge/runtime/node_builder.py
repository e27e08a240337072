"""Compose a ``TradingNode`` from a ``NodeConfig``: the only place venues, the journal, risk and
strategies are wired together for paper and live trading."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import msgspec

from tradeforge.bus import LiveClock
from tradeforge.connectors.ccxt_convert import currency
from tradeforge.connectors.ccxt_venue import CcxtVenueClient, CcxtVenueConfig
from tradeforge.connectors.paper_venue import PaperVenueClient
from tradeforge.connectors.sim_exchange.random_market import RandomMarket
from tradeforge.connectors.sim_exchange.symbols import listed_symbols
from tradeforge.connectors.sim_venue import SimVenueClient
from tradeforge.data import Catalog
from tradeforge.domain import InstrumentId, Money, Timeframe, Venue
from tradeforge.domain.errors import ConfigurationError, InvalidValue
from tradeforge.engine import BarRecorder, TradingNode
from tradeforge.engine.config import NodeConfig, VenueConfig
from tradeforge.execution import VenueClient
from tradeforge.store import Database, SqlOrderJournal, SqlValuationStore, sqlite_url
from tradeforge.strategy import Strategy
from tradeforge.strategy.registry import StrategyRegistry
from tradeforge.trading import RiskEngine

__all__ = ["build_node"]

_CCXT_OPTIONS = {
    "fetchMarkets": {"types": ["spot"]},
    "fetchCurrencies": False,
    "fetchMargins": False,
}


def _secret(env: str | None, what: str, venue: str) -> str | None:
    if env is None:
        return None
    value = os.environ.get(env)
    if not value:
        raise ConfigurationError(f"venue {venue}: {what} is read from ${env}, which is not set")
    return value


def _ccxt(cfg: VenueConfig, clock: LiveClock, *, keys: bool) -> CcxtVenueClient:
    assert cfg.exchange is not None
    urls: dict[str, object] = {}
    if cfg.rest_url:
        rest = cfg.rest_url.rstrip("/")
        urls = {"api": {"public": rest + "/api/v3", "private": rest + "/api/v3"}}
    ws_base = cfg.ws_url.rstrip("/") if cfg.ws_url else None
    if ws_base:
        api = urls.setdefault("api", {})
        assert isinstance(api, dict)
        api["ws"] = {"spot": ws_base + "/ws", "ws-api": {"spot": ws_base + "/ws-api/v3"}}
    config = CcxtVenueConfig(
        cfg.exchange,
        Venue(cfg.name),
        api_key=_secret(cfg.api_key_env, "the API key", cfg.name) if keys else None,
        secret=_secret(cfg.secret_env, "the API secret", cfg.name) if keys else None,
        urls=urls,
        options={**(_CCXT_OPTIONS if cfg.exchange == "binance" else {}), **cfg.options},
        ws_url=ws_base + "/ws" if ws_base else None,
    )
    return CcxtVenueClient(config, clock=clock)


def _venue(cfg: VenueConfig, mode: str, clock: LiveClock) -> VenueClient:
    if cfg.exchange is None:
        if mode == "live":
            raise ConfigurationError(f"venue {cfg.name}: live mode needs an exchange (a CCXT id)")
        pairs = [i.rpartition(".")[0] for i in cfg.instruments]
        if not pairs:
            raise ConfigurationError(
                f"venue {cfg.name}: a random market needs instruments, e.g. ['BTC/USDT.{cfg.name}']"
            )
        listed = listed_symbols(pairs)
        instruments = [
            msgspec.structs.replace(
                s.instrument, id=InstrumentId(s.instrument.id.symbol, Venue(cfg.name))
            )
            for s in listed
        ]
        feeds = [
            RandomMarket(inst, seed=cfg.seed + k, start_price=s.start_price,
                         events_per_second=cfg.events_per_second)
            for k, (inst, s) in enumerate(zip(instruments, listed, strict=True))
        ]  # fmt: skip
        balances = [
            Money.rounded(v, currency(k))
            for k, v in (cfg.balances or {"USDT": Decimal(100_000)}).items()
        ]
        return SimVenueClient(instruments=instruments, balances=balances, clock=clock, feeds=feeds)
    if mode == "paper":
        data = _ccxt(cfg, clock, keys=False)
        return PaperVenueClient(
            data,
            balances=cfg.balances or {"USDT": Decimal(100_000)},
            clock=clock,
            instruments=cfg.instruments,
        )
    return _ccxt(cfg, clock, keys=True)


def _strategies(config: NodeConfig) -> list[Strategy]:
    registry = StrategyRegistry()
    out = []
    for k, cfg in enumerate(config.strategies):
        cls = registry.load(cfg.strategy)
        try:
            instruments = [InstrumentId.from_str(i) for i in cfg.instruments]
        except InvalidValue as exc:
            raise ConfigurationError(f"strategies[{k}].instruments: {exc}") from None
        out.append(cls(cfg.params, strategy_id=cfg.id, instruments=instruments))
    return out


def build_node(
    config: NodeConfig,
    *,
    data_dir: Path,
    clock: LiveClock | None = None,
    extra: list[Strategy] | None = None,
) -> TradingNode:
    """The node ``config`` describes (connections are opened by ``node.start()``)."""
    clock = clock or LiveClock()
    venues = {Venue(v.name): _venue(v, config.mode, clock) for v in config.venues}
    database = Database(config.database or sqlite_url(data_dir / "node" / "journal.sqlite"))
    database.upgrade()
    node = TradingNode(
        clock=clock,
        venues=venues,
        strategies=[*_strategies(config), *(extra or [])],
        journal=SqlOrderJournal(database),
        timeframe=Timeframe.from_str(config.timeframe),
        base_currency=currency(config.base_currency),
        risk=RiskEngine(config.risk, clock=clock, track=True),
        cancel_on_stop=config.cancel_on_stop,
        inflight_timeout=config.inflight_timeout,
        inflight_interval=config.inflight_interval,
        inflight_retries=config.inflight_retries,
        reconcile_every_s=config.reconcile_every_s,
        valuations=SqlValuationStore(database),
        value_every_s=config.value_every_s,
        disconnect=config.disconnect,
    )
    if config.data.record_bars:  # the history catalog lives in the data directory
        node.bar_recorder = BarRecorder(
            Catalog(data_dir),
            node.instruments.get,
            since_ns=clock.timestamp_ns(),
            batch_bars=config.data.record_batch,
            max_delay_ns=int(config.data.record_every_s * 1e9),
        )
    return node

"""The embedded platform (``tradeforge up``): one process with the gateway and a paper-trading
node on an in-process simulated venue fed by a generated market; the journal is an SQLite file
under the data directory, so a second start carries on where the first stopped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

from fastapi import FastAPI

from tradeforge.bus import LiveClock
from tradeforge.engine import TradingNode
from tradeforge.engine.config import NodeConfig, VenueConfig
from tradeforge.gateway import GatewayServices, ManualTrading, create_app
from tradeforge.observability import get_logger
from tradeforge.runtime.node_builder import build_node

__all__ = ["embedded_app"]

DEFAULT_INSTRUMENTS = ["BTC/USDT.SIM", "ETH/USDT.SIM"]
log = get_logger("tradeforge.platform")


def embedded_config(data_dir: Path) -> NodeConfig:
    """The node ``tradeforge up`` runs: paper trading on a generated market."""
    return NodeConfig(
        mode="paper",
        timeframe="1m",
        base_currency="USDT",
        database=f"sqlite:///{data_dir / 'platform' / 'journal.sqlite'}",
        cancel_on_stop=False,  # a restart keeps resting orders, as a venue would
        venues=[
            VenueConfig(
                name="SIM",
                instruments=DEFAULT_INSTRUMENTS,
                balances={"USDT": Decimal(1_000_000), "BTC": Decimal(10), "ETH": Decimal(100)},
                events_per_second=20.0,
            )
        ],
        strategies=[],
    )


def embedded_app(data_dir: Path, *, clock: LiveClock | None = None) -> tuple[FastAPI, TradingNode]:
    """The gateway app with the node it serves; the node starts and stops with the app."""
    manual = ManualTrading(strategy_id="manual", instruments=DEFAULT_INSTRUMENTS)
    node = build_node(embedded_config(data_dir), data_dir=data_dir, clock=clock, extra=[manual])
    app = create_app(GatewayServices(node=node, manual=manual, mode="paper"))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        report = await node.start()
        log.info("platform ready", adopted=len(report.adopted), resolved=len(report.resolved),
                 external=len(report.external))  # fmt: skip
        try:
            yield
        finally:
            await node.stop()
            log.info("platform stopped cleanly")

    app.router.lifespan_context = lifespan
    return app, node

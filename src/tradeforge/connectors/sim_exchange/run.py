"""Build a simulated exchange from its options and run it under uvicorn."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import uvicorn

from tradeforge.connectors.sim_exchange.app import create_app
from tradeforge.connectors.sim_exchange.faults import parse_fault
from tradeforge.connectors.sim_exchange.market import MarketFeed
from tradeforge.connectors.sim_exchange.random_market import RandomMarket
from tradeforge.connectors.sim_exchange.server import ExchangeServer, ServerOptions
from tradeforge.connectors.sim_exchange.symbols import listed_symbols
from tradeforge.data import Catalog
from tradeforge.observability import get_logger

__all__ = ["build_server", "serve_forever"]

log = get_logger("tradeforge.sim_exchange")


def build_server(
    *,
    instruments: str | list[str],
    feed: str,
    speed: float,
    seed: int,
    data_dir: Path,
    catalog_dir: Path | None = None,
    weight_limit: int = 6000,
    orders_per_10s: int = 100,
    faults: Sequence[str] = (),
    admin_token: str | None = None,
    tick_ms: int = 50,
    events_per_second: float = 20.0,
) -> ExchangeServer:
    """An ``ExchangeServer`` with one feed per listed pair (errors name the bad option)."""
    listed = listed_symbols(instruments)
    catalog = Catalog(catalog_dir or data_dir)
    feeds: dict[str, MarketFeed] = {}
    for i, item in enumerate(listed):
        if feed == "random":
            feeds[item.symbol] = RandomMarket(
                item.instrument,
                seed=seed + i,
                start_price=item.start_price,
                events_per_second=events_per_second,
            )
        else:
            from tradeforge.connectors.sim_exchange.replay_market import (  # noqa: PLC0415
                make_feed,
            )

            feeds[item.symbol] = make_feed(
                feed, item.instrument, catalog=catalog, seed=seed + i, speed=speed
            )
    options = ServerOptions(
        data_dir=data_dir,
        weight_per_minute=weight_limit,
        orders_per_10s=orders_per_10s,
        faults=tuple(parse_fault(f) for f in faults),
        admin_token=admin_token,
        tick_ms=tick_ms,
    )
    return ExchangeServer(listed, feeds, options)


def serve_forever(*, host: str, port: int, **kwargs: object) -> None:
    """Build the server and serve it until interrupted."""
    server = build_server(**kwargs)  # type: ignore[arg-type]
    app = create_app(server)
    log.info("simulated exchange listening", url=f"http://{host}:{port}",
             symbols=[s.symbol for s in server.listed])  # fmt: skip
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        ws_ping_interval=20,
        ws_ping_timeout=60,
    )

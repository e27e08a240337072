"""The embedded platform (``tradeforge up``): one process with the gateway and a paper-trading
node on an in-process simulated venue fed by a generated market; the journal is an SQLite file
under the data directory, so a second start carries on where the first stopped."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import msgspec
from fastapi import FastAPI

from tradeforge.auth.config import AuthConfig, generate_key_text
from tradeforge.auth.errors import InvalidInput
from tradeforge.auth.principal import RequestContext
from tradeforge.auth.service import AuthService
from tradeforge.backtest.jobs import BacktestJobs
from tradeforge.bus import LiveClock
from tradeforge.data import Catalog
from tradeforge.engine import OrderBooks, TradingNode
from tradeforge.engine.config import NodeConfig, VenueConfig
from tradeforge.gateway import GatewayServices, ManualTrading, create_app
from tradeforge.gateway.config import GatewayConfig, RedisConfig
from tradeforge.gateway.rate_limit import make_rate_limiter
from tradeforge.gateway.routers.risk import restore_limits
from tradeforge.gateway.web import default_web_dir, mount_web
from tradeforge.observability import get_logger
from tradeforge.runtime.errors import ConfigurationError
from tradeforge.runtime.node_builder import build_node
from tradeforge.store import Database, sqlite_url

__all__ = ["embedded_app"]

DEFAULT_INSTRUMENTS = ["BTC/USDT.SIM", "ETH/USDT.SIM"]
log = get_logger("tradeforge.platform")


def embedded_config(data_dir: Path, database: str | None = None) -> NodeConfig:
    """The node ``tradeforge up`` runs: paper trading on a generated market, its journal in
    ``database`` (default: the SQLite file under the data directory)."""
    return NodeConfig(
        mode="paper",
        timeframe="1m",
        base_currency="USDT",
        database=database or sqlite_url(data_dir / "platform" / "journal.sqlite"),
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


def _key_files(auth: AuthConfig, keys_dir: Path) -> AuthConfig:
    """The auth settings, with key files made on the first start when no key was configured
    (random 256-bit keys, readable by the owner only)."""
    changes: dict[str, str] = {}
    for field, name in (("jwt_secret", "jwt.key"), ("secret_key", "secret.key")):
        if getattr(auth, field) or getattr(auth, f"{field}_file"):
            continue
        path = keys_dir / name
        if not path.exists():
            keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(generate_key_text())
        changes[f"{field}_file"] = str(path)
    return msgspec.structs.replace(auth, **changes) if changes else auth


def embedded_app(
    data_dir: Path,
    *,
    auth_config: AuthConfig | None = None,
    clock: LiveClock | None = None,
    gateway: GatewayConfig | None = None,
    redis: RedisConfig | None = None,
    database_url: str | None = None,
) -> tuple[FastAPI, TradingNode, AuthService]:
    """The gateway app with the node and auth service it serves; the node starts and stops
    with the app. On the first start the admin user is created (its password from
    ``auth.admin_password``, else generated and logged once); a configured password the auth
    service's policy refuses (too short, well known, containing the user name) refuses
    start-up. Rate limits count in Redis when ``redis.url`` is set, else in memory. The built
    web UI (``gateway.web_dir``, else the source tree's ``web/dist``) is served at ``/`` when
    present; a configured directory without one refuses start-up. The journal, users and audit
    log live in ``database_url`` (``db.url``; default: SQLite under ``data_dir``)."""
    clock = clock or LiveClock()
    gateway = gateway or GatewayConfig()
    web_dir = Path(gateway.web_dir) if gateway.web_dir else default_web_dir()
    if gateway.web_dir and not (web_dir / "index.html").is_file():
        raise ConfigurationError(
            f"TRADEFORGE__GATEWAY__WEB_DIR = {gateway.web_dir!r}: no index.html there (build the "
            "UI with `npm run build` in web/, or leave the setting empty)"
        )
    config = embedded_config(data_dir, database_url)
    manual = ManualTrading(strategy_id="manual", instruments=DEFAULT_INSTRUMENTS)
    node = build_node(config, data_dir=data_dir, clock=clock, extra=[manual])
    node.books = OrderBooks()  # the generated market sends books: the API serves them
    settings = _key_files(auth_config or AuthConfig(), data_dir / "platform" / "keys")
    database = Database(config.database or sqlite_url(data_dir / "platform" / "journal.sqlite"))
    database.upgrade()
    auth = AuthService(config=settings, database=database, clock=clock)
    try:
        created = auth.ensure_admin(settings.admin_username, settings.admin_password or None,
                                    RequestContext())  # fmt: skip
    except InvalidInput as exc:
        raise ConfigurationError(
            f"TRADEFORGE__AUTH__ADMIN_PASSWORD is refused ({exc}); choose a long passphrase, "
            "or leave it unset to have one generated and printed once"
        ) from None
    if created is not None and created[1] is not None:
        print(
            f"created user {settings.admin_username!r} with password {created[1]} "
            "(shown once: change it, or set TRADEFORGE__AUTH__ADMIN_PASSWORD before the "
            "first start)",
            file=sys.stderr,
        )
    limiter = make_rate_limiter(redis or RedisConfig())
    catalog = Catalog(data_dir)  # the history catalog lives in the data directory
    backtests = BacktestJobs(catalog=catalog, directory=data_dir / "platform" / "backtests",
                             clock=clock)  # fmt: skip
    services = GatewayServices(node=node, manual=manual, auth=auth, mode="paper",
                               catalog=catalog, backtests=backtests)  # fmt: skip
    app = create_app(services, gateway=gateway, limiter=limiter)
    if mount_web(app, web_dir):  # after the API routes: its fallback takes what they leave
        log.info("web UI served at /", directory=str(web_dir))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        report = await node.start()
        if restore_limits(node):
            log.info("risk limits set over the API restored")
        log.info("platform ready", adopted=len(report.adopted), resolved=len(report.resolved),
                 external=len(report.external))  # fmt: skip
        try:
            yield
        finally:
            backtests.close()
            await node.stop()
            await limiter.close()
            log.info("platform stopped cleanly")

    app.router.lifespan_context = lifespan
    return app, node, auth

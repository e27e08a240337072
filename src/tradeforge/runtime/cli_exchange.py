"""``tradeforge exchange``: run the simulated exchange and create its accounts.

The server keeps its accounts, balances, orders and trades in ``--data-dir`` (an SQLite file);
``add-account`` writes there too, so a running server sees a new account on its first request.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol

import click

from tradeforge.domain.errors import ConfigurationError, InvalidValue
from tradeforge.runtime.settings import Settings

__all__ = ["exchange_group"]


class _Invocation(Protocol):
    @property
    def settings(self) -> Settings: ...


def _data_dir(ctx: click.Context, data_dir: Path | None) -> Path:
    if data_dir is not None:
        return data_dir
    invocation: _Invocation = ctx.obj
    return Path(invocation.settings.data.path)


def _speed(text: str) -> float:
    raw = text.lower().removesuffix("x")
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"--speed: {text!r} is not a speed; write e.g. 10x") from None
    if not 0 < value <= 100_000:
        raise ConfigurationError(f"--speed: {text!r} must be above 0x and at most 100000x")
    return value


def _balances(items: tuple[str, ...]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for item in items:
        asset, eq, amount = item.partition("=")
        asset = asset.strip().upper()
        try:
            value = Decimal(amount)
        except InvalidOperation:
            value = Decimal("NaN")
        if not eq or not asset.isalnum() or not value.is_finite() or value < 0:
            raise InvalidValue(f"--balance {item!r}: write ASSET=AMOUNT, e.g. USDT=100000")
        out[asset] = out.get(asset, Decimal(0)) + value
    return out


@click.group("exchange")
def exchange_group() -> None:
    """Run TradeForge's simulated exchange (a Binance Spot compatible server).

    \b
    Examples:
      tradeforge exchange add-account --data-dir ./simx --balance USDT=100000 --balance BTC=1
      tradeforge exchange serve --data-dir ./simx --port 8100 --instruments BTC/USDT,ETH/USDT
      tradeforge exchange serve --data-dir ./data --feed replay:BTC/USDT.SIM:1m --speed 10x
    """


@exchange_group.command("add-account")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Where the server keeps its state [the data directory].")  # fmt: skip
@click.option("--balance", "balances", multiple=True, metavar="ASSET=AMOUNT",
              help="A starting balance; repeatable.")  # fmt: skip
@click.pass_context
def add_account(ctx: click.Context, data_dir: Path | None, balances: tuple[str, ...]) -> None:
    """Create an account; print its API key and secret as one JSON object.

    \b
    Examples:
      tradeforge exchange add-account --data-dir ./simx --balance USDT=100000 --balance BTC=1
    """
    from tradeforge.connectors.sim_exchange.store import ExchangeStore  # noqa: PLC0415

    amounts = _balances(balances)
    store = ExchangeStore(_data_dir(ctx, data_dir))
    try:
        row = store.add_account(amounts, time.time_ns() // 1_000_000)  # wall-clock: created at
    finally:
        store.close()
    click.echo(json.dumps({"api_key": row.api_key, "api_secret": row.api_secret}))


@exchange_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8100, show_default=True, type=click.IntRange(0, 65535))
@click.option("--instruments", default="BTC/USDT,ETH/USDT", show_default=True,
              metavar="PAIRS", help="Comma-separated BASE/QUOTE pairs.")  # fmt: skip
@click.option("--feed", default="random", show_default=True, metavar="random|replay:DATASET",
              help="Market data: seeded random market, or a catalog dataset replayed.")  # fmt: skip
@click.option("--speed", default="1x", show_default=True, help="Replay speed, e.g. 10x.")
@click.option("--seed", default=7, show_default=True, type=int, help="Seed of the random feed.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Where the server keeps its state [the data directory].")  # fmt: skip
@click.option("--weight-limit", default=6000, show_default=True, type=click.IntRange(1),
              help="Request weight per IP per minute.")  # fmt: skip
@click.option("--orders-per-10s", default=100, show_default=True, type=click.IntRange(1),
              help="New orders per account per 10 seconds.")  # fmt: skip
@click.option("--fault", "faults", multiple=True, metavar="KIND[:COUNT[:SECONDS]]",
              help="Arm a fault at start (see docs/sim-exchange.md); repeatable.")  # fmt: skip
@click.option("--events-per-second", default=20.0, show_default=True,
              type=click.FloatRange(0.1, 100_000),
              help="Mean rate of the random market's participant events.")  # fmt: skip
@click.option("--admin-token", default=None, help="Required in X-Admin-Token for /admin/*.")
@click.pass_context
def serve(ctx: click.Context, /, **options: Any) -> None:
    """Serve the Binance Spot v3 REST API and WebSocket streams over the matching engine.

    \b
    Examples:
      tradeforge exchange serve --port 8100 --instruments BTC/USDT,ETH/USDT
      tradeforge exchange serve --fault http_5xx:10 --fault skip_depth:3
    """
    from tradeforge.connectors.sim_exchange.run import serve_forever  # noqa: PLC0415

    data_dir: Path | None = options.pop("data_dir")
    options["speed"] = _speed(options["speed"])
    directory = _data_dir(ctx, data_dir)  # its state, and the catalog a replay reads
    serve_forever(data_dir=directory, catalog_dir=directory, **options)

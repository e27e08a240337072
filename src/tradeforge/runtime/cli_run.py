"""``tradeforge run --config node.toml``: a trading node, paper or live, until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path
from typing import Protocol

import click

from tradeforge.runtime.settings import Settings

__all__ = ["run_command"]


class _Invocation(Protocol):
    @property
    def settings(self) -> Settings: ...


@click.command("run")
@click.option("--config", "config_path", required=True, metavar="FILE",
              type=click.Path(dir_okay=False, path_type=Path),
              help="The node's TOML file (venues, strategies, risk).")  # fmt: skip
@click.option("--for", "seconds", type=click.FloatRange(min=0.1), default=None, metavar="SECONDS",
              help="Stop by itself after SECONDS (otherwise on Ctrl-C / SIGTERM).")  # fmt: skip
@click.pass_obj
def run_command(invocation: _Invocation, config_path: Path, seconds: float | None) -> None:
    """Run strategies on paper or live venues until stopped.

    The node journals every order before sending it, recovers from its journal after a crash
    and reconciles with each venue before it trades.

    \b
    Examples:
      tradeforge run --config node.toml
      tradeforge run --config paper.toml --for 60
    """
    from tradeforge.engine.config import load_node_config  # noqa: PLC0415

    config = load_node_config(config_path)
    asyncio.run(_run(config, Path(invocation.settings.data.path), seconds))


async def _run(config: object, data_dir: Path, seconds: float | None) -> None:
    from tradeforge.engine.config import NodeConfig  # noqa: PLC0415
    from tradeforge.runtime.node_builder import build_node  # noqa: PLC0415

    assert isinstance(config, NodeConfig)
    node = build_node(config, data_dir=data_dir)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    report = await node.start()
    click.echo(
        f"node running ({config.mode}): {len(node.strategies)} strategies, "
        f"{len(node.venues)} venues; reconciled: {len(report.adopted)} orders adopted, "
        f"{len(report.resolved)} resolved, {report.fills_applied} fills applied, "
        f"{len(report.external)} external",
        err=True,
    )
    try:
        if seconds is None:
            await stop.wait()
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), seconds)
    finally:
        await node.stop()
    orders = list(node.oms)
    click.echo(
        f"node stopped: {len(orders)} orders, {node.report.fills_applied} fills applied", err=True
    )

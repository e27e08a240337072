"""``tradeforge overview``, what ``make run`` shows: version, settings, services, next steps."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import msgspec
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import tradeforge
from tradeforge import _native as native
from tradeforge.runtime.settings import Settings

__all__ = ["SERVICES", "Service", "is_present", "render_overview"]


class Service(msgspec.Struct, frozen=True, kw_only=True):
    """One of the nine services of the architecture and where it lives (see DESIGN.md).

    ``module`` is the Python package; ``None`` for the Web UI, which lives in ``web/``.
    """

    name: str
    location: str
    module: str | None


SERVICES: tuple[Service, ...] = (
    Service(name="Web UI", location="web/ (React + TypeScript)", module=None),
    Service(name="API gateway", location="tradeforge.gateway", module="tradeforge.gateway"),
    Service(name="Core engine", location="tradeforge.engine", module="tradeforge.engine"),
    Service(name="Data service", location="tradeforge.data", module="tradeforge.data"),
    Service(name="Strategy service", location="tradeforge.strategy", module="tradeforge.strategy"),
    Service(name="Trading service", location="tradeforge.trading", module="tradeforge.trading"),
    Service(
        name="Execution service", location="tradeforge.execution", module="tradeforge.execution"
    ),
    Service(
        name="Exchange connectors", location="tradeforge.connectors", module="tradeforge.connectors"
    ),
    Service(name="Auth service", location="tradeforge.auth", module="tradeforge.auth"),
)

_NEXT_STEPS = (
    ("tradeforge up", "the platform: API, web UI and a paper-trading node (http://127.0.0.1:8000)"),
    ("tradeforge backtest --strategy sma_cross --instrument BTC/USDT.SIM", "backtest a strategy"),
    ("tradeforge run --config node.toml", "paper or live trading (docs/trading-node.md)"),
    ("tradeforge exchange serve", "the simulated Binance exchange (docs/sim-exchange.md)"),
    ("tradeforge config show", "every setting, its value and where it came from"),
    ("make test", "lint, type-check and run the tests"),
)

# What the architecture asks for that is not built yet (see the open issues).
_ROADMAP = (
    "the distributed shape (services over NATS JetStream with PostgreSQL and Redis), "
    "parameter optimisation"
)


def is_present(service: Service) -> bool:
    """Whether the service's package exists yet (importable, or ``web/`` in a source checkout)."""
    if service.module is None:
        checkout = Path(tradeforge.__file__).resolve().parents[2]
        return (checkout / "web" / "package.json").is_file()
    return importlib.util.find_spec(service.module) is not None


def render_overview(console: Console, settings: Settings, config_file: Path | None) -> None:
    """Print the overview to ``console``."""
    console.print(
        f"[bold]TradeForge {tradeforge.__version__}[/bold]: one strategy codebase for "
        "backtest, paper and live trading."
    )
    console.print()
    source = escape(str(settings.source_of("data.dir")))
    console.print(f"data dir  {escape(str(settings.data.path))}  [dim]({source})[/dim]")
    console.print(f"log       {settings.log.level}, {settings.log.format}")
    console.print(f"config    {escape(_describe_sources(settings, config_file))}")
    console.print(f"core      {escape(native.status())}")
    console.print()
    table = Table(title="Services", title_justify="left")
    table.add_column("service")
    table.add_column("package")
    table.add_column("present")
    for service in SERVICES:
        present = "[green]yes[/green]" if is_present(service) else "[dim]not yet[/dim]"
        table.add_row(service.name, service.location, present)
    console.print(table)
    console.print()
    console.print("[bold]Next steps[/bold]")
    for command, why in _NEXT_STEPS:
        console.print(f"  [cyan]{command}[/cyan]\n      {why}")
    console.print(f"\nOn the roadmap, not built yet: {_ROADMAP}.")


def _describe_sources(settings: Settings, config_file: Path | None) -> str:
    parts = ["defaults"]
    if config_file is not None:
        parts.append(f"file {config_file}")
    used = {entry.source for entry in settings.entries()}
    parts += sorted(f"env {s.name}" for s in used if s.kind == "env")
    parts += sorted(f"flag {s.name}" for s in used if s.kind == "cli")
    return " < ".join(parts)

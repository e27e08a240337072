"""The ``tradeforge`` command line: global options, settings at start-up, one-line user errors."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, get_args

import click
from rich.console import Console

from tradeforge import __version__
from tradeforge.observability import LogFormat, LogLevel, configure_logging, get_logger
from tradeforge.runtime.cli_backtest import backtest_command
from tradeforge.runtime.cli_data import data_group
from tradeforge.runtime.cli_db import db_group
from tradeforge.runtime.cli_exchange import exchange_group
from tradeforge.runtime.cli_run import run_command
from tradeforge.runtime.cli_up import up_command
from tradeforge.runtime.errors import TradeForgeError
from tradeforge.runtime.overview import render_overview
from tradeforge.runtime.settings import Settings, load_settings
from tradeforge.runtime.show import settings_as_json, settings_as_toml

__all__ = ["cli", "main"]


@dataclass(frozen=True, kw_only=True)
class Invocation:
    """What the group hands its commands: the validated settings and the file they came from."""

    settings: Settings
    config_file: Path | None


pass_invocation = click.make_pass_decorator(Invocation)


class UserError(click.ClickException):
    """A TradeForgeError shown as one red ``error: ...`` line on stderr, exit status 2."""

    exit_code = 2

    def show(self, file: IO[Any] | None = None) -> None:
        click.secho(f"error: {self.format_message()}", fg="red", err=True)


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TradeForgeError as exc:
            raise UserError(" ".join(str(exc).splitlines())) from exc


@click.group(
    cls=_Group,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(
    __version__, "--version", prog_name="tradeforge", message="%(prog)s %(version)s"
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="TOML file with [log] and [data] tables.",
)
@click.option("--data-dir", metavar="DIR", help="Market data directory (data.dir).")
@click.option(
    "--log-level",
    type=click.Choice(get_args(LogLevel), case_sensitive=False),
    help="Drop log records below this level (log.level).",
)
@click.option(
    "--log-format",
    type=click.Choice(get_args(LogFormat), case_sensitive=False),
    help="console for people, json for log shippers (log.format).",
)
@click.pass_context
def cli(
    ctx: click.Context,
    config_file: Path | None,
    data_dir: str | None,
    log_level: str | None,
    log_format: str | None,
) -> None:
    """TradeForge: one strategy codebase for backtest, paper and live trading.

    Settings come from defaults < --config FILE < TRADEFORGE__SECTION__KEY
    environment variables < the options below.

    \b
    Examples:
      tradeforge overview
      tradeforge --data-dir /srv/marketdata config show
      TRADEFORGE__LOG__LEVEL=debug tradeforge overview
    """
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())
        return
    flags = {"data.dir": data_dir, "log.level": log_level, "log.format": log_format}
    overrides = {key: value for key, value in flags.items() if value is not None}
    settings = load_settings(config_file=config_file, environ=os.environ, overrides=overrides)
    configure_logging(settings.log)
    get_logger(__name__).debug(
        "settings loaded", sources={e.key: str(e.source) for e in settings.entries()}
    )
    ctx.obj = Invocation(settings=settings, config_file=config_file)


@cli.command()
@pass_invocation
def overview(invocation: Invocation) -> None:
    """Show the version, settings, services and next steps.

    This is what `make run` shows: the effective data directory and where the
    settings came from, the nine services and whether their packages exist yet.

    \b
    Examples:
      tradeforge overview
      tradeforge --config tradeforge.toml overview
    """
    render_overview(Console(highlight=False), invocation.settings, invocation.config_file)


@cli.group("config")
def config_group() -> None:
    """Inspect the settings.

    \b
    Examples:
      tradeforge config show
      tradeforge config show --format json
    """


@config_group.command("show")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["toml", "json"]),
    default="toml",
    show_default=True,
    help="toml works as a config file; json is for scripts.",
)
@pass_invocation
def config_show(invocation: Invocation, output_format: str) -> None:
    """Print every effective setting and the source of its value.

    A source is "default", the config file's path, an environment variable or a flag.

    \b
    Examples:
      tradeforge config show
      tradeforge config show --format json
      TRADEFORGE__DATA__DIR=/srv/marketdata tradeforge config show
      tradeforge config show > tradeforge.toml
    """
    render = settings_as_json if output_format == "json" else settings_as_toml
    click.echo(render(invocation.settings), nl=False)


cli.add_command(data_group)
cli.add_command(backtest_command)
cli.add_command(exchange_group)
cli.add_command(run_command)
cli.add_command(up_command)
cli.add_command(db_group)


def main() -> None:
    """Entry point of the ``tradeforge`` console script."""
    cli.main(prog_name="tradeforge")

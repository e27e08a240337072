"""``tradeforge db upgrade`` and ``tradeforge db current``: the schema of the platform's database.

``tradeforge up`` upgrades the schema itself at start-up; these commands do it ahead of time (a
deployment step, with the gateways stopped or before a new version starts) and say where a
database stands. The database is ``db.url`` (``TRADEFORGE__DB__URL``), else the SQLite file
``<data dir>/platform/journal.sqlite``. An unreachable server is one ``error:`` line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import click

from tradeforge.runtime.settings import Settings
from tradeforge.store import Database

__all__ = ["db_group"]


class _Invocation(Protocol):
    @property
    def settings(self) -> Settings: ...


def _database(invocation: _Invocation) -> Database:
    settings = invocation.settings
    return Database(settings.db.url_for(Path(settings.data.path)))


def _name(revision: str | None) -> str:
    return revision if revision is not None else "none (empty database)"


@click.group("db")
def db_group() -> None:
    """The platform's database: its schema revision and migrations.

    \b
    Examples:
      tradeforge db current
      tradeforge db upgrade
      TRADEFORGE__DB__URL=postgresql+psycopg://tf@db:5432/tradeforge tradeforge db upgrade
    """


@db_group.command("upgrade")
@click.pass_obj
def db_upgrade(invocation: _Invocation) -> None:
    """Apply every migration the database lacks; prints the revision before and after.

    Running it again changes nothing ("already at ...").

    \b
    Examples:
      tradeforge db upgrade
      TRADEFORGE__DB__URL=postgresql+psycopg://tf@db:5432/tradeforge tradeforge db upgrade
    """
    database = _database(invocation)
    try:
        before = database.revision()
        database.upgrade()
        after = database.revision()
    finally:
        database.dispose()
    if before == after:
        click.echo(f"{database.safe_url}: already at {_name(after)} (head)")
    else:
        click.echo(f"{database.safe_url}: upgraded from {_name(before)} to {_name(after)}")


@db_group.command("current")
@click.pass_obj
def db_current(invocation: _Invocation) -> None:
    """Print the database's schema revision and whether it is the newest this version knows.

    \b
    Examples:
      tradeforge db current
      tradeforge --data-dir ./tf-data db current
    """
    database = _database(invocation)
    try:
        current = database.revision()
    finally:
        database.dispose()
    head = Database.head()
    state = "head" if current == head else f"behind: run tradeforge db upgrade to reach {head}"
    click.echo(f"{database.safe_url}: {_name(current)} ({state})")

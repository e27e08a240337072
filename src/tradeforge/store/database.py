"""``Database``: one SQLAlchemy engine on SQLite (embedded) or PostgreSQL (distributed).

Durability is part of the connection, not left to defaults (RELIABILITY.md decision 1): SQLite
runs with WAL and ``synchronous=FULL`` (every commit is fsynced), PostgreSQL with
``synchronous_commit=on``. ``durability()`` reads the settings back so a test can pin them.
``upgrade()`` brings the schema to the newest Alembic revision; it is run at start-up and by
``tradeforge db upgrade``; ``revision()`` and ``head()`` say where the schema is and where the
code expects it (``tradeforge db current``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from tradeforge.domain.errors import ConfigurationError, TemporaryError

__all__ = ["Database", "sqlite_url"]

_MIGRATIONS = Path(__file__).parent / "migrations"


def sqlite_url(path: Path) -> str:
    """The URL of an SQLite file."""
    return f"sqlite:///{path}"


class Database:
    """An engine with the journal's durability settings, and its migrations."""

    def __init__(self, url: str) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise ConfigurationError(
                f"database url {url!r} is not a URL: use sqlite:///path/to/file.sqlite or "
                "postgresql+psycopg://user@host:5432/dbname"
            ) from None
        self.url = url
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(url, connect_args={"timeout": 30})
            event.listen(self.engine, "connect", _sqlite_pragmas)
            # pysqlite's own transaction handling breaks SAVEPOINTs (a RELEASE can commit the
            # outer transaction): SQLAlchemy emits BEGIN itself, so a journal append is atomic.
            event.listen(self.engine, "begin", _sqlite_begin)
        elif self.dialect == "postgresql":
            # Up to 15 connections, as SQLAlchemy's default (5 kept + 10 overflow), but all
            # kept: overflow connections were closed on return and made again by the next
            # request (a new connection per order at 16 concurrent clients: bench.gateway).
            self.engine = create_engine(
                url,
                connect_args={"options": "-c synchronous_commit=on"},
                pool_pre_ping=True,
                pool_size=15,
                max_overflow=0,
            )
        else:
            raise ConfigurationError(
                f"database url {url!r}: only sqlite and postgresql are supported"
            )

    def upgrade(self) -> None:
        """Apply every Alembic migration not yet applied."""
        logging.getLogger("alembic").setLevel(logging.WARNING)  # a line per migration is noise
        config = _alembic_config()
        try:
            with self.engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except OperationalError as exc:
            raise TemporaryError(f"database {self.safe_url}: {exc.orig}") from None

    def revision(self) -> str | None:
        """The schema's Alembic revision (``None``: no migration has run on this database)."""
        try:
            with self.engine.connect() as connection:
                return MigrationContext.configure(connection).get_current_revision()
        except OperationalError as exc:
            raise TemporaryError(f"database {self.safe_url}: {exc.orig}") from None

    @staticmethod
    def head() -> str:
        """The newest revision this code knows."""
        head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
        assert head is not None  # the package ships its migrations
        return head

    @property
    def safe_url(self) -> str:
        """The URL without its password, for messages and logs."""
        return make_url(self.url).render_as_string(hide_password=True)

    def durability(self) -> dict[str, Any]:
        """The settings every commit runs with, read back from the server."""
        with self.engine.connect() as conn:
            if self.dialect == "sqlite":
                return {
                    "journal_mode": conn.execute(text("PRAGMA journal_mode")).scalar_one(),
                    "synchronous": conn.execute(text("PRAGMA synchronous")).scalar_one(),
                }
            return {
                "synchronous_commit": conn.execute(text("SHOW synchronous_commit")).scalar_one()
            }

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # no implicit BEGIN from the driver
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()

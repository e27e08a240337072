"""Migration 0002 builds exactly the tables of ``store.tables`` on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from tradeforge.store import Database
from tradeforge.store.tables import metadata

AUTH_TABLES = {
    "users",
    "auth_sessions",
    "refresh_tokens",
    "api_keys",
    "login_throttle",
    "login_attempts",
    "audit_log",
    "exchange_credentials",
}


def test_the_migration_matches_the_tables(database: Database) -> None:
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        tables = set(inspect(conn).get_table_names())

    assert diff == []
    assert tables >= AUTH_TABLES


def test_upgrading_twice_changes_nothing(database: Database) -> None:
    database.upgrade()

    with database.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []

"""Persistence: SQLAlchemy tables and repositories, Alembic migrations; SQLite embedded,
PostgreSQL distributed. Implements the ports the services declare (``OrderJournal``)."""

from tradeforge.store.database import Database, sqlite_url
from tradeforge.store.journal import SqlOrderJournal, event_id

__all__ = ["Database", "SqlOrderJournal", "event_id", "sqlite_url"]

"""Persistence: SQLAlchemy tables and repositories, Alembic migrations; SQLite embedded,
PostgreSQL distributed. Implements the ports the services declare (``OrderJournal``,
``ValuationStore``)."""

from tradeforge.store.config import DbConfig
from tradeforge.store.database import Database, sqlite_url
from tradeforge.store.journal import SqlOrderJournal, event_id
from tradeforge.store.valuations import SqlValuationStore

__all__ = ["Database", "DbConfig", "SqlOrderJournal", "SqlValuationStore", "event_id", "sqlite_url"]

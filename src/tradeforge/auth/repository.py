"""``AuthRepository``: the auth tables (``tradeforge.store.tables``) on SQLite or PostgreSQL.

Every query lives in a ``*_queries`` module of this package, one per table (or pair of tables):
users, sessions and refresh tokens, API keys, the login throttle, the audit log, exchange
credentials. :class:`Tx` gathers them. A service opens ``write()`` or ``read()`` and calls
:class:`Tx` methods; a write transaction commits as a whole (state change and its audit row
together).

Concurrency: on SQLite a write transaction takes the database write lock with its first
statement (a no-op UPDATE), so a read-then-write never fails with a stale snapshot and writers
queue on ``busy_timeout``. On PostgreSQL the compare-and-set statements (``use_refresh``) and
``SELECT ... FOR UPDATE`` / advisory locks (``lock_login``) serialise what must be serial.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

from tradeforge.auth.audit_queries import AuditQueries
from tradeforge.auth.credential_queries import CredentialQueries
from tradeforge.auth.key_queries import KeyQueries
from tradeforge.auth.session_queries import SessionQueries
from tradeforge.auth.throttle_queries import ThrottleQueries
from tradeforge.auth.user_queries import UserQueries
from tradeforge.domain.errors import TemporaryError
from tradeforge.store import Database

__all__ = ["AuthRepository", "Tx"]


class AuthRepository:
    """Opens transactions on the auth tables."""

    def __init__(self, database: Database) -> None:
        self.db = database

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """A transaction that commits on exit (rolls back on an exception)."""
        try:
            with self.db.engine.begin() as conn:
                if self.db.dialect == "sqlite":
                    conn.execute(text("UPDATE users SET role = role WHERE 1 = 0"))
                yield Tx(conn, self.db.dialect)
        except OperationalError as exc:
            raise TemporaryError(f"auth store {self.db.safe_url}: {exc.orig}") from None

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read-only connection."""
        try:
            with self.db.engine.connect() as conn:
                yield Tx(conn, self.db.dialect)
        except OperationalError as exc:
            raise TemporaryError(f"auth store {self.db.safe_url}: {exc.orig}") from None


class Tx(
    UserQueries,
    SessionQueries,
    KeyQueries,
    ThrottleQueries,
    AuditQueries,
    CredentialQueries,
):
    """The queries, on one connection (inside one transaction for ``write()``)."""

    def __init__(self, conn: Connection, dialect: str) -> None:
        self.conn = conn
        self.dialect = dialect

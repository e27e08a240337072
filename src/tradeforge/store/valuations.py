"""``SqlValuationStore``: the portfolio value time series on SQLite or PostgreSQL (the
``ValuationStore`` port of ``tradeforge.trading``), equity kept as exact decimal text."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.exc import OperationalError

from tradeforge.domain.errors import TemporaryError
from tradeforge.store import tables as t
from tradeforge.store.database import Database
from tradeforge.trading.valuation import ValuePoint

__all__ = ["SqlValuationStore"]


class SqlValuationStore:
    """One node's value time series (see the module docstring)."""

    def __init__(self, database: Database) -> None:
        self.db = database

    def append_value(self, point: ValuePoint) -> None:
        """Keep one point (TemporaryError when the database cannot be written now)."""
        try:
            with self.db.engine.begin() as conn:
                conn.execute(
                    insert(t.portfolio_values).values(
                        ts_ns=point.ts_ns, equity=format(point.equity, "f")
                    )
                )
        except OperationalError as exc:
            raise TemporaryError(f"portfolio value not stored: {exc.orig}") from exc

    def values(
        self, *, start_ns: int | None, end_ns: int | None, limit: int, newest: bool = False
    ) -> list[ValuePoint]:
        """Points with ``start_ns <= ts < end_ns``, oldest first: the first ``limit``, or the
        last ``limit`` with ``newest``."""
        table = t.portfolio_values
        query = select(table.c.ts_ns, table.c.equity)
        if start_ns is not None:
            query = query.where(table.c.ts_ns >= start_ns)
        if end_ns is not None:
            query = query.where(table.c.ts_ns < end_ns)
        if newest:
            query = query.order_by(table.c.ts_ns.desc(), table.c.id.desc())
        else:
            query = query.order_by(table.c.ts_ns, table.c.id)
        with self.db.engine.connect() as conn:
            rows = list(conn.execute(query.limit(limit)))
        points = [ValuePoint(ts_ns=int(ts), equity=Decimal(equity)) for ts, equity in rows]
        return points[::-1] if newest else points

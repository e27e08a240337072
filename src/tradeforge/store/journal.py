"""``SqlOrderJournal``: the order journal on SQLite or PostgreSQL (the ``OrderJournal`` port).

Each ``append`` is one transaction: the event row (its id derived from its content, so the
same event is stored once), the fill row for a fill (unique per venue and trade id: a fill
reported twice is refused and the event is not stored again), the denial row for a refusal,
and the order's projection row from the order's state after the event. Events are stored in
the bus codec's MessagePack, so ``events()`` returns the very messages that were appended.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, OperationalError

from tradeforge.bus import Codec
from tradeforge.domain import (
    Order,
    OrderDenied,
    OrderEvent,
    OrderFilled,
    OrderInitialized,
    StrategyId,
)
from tradeforge.domain.errors import TemporaryError
from tradeforge.store import tables as t
from tradeforge.store.database import Database

__all__ = ["SqlOrderJournal", "event_id"]

_CODEC = Codec()


def event_id(event: OrderEvent, body: bytes) -> str:
    """A stable id for ``event``: its venue trade id for a fill, else a digest of its content."""
    if isinstance(event, OrderFilled):
        return f"fill:{event.instrument_id.venue}:{event.trade_id}"
    digest = hashlib.blake2b(body, digest_size=12).hexdigest()
    return f"{event.client_order_id}:{type(event).__name__}:{digest}"


class SqlOrderJournal:
    """The journal of one node (see the module docstring)."""

    def __init__(self, database: Database) -> None:
        self.db = database

    # ---------------------------------------------------------------- writes
    def append(self, event: OrderEvent, order: Order | None = None) -> bool:
        """Journal ``event`` and the order's state after it, in one durable transaction."""
        body = _CODEC.to_msgpack(event)
        eid = event_id(event, body)
        try:
            with self.db.engine.begin() as conn:
                try:
                    with conn.begin_nested():
                        conn.execute(
                            insert(t.order_events).values(
                                event_id=eid,
                                client_order_id=event.client_order_id.value,
                                kind=type(event).__name__,
                                ts_event=event.ts_event,
                                body=body,
                            )
                        )
                        if isinstance(event, OrderFilled):
                            conn.execute(insert(t.fills).values(**_fill_row(event)))
                except IntegrityError:
                    return False
                if isinstance(event, OrderDenied):
                    conn.execute(
                        insert(t.denials).values(
                            client_order_id=event.client_order_id.value,
                            strategy_id=event.strategy_id.value,
                            instrument_id=str(event.instrument_id),
                            reason=event.reason.value,
                            message=event.message,
                            ts_event=event.ts_event,
                        )
                    )
                if order is not None:
                    self._project(conn, event, order)
        except OperationalError as exc:
            raise TemporaryError(f"order journal {self.db.safe_url}: {exc.orig}") from None
        return True

    def _project(self, conn: Connection, event: OrderEvent, order: Order) -> None:
        row = {
            "status": order.status.value,
            "venue_order_id": order.venue_order_id.value if order.venue_order_id else None,
            "quantity": str(order.quantity),
            "filled_qty": str(order.filled_qty),
            "avg_px": str(order.avg_px) if order.avg_px is not None else None,
            "updated_ns": event.ts_event,
        }
        if isinstance(event, OrderInitialized):
            values = {
                "client_order_id": order.client_order_id.value,
                "strategy_id": order.strategy_id.value,
                "instrument_id": str(order.instrument_id),
                "venue": order.instrument_id.venue.value,
                "created_ns": event.ts_event,
                **row,
            }
            dialect_insert = pg_insert if self.db.dialect == "postgresql" else sqlite_insert
            stmt = dialect_insert(t.orders).values(**values)
            conn.execute(stmt.on_conflict_do_update(index_elements=["client_order_id"], set_=row))
        else:
            conn.execute(
                update(t.orders)
                .where(t.orders.c.client_order_id == order.client_order_id.value)
                .values(**row)
            )

    def save_state(self, key: str, body: dict[str, Any], ts_ns: int) -> None:
        """Keep a piece of service state across restarts (one row per key)."""
        text = json.dumps(body, sort_keys=True)
        dialect_insert = pg_insert if self.db.dialect == "postgresql" else sqlite_insert
        stmt = dialect_insert(t.risk_state).values(key=key, body=text, updated_ns=ts_ns)
        with self.db.engine.begin() as conn:
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["key"], set_={"body": text, "updated_ns": ts_ns}
                )
            )

    # ----------------------------------------------------------------- reads
    def events(self) -> Iterator[OrderEvent]:
        """Every journaled event, oldest first."""
        with self.db.engine.connect() as conn:
            rows = conn.execute(select(t.order_events.c.body).order_by(t.order_events.c.seq))
            for (body,) in rows:
                event = _CODEC.from_msgpack(bytes(body))
                assert isinstance(event, OrderEvent)
                yield event

    def open_orders(self) -> list[dict[str, Any]]:
        """Projection rows of orders that may still trade."""
        closed = ("FILLED", "CANCELED", "EXPIRED", "REJECTED", "DENIED")
        with self.db.engine.connect() as conn:
            rows = conn.execute(select(t.orders).where(t.orders.c.status.not_in(closed)))
            return [dict(r._mapping) for r in rows]

    def orders(self) -> list[dict[str, Any]]:
        """Every projection row."""
        with self.db.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(t.orders))]

    def fills(self, client_order_id: str | None = None) -> list[dict[str, Any]]:
        """Stored fills (of one order, or all), in the order they were journaled."""
        query = select(t.fills).order_by(t.fills.c.id)
        if client_order_id is not None:
            query = query.where(t.fills.c.client_order_id == client_order_id)
        with self.db.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def denials(self, strategy_id: StrategyId | None = None, limit: int = 100) -> list[OrderDenied]:
        """The most recent refusals, newest first."""
        query = select(t.order_events.c.body).where(t.order_events.c.kind == "OrderDenied")
        if strategy_id is not None:
            ids = select(t.denials.c.client_order_id).where(
                t.denials.c.strategy_id == strategy_id.value
            )
            query = query.where(t.order_events.c.client_order_id.in_(ids))
        query = query.order_by(t.order_events.c.seq.desc()).limit(limit)
        with self.db.engine.connect() as conn:
            out = []
            for (body,) in conn.execute(query):
                event = _CODEC.from_msgpack(bytes(body))
                assert isinstance(event, OrderDenied)
                out.append(event)
            return out

    def load_state(self, key: str) -> dict[str, Any] | None:
        """A piece of state saved earlier, or None."""
        with self.db.engine.connect() as conn:
            body = conn.execute(
                select(t.risk_state.c.body).where(t.risk_state.c.key == key)
            ).scalar_one_or_none()
        if body is None:
            return None
        loaded: dict[str, Any] = json.loads(body)
        return loaded


def _fill_row(fill: OrderFilled) -> dict[str, Any]:
    return {
        "venue": fill.instrument_id.venue.value,
        "trade_id": fill.trade_id.value,
        "client_order_id": fill.client_order_id.value,
        "instrument_id": str(fill.instrument_id),
        "side": fill.order_side.value,
        "quantity": str(fill.last_qty),
        "price": str(fill.last_px),
        "commission": str(fill.commission.amount),
        "commission_currency": fill.commission.currency.code,
        "ts_event": fill.ts_event,
    }

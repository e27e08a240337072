"""The relational schema: one ``MetaData`` for SQLite and PostgreSQL, evolved by Alembic.

Money and quantities are exact decimal text, never float columns. ``order_events`` is the
append-only journal (the source of truth); ``orders`` is its projection, updated in the same
transaction; ``fills`` is unique per (venue, trade id) so a fill seen twice is stored once.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = ["denials", "fills", "metadata", "order_events", "orders", "risk_state"]

metadata = MetaData()

order_events = Table(
    "order_events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(160), nullable=False, unique=True),
    Column("client_order_id", String(64), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("ts_event", BigInteger, nullable=False),
    Column("body", LargeBinary, nullable=False),
)
Index("order_events_order", order_events.c.client_order_id)

orders = Table(
    "orders",
    metadata,
    Column("client_order_id", String(64), primary_key=True),
    Column("strategy_id", String(64), nullable=False),
    Column("instrument_id", String(128), nullable=False),
    Column("venue", String(64), nullable=False),
    Column("status", String(20), nullable=False),
    Column("venue_order_id", String(128)),
    Column("quantity", String(40), nullable=False),
    Column("filled_qty", String(40), nullable=False),
    Column("avg_px", String(40)),
    Column("created_ns", BigInteger, nullable=False),
    Column("updated_ns", BigInteger, nullable=False),
)
Index("orders_status", orders.c.status)

fills = Table(
    "fills",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("venue", String(64), nullable=False),
    Column("trade_id", String(128), nullable=False),
    Column("client_order_id", String(64), nullable=False),
    Column("instrument_id", String(128), nullable=False),
    Column("side", String(4), nullable=False),
    Column("quantity", String(40), nullable=False),
    Column("price", String(40), nullable=False),
    Column("commission", String(40), nullable=False),
    Column("commission_currency", String(16), nullable=False),
    Column("ts_event", BigInteger, nullable=False),
    UniqueConstraint("venue", "trade_id", name="fills_venue_trade"),
)
Index("fills_order", fills.c.client_order_id)

denials = Table(
    "denials",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_order_id", String(64), nullable=False),
    Column("strategy_id", String(64), nullable=False),
    Column("instrument_id", String(128), nullable=False),
    Column("reason", String(40), nullable=False),
    Column("message", Text, nullable=False),
    Column("ts_event", BigInteger, nullable=False),
)
Index("denials_strategy", denials.c.strategy_id, denials.c.ts_event)

risk_state = Table(
    "risk_state",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("body", Text, nullable=False),
    Column("updated_ns", BigInteger, nullable=False),
)

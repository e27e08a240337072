"""The order journal: events, the orders projection, fills, denials, risk state.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "order_events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(160), nullable=False, unique=True),
        sa.Column("client_order_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("ts_event", sa.BigInteger, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
    )
    op.create_index("order_events_order", "order_events", ["client_order_id"])
    op.create_table(
        "orders",
        sa.Column("client_order_id", sa.String(64), primary_key=True),
        sa.Column("strategy_id", sa.String(64), nullable=False),
        sa.Column("instrument_id", sa.String(128), nullable=False),
        sa.Column("venue", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("venue_order_id", sa.String(128)),
        sa.Column("quantity", sa.String(40), nullable=False),
        sa.Column("filled_qty", sa.String(40), nullable=False),
        sa.Column("avg_px", sa.String(40)),
        sa.Column("created_ns", sa.BigInteger, nullable=False),
        sa.Column("updated_ns", sa.BigInteger, nullable=False),
    )
    op.create_index("orders_status", "orders", ["status"])
    op.create_table(
        "fills",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("venue", sa.String(64), nullable=False),
        sa.Column("trade_id", sa.String(128), nullable=False),
        sa.Column("client_order_id", sa.String(64), nullable=False),
        sa.Column("instrument_id", sa.String(128), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("quantity", sa.String(40), nullable=False),
        sa.Column("price", sa.String(40), nullable=False),
        sa.Column("commission", sa.String(40), nullable=False),
        sa.Column("commission_currency", sa.String(16), nullable=False),
        sa.Column("ts_event", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("venue", "trade_id", name="fills_venue_trade"),
    )
    op.create_index("fills_order", "fills", ["client_order_id"])
    op.create_table(
        "denials",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("client_order_id", sa.String(64), nullable=False),
        sa.Column("strategy_id", sa.String(64), nullable=False),
        sa.Column("instrument_id", sa.String(128), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("ts_event", sa.BigInteger, nullable=False),
    )
    op.create_index("denials_strategy", "denials", ["strategy_id", "ts_event"])
    op.create_table(
        "risk_state",
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("updated_ns", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for name in ("risk_state", "denials", "fills", "orders", "order_events"):
        op.drop_table(name)

"""The portfolio value time series: one row per point the node records (equity as exact
decimal text, in the node's base currency).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portfolio_values",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ts_ns", sa.BigInteger, nullable=False),
        sa.Column("equity", sa.String(64), nullable=False),
    )
    op.create_index("portfolio_values_ts", "portfolio_values", ["ts_ns"])


def downgrade() -> None:
    op.drop_index("portfolio_values_ts", table_name="portfolio_values")
    op.drop_table("portfolio_values")

"""The relational schema: one ``MetaData`` for SQLite and PostgreSQL, evolved by Alembic.

Money and quantities are exact decimal text, never float columns. ``order_events`` is the
append-only journal (the source of truth); ``orders`` is its projection, updated in the same
transaction; ``fills`` is unique per (venue, trade id) so a fill seen twice is stored once.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

__all__ = [
    "api_keys",
    "audit_log",
    "auth_sessions",
    "denials",
    "exchange_credentials",
    "fills",
    "login_attempts",
    "login_throttle",
    "metadata",
    "order_events",
    "orders",
    "portfolio_values",
    "refresh_tokens",
    "risk_state",
    "users",
]

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

# The node's portfolio value time series (migration 0003): equity as exact decimal text.
portfolio_values = Table(
    "portfolio_values",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts_ns", BigInteger, nullable=False),
    Column("equity", String(64), nullable=False),
)
Index("portfolio_values_ts", portfolio_values.c.ts_ns)

# ------------------------------------------------------------------------------------- auth
# Users, sessions (one refresh-token family each), refresh tokens, API keys, login throttling,
# the append-only audit log and sealed exchange credentials (migration 0002). Times are UTC ns.

users = Table(
    "users",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("disabled", Boolean, nullable=False, server_default=false()),
    Column("created_ns", BigInteger, nullable=False),
    Column("updated_ns", BigInteger, nullable=False),
    Column("password_changed_ns", BigInteger, nullable=False),
    # Room for MFA (RELIABILITY.md decision 4): a sealed TOTP/WebAuthn secret, unused so far.
    Column("mfa_secret", LargeBinary),
    Column("mfa_enabled", Boolean, nullable=False, server_default=false()),
)

auth_sessions = Table(
    "auth_sessions",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("user_id", String(40), ForeignKey("users.id"), nullable=False),
    Column("created_ns", BigInteger, nullable=False),
    Column("last_seen_ns", BigInteger, nullable=False),
    Column("expires_ns", BigInteger, nullable=False),
    Column("ip", String(64)),
    Column("user_agent", String(256)),
    Column("revoked_ns", BigInteger),
    Column("revoked_reason", String(40)),
)
Index("auth_sessions_user", auth_sessions.c.user_id)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("jti", String(40), primary_key=True),
    Column("session_id", String(40), ForeignKey("auth_sessions.id"), nullable=False),
    Column("parent_jti", String(40)),
    Column("issued_ns", BigInteger, nullable=False),
    Column("expires_ns", BigInteger, nullable=False),
    Column("used_ns", BigInteger),
)
Index("refresh_tokens_session", refresh_tokens.c.session_id)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("user_id", String(40), ForeignKey("users.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("hint", String(24), nullable=False),
    Column("secret_sha256", String(64), nullable=False, unique=True),
    Column("sealed_secret", LargeBinary),
    Column("kek_id", String(16)),
    Column("scopes", String(64), nullable=False),
    Column("ip_allowlist", Text, nullable=False),
    Column("created_ns", BigInteger, nullable=False),
    Column("expires_ns", BigInteger),
    Column("last_used_ns", BigInteger),
    Column("revoked_ns", BigInteger),
)
Index("api_keys_user", api_keys.c.user_id)

login_throttle = Table(
    "login_throttle",
    metadata,
    Column("username", String(128), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("next_allowed_ns", BigInteger, nullable=False),
    Column("locked", Boolean, nullable=False, server_default=false()),
    Column("last_failure_ns", BigInteger, nullable=False),
)

login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(128), nullable=False),
    Column("ip", String(64)),
    Column("ts_ns", BigInteger, nullable=False),
    Column("outcome", String(16), nullable=False),
)
Index("login_attempts_ip", login_attempts.c.ip, login_attempts.c.ts_ns)
Index("login_attempts_ts", login_attempts.c.ts_ns)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts_ns", BigInteger, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("ip", String(64)),
    Column("request_id", String(128)),
    Column("action", String(64), nullable=False),
    Column("target", String(256)),
    Column("outcome", String(16), nullable=False),
    Column("detail", Text, nullable=False),
)
Index("audit_log_ts", audit_log.c.ts_ns)
Index("audit_log_actor", audit_log.c.actor, audit_log.c.ts_ns)
Index("audit_log_action", audit_log.c.action, audit_log.c.ts_ns)

exchange_credentials = Table(
    "exchange_credentials",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("user_id", String(40), ForeignKey("users.id"), nullable=False),
    Column("venue", String(64), nullable=False),
    Column("label", String(100), nullable=False),
    Column("key_hint", String(16), nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    Column("kek_id", String(16), nullable=False),
    Column("created_ns", BigInteger, nullable=False),
    Column("updated_ns", BigInteger, nullable=False),
    UniqueConstraint("user_id", "venue", "label", name="exchange_credentials_label"),
)

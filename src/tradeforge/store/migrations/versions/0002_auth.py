"""Auth: users, sessions and refresh tokens, API keys, login throttling, the append-only audit
log, sealed exchange credentials.

The audit log refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL) with a trigger on both
backends, so the application cannot rewrite history (SEC-15). On PostgreSQL the table owner
can still disable the trigger: deployments run the app as a role that does not own the tables.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_PG_APPEND_ONLY = [
    """
    CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_log_no_rewrite BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
    """,
    """
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()
    """,
]
_SQLITE_APPEND_ONLY = [
    """
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END
    """,
    """
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END
    """,
]


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_ns", sa.BigInteger, nullable=False),
        sa.Column("updated_ns", sa.BigInteger, nullable=False),
        sa.Column("password_changed_ns", sa.BigInteger, nullable=False),
        sa.Column("mfa_secret", sa.LargeBinary),
        sa.Column("mfa_enabled", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("user_id", sa.String(40), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_ns", sa.BigInteger, nullable=False),
        sa.Column("last_seen_ns", sa.BigInteger, nullable=False),
        sa.Column("expires_ns", sa.BigInteger, nullable=False),
        sa.Column("ip", sa.String(64)),
        sa.Column("user_agent", sa.String(256)),
        sa.Column("revoked_ns", sa.BigInteger),
        sa.Column("revoked_reason", sa.String(40)),
    )
    op.create_index("auth_sessions_user", "auth_sessions", ["user_id"])
    op.create_table(
        "refresh_tokens",
        sa.Column("jti", sa.String(40), primary_key=True),
        sa.Column("session_id", sa.String(40), sa.ForeignKey("auth_sessions.id"), nullable=False),
        sa.Column("parent_jti", sa.String(40)),
        sa.Column("issued_ns", sa.BigInteger, nullable=False),
        sa.Column("expires_ns", sa.BigInteger, nullable=False),
        sa.Column("used_ns", sa.BigInteger),
    )
    op.create_index("refresh_tokens_session", "refresh_tokens", ["session_id"])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("user_id", sa.String(40), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("hint", sa.String(24), nullable=False),
        sa.Column("secret_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("sealed_secret", sa.LargeBinary),
        sa.Column("kek_id", sa.String(16)),
        sa.Column("scopes", sa.String(64), nullable=False),
        sa.Column("ip_allowlist", sa.Text, nullable=False),
        sa.Column("created_ns", sa.BigInteger, nullable=False),
        sa.Column("expires_ns", sa.BigInteger),
        sa.Column("last_used_ns", sa.BigInteger),
        sa.Column("revoked_ns", sa.BigInteger),
    )
    op.create_index("api_keys_user", "api_keys", ["user_id"])
    op.create_table(
        "login_throttle",
        sa.Column("username", sa.String(128), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("next_allowed_ns", sa.BigInteger, nullable=False),
        sa.Column("locked", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("last_failure_ns", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(128), nullable=False),
        sa.Column("ip", sa.String(64)),
        sa.Column("ts_ns", sa.BigInteger, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
    )
    op.create_index("login_attempts_ip", "login_attempts", ["ip", "ts_ns"])
    op.create_index("login_attempts_ts", "login_attempts", ["ts_ns"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ts_ns", sa.BigInteger, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("ip", sa.String(64)),
        sa.Column("request_id", sa.String(128)),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(256)),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("audit_log_ts", "audit_log", ["ts_ns"])
    op.create_index("audit_log_actor", "audit_log", ["actor", "ts_ns"])
    op.create_index("audit_log_action", "audit_log", ["action", "ts_ns"])
    op.create_table(
        "exchange_credentials",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("user_id", sa.String(40), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("venue", sa.String(64), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("key_hint", sa.String(16), nullable=False),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
        sa.Column("kek_id", sa.String(16), nullable=False),
        sa.Column("created_ns", sa.BigInteger, nullable=False),
        sa.Column("updated_ns", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("user_id", "venue", "label", name="exchange_credentials_label"),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in _PG_APPEND_ONLY if postgresql else _SQLITE_APPEND_ONLY:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_rewrite ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    for name in (
        "exchange_credentials",
        "audit_log",
        "login_attempts",
        "login_throttle",
        "api_keys",
        "refresh_tokens",
        "auth_sessions",
        "users",
    ):
        op.drop_table(name)

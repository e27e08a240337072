"""``AuthRepository``: the auth tables (``tradeforge.store.tables``) on SQLite or PostgreSQL.

Every query lives here. A service opens ``write()`` or ``read()`` and calls :class:`Tx` methods;
a write transaction commits as a whole (state change and its audit row together).

Concurrency: on SQLite a write transaction takes the database write lock with its first
statement (a no-op UPDATE), so a read-then-write never fails with a stale snapshot and writers
queue on ``busy_timeout``. On PostgreSQL the compare-and-set statements (``use_refresh``) and
``SELECT ... FOR UPDATE`` / advisory locks (``lock_login``) serialise what must be serial.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import msgspec
from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, OperationalError

from tradeforge.auth.audit import AuditEntry, Outcome
from tradeforge.auth.errors import Conflict
from tradeforge.auth.principal import RequestContext
from tradeforge.auth.records import (
    CredentialRecord,
    KeyRecord,
    SessionRecord,
    ThrottleRecord,
    UserRecord,
)
from tradeforge.domain.errors import TemporaryError
from tradeforge.store import Database
from tradeforge.store import tables as t

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


class Tx:
    """The queries, on one connection (inside one transaction for ``write()``)."""

    def __init__(self, conn: Connection, dialect: str) -> None:
        self.conn = conn
        self.dialect = dialect

    # ------------------------------------------------------------------------------ users
    def insert_user(self, user: UserRecord) -> None:
        values = msgspec.structs.asdict(user)
        values["role"] = user.role.value
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(t.users).values(**values))
        except IntegrityError:
            raise Conflict(f"user name {user.username!r} is taken", code="USERNAME_TAKEN") from None

    def user_by_name(self, username: str) -> UserRecord | None:
        row = self.conn.execute(select(*_USER).where(t.users.c.username == username)).first()
        return _user(row._mapping) if row else None

    def user_by_id(self, user_id: str) -> UserRecord | None:
        row = self.conn.execute(select(*_USER).where(t.users.c.id == user_id)).first()
        return _user(row._mapping) if row else None

    def users(self) -> list[UserRecord]:
        rows = self.conn.execute(select(*_USER).order_by(t.users.c.created_ns, t.users.c.id))
        return [_user(r._mapping) for r in rows]

    def count_users(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(t.users)).scalar_one())

    def set_password_hash(self, user_id: str, password_hash: str, now: int) -> None:
        self.conn.execute(
            update(t.users)
            .where(t.users.c.id == user_id)
            .values(password_hash=password_hash, updated_ns=now, password_changed_ns=now)
        )

    def update_user(self, user_id: str, now: int, **values: Any) -> bool:
        result = self.conn.execute(
            update(t.users).where(t.users.c.id == user_id).values(updated_ns=now, **values)
        )
        return result.rowcount == 1

    # --------------------------------------------------------------------------- sessions
    def insert_session(self, session: SessionRecord) -> None:
        self.conn.execute(insert(t.auth_sessions).values(**msgspec.structs.asdict(session)))

    def session_with_user(self, session_id: str) -> tuple[SessionRecord, UserRecord] | None:
        query = (
            select(*_SESSION, *_USER_AS)
            .join(t.users, t.users.c.id == t.auth_sessions.c.user_id)
            .where(t.auth_sessions.c.id == session_id)
        )
        row = self.conn.execute(query).first()
        return (_session(row._mapping), _user(row._mapping, "u_")) if row else None

    def sessions_of(self, user_id: str, *, active_at: int | None) -> list[SessionRecord]:
        query = select(*_SESSION).where(t.auth_sessions.c.user_id == user_id)
        if active_at is not None:
            query = query.where(
                t.auth_sessions.c.revoked_ns.is_(None), t.auth_sessions.c.expires_ns > active_at
            )
        rows = self.conn.execute(query.order_by(t.auth_sessions.c.created_ns.desc()))
        return [_session(r._mapping) for r in rows]

    def revoke_sessions(
        self,
        now: int,
        reason: str,
        *,
        session_id: str | None = None,
        user_id: str | None = None,
        keep: str | None = None,
    ) -> list[str]:
        """Revoke one session or all of a user's (but ``keep``); the ids revoked now."""
        where: list[ColumnElement[bool]] = [t.auth_sessions.c.revoked_ns.is_(None)]
        if session_id is not None:
            where.append(t.auth_sessions.c.id == session_id)
        if user_id is not None:
            where.append(t.auth_sessions.c.user_id == user_id)
        if keep is not None:
            where.append(t.auth_sessions.c.id != keep)
        ids = list(self.conn.execute(select(t.auth_sessions.c.id).where(*where)).scalars())
        if ids:
            self.conn.execute(
                update(t.auth_sessions)
                .where(t.auth_sessions.c.id.in_(ids), t.auth_sessions.c.revoked_ns.is_(None))
                .values(revoked_ns=now, revoked_reason=reason)
            )
        return ids

    def touch_session(self, session_id: str, now: int, ip: str | None) -> None:
        self.conn.execute(
            update(t.auth_sessions)
            .where(t.auth_sessions.c.id == session_id)
            .values(last_seen_ns=now, ip=ip)
        )

    # --------------------------------------------------------------------- refresh tokens
    def insert_refresh(
        self, jti: str, session_id: str, parent: str | None, issued_ns: int, expires_ns: int
    ) -> None:
        self.conn.execute(
            insert(t.refresh_tokens).values(
                jti=jti,
                session_id=session_id,
                parent_jti=parent,
                issued_ns=issued_ns,
                expires_ns=expires_ns,
            )
        )

    def use_refresh(self, jti: str, session_id: str, now: int) -> bool:
        """Mark the token used if it was not (compare-and-set): True for exactly one caller."""
        result = self.conn.execute(
            update(t.refresh_tokens)
            .where(
                t.refresh_tokens.c.jti == jti,
                t.refresh_tokens.c.session_id == session_id,
                t.refresh_tokens.c.used_ns.is_(None),
            )
            .values(used_ns=now)
        )
        return result.rowcount == 1

    def refresh_known(self, jti: str, session_id: str) -> bool:
        query = select(t.refresh_tokens.c.jti).where(
            t.refresh_tokens.c.jti == jti, t.refresh_tokens.c.session_id == session_id
        )
        return self.conn.execute(query).first() is not None

    # --------------------------------------------------------------------------- API keys
    def insert_key(self, key: KeyRecord) -> None:
        values = msgspec.structs.asdict(key)
        values["scopes"] = ",".join(sorted(key.scopes))
        values["ip_allowlist"] = json.dumps(list(key.ip_allowlist))
        self.conn.execute(insert(t.api_keys).values(**values))

    def key_with_user(
        self, *, key_id: str | None = None, secret_sha256: str | None = None
    ) -> tuple[KeyRecord, UserRecord] | None:
        query = select(*_KEY, *_USER_AS).join(t.users, t.users.c.id == t.api_keys.c.user_id)
        if key_id is not None:
            query = query.where(t.api_keys.c.id == key_id)
        else:
            query = query.where(t.api_keys.c.secret_sha256 == secret_sha256)
        row = self.conn.execute(query).first()
        return (_key(row._mapping), _user(row._mapping, "u_")) if row else None

    def keys_of(self, user_id: str) -> list[KeyRecord]:
        query = select(*_KEY).where(t.api_keys.c.user_id == user_id)
        rows = self.conn.execute(query.order_by(t.api_keys.c.created_ns.desc()))
        return [_key(r._mapping) for r in rows]

    def count_active_keys(self, user_id: str, now: int) -> int:
        query = (
            select(func.count())
            .select_from(t.api_keys)
            .where(
                t.api_keys.c.user_id == user_id,
                t.api_keys.c.revoked_ns.is_(None),
                or_(t.api_keys.c.expires_ns.is_(None), t.api_keys.c.expires_ns > now),
            )
        )
        return int(self.conn.execute(query).scalar_one())

    def revoke_key(self, key_id: str, now: int) -> bool:
        result = self.conn.execute(
            update(t.api_keys)
            .where(t.api_keys.c.id == key_id, t.api_keys.c.revoked_ns.is_(None))
            .values(revoked_ns=now)
        )
        return result.rowcount == 1

    def touch_key(self, key_id: str, now: int, every_ns: int) -> None:
        """Record a use, at most once per ``every_ns`` (not a write per request)."""
        self.conn.execute(
            update(t.api_keys)
            .where(
                t.api_keys.c.id == key_id,
                or_(
                    t.api_keys.c.last_used_ns.is_(None), t.api_keys.c.last_used_ns < now - every_ns
                ),
            )
            .values(last_used_ns=now)
        )

    def sealed_keys_not_by(self, kek_id: str) -> list[KeyRecord]:
        query = select(*_KEY).where(
            t.api_keys.c.sealed_secret.is_not(None), t.api_keys.c.kek_id != kek_id
        )
        return [_key(r._mapping) for r in self.conn.execute(query)]

    def reseal_key(self, key_id: str, sealed: bytes, kek_id: str) -> None:
        self.conn.execute(
            update(t.api_keys)
            .where(t.api_keys.c.id == key_id)
            .values(sealed_secret=sealed, kek_id=kek_id)
        )

    # ----------------------------------------------------------------------- login throttle
    def lock_login(self, username: str, ip: str | None) -> None:
        """Serialise attempts on ``username`` and on ``ip``; make the throttle row exist."""
        if self.dialect == "postgresql" and ip is not None:
            # One IP's attempts on different accounts queue here, so the per-IP cap is exact.
            self.conn.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"login-ip:{ip}"}
            )
        dialect_insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        self.conn.execute(
            dialect_insert(t.login_throttle)
            .values(username=username, failures=0, next_allowed_ns=0, locked=False,
                    last_failure_ns=0)
            .on_conflict_do_nothing(index_elements=["username"])
        )  # fmt: skip

    def throttle(self, username: str) -> ThrottleRecord:
        query = select(t.login_throttle).where(t.login_throttle.c.username == username)
        if self.dialect == "postgresql":
            query = query.with_for_update()
        row = self.conn.execute(query).one()
        return msgspec.convert(_plain(row), ThrottleRecord)

    def set_throttle(self, state: ThrottleRecord) -> None:
        values = msgspec.structs.asdict(state)
        self.conn.execute(
            update(t.login_throttle)
            .where(t.login_throttle.c.username == state.username)
            .values(**values)
        )

    def reset_throttle(self, username: str) -> bool:
        result = self.conn.execute(
            delete(t.login_throttle).where(t.login_throttle.c.username == username)
        )
        return result.rowcount == 1

    def locked_usernames(self) -> list[str]:
        query = select(t.login_throttle.c.username).where(t.login_throttle.c.locked.is_(True))
        return list(self.conn.execute(query.order_by(t.login_throttle.c.username)).scalars())

    def ip_failures(self, ip: str, since_ns: int) -> tuple[int, int | None]:
        """Failed attempts from ``ip`` after ``since_ns``, and the time of the oldest."""
        query = select(func.count(), func.min(t.login_attempts.c.ts_ns)).where(
            t.login_attempts.c.ip == ip,
            t.login_attempts.c.ts_ns > since_ns,
            t.login_attempts.c.outcome == "failure",
        )
        count, oldest = self.conn.execute(query).one()
        return int(count), oldest

    def record_attempt(self, username: str, ip: str | None, ts_ns: int, outcome: str) -> int:
        result = self.conn.execute(
            insert(t.login_attempts)
            .values(username=username, ip=ip, ts_ns=ts_ns, outcome=outcome)
            .returning(t.login_attempts.c.id)
        )
        return int(result.scalar_one())

    def set_attempt_outcome(self, attempt_id: int, outcome: str) -> None:
        self.conn.execute(
            update(t.login_attempts)
            .where(t.login_attempts.c.id == attempt_id)
            .values(outcome=outcome)
        )

    def prune_login_state(self, before_ns: int) -> int:
        """Forget attempts before ``before_ns`` and idle, unlocked throttle rows."""
        attempts = self.conn.execute(
            delete(t.login_attempts).where(t.login_attempts.c.ts_ns < before_ns)
        ).rowcount
        self.conn.execute(
            delete(t.login_throttle).where(
                t.login_throttle.c.locked.is_(False),
                t.login_throttle.c.last_failure_ns < before_ns,
            )
        )
        return int(attempts)

    # -------------------------------------------------------------------------- audit log
    def record(
        self,
        now: int,
        ctx: RequestContext,
        actor: str,
        action: str,
        target: str | None = None,
        *,
        outcome: Outcome = Outcome.OK,
        **detail: str,
    ) -> None:
        """Append one audit row for a request."""
        self.audit(
            ts_ns=now,
            actor=actor,
            ip=ctx.ip,
            request_id=ctx.request_id,
            action=action,
            target=target,
            outcome=outcome,
            detail=detail,
        )

    def audit(
        self,
        *,
        ts_ns: int,
        actor: str,
        ip: str | None,
        request_id: str | None,
        action: str,
        target: str | None,
        outcome: Outcome,
        detail: dict[str, str],
    ) -> None:
        self.conn.execute(
            insert(t.audit_log).values(
                ts_ns=ts_ns,
                actor=actor[:64],
                ip=ip,
                request_id=request_id[:128] if request_id else None,
                action=action,
                target=target[:256] if target else None,
                outcome=outcome.value,
                detail=json.dumps(detail, sort_keys=True),
            )
        )

    def audit_entries(
        self,
        *,
        actor: str | None,
        action: str | None,
        since_ns: int | None,
        before_id: int | None,
        limit: int,
    ) -> list[AuditEntry]:
        where: list[ColumnElement[bool]] = []
        if actor is not None:
            where.append(t.audit_log.c.actor == actor)
        if action is not None:
            where.append(t.audit_log.c.action == action)
        if since_ns is not None:
            where.append(t.audit_log.c.ts_ns >= since_ns)
        if before_id is not None:
            where.append(t.audit_log.c.id < before_id)
        query = select(t.audit_log).where(and_(True, *where)).order_by(t.audit_log.c.id.desc())
        rows = self.conn.execute(query.limit(limit))
        return [
            msgspec.convert({**_plain(r), "detail": json.loads(r.detail)}, AuditEntry) for r in rows
        ]

    # ------------------------------------------------------------------ exchange credentials
    def insert_credential(self, credential: CredentialRecord) -> None:
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    insert(t.exchange_credentials).values(**msgspec.structs.asdict(credential))
                )
        except IntegrityError:
            raise Conflict(
                f"a credential for {credential.venue} labelled {credential.label!r} exists",
                code="CREDENTIAL_EXISTS",
            ) from None

    def credential(self, credential_id: str) -> CredentialRecord | None:
        query = select(t.exchange_credentials).where(t.exchange_credentials.c.id == credential_id)
        row = self.conn.execute(query).first()
        return msgspec.convert(_plain(row), CredentialRecord) if row else None

    def credentials(
        self, *, user_id: str | None = None, not_kek: str | None = None
    ) -> list[CredentialRecord]:
        query = select(t.exchange_credentials)
        if user_id is not None:
            query = query.where(t.exchange_credentials.c.user_id == user_id)
        if not_kek is not None:
            query = query.where(t.exchange_credentials.c.kek_id != not_kek)
        rows = self.conn.execute(query.order_by(t.exchange_credentials.c.created_ns))
        return [msgspec.convert(_plain(r), CredentialRecord) for r in rows]

    def delete_credential(self, credential_id: str) -> bool:
        result = self.conn.execute(
            delete(t.exchange_credentials).where(t.exchange_credentials.c.id == credential_id)
        )
        return result.rowcount == 1

    def reseal_credential(self, credential_id: str, sealed: bytes, kek_id: str, now: int) -> None:
        self.conn.execute(
            update(t.exchange_credentials)
            .where(t.exchange_credentials.c.id == credential_id)
            .values(sealed=sealed, kek_id=kek_id, updated_ns=now)
        )


_USER = [c for c in t.users.c if c.name not in ("mfa_secret", "mfa_enabled")]
_USER_AS = [c.label(f"u_{c.name}") for c in _USER]
_SESSION = list(t.auth_sessions.c)
_KEY = list(t.api_keys.c)


def _plain(row: Any) -> dict[str, Any]:
    # Column names are sqlalchemy's str subclass, which msgspec does not take as keys.
    return {str(k): v for k, v in row._mapping.items()}


def _user(row: Any, prefix: str = "") -> UserRecord:
    values = {str(c.name): row[f"{prefix}{c.name}"] for c in _USER}
    return msgspec.convert(values, UserRecord)


def _session(row: Any) -> SessionRecord:
    return msgspec.convert({str(c.name): row[c.name] for c in _SESSION}, SessionRecord)


def _key(row: Any) -> KeyRecord:
    values = {str(c.name): row[c.name] for c in _KEY}
    values["scopes"] = [s for s in values["scopes"].split(",") if s]
    values["ip_allowlist"] = json.loads(values["ip_allowlist"])
    return msgspec.convert(values, KeyRecord)

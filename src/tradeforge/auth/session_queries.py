"""``SessionQueries``: the queries of the ``auth_sessions`` and ``refresh_tokens`` tables.

A refresh token is used at most once: ``use_refresh`` is a compare-and-set, so of two
concurrent refreshes with one token exactly one wins.
"""

from __future__ import annotations

import msgspec
from sqlalchemy import ColumnElement, Connection, insert, select, update

from tradeforge.auth.records import SessionRecord, UserRecord
from tradeforge.auth.rows import SESSION_COLUMNS, USER_LABELLED, session_of, user_of
from tradeforge.store import tables as t

__all__ = ["SessionQueries"]


class SessionQueries:
    """Mixin of ``Tx``: sessions, their revocation, and their refresh tokens."""

    conn: Connection

    def insert_session(self, session: SessionRecord) -> None:
        self.conn.execute(insert(t.auth_sessions).values(**msgspec.structs.asdict(session)))

    def session_with_user(self, session_id: str) -> tuple[SessionRecord, UserRecord] | None:
        query = (
            select(*SESSION_COLUMNS, *USER_LABELLED)
            .join(t.users, t.users.c.id == t.auth_sessions.c.user_id)
            .where(t.auth_sessions.c.id == session_id)
        )
        row = self.conn.execute(query).first()
        return (session_of(row._mapping), user_of(row._mapping, "u_")) if row else None

    def sessions_of(self, user_id: str, *, active_at: int | None) -> list[SessionRecord]:
        query = select(*SESSION_COLUMNS).where(t.auth_sessions.c.user_id == user_id)
        if active_at is not None:
            query = query.where(
                t.auth_sessions.c.revoked_ns.is_(None), t.auth_sessions.c.expires_ns > active_at
            )
        rows = self.conn.execute(query.order_by(t.auth_sessions.c.created_ns.desc()))
        return [session_of(r._mapping) for r in rows]

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

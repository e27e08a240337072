"""``ThrottleQueries``: the queries of the ``login_throttle`` and ``login_attempts`` tables.

On PostgreSQL ``lock_login`` serialises attempts on one user name (``SELECT ... FOR UPDATE``
of its throttle row, through ``throttle``) and on one IP (an advisory lock).
"""

from __future__ import annotations

import msgspec
from sqlalchemy import Connection, delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tradeforge.auth.records import ThrottleRecord
from tradeforge.auth.rows import plain
from tradeforge.store import tables as t

__all__ = ["ThrottleQueries"]


class ThrottleQueries:
    """Mixin of ``Tx``: the login throttle per user name and the attempts per IP."""

    conn: Connection
    dialect: str

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
        return msgspec.convert(plain(row), ThrottleRecord)

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

"""``UserQueries``: the queries of the ``users`` table."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from tradeforge.auth.errors import Conflict
from tradeforge.auth.records import UserRecord
from tradeforge.auth.rows import USER_COLUMNS, user_of
from tradeforge.store import tables as t

__all__ = ["UserQueries"]


class UserQueries:
    """Mixin of ``Tx``: users, by name or id, and their updates."""

    conn: Connection

    def insert_user(self, user: UserRecord) -> None:
        values = msgspec.structs.asdict(user)
        values["role"] = user.role.value
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(t.users).values(**values))
        except IntegrityError:
            raise Conflict(f"user name {user.username!r} is taken", code="USERNAME_TAKEN") from None

    def user_by_name(self, username: str) -> UserRecord | None:
        row = self.conn.execute(select(*USER_COLUMNS).where(t.users.c.username == username)).first()
        return user_of(row._mapping) if row else None

    def user_by_id(self, user_id: str) -> UserRecord | None:
        row = self.conn.execute(select(*USER_COLUMNS).where(t.users.c.id == user_id)).first()
        return user_of(row._mapping) if row else None

    def users(self) -> list[UserRecord]:
        rows = self.conn.execute(select(*USER_COLUMNS).order_by(t.users.c.created_ns, t.users.c.id))
        return [user_of(r._mapping) for r in rows]

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

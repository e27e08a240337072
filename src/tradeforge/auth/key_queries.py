"""``KeyQueries``: the queries of the ``api_keys`` table."""

from __future__ import annotations

import json

import msgspec
from sqlalchemy import Connection, func, insert, or_, select, update

from tradeforge.auth.records import KeyRecord, UserRecord
from tradeforge.auth.rows import KEY_COLUMNS, USER_LABELLED, key_of, user_of
from tradeforge.store import tables as t

__all__ = ["KeyQueries"]


class KeyQueries:
    """Mixin of ``Tx``: API keys, their use, revocation and re-sealing."""

    conn: Connection

    def insert_key(self, key: KeyRecord) -> None:
        values = msgspec.structs.asdict(key)
        values["scopes"] = ",".join(sorted(key.scopes))
        values["ip_allowlist"] = json.dumps(list(key.ip_allowlist))
        self.conn.execute(insert(t.api_keys).values(**values))

    def key_with_user(
        self, *, key_id: str | None = None, secret_sha256: str | None = None
    ) -> tuple[KeyRecord, UserRecord] | None:
        query = select(*KEY_COLUMNS, *USER_LABELLED).join(
            t.users, t.users.c.id == t.api_keys.c.user_id
        )
        if key_id is not None:
            query = query.where(t.api_keys.c.id == key_id)
        else:
            query = query.where(t.api_keys.c.secret_sha256 == secret_sha256)
        row = self.conn.execute(query).first()
        return (key_of(row._mapping), user_of(row._mapping, "u_")) if row else None

    def keys_of(self, user_id: str) -> list[KeyRecord]:
        query = select(*KEY_COLUMNS).where(t.api_keys.c.user_id == user_id)
        rows = self.conn.execute(query.order_by(t.api_keys.c.created_ns.desc()))
        return [key_of(r._mapping) for r in rows]

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
        query = select(*KEY_COLUMNS).where(
            t.api_keys.c.sealed_secret.is_not(None), t.api_keys.c.kek_id != kek_id
        )
        return [key_of(r._mapping) for r in self.conn.execute(query)]

    def reseal_key(self, key_id: str, sealed: bytes, kek_id: str) -> None:
        self.conn.execute(
            update(t.api_keys)
            .where(t.api_keys.c.id == key_id)
            .values(sealed_secret=sealed, kek_id=kek_id)
        )

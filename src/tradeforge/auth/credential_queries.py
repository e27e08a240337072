"""``CredentialQueries``: the queries of the ``exchange_credentials`` table."""

from __future__ import annotations

import msgspec
from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from tradeforge.auth.errors import Conflict
from tradeforge.auth.records import CredentialRecord
from tradeforge.auth.rows import plain
from tradeforge.store import tables as t

__all__ = ["CredentialQueries"]


class CredentialQueries:
    """Mixin of ``Tx``: exchange credentials, sealed, and their re-sealing."""

    conn: Connection

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
        return msgspec.convert(plain(row), CredentialRecord) if row else None

    def credentials(
        self, *, user_id: str | None = None, not_kek: str | None = None
    ) -> list[CredentialRecord]:
        query = select(t.exchange_credentials)
        if user_id is not None:
            query = query.where(t.exchange_credentials.c.user_id == user_id)
        if not_kek is not None:
            query = query.where(t.exchange_credentials.c.kek_id != not_kek)
        rows = self.conn.execute(query.order_by(t.exchange_credentials.c.created_ns))
        return [msgspec.convert(plain(r), CredentialRecord) for r in rows]

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

"""``AuditQueries``: the queries of the ``audit_log`` table."""

from __future__ import annotations

import json

import msgspec
from sqlalchemy import ColumnElement, Connection, and_, insert, select

from tradeforge.auth.audit import AuditEntry, Outcome
from tradeforge.auth.principal import RequestContext
from tradeforge.auth.rows import plain
from tradeforge.store import tables as t

__all__ = ["AuditQueries"]


class AuditQueries:
    """Mixin of ``Tx``: appends audit rows and reads them back, newest first."""

    conn: Connection

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
            msgspec.convert({**plain(r), "detail": json.loads(r.detail)}, AuditEntry) for r in rows
        ]

"""SEC-15 audit: security events and order actions carry actor, ip, request id and time
(100 %); the table is append-only: UPDATE and DELETE are refused on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError
from tests.unit.auth.conftest import CTX, PASSWORD, admin_principal, make_user

from tradeforge.auth import (
    AuthenticationFailed,
    AuthService,
    Forbidden,
    InvalidInput,
    Outcome,
    Permission,
    RequestContext,
    Role,
)
from tradeforge.store import Database
from tradeforge.store import tables as t


def test_update_and_delete_of_the_audit_log_are_refused(
    service: AuthService, database: Database
) -> None:
    make_user(service, "alice")
    with database.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(t.audit_log)).scalar_one()
    assert before > 0

    statements = [
        update(t.audit_log).values(actor="someone-else"),
        update(t.audit_log).where(t.audit_log.c.id == 1).values(detail="{}"),
        delete(t.audit_log),
        delete(t.audit_log).where(t.audit_log.c.id == 1),
    ]
    if database.dialect == "postgresql":
        statements.append(text("TRUNCATE audit_log"))
    refused = 0
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as conn:
            conn.execute(statement)
        refused += 1

    with database.engine.connect() as conn:
        after = conn.execute(select(func.count()).select_from(t.audit_log)).scalar_one()
        actors = set(conn.execute(select(t.audit_log.c.actor)).scalars())
    assert refused == len(statements)
    assert after == before
    assert "someone-else" not in actors


def test_security_events_carry_who_where_which_request_and_when(service: AuthService) -> None:
    admin = admin_principal(service)
    ctx = RequestContext(ip="192.0.2.10", request_id="req-42", user_agent="ua")
    service.create_user(admin, "alice", PASSWORD, Role.TRADER, ctx)
    with pytest.raises(AuthenticationFailed):
        service.login("alice", "not the password", ctx)
    pair = service.login("alice", PASSWORD, ctx)
    alice = service.authenticate(pair.access_token)
    key = service.create_api_key(alice, name="k", scopes=["read"], ctx=ctx)
    with pytest.raises(Forbidden):
        service.require(service.authenticate_api_key(key.secret, ctx), Permission.ORDERS_WRITE, ctx)
    service.revoke_api_key(alice, key.info.id, ctx)
    service.logout(alice, ctx)

    entries = [e for e in service.audit_log(admin, CTX, limit=500) if e.request_id == "req-42"]

    assert [e.action for e in reversed(entries)] == [
        "user.created",
        "login.failed",
        "login.succeeded",
        "api_key.created",
        "access.denied",
        "api_key.revoked",
        "session.logout",
    ]
    assert all(e.ip == "192.0.2.10" and e.ts_ns > 0 and e.actor for e in entries)
    assert {e.actor for e in entries if e.action != "login.failed"} <= {
        admin.user_id,
        alice.user_id,
    }


def test_order_actions_are_recorded_for_the_gateway(service: AuthService) -> None:
    admin = admin_principal(service)
    alice = make_user(service, "alice")
    ctx = RequestContext(ip="192.0.2.11", request_id="req-7")

    service.record("order.submitted", alice, ctx, target="o-1", detail={"qty": "0.5"})
    service.record("order.cancelled", alice, ctx, target="o-1", outcome=Outcome.OK)
    with pytest.raises(InvalidInput):
        service.record("Order Submitted!", alice, ctx)

    entries = service.audit_log(admin, CTX, actor=alice.user_id, action="order.submitted")
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.target, entry.ip, entry.request_id) == ("o-1", "192.0.2.11", "req-7")
    assert entry.detail == {"qty": "0.5", "method": "session"}


def test_reading_the_audit_log_needs_the_permission_and_pages(service: AuthService) -> None:
    admin = admin_principal(service)
    alice = make_user(service, "alice")
    for n in range(30):
        service.record("order.submitted", alice, CTX, target=f"o-{n}")

    with pytest.raises(Forbidden):
        service.audit_log(alice, CTX)
    first = service.audit_log(admin, CTX, action="order.submitted", limit=20)
    rest = service.audit_log(admin, CTX, action="order.submitted", before_id=first[-1].id)
    assert [e.target for e in first + rest] == [f"o-{n}" for n in reversed(range(30))]
    with pytest.raises(InvalidInput):
        service.audit_log(admin, CTX, limit=10_000)

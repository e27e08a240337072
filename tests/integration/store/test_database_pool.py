"""PostgreSQL connections are kept, not made per request: after a burst of concurrent users
(the gateway's worker threads), the next burst of the same size opens no new connection. With
SQLAlchemy's default pool (5 kept, 10 more made and closed again) every request past the fifth
concurrent one connected anew: ``bench.gateway`` counted 0.85 new connections per order at 16
REST clients, and orders per second fell from 4 clients to 16."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from tests.kit.databases import fresh_postgres

from tradeforge.store import Database

pytestmark = pytest.mark.integration

CONCURRENT = 15  # at most this many at once, as before: the pool is bounded, not grown


def _burst(database: Database, users: int) -> None:
    barrier = threading.Barrier(users)

    def use() -> None:
        with database.engine.connect() as conn:
            barrier.wait(timeout=30)  # all hold a connection at the same time
            assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1

    threads = [threading.Thread(target=use) for _ in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)


def test_a_second_burst_reuses_every_connection_of_the_first() -> None:
    with fresh_postgres() as url:
        database = Database(url)
        opened: list[object] = []
        sa.event.listen(database.engine, "connect", lambda conn, _record: opened.append(conn))
        try:
            _burst(database, CONCURRENT)
            first = len(opened)
            _burst(database, CONCURRENT)
            _burst(database, CONCURRENT)
        finally:
            database.dispose()
    assert first == CONCURRENT
    assert len(opened) == first  # none closed and made again

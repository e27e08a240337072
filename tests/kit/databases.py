"""Databases for tests: a fresh SQLite file, or a fresh PostgreSQL database on the local server.

PostgreSQL tests skip with a reason when the server is not there, except under ``CI=true``,
where an absent server is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """A new, empty PostgreSQL database (dropped afterwards); its SQLAlchemy URL."""
    import psycopg

    name = f"tf_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL on 127.0.0.1:5432 is required under CI=true: {exc}")
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 is not running: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

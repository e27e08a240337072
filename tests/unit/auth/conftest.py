"""Auth fixtures: the service on SQLite and on PostgreSQL, a replay clock, a fast hasher.

The argon2 profile here is far below the OWASP minimum so that hundreds of logins run in
seconds; only the tests that assert the real parameters (test_passwords.py) use the default.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import argon2
import pytest
from sqlalchemy import text
from tests.kit.databases import fresh_postgres

from tradeforge.auth import (
    AuthConfig,
    AuthService,
    PasswordHasher,
    Principal,
    RequestContext,
    Role,
    generate_key_text,
)
from tradeforge.bus import ReplayClock
from tradeforge.store import Database, sqlite_url
from tradeforge.store.tables import metadata

T0 = 1_750_000_000 * 1_000_000_000  # a fixed start, in ns
PASSWORD = "correct horse battery staple"
ADMIN_PASSWORD = "tangerine rooftop signal 42"
CTX = RequestContext(ip="203.0.113.7", request_id="req-1", user_agent="pytest")

FAST = argon2.Parameters(
    type=argon2.Type.ID,
    version=19,
    salt_len=16,
    hash_len=32,
    time_cost=1,
    memory_cost=64,
    parallelism=1,
)


def fast_hasher() -> PasswordHasher:
    return PasswordHasher(FAST, insecure_for_tests=True)


def make_config(**overrides: object) -> AuthConfig:
    values: dict[str, object] = {
        "jwt_secret": generate_key_text(),
        "secret_key": generate_key_text(),
    }
    values.update(overrides)
    return AuthConfig(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def shared_postgres() -> Iterator[str]:
    """One migrated PostgreSQL database per test process (creating one per test is slow)."""
    with fresh_postgres() as url:
        db = Database(url)
        db.upgrade()
        db.dispose()
        yield url


def _empty(url: str) -> None:
    # The audit log refuses TRUNCATE by trigger; a superuser in replica mode skips triggers.
    db = Database(url)
    names = ", ".join(t.name for t in reversed(metadata.sorted_tables))
    with db.engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    db.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database: a new SQLite file, or the shared PostgreSQL one emptied."""
    if request.param == "sqlite":
        db = Database(sqlite_url(tmp_path / "auth.sqlite"))
        db.upgrade()
        yield db
        db.dispose()
        return
    url = request.getfixturevalue("shared_postgres")
    _empty(url)
    db = Database(url)
    yield db
    db.dispose()


@pytest.fixture
def clock() -> ReplayClock:
    return ReplayClock(T0)


@pytest.fixture
def config() -> AuthConfig:
    return make_config()


@pytest.fixture
def service(database: Database, clock: ReplayClock, config: AuthConfig) -> AuthService:
    return AuthService(config=config, database=database, clock=clock, hasher=fast_hasher())


def advance(clock: ReplayClock, seconds: float) -> None:
    clock.advance_to(clock.timestamp_ns() + int(seconds * 1_000_000_000))


def make_user(
    service: AuthService, username: str, role: Role = Role.TRADER, password: str = PASSWORD
) -> Principal:
    """A user and a principal of a fresh login of theirs."""
    admin = admin_principal(service)
    service.create_user(admin, username, password, role, CTX)
    pair = service.login(username, password, CTX)
    return service.authenticate(pair.access_token)


def admin_principal(service: AuthService) -> Principal:
    """The first admin (created on first call), logged in."""
    service.ensure_admin("admin", ADMIN_PASSWORD, CTX)
    pair = service.login("admin", ADMIN_PASSWORD, CTX)
    return service.authenticate(pair.access_token)

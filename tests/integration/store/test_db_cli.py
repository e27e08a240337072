"""``tradeforge db upgrade`` / ``db current`` as a user runs them (the real console script), on
the SQLite file under the data directory and on a throwaway PostgreSQL database: the revision
before and after is printed, a second upgrade changes nothing, and the schema it leaves is the
one ``tradeforge up`` works with (its tables, the audit log's append-only trigger)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.kit.databases import fresh_postgres

from tradeforge.store import Database

pytestmark = pytest.mark.integration

TRADEFORGE = Path(sys.executable).parent / "tradeforge"


def tradeforge(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TRADEFORGE__")}
    return subprocess.run(
        [str(TRADEFORGE), "--data-dir", str(data_dir), "db", *args],
        capture_output=True, text=True, timeout=120, env=clean | env, check=False,
    )  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[dict[str, str], str]]:
    """The environment that names the database, and its URL."""
    if request.param == "sqlite":
        yield {}, f"sqlite:///{tmp_path / 'platform' / 'journal.sqlite'}"
    else:
        with fresh_postgres() as url:
            yield {"TRADEFORGE__DB__URL": url}, url


def test_upgrade_migrates_once_then_changes_nothing(
    target: tuple[dict[str, str], str], tmp_path: Path
) -> None:
    env, url = target
    head = Database.head()

    before = tradeforge(tmp_path, "current", **env)
    first = tradeforge(tmp_path, "upgrade", **env)
    second = tradeforge(tmp_path, "upgrade", **env)
    after = tradeforge(tmp_path, "current", **env)

    for done in (before, first, second, after):
        assert done.returncode == 0, done.stderr
    assert "none (empty database) (behind: run tradeforge db upgrade" in before.stdout
    assert f"upgraded from none (empty database) to {head}" in first.stdout
    assert f"already at {head} (head)" in second.stdout
    assert after.stdout.strip().endswith(f"{head} (head)")
    database = Database(url)
    try:
        assert database.revision() == head
        tables = set(sa.inspect(database.engine).get_table_names())
        assert {"users", "api_keys", "audit_log", "order_events"} <= tables
        triggers = (
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"
            if database.dialect == "sqlite"
            else "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
        )
        with database.engine.connect() as conn:
            names = {row[0] for row in conn.execute(sa.text(triggers))}
        assert any("audit" in name for name in names)  # the append-only trigger came with it
    finally:
        database.dispose()


def test_upgrade_carries_an_older_schema_forward(
    target: tuple[dict[str, str], str], tmp_path: Path
) -> None:
    env, url = target
    from alembic import command

    from tradeforge.store.database import _alembic_config

    database = Database(url)
    try:  # a database a previous version left at 0001
        config = _alembic_config()
        with database.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0001")
    finally:
        database.dispose()

    current = tradeforge(tmp_path, "current", **env)
    upgraded = tradeforge(tmp_path, "upgrade", **env)

    assert "0001 (behind" in current.stdout, current.stderr
    assert f"upgraded from 0001 to {Database.head()}" in upgraded.stdout, upgraded.stderr


def test_an_unreachable_server_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    done = tradeforge(tmp_path, "upgrade",
                      TRADEFORGE__DB__URL="postgresql+psycopg://tf@127.0.0.1:1/tf")  # fmt: skip

    assert done.returncode == 2
    assert done.stderr.startswith("error: database postgresql+psycopg://tf@127.0.0.1:1/tf")
    assert "Traceback" not in done.stderr


def test_a_password_inside_the_url_is_refused_without_echoing_it(tmp_path: Path) -> None:
    url = "postgresql://tf:hunter2-secret@127.0.0.1/tf"
    done = tradeforge(tmp_path, "current", TRADEFORGE__DB__URL=url)

    assert done.returncode == 2
    assert "TRADEFORGE__DB__PASSWORD" in done.stderr
    assert "hunter2-secret" not in done.stderr

"""Fresh order journals for tests that need hundreds of them (Hypothesis examples).

The schema is migrated once into a template SQLite file and copied for each journal, on tmpfs
when there is one: the tests using these are about the OMS's logic, not fsync (the journals
still run with WAL and synchronous=FULL).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from tradeforge.store import Database, SqlOrderJournal, sqlite_url


class Journals:
    """A template journal and the copies made from it; ``close()`` disposes of them all."""

    def __init__(self) -> None:
        shm = Path("/dev/shm")
        self._dir = tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else None)
        self.root = Path(self._dir.name)
        self._template = self.root / "template.sqlite"
        database = Database(sqlite_url(self._template))
        database.upgrade()
        database.dispose()
        self._made: list[Database] = []

    def new(self) -> SqlOrderJournal:
        """An empty, migrated journal of its own."""
        path = self.root / f"journal-{len(self._made)}.sqlite"
        shutil.copyfile(self._template, path)
        database = Database(sqlite_url(path))
        self._made.append(database)
        return SqlOrderJournal(database)

    def discard(self, journal: SqlOrderJournal) -> None:
        """Dispose of one journal and delete its file."""
        journal.db.dispose()
        url = journal.db.url
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)

    def close(self) -> None:
        """Dispose of every journal and delete the files."""
        for database in self._made:
            database.dispose()
        self._dir.cleanup()

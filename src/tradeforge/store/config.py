"""Settings of the relational store (``[db]``, ``TRADEFORGE__DB__*``)."""

from __future__ import annotations

from pathlib import Path

import msgspec
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from tradeforge.domain.errors import ConfigurationError
from tradeforge.store.database import sqlite_url

__all__ = ["DbConfig"]


class DbConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Which database the platform keeps its journal, users and audit log in.

    Empty ``url``: the SQLite file ``<data dir>/platform/journal.sqlite`` (the embedded shape).
    """

    url: str = ""
    """``sqlite:///path`` or ``postgresql+psycopg://user@host:5432/dbname``; empty: SQLite."""
    password: str = ""
    """The server's password, kept out of ``url`` so that ``config show`` hides it."""

    def __post_init__(self) -> None:
        if not self.url:
            return
        try:
            parsed = make_url(self.url)
        except ArgumentError:
            raise ConfigurationError(
                f"TRADEFORGE__DB__URL = {self.url!r} is not a URL: use sqlite:///path/file.sqlite "
                "or postgresql+psycopg://user@host:5432/dbname"
            ) from None
        if parsed.get_backend_name() not in ("sqlite", "postgresql"):
            raise ConfigurationError(
                "TRADEFORGE__DB__URL: only sqlite:/// and postgresql+psycopg:// are supported"
            )
        if parsed.password:
            raise ConfigurationError(
                "TRADEFORGE__DB__URL must not contain the password (it would be shown with the "
                "settings): set TRADEFORGE__DB__PASSWORD instead"
            )

    def url_for(self, data_dir: Path) -> str:
        """The SQLAlchemy URL to connect to, the password included."""
        if not self.url:
            return sqlite_url(data_dir / "platform" / "journal.sqlite")
        parsed: URL = make_url(self.url)
        if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")  # the driver we ship
        if self.password:
            parsed = parsed.set(password=self.password)
        return parsed.render_as_string(hide_password=False)

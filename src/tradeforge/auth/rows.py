"""Rows of the auth tables read as records (``tradeforge.auth.records``).

The columns each query selects, and the conversions of a row to its record. A user row is read
without its MFA columns; joined to another table, its columns are labelled ``u_<name>``.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

from tradeforge.auth.records import KeyRecord, SessionRecord, UserRecord
from tradeforge.store import tables as t

__all__ = [
    "KEY_COLUMNS",
    "SESSION_COLUMNS",
    "USER_COLUMNS",
    "USER_LABELLED",
    "key_of",
    "plain",
    "session_of",
    "user_of",
]

USER_COLUMNS = [c for c in t.users.c if c.name not in ("mfa_secret", "mfa_enabled")]
USER_LABELLED = [c.label(f"u_{c.name}") for c in USER_COLUMNS]
SESSION_COLUMNS = list(t.auth_sessions.c)
KEY_COLUMNS = list(t.api_keys.c)


def plain(row: Any) -> dict[str, Any]:
    """A row as a dict with plain ``str`` keys."""
    # Column names are sqlalchemy's str subclass, which msgspec does not take as keys.
    return {str(k): v for k, v in row._mapping.items()}


def user_of(row: Any, prefix: str = "") -> UserRecord:
    """The user of a row's mapping (its columns named ``<prefix><name>``)."""
    values = {str(c.name): row[f"{prefix}{c.name}"] for c in USER_COLUMNS}
    return msgspec.convert(values, UserRecord)


def session_of(row: Any) -> SessionRecord:
    """The session of a row's mapping."""
    return msgspec.convert({str(c.name): row[c.name] for c in SESSION_COLUMNS}, SessionRecord)


def key_of(row: Any) -> KeyRecord:
    """The API key of a row's mapping (scopes and IP allowlist decoded)."""
    values = {str(c.name): row[c.name] for c in KEY_COLUMNS}
    values["scopes"] = [s for s in values["scopes"].split(",") if s]
    values["ip_allowlist"] = json.loads(values["ip_allowlist"])
    return msgspec.convert(values, KeyRecord)

"""Where a setting can come from, and reading each source into flat ``section.key`` values.

The readers only parse; :func:`tradeforge.runtime.settings.load_settings` decides which keys
exist, which value wins and whether it is valid.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import msgspec

from tradeforge.runtime.errors import ConfigurationError

__all__ = [
    "DEFAULT",
    "ENV_PREFIX",
    "RawValue",
    "Source",
    "SourceKind",
    "flag_for",
    "read_environ",
    "read_file",
    "read_overrides",
]

ENV_PREFIX = "TRADEFORGE__"

SourceKind = Literal["default", "file", "env", "cli"]


class Source(msgspec.Struct, frozen=True, kw_only=True):
    """One place a value came from: ``name`` is the file path, env var or CLI flag."""

    kind: SourceKind
    name: str | None = None

    def __str__(self) -> str:
        return self.name if self.name is not None else self.kind


DEFAULT = Source(kind="default")


class RawValue(msgspec.Struct, frozen=True, kw_only=True):
    """A value as a source gave it, before validation; ``key`` is dotted (``log.level``)."""

    key: str
    value: object
    source: Source


def flag_for(key: str) -> str:
    """The CLI flag that overrides ``key``: ``data.dir`` is ``--data-dir``."""
    return "--" + key.replace(".", "-").replace("_", "-")


def read_file(path: Path) -> list[RawValue]:
    """The values in a TOML file with one table per section (``[log]``, ``[data]``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigurationError(f"config file {str(path)!r} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read config file {str(path)!r}: {exc}") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"config file {str(path)!r} is not valid TOML: {exc}") from None
    source = Source(kind="file", name=str(path))
    values: list[RawValue] = []
    for section, table in document.items():
        if not isinstance(table, dict):
            # A top-level key outside any table: reported as an unknown setting by the loader.
            values.append(RawValue(key=section, value=table, source=source))
            continue
        values.extend(
            RawValue(key=f"{section}.{key}", value=value, source=source)
            for key, value in table.items()
        )
    return values


def read_environ(environ: Mapping[str, str]) -> list[RawValue]:
    """The ``TRADEFORGE__SECTION__KEY`` variables; names are case-insensitive."""
    values: list[RawValue] = []
    for name, value in sorted(environ.items()):
        if not name.upper().startswith(ENV_PREFIX):
            continue
        key = ".".join(name[len(ENV_PREFIX) :].lower().split("__"))
        values.append(RawValue(key=key, value=value, source=Source(kind="env", name=name)))
    return values


def read_overrides(overrides: Mapping[str, object]) -> list[RawValue]:
    """Overrides keyed by dotted name, each reported as the flag :func:`flag_for` names."""
    return [
        RawValue(key=key, value=value, source=Source(kind="cli", name=flag_for(key)))
        for key, value in overrides.items()
    ]

"""Settings: every package's config composed once, remembering where each value came from.

Precedence, lowest first: the defaults in each package's ``config.py`` < the TOML file
(``--config``) < ``TRADEFORGE__SECTION__KEY`` environment variables < CLI flags. Unknown keys in
any source are errors; only the winning value of each key is validated.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from tradeforge.auth.config import AuthConfig
from tradeforge.data.config import DataConfig
from tradeforge.gateway.config import GatewayConfig, RedisConfig
from tradeforge.observability.config import LogConfig
from tradeforge.runtime.errors import ConfigurationError
from tradeforge.runtime.sources import (
    DEFAULT,
    RawValue,
    Source,
    read_environ,
    read_file,
    read_overrides,
)
from tradeforge.store.config import DbConfig

__all__ = ["Setting", "Settings", "known_keys", "load_settings"]


class Setting(msgspec.Struct, frozen=True, kw_only=True):
    """One effective setting: its dotted key, its value and the source that set it."""

    key: str
    value: object
    source: Source


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The whole configuration: one section per package, plus the source of each value.

    ``sources`` maps dotted keys (``log.level``) to where their value came from; keys missing
    from it hold their defaults.
    """

    log: LogConfig = msgspec.field(default_factory=LogConfig)
    data: DataConfig = msgspec.field(default_factory=DataConfig)
    auth: AuthConfig = msgspec.field(default_factory=AuthConfig)
    gateway: GatewayConfig = msgspec.field(default_factory=GatewayConfig)
    redis: RedisConfig = msgspec.field(default_factory=RedisConfig)
    db: DbConfig = msgspec.field(default_factory=DbConfig)
    sources: Mapping[str, Source] = msgspec.field(default_factory=dict)

    def source_of(self, key: str) -> Source:
        """Where the value of ``key`` came from."""
        _field_type(key)
        return self.sources.get(key, DEFAULT)

    def value_of(self, key: str) -> object:
        """The effective value of ``key`` (dotted, e.g. ``data.dir``)."""
        _field_type(key)
        section, _, name = key.partition(".")
        return getattr(getattr(self, section), name)

    def entries(self) -> list[Setting]:
        """Every setting, in declaration order, with its value and source."""
        return [
            Setting(key=key, value=self.value_of(key), source=self.source_of(key))
            for key in known_keys()
        ]


def known_keys() -> dict[str, object]:
    """Every dotted setting key, in declaration order, mapped to its type."""
    return {
        f"{section}.{field.name}": field.type
        for section, struct in _sections().items()
        for field in msgspec.structs.fields(struct)
    }


def load_settings(
    *, config_file: Path | None, environ: Mapping[str, str], overrides: Mapping[str, object]
) -> Settings:
    """Compose and validate the settings from all sources.

    Raises :class:`~tradeforge.domain.errors.ConfigurationError` naming the key, the value and
    its source when a key is unknown or a value is invalid, and naming the file (and the line)
    when the config file is missing or not valid TOML.
    """
    layers = [
        *(read_file(config_file) if config_file is not None else []),
        *read_environ(environ),
        *read_overrides(overrides),
    ]
    types = known_keys()
    winners: dict[str, RawValue] = {}
    for raw in layers:
        if raw.key not in types:
            section = raw.key.partition(".")[0]
            same = [key for key in types if key.partition(".")[0] == section]
            known = ", ".join(same) if same else "sections " + ", ".join(_sections())
            raise ConfigurationError(
                f"unknown setting {raw.key!r} (from {raw.source}); known settings: {known}"
            )
        winners[raw.key] = raw
    sections: dict[str, Any] = {}  # section name -> that package's config struct
    for section, struct in _sections().items():
        chosen = [raw for key, raw in winners.items() if key.partition(".")[0] == section]
        values = {raw.key.partition(".")[2]: _convert(raw, types[raw.key]) for raw in chosen}
        sections[section] = _build(section, struct, values, chosen)
    return Settings(**sections, sources={key: raw.source for key, raw in winners.items()})


def _sections() -> dict[str, type[msgspec.Struct]]:
    return {
        field.name: field.type
        for field in msgspec.structs.fields(Settings)
        if isinstance(field.type, type) and issubclass(field.type, msgspec.Struct)
    }


def _field_type(key: str) -> object:
    try:
        return known_keys()[key]
    except KeyError:
        raise ConfigurationError(f"unknown setting {key!r}") from None


def _convert(raw: RawValue, type_: object) -> object:
    # TOML values are typed already; env vars and flags arrive as strings, and a list in one
    # of them is written comma-separated ("https://a.example,https://b.example").
    strict = raw.source.kind == "file"
    value = raw.value
    if not strict and isinstance(value, str) and typing.get_origin(type_) in (tuple, list):
        value = [item.strip() for item in value.split(",") if item.strip()]
    try:
        return msgspec.convert(value, type_, strict=strict)
    except msgspec.ValidationError as exc:
        raise ConfigurationError(
            f"{raw.key} = {raw.value!r} (from {raw.source}): {_expected(type_, exc)}"
        ) from None


def _expected(type_: object, exc: msgspec.ValidationError) -> str:
    if typing.get_origin(type_) is typing.Literal:
        return "expected one of " + ", ".join(repr(v) for v in typing.get_args(type_))
    message = str(exc).split(" - at ", 1)[0]
    return message[:1].lower() + message[1:]


def _build(
    section: str, struct: type[msgspec.Struct], values: dict[str, object], chosen: list[RawValue]
) -> msgspec.Struct:
    # Each value is valid on its own; this runs the section's own cross-field checks.
    try:
        return msgspec.convert(values, struct)
    except msgspec.ValidationError as exc:
        origins = ", ".join(sorted({str(raw.source) for raw in chosen})) or "defaults"
        raise ConfigurationError(f"[{section}] {exc} (from {origins})") from None

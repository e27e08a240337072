"""Rendering the effective settings, each with its source, for ``tradeforge config show``."""

from __future__ import annotations

import json

import msgspec

from tradeforge.runtime.settings import Settings

__all__ = ["settings_as_json", "settings_as_toml"]


def settings_as_json(settings: Settings) -> str:
    """``{"section": {"key": {"value": ..., "source": {"kind": ..., "name": ...}}}}``."""
    document: dict[str, dict[str, object]] = {}
    for entry in settings.entries():
        section, _, name = entry.key.partition(".")
        value = _redacted(name, entry.value)
        document.setdefault(section, {})[name] = {"value": value, "source": entry.source}
    return msgspec.json.format(msgspec.json.encode(document), indent=2).decode() + "\n"


def settings_as_toml(settings: Settings) -> str:
    """A TOML document that works as a config file; a comment after each value names its source."""
    lines = ["# Effective TradeForge settings; the comment after each value names its source."]
    current = ""
    for entry in settings.entries():
        section, _, name = entry.key.partition(".")
        if section != current:
            lines += ["", f"[{section}]"]
            current = section
        lines.append(f"{name} = {_toml_value(_redacted(name, entry.value))}  # {entry.source}")
    return "\n".join(lines) + "\n"


_SECRET_ENDINGS = ("secret", "secrets", "secret_key", "secret_keys", "password")


def _redacted(name: str, value: object) -> object:
    """Secrets are never shown: a set one reads ``"***"``."""
    if not name.endswith(_SECRET_ENDINGS):
        return value
    if isinstance(value, tuple | list):
        return ["***" for _ in value]
    return "***" if value else ""


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        # JSON's string escapes are all valid in a TOML basic string; TOML also wants DEL escaped.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__} value {value!r}")

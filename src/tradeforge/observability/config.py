"""Settings of the observability package: how TradeForge logs."""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = ["LogConfig", "LogFormat", "LogLevel"]

LogLevel = Literal["debug", "info", "warning", "error"]
LogFormat = Literal["console", "json"]


class LogConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How much to log and how to render it.

    ``level`` drops records below it; ``format`` is ``console`` (coloured, for people) or
    ``json`` (one object per line, for log shippers).
    """

    level: LogLevel = "info"
    format: LogFormat = "console"

"""Settings of the data service."""

from __future__ import annotations

from pathlib import Path

import msgspec

__all__ = ["DataConfig"]


class DataConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where market data lives.

    ``dir`` is kept as written (so ``config show`` reports what the user typed); use
    :attr:`path` to get it with ``~`` expanded.
    """

    dir: str = "~/.tradeforge/data"

    @property
    def path(self) -> Path:
        """The data directory with ``~`` expanded to the user's home."""
        return Path(self.dir).expanduser()

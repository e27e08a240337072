"""Which column of an OHLCV file is which: common names, matched case-insensitively.

A header is normalised (trimmed, lower case, spaces and ``-`` as ``_``) and compared with each
role's aliases in order, so ``Open Time``, ``open-time`` and ``open_time`` are one name. When a
file has two candidates for a role, the alias listed first wins (``timestamp`` over ``date``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from tradeforge.data.bars import BAR_COLUMNS
from tradeforge.data.errors import BadDataFile

__all__ = ["ALIASES", "detect_columns"]

ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    "ts": (
        "ts",
        "timestamp",
        "open_time",
        "opentime",
        "time",
        "datetime",
        "date_time",
        "date",
        "t",
    ),
    "open": ("open", "o", "open_price"),
    "high": ("high", "h", "high_price"),
    "low": ("low", "l", "low_price"),
    "close": ("close", "c", "close_price"),
    "volume": ("volume", "vol", "v", "base_volume", "volume_base", "qty", "quantity"),
}


def normalise(name: str) -> str:
    """A header as compared with the aliases: ``" Open Time"`` -> ``open_time``."""
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def detect_columns(
    file_name: str, header: Sequence[str], overrides: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Map each role (``ts``, ``open`` ... ``volume``) to the file's column name.

    ``overrides`` maps roles to exact column names and wins over detection.

    Raises:
        BadDataFile: a role has no column (names the columns the file has and the aliases).
    """
    overrides = dict(overrides or {})
    unknown_roles = sorted(set(overrides) - set(BAR_COLUMNS))
    if unknown_roles:
        raise BadDataFile(
            f"{file_name}: unknown column roles {unknown_roles}; roles are {list(BAR_COLUMNS)}"
        )
    by_normal: dict[str, str] = {}
    for name in header:
        by_normal.setdefault(normalise(name), name)
    chosen: dict[str, str] = {}
    for role in BAR_COLUMNS:
        if role in overrides:
            if overrides[role] not in header:
                raise BadDataFile(
                    f"{file_name}: no column {overrides[role]!r} (given for {role}); "
                    f"columns are {list(header)}"
                )
            chosen[role] = overrides[role]
            continue
        match = next((by_normal[a] for a in ALIASES[role] if a in by_normal), None)
        if match is None:
            raise BadDataFile(
                f"{file_name}: no {_ROLE_NAMES[role]} column; columns are {list(header)}, "
                f"expected one of {list(ALIASES[role])}"
            )
        chosen[role] = match
    taken: dict[str, str] = {}
    for role, name in chosen.items():
        if name in taken:
            raise BadDataFile(
                f"{file_name}: column {name!r} cannot be both {taken[name]} and {role}"
            )
        taken[name] = role
    return chosen


_ROLE_NAMES: Final = {
    "ts": "timestamp",
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "volume": "volume",
}

"""Where a dataset lives on disk: ``bars/<VENUE>/<escaped symbol>/<timeframe>/<year>.parquet``.

Symbols are percent-encoded so every symbol maps to exactly one safe directory name and back:
letters, digits, ``-`` and ``_`` stay; every other byte, ``%`` itself, and a ``.`` in first
place (so no name is ``.``, ``..`` or hidden) become ``%XX`` (upper-case hex).
``BTC/USDT`` -> ``BTC%2FUSDT``, ``BRK.B`` -> ``BRK.B``, ``.X`` -> ``%2EX``. Venues are already
safe (upper case, digits, ``_``, ``-``). Timeframes are written in their largest whole unit,
so ``60s`` and ``1m`` are the same directory.
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Final

from tradeforge.domain.errors import InvalidValue
from tradeforge.domain.identifiers import InstrumentId
from tradeforge.domain.market_data import Timeframe

__all__ = [
    "BARS_DIR",
    "METADATA_FILE",
    "canonical_timeframe",
    "dataset_dir",
    "escape_symbol",
    "unescape_symbol",
]

BARS_DIR: Final = "bars"
METADATA_FILE: Final = "dataset.json"

_SAFE: Final = frozenset(string.ascii_letters + string.digits + "-_.")
_ESCAPED: Final = re.compile(r"%([0-9A-F]{2})")
_UNIT_NANOS: Final = (
    ("w", Timeframe(1, "w").nanos),
    ("d", Timeframe(1, "d").nanos),
    ("h", Timeframe(1, "h").nanos),
    ("m", Timeframe(1, "m").nanos),
    ("s", Timeframe(1, "s").nanos),
)


def escape_symbol(symbol: str) -> str:
    """A symbol as one file-system-safe directory name; :func:`unescape_symbol` reverses it."""
    out: list[str] = []
    for index, char in enumerate(symbol):
        if char in _SAFE and not (index == 0 and char == "."):
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8"))
    return "".join(out)


def unescape_symbol(name: str) -> str:
    """The symbol a directory name stands for."""
    pieces = _ESCAPED.split(name)  # literal, hex, literal, hex, ..., literal
    literals, hexes = pieces[0::2], pieces[1::2]
    if any("%" in literal for literal in literals):
        raise InvalidValue(f"not an escaped symbol: {name!r}")
    data = bytearray(literals[0].encode("utf-8"))
    for hex_byte, literal in zip(hexes, literals[1:], strict=True):
        data.append(int(hex_byte, 16))
        data += literal.encode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidValue(f"not an escaped symbol: {name!r}") from None


def canonical_timeframe(timeframe: Timeframe) -> Timeframe:
    """The same length in its largest whole unit: ``60s`` -> ``1m``, ``1440m`` -> ``1d``."""
    for unit, nanos in _UNIT_NANOS:
        if timeframe.nanos % nanos == 0:
            return Timeframe(timeframe.nanos // nanos, unit)
    return timeframe


def dataset_dir(root: Path, instrument_id: InstrumentId, timeframe: Timeframe) -> Path:
    """The directory holding one dataset's year files and metadata."""
    return (
        root
        / BARS_DIR
        / instrument_id.venue.value
        / escape_symbol(instrument_id.symbol.value)
        / str(canonical_timeframe(timeframe))
    )

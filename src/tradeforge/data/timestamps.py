"""UTC nanosecond timestamps: ISO-8601 text both ways, and calendar years for partitioning."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from tradeforge.domain.errors import InvalidValue

__all__ = ["format_utc_ns", "parse_utc_ns", "year_of_ns", "year_start_ns"]

_NS = 1_000_000_000


def format_utc_ns(ts_ns: int) -> str:
    """``2020-01-01T00:01:00Z``; fractional seconds appear only when not zero."""
    seconds, fraction = divmod(int(ts_ns), _NS)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if fraction:
        text += "." + f"{fraction:09d}".rstrip("0")
    return text + "Z"


def parse_utc_ns(text: str) -> int:
    """Parse ``2020-01-01``, ``2020-01-01T09:30``, ``...Z`` or ``...+02:00``; naive means UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidValue(
            f"time must be ISO-8601 like 2020-01-01 or 2020-01-01T09:30:00Z, got {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * _NS + delta.microseconds * 1_000


def year_of_ns(ts_ns: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The UTC calendar year of each timestamp."""
    years: npt.NDArray[np.int64] = (
        ts_ns.astype("datetime64[ns]").astype("datetime64[Y]").astype(np.int64)
    )
    return years + 1970


def year_start_ns(year: int) -> int:
    """UTC nanoseconds of 1 January ``year``, 00:00."""
    return int(np.datetime64(f"{year:04d}-01-01", "ns").astype(np.int64))

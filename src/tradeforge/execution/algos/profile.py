"""Intraday volume profiles for VWAP, built from bar history.

A :class:`VolumeProfile` holds the average volume traded in each bucket of the UTC day (bucket 0
starts at 00:00). :func:`volume_profile` builds one from the last ``days`` days of bars in the
history catalog (anything with the catalog's ``exists``/``iter_bars``); with no history it
returns the flat profile, under which VWAP trades like TWAP.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Final, Protocol

import msgspec
import numpy as np
import numpy.typing as npt

from tradeforge.domain import InstrumentId, InvalidValue, Timeframe
from tradeforge.execution.algos._exact import EXACT

__all__ = ["DAY_NS", "BarHistory", "BarVolumes", "VolumeProfile", "volume_profile"]

DAY_NS: Final = 86_400 * 1_000_000_000
_HOUR_NS: Final = 3_600 * 1_000_000_000


class BarVolumes(Protocol):
    """A chunk of bars: open times (int64 ns) and volumes (float64), as the catalog gives."""

    @property
    def ts(self) -> npt.NDArray[np.int64]: ...
    @property
    def volume(self) -> npt.NDArray[np.float64]: ...


class BarHistory(Protocol):
    """Where bars come from: ``tradeforge.data.Catalog`` is one."""

    def exists(self, instrument_id: InstrumentId, timeframe: Timeframe) -> bool: ...

    def iter_bars(
        self,
        instrument_id: InstrumentId,
        timeframe: Timeframe,
        *,
        start_ns: int | None = None,
        end_ns: int | None = None,
    ) -> Iterator[BarVolumes]: ...


class VolumeProfile(msgspec.Struct, frozen=True, kw_only=True):
    """Average volume per ``bucket_ns`` bucket of the UTC day; ``days`` of history behind it
    (0 for the flat fallback)."""

    bucket_ns: int
    weights: tuple[Decimal, ...]
    days: int = 0

    def __post_init__(self) -> None:
        if self.bucket_ns <= 0 or DAY_NS % self.bucket_ns:
            raise InvalidValue(f"bucket_ns must divide a day evenly, got {self.bucket_ns}")
        if len(self.weights) != DAY_NS // self.bucket_ns:
            raise InvalidValue(
                f"a profile of {self.bucket_ns} ns buckets needs {DAY_NS // self.bucket_ns} "
                f"weights, got {len(self.weights)}"
            )
        for weight in self.weights:
            if not weight.is_finite() or weight < 0:
                raise InvalidValue(f"profile weights must be finite and >= 0, got {weight}")

    @classmethod
    def flat(cls, bucket_ns: int = _HOUR_NS) -> VolumeProfile:
        """The same weight in every bucket: VWAP on it is TWAP."""
        return cls(bucket_ns=bucket_ns, weights=(Decimal(1),) * (DAY_NS // bucket_ns))

    @property
    def is_flat(self) -> bool:
        """True for the fallback built without history."""
        return self.days == 0

    def weight_at(self, ts_ns: int) -> Decimal:
        """The weight of the bucket ``ts_ns`` falls in."""
        return self.weights[(ts_ns % DAY_NS) // self.bucket_ns]

    def weights_for(self, times: Sequence[int], end_ns: int) -> tuple[Decimal, ...]:
        """The expected volume of each interval ``[times[k], times[k + 1])`` (the last one
        ends at ``end_ns``): each bucket's weight times the nanoseconds of it covered."""
        bounds = [*times, end_ns]
        out: list[Decimal] = []
        for start, stop in itertools.pairwise(bounds):
            total = Decimal(0)
            t = start
            while t < stop:
                bucket_end = t - t % self.bucket_ns + self.bucket_ns
                span = min(stop, bucket_end) - t
                total = EXACT.add(total, EXACT.multiply(self.weight_at(t), Decimal(span)))
                t += span
            out.append(total)
        return tuple(out)


def volume_profile(
    history: BarHistory,
    instrument_id: InstrumentId,
    timeframe: Timeframe,
    *,
    end_ns: int,
    days: int = 20,
    bucket_ns: int | None = None,
) -> VolumeProfile:
    """The average volume per time-of-day bucket over the ``days`` days before ``end_ns``.

    Each bar's volume goes to the bucket its open time falls in; each bucket's sum is divided
    by the number of days that have bars. ``bucket_ns`` defaults to the timeframe and must be a
    whole number of bars that divides a day. No dataset, no bars in the window, or no volume
    at all gives :meth:`VolumeProfile.flat`.
    """
    bucket = timeframe.nanos if bucket_ns is None else bucket_ns
    if days < 1:
        raise InvalidValue(f"days must be at least 1, got {days}")
    if bucket <= 0 or bucket % timeframe.nanos or DAY_NS % bucket:
        raise InvalidValue(
            f"bucket_ns {bucket} must be a multiple of the {timeframe} bars that divides a day"
        )
    count = DAY_NS // bucket
    if not history.exists(instrument_id, timeframe):
        return VolumeProfile.flat(bucket)
    sums = np.zeros(count, dtype=np.float64)
    seen_days: set[int] = set()
    for chunk in history.iter_bars(
        instrument_id, timeframe, start_ns=end_ns - days * DAY_NS, end_ns=end_ns
    ):
        ts = np.asarray(chunk.ts, dtype=np.int64)
        index = (ts % DAY_NS) // bucket
        sums += np.bincount(index, weights=np.asarray(chunk.volume), minlength=count)
        seen_days.update(np.unique(ts // DAY_NS).tolist())
    if not seen_days or not np.any(sums > 0):
        return VolumeProfile.flat(bucket)
    # Bulk volumes are float64 (like all bar arrays); each average becomes a Decimal once,
    # by its shortest repr, and only ever serves as a weight.
    weights = tuple(Decimal(repr(float(total) / len(seen_days))) for total in sums)
    return VolumeProfile(bucket_ns=bucket, weights=weights, days=len(seen_days))

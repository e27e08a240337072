"""Aggregate bars into a longer timeframe.

A target bar covers ``[k * target, (k + 1) * target)`` counted from the Unix epoch, so ``1h``
bars start on the hour, ``1d`` bars at 00:00 UTC and ``1w`` bars on Thursdays (1970-01-01 was
one). Its open is the first source open, high the highest high, low the lowest low, close the
last close and volume the sum. Buckets without source bars produce no bar; the last bucket is
kept even when the source ends before it is complete.
"""

from __future__ import annotations

import numpy as np

from tradeforge.data.bars import BarArrays
from tradeforge.domain.errors import InvalidValue
from tradeforge.domain.market_data import Timeframe

__all__ = ["BarResampler", "resample"]


def resample(bars: BarArrays, source: Timeframe, target: Timeframe) -> BarArrays:
    """``bars`` of timeframe ``source`` (sorted by ``ts``) aggregated into ``target`` bars.

    Raises:
        InvalidValue: ``target`` is not a whole multiple of ``source``.
    """
    _check_multiple(source, target)
    return _aggregate(bars, target.nanos)


class BarResampler:
    """Resamples a stream of chunks; holds at most one partial target bar between chunks.

    ``push`` returns the target bars completed by a chunk, ``finish`` the last one.
    """

    def __init__(self, source: Timeframe, target: Timeframe) -> None:
        _check_multiple(source, target)
        self._step = target.nanos
        self._pending = BarArrays.empty()

    def push(self, chunk: BarArrays) -> BarArrays:
        """Add the next chunk (later than everything before); returns the completed bars."""
        if not len(chunk):
            return BarArrays.empty()
        merged = _aggregate(BarArrays.concat([self._pending, chunk]), self._step)
        # The last bucket may continue in the next chunk: keep it back.
        self._pending = merged[len(merged) - 1 :]
        return merged[: len(merged) - 1]

    def finish(self) -> BarArrays:
        """The last (possibly incomplete) target bar, if any."""
        pending, self._pending = self._pending, BarArrays.empty()
        return pending


def _check_multiple(source: Timeframe, target: Timeframe) -> None:
    if target.nanos % source.nanos != 0:
        raise InvalidValue(
            f"cannot resample {source} bars to {target}: the target timeframe must be a whole "
            f"multiple of {source}"
        )


def _aggregate(bars: BarArrays, step: int) -> BarArrays:
    if not len(bars):
        return BarArrays.empty()
    buckets = bars.ts // step * step
    starts = np.flatnonzero(np.diff(buckets)) + 1
    starts = np.concatenate([np.zeros(1, dtype=np.int64), starts])
    ends = np.concatenate([starts[1:], np.array([len(bars)], dtype=np.int64)])
    return BarArrays(
        buckets[starts],
        bars.open[starts],
        np.maximum.reduceat(bars.high, starts),
        np.minimum.reduceat(bars.low, starts),
        bars.close[ends - 1],
        np.add.reduceat(bars.volume, starts),
    )

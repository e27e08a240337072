"""Why two trade lists part: the SMAs at the signal bar of the first fill only one side made.

The fast-minus-slow difference at that bar and the one before, four ways:

* as TradeForge's strategy saw it (recorded in an extra, untimed run from the catalog; TradeForge
  runs TA-Lib block by block over the streamed history, restarting its running sum);
* TA-Lib over the whole array at once — backtesting.py's ``self.I(talib.SMA, ...)``;
* ``math.fsum`` of each window — backtrader's ``bt.ind.SMA``;
* exactly, from the prices as decimals on their 0.01 tick (integer cents).

A strict cross needs ``prev < 0 < cur`` (up) or ``prev > 0 > cur`` (down); when the exact
difference is 0 at either bar, the crossing is a tie that float noise decides.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt
import talib

from bench.workload import FAST, SLOW, Trade
from tradeforge.data import BarArrays

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Method:
    """fast - slow at the bar before the signal bar and at the signal bar, one way."""

    name: str
    previous: float
    current: float

    @property
    def signal(self) -> str:
        """The strict cross this method sees at the signal bar."""
        if self.previous < 0 < self.current:
            return "cross up"
        if self.previous > 0 > self.current:
            return "cross down"
        return "no cross"


@dataclass(frozen=True)
class Diagnosis:
    """The first fill present in one list only, and the SMAs behind its signal."""

    fill_ts: int  # open time of the bar the differing order filled on
    signal_ts: int  # open time of the bar whose close gave the signal
    only_in: str  # "TradeForge" or the peer's name
    methods: list[Method]


def _fsum(close: F64, index: int, period: int) -> float:
    return math.fsum(close[index - period + 1 : index + 1]) / period


def _exact(close: F64, index: int, period: int) -> Fraction:
    cents = [round(value * 100) for value in close[index - period + 1 : index + 1]]
    return Fraction(sum(cents), 100 * period)


def diagnose(
    bars: BarArrays,
    tradeforge_sma: Callable[[list[int]], dict[int, float]],
    reference: list[Trade],
    other: list[Trade],
    peer: str,
) -> Diagnosis | None:
    """Explain the first fill that only one list has (None when the fills agree).

    ``tradeforge_sma(ts_opens)`` gives fast - slow as TradeForge saw it at those bars.
    """
    mine = {ts for t in reference for ts in (t[0], t[2])}
    theirs = {ts for t in other for ts in (t[0], t[2])}
    differing = sorted(mine ^ theirs)
    if not differing:
        return None
    fill_ts = differing[0]
    fill = int(np.searchsorted(bars.ts, fill_ts))
    signal = fill - 1
    if signal < SLOW:
        return None
    close = np.ascontiguousarray(bars.close, dtype=np.float64)
    whole_fast, whole_slow = talib.SMA(close, FAST), talib.SMA(close, SLOW)
    rows = (signal - 1, signal)
    seen = tradeforge_sma([int(bars.ts[i]) for i in rows])
    methods = [
        Method(
            "TradeForge, as its strategy saw it",
            *(seen.get(int(bars.ts[i]), math.nan) for i in rows),
        ),
        Method(
            "TA-Lib over the whole array (backtesting.py)",
            *(float(whole_fast[i] - whole_slow[i]) for i in rows),
        ),
        Method(
            "math.fsum per window (backtrader)",
            *(_fsum(close, i, FAST) - _fsum(close, i, SLOW) for i in rows),
        ),
        Method(
            "exact, prices as decimals",
            *(float(_exact(close, i, FAST) - _exact(close, i, SLOW)) for i in rows),
        ),
    ]
    return Diagnosis(
        fill_ts=fill_ts,
        signal_ts=int(bars.ts[signal]),
        only_in="TradeForge" if fill_ts in mine else peer,
        methods=methods,
    )

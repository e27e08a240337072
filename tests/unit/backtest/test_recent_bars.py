"""Strategies read recent bars: ``history(n)``, kept across blocks with ``keep_history(n)``."""

from __future__ import annotations

import numpy as np

from tradeforge.backtest import run
from tradeforge.data import BarArrays
from tradeforge.domain import InstrumentId, InvalidValue
from tradeforge.strategy import BarLike, Strategy
from tradeforge.strategy.indicators import BLOCK_BARS

M = 60_000_000_000
A = InstrumentId.from_str("AAA/USD.SIM")


def minutes(n: int) -> BarArrays:
    ts = np.arange(n, dtype=np.int64) * M
    p = 100.0 + np.arange(n, dtype=np.float64)  # the close of minute k is 100 + k
    return BarArrays(ts, p, p, p, p, np.full(n, 10.0))


class Reader(Strategy):
    def __init__(self, n: int, keep: bool) -> None:
        super().__init__(strategy_id="reader")
        self.n, self.keep = n, keep
        self.seen: list[list[float]] = []

    def on_start(self) -> None:
        if self.keep:
            self.keep_history(self.n)

    def on_bar(self, bar: BarLike) -> None:
        self.seen.append([b.close.as_float() for b in self.history(self.n)])


def test_history_gives_the_last_closed_bars_oldest_first() -> None:
    reader = Reader(3, keep=True)

    run(reader, bars={A: minutes(6)})

    assert reader.seen == [
        [100.0],
        [100.0, 101.0],
        [100.0, 101.0, 102.0],
        [101.0, 102.0, 103.0],
        [102.0, 103.0, 104.0],
        [103.0, 104.0, 105.0],
    ]


def test_kept_history_spans_block_boundaries() -> None:
    reader = Reader(5, keep=True)
    count = BLOCK_BARS + 10

    run(reader, bars={A: minutes(count)})

    # Every bar from the fifth on sees exactly the five closes before and including it.
    expected = [[100.0 + k for k in range(i - 4, i + 1)] for i in range(4, count)]
    assert reader.seen[4:] == expected


def test_history_needs_a_positive_count() -> None:
    class Bad(Strategy):
        def on_bar(self, bar: BarLike) -> None:
            self.history(0)

    result = run(Bad(strategy_id="bad"), bars={A: minutes(3)})

    assert isinstance(result.errors[0].cause, InvalidValue)

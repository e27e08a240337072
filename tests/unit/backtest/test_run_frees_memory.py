"""A finished backtest leaves nothing behind once its result is dropped.

An optimiser runs thousands of backtests in one process: if each left its engine, venue, order
manager and orders alive, memory would grow with every trial and each full collection would
take longer. The engine's parts refer to each other (cycles), so this holds only if the cyclic
collector can see every reference: a compiled class that reports an attribute twice to the
collector makes the whole cycle look referenced from outside, forever (see
``tests/unit/native/test_attribute_declarations.py``).
"""

from __future__ import annotations

import gc
import weakref
from decimal import Decimal

from tradeforge.backtest import run
from tradeforge.backtest.engine import BacktestEngine
from tradeforge.backtest.matching import MatchingEngine
from tradeforge.backtest.replay import GC_EVERY
from tradeforge.data import generate_bar_chunks, generate_bars
from tradeforge.domain import InstrumentId, Order, Price, Timeframe
from tradeforge.strategy import BarLike, Strategy
from tradeforge.strategy.examples.sma_cross import SmaCross
from tradeforge.strategy.indicators import BLOCK_BARS

BTC = InstrumentId.from_str("BTC/USDT.SIM")
START = 1_577_836_800_000_000_000


class RestingBids(Strategy):
    """Trades at market and leaves a far limit bid resting at the venue to the end."""

    def __init__(self) -> None:
        super().__init__()
        self.n = 0

    def on_bar(self, bar: BarLike) -> None:
        self.n += 1
        if self.n % 50 == 1:
            self.buy("0.01")
        elif self.n % 50 == 25:
            self.close_position()
        if self.n == 3:
            far = Price(bar.close.as_decimal() / 2, bar.close.precision)
            self.buy("0.01", price=far)


def _alive() -> dict[str, int]:
    gc.collect()
    counts = {"engines": 0, "matching engines": 0, "orders": 0}
    for obj in gc.get_objects():
        kind = type(obj)
        if kind is BacktestEngine:
            counts["engines"] += 1
        elif kind is MatchingEngine:
            counts["matching engines"] += 1
        elif kind is Order:
            counts["orders"] += 1
    return counts


def test_dropping_the_results_of_repeated_runs_frees_their_engines_and_orders() -> None:
    bars = generate_bars(bars=600, seed=3, timeframe=Timeframe.from_str("1m"), start_ns=START)
    before = _alive()
    for strategy in (RestingBids(), SmaCross({"fast": 5, "slow": 12, "size": "1"}), RestingBids()):
        result = run(strategy, bars={BTC: bars}, cash=Decimal(1_000_000))
        assert result.metrics.num_trades > 0
    # The last result is still held: its engine is alive until it is dropped.
    del result, strategy
    assert _alive() == before


class _Node:
    """A cycle of one: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


class MakesCycles(Strategy):
    """Leaves one cyclic object behind at every bar and notes the most of them alive at once."""

    def __init__(self) -> None:
        super().__init__()
        self.alive: weakref.WeakSet[_Node] = weakref.WeakSet()
        self.most_alive = 0

    def on_bar(self, bar: BarLike) -> None:
        self.alive.add(_Node())
        self.most_alive = max(self.most_alive, len(self.alive))


def _collections_during(strategy: MakesCycles, windows: int) -> int:
    """Runs ``strategy`` over ``windows`` blocks of bars; the collections the run made."""
    chunks = generate_bar_chunks(
        bars=BLOCK_BARS * windows,
        seed=5,
        timeframe=Timeframe.from_str("1m"),
        start_ns=START,
        chunk_bars=BLOCK_BARS,
    )
    seen: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(count)
    try:
        run(strategy, bars={BTC: chunks})
    finally:
        gc.callbacks.remove(count)
    return len(seen)


def test_the_run_collects_the_cycles_user_code_leaves_every_few_windows() -> None:
    # The engine turns automatic collection off for the run and collects the young
    # generations itself: what user code leaves in cycles stays bounded.
    windows = 6 * GC_EVERY
    strategy = MakesCycles()
    assert _collections_during(strategy, windows) >= windows // GC_EVERY - 1
    assert 0 < strategy.most_alive <= (GC_EVERY + 1) * BLOCK_BARS

"""TradeForge's side of the benchmark: the catalog, the run, and its trades.

Imports nothing but TradeForge and numpy, so the memory probe (:mod:`bench.child`) measures
TradeForge alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from bench.workload import CASH, FAST, FEE, INSTRUMENT, SEED, SIZE, SLOW, START_NS, TIMEFRAME, Trade
from tradeforge.backtest import BacktestResult, run
from tradeforge.data import BarArrays, Catalog, generate_bar_chunks
from tradeforge.domain import InstrumentId, Timeframe
from tradeforge.strategy.base import BarLike
from tradeforge.strategy.examples.sma_cross import SmaCross

IID = InstrumentId.from_str(INSTRUMENT)
FRAME = Timeframe.from_str(TIMEFRAME)


@dataclass(frozen=True)
class RunOutcome:
    """One timed run of one framework."""

    seconds: float
    bars: int
    trades: list[Trade]
    final_equity: float


def write_catalog(root: Path, bars: int, progress: Callable[[int], None] | None = None) -> Catalog:
    """A catalog under ``root`` holding ``bars`` seeded 1-minute bars (generated in chunks)."""
    catalog = Catalog(root)
    chunks = generate_bar_chunks(bars=bars, seed=SEED, timeframe=FRAME, start_ns=START_NS)
    catalog.write_bar_chunks(IID, FRAME, chunks, source="bench", progress=progress)
    return catalog


def load_bars(catalog: Catalog) -> BarArrays:
    """Every bar of the benchmark dataset, as one set of arrays (what the peers are fed)."""
    return catalog.load_bars(IID, FRAME)


def read_seconds(catalog: Catalog) -> float:
    """How long streaming the dataset out of the catalog takes on its own (no backtest)."""
    start = time.perf_counter()
    for _ in catalog.iter_bars(IID, FRAME):
        pass
    return time.perf_counter() - start


class _RecordingSmaCross(SmaCross):
    """``SmaCross`` that also notes fast - slow at chosen bars (for diagnosing mismatches)."""

    watch: frozenset[int] = frozenset()  # bar open times

    def on_start(self) -> None:
        super().on_start()
        self.seen: dict[int, float] = {}

    def on_bar(self, bar: BarLike) -> None:
        if bar.ts_open in self.watch:
            self.seen[bar.ts_open] = self._fast[-1] - self._slow[-1]
        super().on_bar(bar)


def sma_differences(catalog: Catalog, ts_open: Iterable[int]) -> dict[int, float]:
    """Fast SMA - slow SMA as TradeForge's strategy saw them at the bars opening at ``ts_open``
    (an untimed run, only to explain a trade mismatch)."""
    strategy = _RecordingSmaCross({"fast": FAST, "slow": SLOW, "size": str(SIZE)})
    strategy.watch = frozenset(ts_open)
    backtest(catalog, strategy)
    return strategy.seen


def backtest(catalog: Catalog, strategy: SmaCross | None = None) -> BacktestResult:
    """The full event-driven run, streamed from the catalog."""
    if strategy is None:
        strategy = SmaCross({"fast": FAST, "slow": SLOW, "size": str(SIZE)})
    return run(
        strategy,
        catalog=catalog,
        instrument_ids=[IID],
        timeframe=FRAME,
        cash=Decimal(CASH),
        fee=Decimal(str(FEE)),
    )


def trades_of(result: BacktestResult) -> list[Trade]:
    """The round trips as (entry ts, entry price, exit ts, exit price)."""
    return [
        (t.entry_ts, float(t.entry_price), t.exit_ts, float(t.exit_price)) for t in result.trades
    ]


def timed_run(catalog: Catalog) -> RunOutcome:
    """One timed backtest: from the catalog on disk to the result object."""
    start = time.perf_counter()
    result = backtest(catalog)
    seconds = time.perf_counter() - start
    return RunOutcome(
        seconds=seconds,
        bars=result.bars,
        trades=trades_of(result),
        final_equity=float(result.metrics.final_equity),
    )

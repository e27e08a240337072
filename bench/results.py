"""What one ``python -m bench`` run measured (filled by :mod:`bench.cli`, read by the report)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bench.compare import Comparison
from bench.diagnose import Diagnosis
from bench.memory import MemoryOutcome
from bench.tradeforge_case import RunOutcome

TRADEFORGE = "TradeForge"
BACKTESTING = "backtesting.py"
BACKTRADER = "backtrader"
PEERS = (BACKTESTING, BACKTRADER)


@dataclass
class SizeResult:
    """Every framework's runs at one number of bars."""

    bars: int
    repeats: int
    catalog_read_seconds: float  # streaming the dataset out of the catalog alone
    runs: dict[str, list[RunOutcome]] = field(default_factory=dict)
    comparisons: dict[str, Comparison] = field(default_factory=dict)
    deterministic: dict[str, bool] = field(default_factory=dict)  # same trades every repeat
    diagnoses: dict[str, Diagnosis] = field(default_factory=dict)  # why the trades part, by peer

    def best(self, framework: str) -> RunOutcome | None:
        """The fastest run of ``framework`` (None when it did not run at this size)."""
        runs = self.runs.get(framework)
        return min(runs, key=lambda r: r.seconds) if runs else None

    def rate(self, framework: str) -> float | None:
        """Bars per second of the fastest run."""
        best = self.best(framework)
        return best.bars / best.seconds if best is not None and best.seconds > 0 else None

    def ratio(self, framework: str) -> float | None:
        """TradeForge's bars/s divided by ``framework``'s (above 1: TradeForge is faster)."""
        mine, theirs = self.rate(TRADEFORGE), self.rate(framework)
        return mine / theirs if mine is not None and theirs else None


def _bars(outcome: MemoryOutcome) -> int:
    return outcome.bars


@dataclass
class BenchResult:
    """The whole run."""

    started: datetime
    command: str
    peers: bool
    sizes: list[SizeResult] = field(default_factory=list)
    memory: list[MemoryOutcome] = field(default_factory=list)  # base and large, two variants
    finished: datetime | None = None
    chart: str | None = None  # file name of the PNG next to the report, if drawn
    load_start: tuple[float, float, float] | None = None  # os.getloadavg() before the steps
    load_end: tuple[float, float, float] | None = None  # and after them
    notes: list[str] = field(default_factory=list)

    def memory_pairs(self) -> list[tuple[MemoryOutcome, MemoryOutcome]]:
        """(base, large) probes of each variant: pandas loaded first, then pandas hidden."""
        pairs = []
        for loaded in (True, False):
            runs = sorted((m for m in self.memory if m.pandas_loaded == loaded), key=_bars)
            if len(runs) == 2:
                pairs.append((runs[0], runs[1]))
        return pairs

    def size(self, bars: int) -> SizeResult | None:
        """The results at ``bars`` bars, if that size ran."""
        return next((s for s in self.sizes if s.bars == bars), None)

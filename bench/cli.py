"""``python -m bench``: run the benchmark and write ``bench/RESULTS.md``.

    python -m bench [--bars 100000,1000000] [--skip-peers] [--memory | --no-memory]
                    [--memory-bars 1000000,10000000] [--repeats N] [--out bench/RESULTS.md]

Steps: generate each size into a temporary catalog; time TradeForge (streamed from the catalog)
and the peers (from a DataFrame built beforehand), best of 3 (backtrader once above 100,000
bars), rounds interleaved across frameworks so machine noise hits them alike; compare trades;
run the memory probes in fresh processes; write the report.
"""

from __future__ import annotations

import argparse
import gc
import shlex
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench import report
from bench.compare import compare
from bench.diagnose import diagnose
from bench.machine import load_average
from bench.memory import measure
from bench.results import BACKTESTING, BACKTRADER, PEERS, TRADEFORGE, BenchResult, SizeResult
from bench.tradeforge_case import (
    RunOutcome,
    load_bars,
    read_seconds,
    sma_differences,
    timed_run,
    write_catalog,
)
from tradeforge.data import Catalog
from tradeforge.observability import progress_bar

DEFAULT_BARS = (100_000, 1_000_000)
DEFAULT_MEMORY_BARS = (1_000_000, 10_000_000)
# Every size runs best-of-3 (a shared machine's noise hits single runs); backtrader, not part
# of the speed bar and about 90 s a run at 1,000,000 bars, runs once above this size.
SMALL = 100_000
DEFAULT_OUT = Path(__file__).resolve().parent / "RESULTS.md"


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated bar counts, got {text!r}"
        ) from None
    if not sizes or any(n < 100 for n in sizes):
        raise argparse.ArgumentTypeError(f"bar counts must be at least 100, got {text!r}")
    return sizes


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Backtest speed benchmark: TradeForge vs backtesting.py vs backtrader.",
    )
    parser.add_argument(
        "--bars",
        type=_sizes,
        default=DEFAULT_BARS,
        help="comma-separated bar counts to time (default: 100000,1000000)",
    )
    parser.add_argument(
        "--skip-peers", action="store_true", help="time TradeForge only (no pandas/peers needed)"
    )
    parser.add_argument(
        "--memory",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="peak-memory probes in fresh processes (default: on)",
    )
    parser.add_argument(
        "--memory-bars",
        type=_sizes,
        default=DEFAULT_MEMORY_BARS,
        help="base,large bar counts of the memory probes (default: 1000000,10000000)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help=f"runs per framework and size, best kept (default: 3; backtrader once above "
        f"{SMALL:,} bars)",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="report file (default: bench/RESULTS.md)"
    )
    args = parser.parse_args(argv)
    if args.memory and len(args.memory_bars) != 2:
        parser.error("--memory-bars takes exactly two counts: base,large")
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


class Harness:
    """Runs the steps, printing one status line per step on stderr."""

    def __init__(self, args: argparse.Namespace, console: Console) -> None:
        self.args = args
        self.console = console
        self.result = BenchResult(
            started=datetime.now(UTC),
            command=shlex.join(["python", "-m", "bench", *sys.argv[1:]]),
            peers=not args.skip_peers,
        )

    @contextmanager
    def step(self, text: str) -> Iterator[None]:
        # A slow refresh: the spinner thread must not steal the timed runs' CPU.
        with self.console.status(text, refresh_per_second=2):
            yield

    def done(self, text: str) -> None:
        self.console.print(f"[green]✓[/] {text}")

    def catalog(self, root: Path, bars: int) -> Catalog:
        """Generate ``bars`` seeded bars into a new catalog at ``root``."""
        with progress_bar(f"generating {bars:,} bars into a catalog", bars) as advance:
            catalog = write_catalog(root, bars, progress=advance)
        self.done(f"catalog of {bars:,} seeded 1m bars")
        return catalog

    def time_size(self, work: Path, bars: int) -> SizeResult:
        catalog = self.catalog(work / f"catalog-{bars}", bars)
        with self.step(f"reading {bars:,} bars from the catalog"):
            read = min(read_seconds(catalog) for _ in range(2))
        size = SizeResult(
            bars=bars,
            repeats=self.args.repeats or 3,
            catalog_read_seconds=read,
        )
        runners: dict[str, Callable[[], RunOutcome]] = {TRADEFORGE: lambda: timed_run(catalog)}
        arrays = None
        if self.result.peers:
            from bench import peers  # noqa: PLC0415 (the bench extras, only when asked for)

            with self.step(f"building the peers' DataFrame ({bars:,} bars)"):
                arrays = load_bars(catalog)
                df = peers.frame(arrays)
                ts = arrays.ts
            runners[BACKTESTING] = lambda: peers.run_backtesting(df, ts)
            runners[BACKTRADER] = lambda: peers.run_backtrader(df, ts)
        for round_ in range(1, size.repeats + 1):
            for name, runner in runners.items():
                once = name == BACKTRADER and bars > SMALL and not self.args.repeats
                if once and round_ > 1:
                    continue
                label = f"{name}, {bars:,} bars, run {round_}/{1 if once else size.repeats}"
                gc.collect()
                with self.step(label + " ..."):
                    outcome = runner()
                self.done(
                    f"{label}: {outcome.seconds:.2f} s, "
                    f"{outcome.bars / outcome.seconds:,.0f} bars/s, {len(outcome.trades):,} trades"
                )
                runs = size.runs.setdefault(name, [])
                if runs:
                    same = outcome.trades == runs[0].trades
                    size.deterministic[name] = size.deterministic.get(name, True) and same
                runs.append(outcome)
        reference = size.runs[TRADEFORGE][0].trades
        for name in PEERS:
            if name in size.runs:
                size.comparisons[name] = compare(reference, size.runs[name][0].trades)
                if arrays is not None and not size.comparisons[name].identical:
                    with self.step(f"looking into the first mismatch with {name}"):
                        found = diagnose(
                            arrays,
                            lambda ts: sma_differences(catalog, ts),
                            reference,
                            size.runs[name][0].trades,
                            name,
                        )
                    if found is not None:
                        size.diagnoses[name] = found
        # Keep the trade lists of the first run only: the rest would just hold memory.
        for runs in size.runs.values():
            for index, outcome in enumerate(runs[1:], start=1):
                runs[index] = RunOutcome(outcome.seconds, outcome.bars, [], outcome.final_equity)
        return size

    def memory(self, work: Path) -> None:
        base, large = self.args.memory_bars
        for bars in (base, large):
            root = work / f"catalog-{bars}"
            if not root.exists():
                self.catalog(root, bars)
            for without_pandas in (False, True):
                variant = "pandas hidden" if without_pandas else "as installed"
                with self.step(
                    f"memory probe: TradeForge, {bars:,} bars, fresh process, {variant}"
                ):
                    outcome = measure(root, without_pandas=without_pandas)
                self.done(
                    f"memory probe, {bars:,} bars, {variant}: peak RSS {outcome.peak_mb:,.0f} MB "
                    f"(after imports {outcome.baseline_mb:,.0f} MB), {outcome.seconds:.1f} s"
                )
                self.result.memory.append(outcome)
            if bars == large and bars not in self.args.bars:
                shutil.rmtree(root, ignore_errors=True)

    def run(self) -> BenchResult:
        self.result.load_start = load_average()
        with tempfile.TemporaryDirectory(prefix="tradeforge-bench-") as tmp:
            work = Path(tmp)
            for bars in self.args.bars:
                self.result.sizes.append(self.time_size(work, bars))
            if self.args.memory:
                self.memory(work)
        self.result.finished = datetime.now(UTC)
        self.result.load_end = load_average()
        return self.result


def summary(result: BenchResult) -> Table:
    """The speed table for the terminal."""
    table = Table(title="backtest speed (best run)")
    for column in ("bars", "framework", "wall s", "bars/s", "TradeForge x", "trades"):
        table.add_column(column, justify="right" if column != "framework" else "left")
    for size in result.sizes:
        for name in (TRADEFORGE, *PEERS):
            best = size.best(name)
            if best is None:
                continue
            ratio = size.ratio(name) if name != TRADEFORGE else None
            table.add_row(
                f"{size.bars:,}",
                name,
                f"{best.seconds:.2f}",
                f"{best.bars / best.seconds:,.0f}",
                f"{ratio:.2f}" if ratio is not None else "",
                f"{len(size.runs[name][0].trades):,}",
            )
    return table


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    console = Console(stderr=True)
    harness = Harness(args, console)
    result = harness.run()
    with harness.step("writing the report"):
        written = report.write(result, args.out)
    console.print(summary(result))
    harness.done(f"report: {written}")
    return 0

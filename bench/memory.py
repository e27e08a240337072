"""Peak memory of TradeForge runs, each in a fresh ``python -m bench.child`` process."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class MemoryOutcome:
    """What the child reported about one streamed run."""

    bars: int
    trades: int
    seconds: float
    baseline_mb: float  # resident after importing TradeForge, before the run
    peak_mb: float  # VmHWM at the end of the run
    ru_maxrss_mb: float  # getrusage's figure (inherits the harness's peak; see bench.child)
    pandas_loaded: bool  # TA-Lib pulled pandas in (it does whenever pandas is importable)


def measure(catalog_dir: Path, *, without_pandas: bool = False) -> MemoryOutcome:
    """Run the backtest over ``catalog_dir`` in a new interpreter and read its peak RSS."""
    extra = ["--without-pandas"] if without_pandas else []
    done = subprocess.run(
        [sys.executable, "-m", "bench.child", str(catalog_dir), *extra],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"memory probe failed ({done.returncode}):\n{done.stderr}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return MemoryOutcome(
        bars=int(data["bars"]),
        trades=int(data["trades"]),
        seconds=float(data["seconds"]),
        baseline_mb=float(data["baseline_mb"]),
        peak_mb=float(data["peak_mb"]),
        ru_maxrss_mb=float(data["ru_maxrss_mb"]),
        pandas_loaded=bool(data["pandas_loaded"]),
    )

"""The memory probe: ``python -m bench.child CATALOG_DIR [--without-pandas]`` runs one TradeForge
backtest streamed from the catalog in this fresh process and prints one JSON line about it.

TA-Lib imports pandas at import time whenever pandas is installed (to accept Series), and the
bench venv has pandas (a bench extra), which adds tens of MB to TradeForge's resident set.
``--without-pandas`` hides pandas (and polars) first, as in an install of TradeForge without the
bench extras, where nothing pulls pandas in.

Peak memory is read two ways at the end:

* ``VmHWM`` from ``/proc/self/status``: the high-water mark of this process's resident set since
  its ``exec`` — the number the report uses.
* ``resource.getrusage(RUSAGE_SELF).ru_maxrss``: on Linux it is carried across ``exec`` from the
  process that spawned it (Python spawns children with ``vfork``, whose memory is the
  parent's), so it reads at least the harness's own peak when the harness is bigger than the
  child. It is printed for reference.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def _status_mb(field: str) -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
    return float("nan")


def main(argv: list[str]) -> int:
    without_pandas = "--without-pandas" in argv
    paths = [a for a in argv if a != "--without-pandas"]
    if len(paths) != 1:
        print("usage: python -m bench.child CATALOG_DIR [--without-pandas]", file=sys.stderr)
        return 2
    if without_pandas:
        sys.modules["pandas"] = None  # type: ignore[assignment]  # import now fails, as if absent
        sys.modules["polars"] = None  # type: ignore[assignment]
    from bench.tradeforge_case import backtest  # noqa: PLC0415
    from tradeforge.data import Catalog  # noqa: PLC0415 (after the process starts, on purpose)

    baseline = _status_mb("VmRSS")
    start = time.perf_counter()
    result = backtest(Catalog(Path(paths[0])))
    seconds = time.perf_counter() - start
    report = {
        "bars": result.bars,
        "trades": len(result.trades),
        "seconds": seconds,
        "baseline_mb": baseline,
        "peak_mb": _status_mb("VmHWM"),
        "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "pandas_loaded": sys.modules.get("pandas") is not None,
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

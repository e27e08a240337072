"""What a benchmark ran on, written the same way by every benchmark report.

The facts (CPUs, model, memory, OS, Python, package versions, the revision measured and whether
TradeForge's core ran compiled) and the load average at the start and end of a run: the
machines are shared and noisy, so a reader needs them to weigh the numbers.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from collections.abc import Iterable
from pathlib import Path

from tradeforge import _native as native

__all__ = ["Load", "facts", "load_average", "section", "version"]

REPO = Path(__file__).resolve().parents[1]
Load = tuple[float, float, float] | None


def _first_line(path: str, prefix: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as source:
            for line in source:
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _memory_total() -> str:
    kb = _first_line("/proc/meminfo", "MemTotal")
    return f"{int(kb.split()[0]) / 1024 / 1024:.1f} GiB" if kb else "unknown"


def version(package: str) -> str:
    """The installed version of ``package``, or "not installed"."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
    except OSError:
        return ""
    return done.stdout.rstrip()  # (porcelain lines start with a space that must stay)


def _revision() -> str:
    revision = _git("describe", "--always", "--dirty").strip() or "unknown"
    changed = [line[3:] for line in _git("status", "--porcelain", "--", "src").splitlines()]
    if changed:
        revision += f" (uncommitted changes measured in: {', '.join(changed)})"
    return revision


def facts(packages: Iterable[str], extra: Iterable[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """The machine, the versions of ``packages``, ``extra`` rows, the revision and the core."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        ("CPUs (nproc)", str(usable)),
        ("CPU model", _first_line("/proc/cpuinfo", "model name") or platform.processor()),
        ("memory", _memory_total()),
        ("OS", platform.platform()),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        *((package, version(package)) for package in packages),
        *extra,
        ("TradeForge revision", _revision()),
        ("TradeForge core", native.status()),
    ]


def load_average() -> Load:
    """The 1/5/15-minute load average now (None where the OS does not say)."""
    try:
        return os.getloadavg()
    except OSError:
        return None


def _load(load: Load) -> str:
    return "unknown" if load is None else " / ".join(f"{x:.2f}" for x in load)


def section(rows: list[tuple[str, str]], start: Load, end: Load) -> list[str]:
    """The report's "Machine" section: ``rows`` and the load average at start and end."""
    return [
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in rows),
        f"| load average (1/5/15 min) at start | {_load(start)} |",
        f"| load average (1/5/15 min) at end | {_load(end)} |",
    ]

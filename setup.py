"""Build hook: compiles the event-driven core with mypyc when ``TRADEFORGE_NATIVE=1``.

``pyproject.toml`` holds the package metadata; this file only adds the compiled modules. The
modules in ``tradeforge._native.MODULES`` (matching engine, simulated venue, backtest engine,
order manager, pre-trade risk, order and position state, the in-memory bus and replay clock, the
value types and their arithmetic, the enums) are plain, strictly
typed Python that mypyc turns into C extensions beside their sources; nothing about them changes
for a reader or a caller. ``make install`` builds them in place
(``TRADEFORGE_NATIVE=1 python setup.py build_ext --inplace``) and writes a manifest of the
sources it compiled; at import, ``tradeforge`` falls back to the pure-Python sources whenever one
of them no longer matches the manifest, so an edit is never shadowed by a stale build.

A plain ``pip install`` (no variable) installs pure Python, which behaves identically, only
slower.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "src"))

from tradeforge._native import MODULES, source_path, write_manifest  # noqa: E402


class BuildNative(build_ext):
    """``build_ext`` that records which sources an in-place build compiled."""

    def run(self) -> None:
        super().run()
        if self.inplace and self.extensions:
            write_manifest(ROOT / "src")


def _extensions() -> list[object]:
    if os.environ.get("TRADEFORGE_NATIVE") != "1":
        return []
    from mypyc.build import mypycify  # noqa: PLC0415 (only when compiling)

    paths = [str(source_path(ROOT / "src", name).relative_to(ROOT)) for name in MODULES]
    return list(mypycify(paths, opt_level="3"))


setup(ext_modules=_extensions(), cmdclass={"build_ext": BuildNative})

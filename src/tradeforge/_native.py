"""Which modules are compiled with mypyc, and the guard that never lets a stale build run.

``make install`` compiles ``MODULES`` (the event-driven core a backtest spends its time in) into
C extensions beside their sources (see ``setup.py``) and records each source's digest in
``_native.json``. Python imports an extension before the source beside it, so after an edit the
old build would shadow the new code: ``guard()``, run by ``tradeforge/__init__.py`` before any of
these modules is imported, compares the digests and, if any source changed (or
``TRADEFORGE_NATIVE=0`` is set), makes all of them load from source. All or none: compiled modules
call each other directly in C, so a mix would run the old code of the compiled half.

``status()`` says which it is ("compiled", "pure Python", or why the build is not used).

Not compiled: modules of msgspec structs with subclasses (instruments, order specs, events,
commands): mypyc builds such a subclass without its class keywords (``kw_only=True`` is lost, and
msgspec then refuses the class), so they stay interpreted. Compiled functions taking user input
type it ``object`` and check it themselves, so a wrong type is ``InvalidValue`` (mypyc would
raise ``TypeError`` on a declared type before the body runs).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

__all__ = ["MODULES", "guard", "source_path", "status", "write_manifest"]

MODULES: tuple[str, ...] = (
    "tradeforge.backtest.book",
    "tradeforge.backtest.context",
    "tradeforge.backtest.engine",
    "tradeforge.backtest.equity",
    "tradeforge.backtest.feed",
    "tradeforge.backtest.funds",
    "tradeforge.backtest.matching",
    "tradeforge.backtest.order_checks",
    "tradeforge.backtest.path",
    "tradeforge.backtest.replay",
    "tradeforge.backtest.trade_log",
    "tradeforge.backtest.trades",
    "tradeforge.backtest.venue",
    "tradeforge.backtest.venue_account",
    "tradeforge.backtest.working_order",
    "tradeforge.bus.memory",
    "tradeforge.bus.replay_clock",
    "tradeforge.domain.enums",
    "tradeforge.domain.exact",
    "tradeforge.domain.identifiers",
    "tradeforge.domain.money",
    "tradeforge.domain.notional",
    "tradeforge.domain.orders.factory",
    "tradeforge.domain.orders.lifecycle",
    "tradeforge.domain.orders.order",
    "tradeforge.domain.orders.view",
    "tradeforge.domain.position",
    "tradeforge.domain.position_book",
    "tradeforge.domain.values",
    "tradeforge.strategy.indicators",
    "tradeforge.trading.oms",
    "tradeforge.trading.risk_checks",
    "tradeforge.trading.risk_engine",
)

_SRC = Path(__file__).resolve().parent.parent
_MANIFEST = Path(__file__).resolve().with_name("_native.json")
_state = {"status": "pure Python (not compiled: `make install` compiles)"}


def source_path(src: Path, module: str) -> Path:
    """The ``.py`` file of ``module`` under the source root ``src``."""
    return src.joinpath(*module.split(".")).with_suffix(".py")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_manifest(src: Path) -> None:
    """Record the digest of every compiled source (after an in-place build)."""
    digests = {name: _digest(source_path(src, name)) for name in MODULES}
    manifest = src / "tradeforge" / "_native.json"
    manifest.write_text(json.dumps({"modules": digests}, indent=1, sort_keys=True) + "\n")


class _FromSource:
    """Meta-path finder that loads the compiled modules from their ``.py`` sources."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = frozenset(names)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname not in self.names:
            return None
        return importlib.util.spec_from_file_location(fullname, source_path(_SRC, fullname))


def _stale(recorded: dict[str, str]) -> list[str]:
    stale = []
    for name in MODULES:
        path = source_path(_SRC, name)
        if recorded.get(name) != (_digest(path) if path.exists() else None):
            stale.append(name)
    return stale


def guard() -> None:
    """Use the compiled modules only when they were built from the sources now on disk."""
    try:
        recorded: dict[str, str] = json.loads(_MANIFEST.read_text())["modules"]
    except (OSError, ValueError, KeyError, TypeError):
        return  # never compiled here: plain imports find only the sources
    if os.environ.get("TRADEFORGE_NATIVE") == "0":
        reason = "TRADEFORGE_NATIVE=0"
    else:
        stale = _stale(recorded)
        if not stale:
            _state["status"] = "compiled (mypyc)"
            return
        reason = f"{len(stale)} source(s) changed since the build, e.g. {stale[0]}; `make install`"
    _state["status"] = f"pure Python ({reason})"
    sys.meta_path.insert(0, _FromSource(MODULES))


def status() -> str:
    """How the core modules run in this process: compiled, or pure Python and why."""
    return _state["status"]

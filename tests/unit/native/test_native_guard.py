"""The compiled core is used only when it was built from the sources on disk (``_native.py``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tradeforge import _native

_PROBE = (
    "import json, tradeforge._native as n, tradeforge.backtest.matching as m; "
    "print(json.dumps([n.status(), m.__file__]))"
)


def _probe(**env: str) -> tuple[str, str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    status, path = json.loads(done.stdout)
    return status, path


def _manifest() -> Path:
    return Path(_native.__file__).with_name("_native.json")


def test_every_listed_module_has_a_source() -> None:
    src = Path(_native.__file__).resolve().parent.parent
    missing = [m for m in _native.MODULES if not _native.source_path(src, m).is_file()]
    assert missing == []


def test_a_changed_source_makes_every_compiled_module_stale() -> None:
    current = dict.fromkeys(_native.MODULES, "0" * 64)
    assert _native._stale(current) == list(_native.MODULES)


def test_the_fallback_finder_loads_the_python_source() -> None:
    spec = _native._FromSource(_native.MODULES).find_spec("tradeforge.backtest.venue", None)
    assert spec is not None
    assert spec.origin is not None
    assert spec.origin.endswith("venue.py")
    assert _native._FromSource(_native.MODULES).find_spec("tradeforge.data", None) is None


def test_the_build_in_use_matches_its_manifest() -> None:
    status, path = _probe()
    if _manifest().exists():  # `make install` compiled the core
        assert status == "compiled (mypyc)"
        assert path.endswith(".so")
    else:
        assert status.startswith("pure Python (not compiled")
        assert path.endswith(".py")


def test_tradeforge_native_0_runs_the_sources() -> None:
    status, path = _probe(TRADEFORGE_NATIVE="0")
    assert path.endswith("matching.py")
    if _manifest().exists():
        assert status == "pure Python (TRADEFORGE_NATIVE=0)"

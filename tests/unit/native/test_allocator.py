"""``tradeforge`` prefers allocators that hand freed memory back (``_allocator.py``)."""

from __future__ import annotations

import os
import subprocess
import sys

_PROBE = "import tradeforge, pyarrow; print(pyarrow.default_memory_pool().backend_name)"


def _pool(**env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE],
        env={**base, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_pyarrow_allocates_from_the_system_allocator() -> None:
    assert _pool() == "system"


def test_a_pool_the_user_chose_is_kept() -> None:
    assert _pool(ARROW_DEFAULT_MEMORY_POOL="mimalloc") == "mimalloc"


def test_tradeforge_allocator_default_leaves_pyarrow_alone() -> None:
    assert _pool(TRADEFORGE_ALLOCATOR="default") != "system"

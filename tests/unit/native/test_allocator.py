"""``tradeforge`` prefers allocators that hand freed memory back (``_allocator.py``)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

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


_WHERE = """
import ctypes, sys
import tradeforge
block = bytearray(2 << 20)  # 2 MiB: mapped on its own under glibc's default 128 KiB threshold
address = ctypes.addressof((ctypes.c_char * len(block)).from_buffer(block))
with open("/proc/self/maps") as maps:
    for line in maps:
        span, *rest = line.split()
        low, high = (int(x, 16) for x in span.split("-"))
        if low <= address < high:
            print("heap" if line.rstrip().endswith("[heap]") else "mapping")
            break
"""


def _block_lives_in(**env: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _WHERE],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt (Linux)")
def test_blocks_of_a_few_mib_come_from_the_heap_rather_than_a_mapping_each() -> None:
    # Parquet batches of 65,536 rows have 512 KiB columns: mapping and unmapping each one
    # cost about 40 % of reading the history.
    assert _block_lives_in() == "heap"
    assert _block_lives_in(TRADEFORGE_ALLOCATOR="default") == "mapping"

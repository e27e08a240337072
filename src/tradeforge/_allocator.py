"""How the process hands freed memory back, so a long backtest's peak does not grow with it.

A backtest streams its history through pyarrow and allocates and frees millions of small
objects. With pyarrow's default pool (mimalloc) and glibc's default trim policy, memory freed
along the way stays with the allocators: the peak of a 10,000,000-bar run was 1.24x the
1,000,000-bar run's (310 vs 249 MB, pandas hidden), none of it live data. So pyarrow allocates
from the system allocator, and glibc returns the free top of its heap above 8 MiB (at 1 MiB the
heap shrank and grew back about 2,300 times per 100,000 bars, a page fault each time; at 8 MiB,
1,200 times). Blocks under 4 MiB (a Parquet batch's columns, its pages) come from the heap and are
reused, not mapped afresh each time: reading 1,000,000 bars from the catalog takes 47 ms, against
78 ms with each block mapped (31 ms on pyarrow's own pool, which keeps what it frees). The
1,000,000 and 10,000,000-bar runs peak at 198 and 209 MB (1.06x, pandas hidden); a 16 MiB mmap
threshold read in 45 ms but peaked at 1.14x.

``tune()`` runs when ``tradeforge`` is imported. It only sets defaults: an
``ARROW_DEFAULT_MEMORY_POOL`` already in the environment wins, pyarrow imported before
``tradeforge`` keeps its pool, and ``TRADEFORGE_ALLOCATOR=default`` leaves both allocators
alone.
"""

from __future__ import annotations

import ctypes
import os
import sys

__all__ = ["TRIM_THRESHOLD", "tune"]

TRIM_THRESHOLD = 8 << 20  # bytes of free heap top glibc keeps before returning it
MMAP_THRESHOLD = 4 << 20  # blocks this big or bigger get their own mapping
_M_TRIM_THRESHOLD = -1  # mallopt's parameter numbers (malloc.h)
_M_MMAP_THRESHOLD = -3


def tune() -> None:
    """Prefer allocators that return freed memory (see the module docstring)."""
    if os.environ.get("TRADEFORGE_ALLOCATOR", "lean") != "lean":
        return
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return
    mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    # Setting a threshold turns off glibc's own tuning of the mmap threshold, which would have
    # stayed at 128 KiB: every column of a 65,536-row Parquet batch (512 KiB) would then be
    # mapped, faulted in and unmapped again, about 40 % of the time spent reading history.
    mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)

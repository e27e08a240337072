"""How the process hands freed memory back, so a long backtest's peak does not grow with it.

A backtest streams its history through pyarrow and allocates and frees millions of small
objects. With pyarrow's default pool (mimalloc) and glibc's default trim policy, memory freed
along the way stays with the allocators: the peak of a 10,000,000-bar run was 1.24x the
1,000,000-bar run's (310 vs 249 MB, pandas hidden), none of it live data. With pyarrow on the
system allocator and glibc returning free heap above 1 MiB, the same runs peak at 217 and
203 MB (1.07x), no slower (``bench/RESULTS.md``, "Peak memory").

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

TRIM_THRESHOLD = 1 << 20  # bytes of free heap top glibc keeps before returning it
_M_TRIM_THRESHOLD = -1  # mallopt's parameter number (malloc.h)


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

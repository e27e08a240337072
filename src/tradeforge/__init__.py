"""TradeForge: one strategy codebase for backtest, paper and live trading."""

from tradeforge._allocator import tune as _tune_allocator
from tradeforge._native import guard as _guard

__version__ = "0.1.0"

__all__ = ["__version__"]

_tune_allocator()  # before pyarrow is imported (see _allocator.py)
_guard()  # before any compiled module loads: a stale build must never run (see _native.py)

"""TradeForge: one strategy codebase for backtest, paper and live trading."""

from tradeforge._native import guard as _guard

__version__ = "0.1.0"

__all__ = ["__version__"]

_guard()  # before any compiled module loads: a stale build must never run (see _native.py)

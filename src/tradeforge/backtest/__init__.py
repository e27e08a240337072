"""Backtesting: replay driver, matching engine, simulated venue, results and metrics."""

from tradeforge.backtest.results import EquityCurve, RoundTrip

__all__ = ["EquityCurve", "RoundTrip"]

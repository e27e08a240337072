"""Backtesting: replay driver, matching engine, simulated venue, results, metrics and reports.

From Python::

    from tradeforge.backtest import run
    result = run(SmaCross({"fast": 10, "slow": 30}), catalog=catalog, instrument_ids=[iid])
    result.metrics, result.trades, result.equity
"""

from tradeforge.backtest.engine import BacktestEngine
from tradeforge.backtest.feed import BarChunk, BarFeed, BarRef
from tradeforge.backtest.matching import MatchingEngine
from tradeforge.backtest.metrics import Metrics, compute_metrics, metrics_rows
from tradeforge.backtest.models import FillModel, LatencyModel, SlippageModel
from tradeforge.backtest.report import write_report
from tradeforge.backtest.results import EquityCurve, RoundTrip
from tradeforge.backtest.runner import BacktestResult, StrategyResult, run, spot_pair
from tradeforge.backtest.venue import SimulatedVenue
from tradeforge.backtest.venue_account import VenueAccount

__all__ = [
    "BacktestEngine",
    "BacktestResult",
    "BarChunk",
    "BarFeed",
    "BarRef",
    "EquityCurve",
    "FillModel",
    "LatencyModel",
    "MatchingEngine",
    "Metrics",
    "RoundTrip",
    "SimulatedVenue",
    "SlippageModel",
    "StrategyResult",
    "VenueAccount",
    "compute_metrics",
    "metrics_rows",
    "run",
    "spot_pair",
    "write_report",
]

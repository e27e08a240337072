"""The public API of ``tradeforge.backtest`` and ``tradeforge.strategy`` is pinned: adding or
removing a name is a decision, made here."""

from __future__ import annotations

import tradeforge.backtest
import tradeforge.strategy


def test_backtest_public_api_is_pinned() -> None:
    assert tradeforge.backtest.__all__ == [
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


def test_strategy_public_api_is_pinned() -> None:
    assert tradeforge.strategy.__all__ == [
        "BUILTIN_STRATEGIES",
        "BarLike",
        "ChoiceParam",
        "Cursor",
        "DecimalParam",
        "FloatParam",
        "Indicator",
        "IntParam",
        "Param",
        "RollingWindow",
        "Strategy",
        "StrategyContext",
        "StrategyRegistry",
    ]


def test_every_public_name_resolves() -> None:
    for package in (tradeforge.backtest, tradeforge.strategy):
        missing = [name for name in package.__all__ if not hasattr(package, name)]
        assert missing == [], package.__name__


def test_strategy_authors_need_one_import() -> None:
    from tradeforge.strategy import (
        ChoiceParam,
        DecimalParam,
        FloatParam,
        IntParam,
        Strategy,
    )

    assert all(
        isinstance(x, type) for x in (Strategy, IntParam, FloatParam, DecimalParam, ChoiceParam)
    )

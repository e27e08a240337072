"""The public API of ``tradeforge.execution`` and its ``algos`` package is pinned: adding or
removing a name is a decision, made here. ``AlgoRun``, ``ParentRuns``, ``build_algorithm`` and
``parent_of`` (``algos.runs``) are public because the trading node and the backtest both run
parent orders with them (backtest/ may not import engine/)."""

from __future__ import annotations

import tradeforge.execution
import tradeforge.execution.algos


def test_execution_public_api_is_pinned() -> None:
    assert tradeforge.execution.__all__ == [
        "AlgoOrder",
        "AlgoParams",
        "AlgoRun",
        "BookUpdate",
        "HeartbeatClient",
        "OcoVenueClient",
        "OrderUpdate",
        "VenueCapabilities",
        "VenueClient",
        "ChildStyle",
        "ExecutionAlgorithm",
        "ExecutionReport",
        "ExecutionState",
        "Iceberg",
        "IcebergParams",
        "LevelView",
        "ParentOrder",
        "ParentRuns",
        "Pov",
        "PovParams",
        "RouteParams",
        "Routed",
        "RoutingDecision",
        "RoutingMode",
        "ScheduleParams",
        "Twap",
        "TwapParams",
        "VenueAllocation",
        "VenueBook",
        "VenueRecord",
        "VolumeProfile",
        "Vwap",
        "VwapParams",
        "build_algorithm",
        "parent_of",
        "route_order",
        "split_quantity",
        "volume_profile",
    ]


def test_algos_public_api_is_pinned() -> None:
    assert tradeforge.execution.algos.__all__ == [
        "AlgoOrder",
        "AlgoParams",
        "AlgoRun",
        "BarHistory",
        "CancelChild",
        "ChildStyle",
        "ExecutionAlgorithm",
        "ExecutionReport",
        "ExecutionState",
        "Iceberg",
        "IcebergParams",
        "ParentOrder",
        "ParentRuns",
        "Pov",
        "PovParams",
        "ReportListener",
        "RouteParams",
        "ScheduleParams",
        "ScheduledAlgorithm",
        "SubmitChild",
        "Twap",
        "TwapParams",
        "VolumeProfile",
        "Vwap",
        "VwapParams",
        "average_price",
        "build_algorithm",
        "iceberg_child",
        "min_child_quantity",
        "parent_of",
        "slice_times",
        "slippage_bps",
        "split_even",
        "split_iceberg",
        "split_quantity",
        "volume_profile",
    ]


def test_every_public_name_resolves() -> None:
    for package in (tradeforge.execution, tradeforge.execution.algos):
        missing = [name for name in package.__all__ if not hasattr(package, name)]
        assert missing == [], package.__name__

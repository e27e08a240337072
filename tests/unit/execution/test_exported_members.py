"""The public API of ``tradeforge.execution`` and its ``algos`` package is pinned: adding or
removing a name is a decision, made here."""

from __future__ import annotations

import tradeforge.execution
import tradeforge.execution.algos


def test_execution_public_api_is_pinned() -> None:
    assert tradeforge.execution.__all__ == [
        "AlgoOrder",
        "AlgoParams",
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
        "route_order",
        "split_quantity",
        "volume_profile",
    ]


def test_algos_public_api_is_pinned() -> None:
    assert tradeforge.execution.algos.__all__ == [
        "AlgoOrder",
        "AlgoParams",
        "BarHistory",
        "CancelChild",
        "ChildStyle",
        "ExecutionAlgorithm",
        "ExecutionReport",
        "ExecutionState",
        "Iceberg",
        "IcebergParams",
        "ParentOrder",
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
        "iceberg_child",
        "min_child_quantity",
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

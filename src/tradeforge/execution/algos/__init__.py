"""Execution algorithms: a parent order worked as child orders driven by the Clock.

TWAP, VWAP (with a volume profile from the history catalog), POV and iceberg share one base
(:class:`ExecutionAlgorithm`) and one rounding rule (:mod:`.schedule`); see
``docs/execution-algorithms.md``.
"""

from tradeforge.execution.algos.base import (
    CancelChild,
    ExecutionAlgorithm,
    ReportListener,
    SubmitChild,
)
from tradeforge.execution.algos.iceberg import Iceberg, IcebergParams
from tradeforge.execution.algos.parent import ChildStyle, ParentOrder
from tradeforge.execution.algos.pov import Pov, PovParams
from tradeforge.execution.algos.profile import BarHistory, VolumeProfile, volume_profile
from tradeforge.execution.algos.report import (
    ExecutionReport,
    ExecutionState,
    average_price,
    slippage_bps,
)
from tradeforge.execution.algos.request import AlgoOrder, AlgoParams, RouteParams
from tradeforge.execution.algos.runs import AlgoRun, ParentRuns, build_algorithm, parent_of
from tradeforge.execution.algos.schedule import (
    iceberg_child,
    min_child_quantity,
    slice_times,
    split_even,
    split_iceberg,
    split_quantity,
)
from tradeforge.execution.algos.scheduled import ScheduledAlgorithm, ScheduleParams
from tradeforge.execution.algos.twap import Twap, TwapParams
from tradeforge.execution.algos.vwap import Vwap, VwapParams

__all__ = [
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

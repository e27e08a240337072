"""TWAP: the parent in equal slices at evenly spaced times (see ``scheduled`` for the engine)."""

from __future__ import annotations

from tradeforge.bus import Clock
from tradeforge.execution.algos.base import CancelChild, ReportListener, SubmitChild
from tradeforge.execution.algos.parent import ParentOrder
from tradeforge.execution.algos.scheduled import ScheduledAlgorithm, ScheduleParams

__all__ = ["Twap", "TwapParams"]


class TwapParams(ScheduleParams, frozen=True, kw_only=True):
    """``slices`` equal slices over ``[start_ns, end_ns)`` (fields of ``ScheduleParams``)."""


class Twap(ScheduledAlgorithm):
    """Time-weighted average price: slice ``k`` of ``slices`` at ``start + k * span // slices``,
    each ``quantity / slices`` rounded to the lot (the rounding rule of ``schedule``)."""

    algorithm = "TWAP"

    def __init__(
        self,
        parent: ParentOrder,
        params: TwapParams,
        *,
        clock: Clock,
        submit_child: SubmitChild,
        cancel_child: CancelChild,
        on_report: ReportListener | None = None,
        max_rejections: int = 3,
    ) -> None:
        super().__init__(
            parent,
            params,
            [1] * params.slices,
            clock=clock,
            submit_child=submit_child,
            cancel_child=cancel_child,
            on_report=on_report,
            max_rejections=max_rejections,
        )

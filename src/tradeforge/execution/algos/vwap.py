"""VWAP: timed slices sized by the intraday volume profile (see ``scheduled`` and ``profile``)."""

from __future__ import annotations

from tradeforge.bus import Clock
from tradeforge.execution.algos.base import CancelChild, ReportListener, SubmitChild
from tradeforge.execution.algos.parent import ParentOrder
from tradeforge.execution.algos.profile import VolumeProfile
from tradeforge.execution.algos.schedule import slice_times
from tradeforge.execution.algos.scheduled import ScheduledAlgorithm, ScheduleParams

__all__ = ["Vwap", "VwapParams"]


class VwapParams(ScheduleParams, frozen=True, kw_only=True):
    """``ScheduleParams`` plus the ``profile`` slice sizes follow (e.g. from
    :func:`volume_profile`; :meth:`VolumeProfile.flat` without history)."""

    profile: VolumeProfile


class Vwap(ScheduledAlgorithm):
    """Volume-weighted average price: the slices of TWAP's times, each sized in proportion to
    the volume the profile expects in its interval (rounding rule of ``schedule``). A window
    the profile expects no volume in at all is split evenly."""

    algorithm = "VWAP"

    def __init__(
        self,
        parent: ParentOrder,
        params: VwapParams,
        *,
        clock: Clock,
        submit_child: SubmitChild,
        cancel_child: CancelChild,
        on_report: ReportListener | None = None,
        max_rejections: int = 3,
    ) -> None:
        times = slice_times(params.start_ns, params.end_ns, params.slices)
        weights = params.profile.weights_for(times, params.end_ns)
        super().__init__(
            parent,
            params,
            weights if any(weights) else [1] * params.slices,
            clock=clock,
            submit_child=submit_child,
            cancel_child=cancel_child,
            on_report=on_report,
            max_rejections=max_rejections,
        )

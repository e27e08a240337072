"""``ScheduledAlgorithm``: a parent split into timed slices (the engine of TWAP and VWAP).

``[start_ns, end_ns)`` is cut into ``slices`` equal intervals; slice ``k`` starts at
``start_ns + k * (end_ns - start_ns) // slices`` and is due its planned quantity (from
:func:`split_quantity` over the subclass's weights). At each slice start the algorithm cancels
whatever child is still working and, once the cancels are answered, sends one child for
everything planned up to this slice that is not filled yet: the unfilled remainder of earlier
slices is carried forward. At ``end_ns`` working children are canceled and, with
``final_sweep``, one last taking child is sent for all that is left; then the parent is DONE.
Slices missed while paused (or before a late start) are caught up by the next child.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from decimal import Decimal

import msgspec

from tradeforge.bus import Clock, TimeEvent
from tradeforge.domain import InvalidOrder, InvalidValue, Quantity, TimeInForce
from tradeforge.execution.algos._exact import EXACT
from tradeforge.execution.algos.base import (
    CancelChild,
    ExecutionAlgorithm,
    ReportListener,
    SubmitChild,
)
from tradeforge.execution.algos.parent import ChildStyle, ParentOrder
from tradeforge.execution.algos.report import ExecutionState
from tradeforge.execution.algos.schedule import slice_times, split_quantity

__all__ = ["ScheduleParams", "ScheduledAlgorithm"]

_RESTING_TIFS = (TimeInForce.GTC, TimeInForce.DAY, TimeInForce.IOC)


class ScheduleParams(msgspec.Struct, frozen=True, kw_only=True):
    """When and how a scheduled parent trades.

    ``style``/``offset_ticks``: see :class:`ChildStyle`. ``time_in_force`` is for LIMIT-style
    children (GTC, DAY or IOC); MARKET-style children are always IOC.
    """

    start_ns: int
    end_ns: int
    slices: int
    style: ChildStyle = ChildStyle.MARKET
    offset_ticks: int = 0
    final_sweep: bool = True
    time_in_force: TimeInForce = TimeInForce.GTC

    def __post_init__(self) -> None:
        if self.end_ns <= self.start_ns:
            raise InvalidValue(f"end_ns {self.end_ns} must be after start_ns {self.start_ns}")
        if self.slices < 1:
            raise InvalidValue(f"slices must be at least 1, got {self.slices}")
        if self.end_ns - self.start_ns < self.slices:
            raise InvalidValue(
                f"slices {self.slices} do not fit in {self.end_ns - self.start_ns} ns"
            )
        if self.time_in_force not in _RESTING_TIFS:
            raise InvalidValue(f"time_in_force must be GTC, DAY or IOC, got {self.time_in_force}")


class ScheduledAlgorithm(ExecutionAlgorithm):
    """Timed slices of ``weights``-proportional size (module docstring)."""

    def __init__(
        self,
        parent: ParentOrder,
        params: ScheduleParams,
        weights: Sequence[Decimal | int],
        *,
        clock: Clock,
        submit_child: SubmitChild,
        cancel_child: CancelChild,
        on_report: ReportListener | None = None,
        max_rejections: int = 3,
    ) -> None:
        super().__init__(
            parent,
            clock=clock,
            submit_child=submit_child,
            cancel_child=cancel_child,
            on_report=on_report,
            max_rejections=max_rejections,
        )
        if len(weights) != params.slices:
            raise InvalidValue(f"{len(weights)} weights for {params.slices} slices")
        self._params = params
        self._times = slice_times(params.start_ns, params.end_ns, params.slices)
        floor = self.min_child
        if parent.quantity < floor:
            if not parent.allow_odd_final:
                raise InvalidOrder(
                    f"{self._name}: quantity {parent.quantity} is below the minimum child "
                    f"size {floor}"
                )
            floor = parent.quantity
        self._plan = split_quantity(parent.quantity, weights, lot=self._lot, min_qty=floor)
        self._targets: list[Decimal] = []
        running = Decimal(0)
        for planned in self._plan:
            running = EXACT.add(running, planned.as_decimal())
            self._targets.append(running)
        self._slot = -1
        self._armed = False
        self._ending = False
        self._sweep_due = False

    @property
    def params(self) -> ScheduleParams:
        """The schedule's parameters."""
        return self._params

    @property
    def schedule(self) -> tuple[tuple[int, Quantity], ...]:
        """The plan: ``(slice start ns, planned quantity)`` per slice (0: nothing sent)."""
        return tuple(zip(self._times, self._plan, strict=True))

    def _on_start(self) -> None:
        self._advance(self._clock.timestamp_ns())

    def _on_resume(self) -> None:
        self._armed = True

    def _on_alert(self, event: TimeEvent) -> None:
        self._advance(event.ts_event)
        self._kick()

    def _advance(self, now: int) -> None:
        due = bisect_right(self._times, now) - 1
        # Flags first: a cancel may be answered (and a step taken) before it returns.
        if due > self._slot:
            self._slot = due
            self._armed = True
            self._cancel_working()  # its unfilled part rolls into this slice's child
        if now >= self._params.end_ns and not self._ending:
            self._ending = True
            self._sweep_due = self._params.final_sweep
            self._cancel_working()
        if not self._ending:
            following = self._slot + 1
            due_ns = self._times[following] if following < len(self._times) else self._params.end_ns
            self._set_alert(due_ns, self._on_alert)

    def _step(self) -> None:
        if self._has_working():
            return  # a child is working, or canceled children have not answered yet
        if self._ending:
            if self._sweep_due:
                self._sweep_due = False
                size = self._sized(self._uncommitted)
                if size:
                    self._send(size, self._parent.limit_price, TimeInForce.IOC)
                    return
            left = self._uncommitted
            self._finish(
                ExecutionState.DONE,
                f"schedule ended with {self._qty(left)} unfilled" if left else "",
            )
            return
        if self._armed and self._slot >= 0:
            self._armed = False
            want = EXACT.subtract(self._targets[self._slot], self._ledger.filled())
            if want > 0:
                due = self._sized(want)
                if due:
                    params = self._params
                    self._send_styled(due, params.style, params.offset_ticks, params.time_in_force)

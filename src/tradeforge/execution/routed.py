"""``Routed``: a parent order split once across venues by a ``RoutingDecision``.

The decision (``sor.route_order``) was made on the venues' visible books; ``Routed`` sends its
children (one limit order per venue, ``<parent>-r1``, ``<parent>-r2``, ...) when started, and
then only follows them: fills, ends, the report. It shares the parent-order machinery of the
execution algorithms (``ExecutionAlgorithm``): the same ledger (each trade id counted once),
report (filled, average price, slippage against arrival) and cancel. What the books could not
take (``decision.unfilled``) and what the children did not fill is left unfilled: the parent
ends DONE with the reason, it does not chase the market.
"""

from __future__ import annotations

from decimal import Decimal

from tradeforge.bus import Clock
from tradeforge.domain import InvalidValue, TimeInForce
from tradeforge.execution.algos.base import (
    CancelChild,
    ExecutionAlgorithm,
    ReportListener,
    SubmitChild,
)
from tradeforge.execution.algos.parent import ParentOrder
from tradeforge.execution.algos.report import ExecutionState
from tradeforge.execution.sor import RoutingDecision

__all__ = ["Routed"]


class Routed(ExecutionAlgorithm):
    """Send the children of ``decision`` at start, then follow them (module docstring)."""

    algorithm = "SOR"

    def __init__(
        self,
        parent: ParentOrder,
        decision: RoutingDecision,
        *,
        clock: Clock,
        submit_child: SubmitChild,
        cancel_child: CancelChild,
        on_report: ReportListener | None = None,
        time_in_force: TimeInForce = TimeInForce.IOC,
    ) -> None:
        super().__init__(
            parent,
            clock=clock,
            submit_child=submit_child,
            cancel_child=cancel_child,
            on_report=on_report,
            max_rejections=max(1, len(decision.allocations)),
        )
        if decision.side is not parent.side or decision.quantity != parent.quantity:
            raise InvalidValue(
                f"{self._name}: the decision is for {decision.side} {decision.quantity}, "
                f"the parent {parent.side} {parent.quantity}"
            )
        self._decision = decision
        self._specs = decision.child_specs(
            parent.client_order_id, parent.strategy_id, time_in_force=time_in_force
        )
        self._sent = False

    @property
    def decision(self) -> RoutingDecision:
        """The routing decision and the books it was made on."""
        return self._decision

    def _step(self) -> None:
        if not self._sent:
            self._sent = True
            for spec in self._specs:
                self._ledger.add(spec)  # before sending: fills may come back at once
                try:
                    self._submit_child(spec)
                except BaseException:
                    self._ledger.record_done(spec.client_order_id, Decimal(0))
                    raise
        if self._has_working():
            return
        left = self._qty(self._uncommitted)
        self._finish(
            ExecutionState.DONE,
            f"{left} unfilled: beyond the visible depth or not filled by the venues"
            if left
            else "",
        )

    def _check_stranded(self) -> None:
        # A routed parent never sends more than the decision: _step ends it once its children
        # have ended, whatever is left.
        return

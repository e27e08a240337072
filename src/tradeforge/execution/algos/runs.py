"""``ParentRuns``: the venue-agnostic bookkeeping of the parent orders one runner works.

The trading node (``engine.algo_runner``) and the backtest (``backtest.algos``) each run parent
orders on their own clock and send the children through their own order path; what they share
lives here: building the algorithm an :class:`AlgoOrder` asks for (:func:`build_algorithm`),
finding a child's parent from its tags (:func:`parent_of`), and :class:`ParentRuns`, which keeps
the parents by id (running, then ended), routes a child's fill or end to its parent, hands
market data to the running ones, cancels them, and records each report (a terminal one moves
the parent from running to ended).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from tradeforge.bus import Clock
from tradeforge.domain import (
    Bar,
    ClientOrderId,
    Order,
    OrderDenied,
    OrderEvent,
    OrderFilled,
    OrderRejected,
    StrategyId,
    TradeTick,
)
from tradeforge.execution.algos.base import (
    CancelChild,
    ExecutionAlgorithm,
    ReportListener,
    SubmitChild,
)
from tradeforge.execution.algos.iceberg import Iceberg, IcebergParams
from tradeforge.execution.algos.parent import ParentOrder
from tradeforge.execution.algos.pov import Pov, PovParams
from tradeforge.execution.algos.report import ExecutionReport
from tradeforge.execution.algos.request import AlgoParams
from tradeforge.execution.algos.twap import Twap, TwapParams
from tradeforge.execution.algos.vwap import Vwap, VwapParams

__all__ = ["PARENT_TAG", "AlgoRun", "ParentRuns", "build_algorithm", "parent_of"]

PARENT_TAG: Final = "parent="


def parent_of(order: Order) -> ClientOrderId | None:
    """The parent id an order's tags name (``parent=<id>``), or None for a plain order."""
    for tag in order.spec.tags:
        if tag.startswith(PARENT_TAG):
            return ClientOrderId(tag[len(PARENT_TAG) :])
    return None


def build_algorithm(
    parent: ParentOrder,
    params: AlgoParams,
    *,
    clock: Clock,
    submit_child: SubmitChild,
    cancel_child: CancelChild,
    on_report: ReportListener,
) -> ExecutionAlgorithm | None:
    """The TWAP, VWAP, POV or iceberg algorithm ``params`` ask for; None for ``RouteParams``
    (smart order routing needs the venues' books: the runner builds it).

    Raises:
        InvalidValue / InvalidOrder: the parameters do not fit the parent.
    """
    if isinstance(params, VwapParams):
        return Vwap(parent, params, clock=clock, submit_child=submit_child,
                    cancel_child=cancel_child, on_report=on_report)  # fmt: skip
    if isinstance(params, TwapParams):
        return Twap(parent, params, clock=clock, submit_child=submit_child,
                    cancel_child=cancel_child, on_report=on_report)  # fmt: skip
    if isinstance(params, PovParams):
        return Pov(parent, params, clock=clock, submit_child=submit_child,
                   cancel_child=cancel_child, on_report=on_report)  # fmt: skip
    if isinstance(params, IcebergParams):
        return Iceberg(parent, params, clock=clock, submit_child=submit_child,
                       cancel_child=cancel_child, on_report=on_report)  # fmt: skip
    return None


@dataclass(slots=True)
class AlgoRun:
    """One parent a runner works: whose it is, its algorithm, its last report, and for a
    routed parent the routing decision (``RoutingDecision``; typed loosely so this module
    needs no import of ``sor``)."""

    strategy_id: StrategyId
    algo: ExecutionAlgorithm
    last: ExecutionReport | None = None
    decision: object | None = None


class ParentRuns:
    """The parents of one runner by id: running ones, then ended ones (module docstring)."""

    def __init__(self) -> None:
        self.running: dict[ClientOrderId, AlgoRun] = {}
        self.ended: dict[ClientOrderId, AlgoRun] = {}

    def __contains__(self, parent_id: ClientOrderId) -> bool:
        return parent_id in self.running or parent_id in self.ended

    def get(self, parent_id: ClientOrderId) -> AlgoRun | None:
        """The parent, running or ended."""
        return self.running.get(parent_id) or self.ended.get(parent_id)

    def add(self, parent_id: ClientOrderId, run: AlgoRun) -> None:
        """Start keeping a parent (before its algorithm starts: reports may come at once)."""
        self.running[parent_id] = run

    def report(
        self, parent_id: ClientOrderId, strategy_id: StrategyId | None = None
    ) -> ExecutionReport | None:
        """The parent's report now (of ``strategy_id``'s parents only, when given)."""
        run = self.get(parent_id)
        if run is None or (strategy_id is not None and run.strategy_id != strategy_id):
            return None
        return run.algo.report()

    def cancel(self, parent_id: ClientOrderId, reason: str, strategy_id: StrategyId) -> bool:
        """Cancel one of the strategy's parents; False when it has no such running parent."""
        run = self.running.get(parent_id)
        if run is None or run.strategy_id != strategy_id:
            return False
        run.algo.cancel(reason)
        return True

    def cancel_where(self, keep: Callable[[AlgoRun], bool], reason: str) -> int:
        """Cancel every running parent ``keep`` selects; how many."""
        chosen = [run for run in list(self.running.values()) if keep(run)]
        for run in chosen:
            run.algo.cancel(reason)
        return len(chosen)

    def on_order_event(self, event: OrderEvent, order: Order) -> None:
        """An event of one of the runner's orders: a child's fill or end goes to its parent."""
        if not self.running:
            return
        parent_id = parent_of(order)
        run = self.running.get(parent_id) if parent_id is not None else None
        if run is None:
            return
        if isinstance(event, OrderFilled):
            run.algo.on_fill(event)
        if order.is_closed:
            rejected = isinstance(event, (OrderRejected, OrderDenied))
            run.algo.on_child_done(order.client_order_id, order.filled_qty, rejected=rejected)

    def on_trade(self, trade: TradeTick) -> None:
        """A public trade (POV counts the volume; every algorithm keeps the last price)."""
        for run in list(self.running.values()):
            run.algo.on_trade(trade)

    def on_bar(self, bar: Bar) -> None:
        """A closed bar."""
        for run in list(self.running.values()):
            run.algo.on_bar(bar)

    def record(self, parent_id: ClientOrderId, report: ExecutionReport) -> AlgoRun | None:
        """Keep the parent's latest report; a terminal one ends the parent. The parent, or
        None when it is not running (a late report of an ended parent)."""
        run = self.running.get(parent_id)
        if run is None:
            return None
        run.last = report
        if report.state.is_terminal:
            del self.running[parent_id]
            self.ended[parent_id] = run
        return run

"""``BacktestAlgos``: execution algorithms (TWAP, VWAP, POV, iceberg) in a backtest, each a
parent order worked as child orders on the replay clock, so a run replays them exactly.

A strategy asks with ``ctx.submit_algo(AlgoOrder(...))`` as in the trading node. The algorithm
is the execution service's (``tradeforge.execution``, built by ``build_algorithm``; the running
and ended parents are kept by the same ``ParentRuns`` the node uses). Here:

- **Time**: the algorithm's alerts (slice starts, POV's child interval) are alerts of the
  backtest's ``ReplayClock``; they fire while the replay advances through the bars, at their
  exact time (a slice due inside a bar fires before that bar closes, see ``ReplayLoop``).
- **Children** go through ``BacktestEngine.submit`` (pre-trade risk, the OMS, the simulated
  venue and its latency), exactly like the strategy's own orders, and belong to the strategy:
  its ``on_order``/``on_fill`` see them, and its results count their fills and fees. Stopping a
  parent cancels its open children through ``BacktestEngine.cancel``.
- **Events**: while a parent runs, the engine hands every order event to this runner (one
  ``if self._algos is not None`` in ``_on_order_event``; nothing is checked when none runs).
- **Bars**: while a parent runs, its instrument's bars reach it at each close (an extra
  subscriber of the feed, beside the strategies; the replay loop is unchanged). Every
  algorithm keeps the close (the arrival price when none was known, and the touch LIMIT-style
  children rest at: a backtest of bars has no book). **POV** reads the market's volume from
  the bars: each closed bar counts as one print of its whole volume at its close, so the
  participation target ``rate * V`` steps up once per bar (and the bars are history: they do
  not include the parent's own fills). Its children are sized at the close and fill on the
  following bars.
- **Reports**: after each fill and state change the parent's ``ExecutionReport`` is published
  on ``events.algos.<strategy>`` of the run's bus and handed to the strategy's ``on_algo``;
  ``ctx.algo(parent_id)`` reads it at any time.
- **Stopping**: ``ctx.cancel_algo``, a failure of the strategy, and the end of the run cancel
  the parent (at the end, before ``on_stop``: the strategy sees the final reports).

Smart order routing (``RouteParams``) needs two or more venues; a backtest runs on one, so it is
refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias

from tradeforge.backtest.feed import BarRef
from tradeforge.domain import (
    AggressorSide,
    ClientOrderId,
    InstrumentId,
    InvalidValue,
    OrderEvent,
    OrderSpec,
    StrategyId,
    TradeId,
    TradeTick,
    UnknownInstrument,
)
from tradeforge.execution import (
    AlgoOrder,
    AlgoRun,
    ExecutionReport,
    ParentOrder,
    ParentRuns,
    Pov,
    RouteParams,
    build_algorithm,
)
from tradeforge.strategy import Strategy

if TYPE_CHECKING:
    from tradeforge.backtest.engine import BacktestEngine

__all__ = ["BacktestAlgos"]

BarHook: TypeAlias = Callable[[BarRef], None]


class BacktestAlgos:
    """The parent orders of one backtest (module docstring)."""

    def __init__(self, engine: BacktestEngine) -> None:
        self._engine = engine
        self._parents = ParentRuns()
        self._owners: dict[ClientOrderId, Strategy] = {}
        self._prints = 0

    # ------------------------------------------------------------ queries
    @property
    def running(self) -> list[ClientOrderId]:
        """Ids of the parents being worked now."""
        return list(self._parents.running)

    def report(self, parent_id: ClientOrderId, strategy_id: StrategyId) -> ExecutionReport | None:
        """The report of one of the strategy's parents now."""
        return self._parents.report(parent_id, strategy_id)

    def bar_hooks(self, instrument_id: InstrumentId) -> tuple[tuple[Strategy, BarHook], ...]:
        """The subscriber the engine adds to the feeds of ``instrument_id`` (none when no
        parent of that instrument runs)."""
        for pid, run in self._parents.running.items():
            if run.algo.parent.instrument_id == instrument_id:
                return ((self._owners[pid], self._on_bar),)
        return ()

    # ------------------------------------------------------------ submit / cancel
    def submit(self, strategy: Strategy, order: AlgoOrder, parent_id: ClientOrderId) -> None:
        """Start working ``order`` as parent ``parent_id`` of ``strategy``.

        Raises:
            InvalidValue / InvalidOrder: the id is taken, the parameters do not fit the parent,
                or it asks for smart order routing.
            UnknownInstrument: the instrument is not in this backtest.
        """
        engine = self._engine
        if parent_id in self._parents:
            raise InvalidValue(f"parent order id {parent_id} is already used")
        if isinstance(order.params, RouteParams):
            raise InvalidValue(
                "smart order routing (RouteParams) splits across two or more venues; a "
                "backtest runs on one: use TWAP, VWAP, POV or an iceberg"
            )
        instrument = engine.instruments.get(order.instrument_id)
        if instrument is None:
            raise UnknownInstrument(f"{order.instrument_id} is not in this backtest")
        arrival = order.arrival_price
        if arrival is None:
            last = engine.last_price(order.instrument_id)  # the last close the venue saw
            arrival = None if last is None else instrument.make_price(last.as_decimal())
        parent = ParentOrder(
            client_order_id=parent_id,
            strategy_id=strategy.id,
            instrument=instrument,
            side=order.side,
            quantity=order.quantity,
            limit_price=order.limit_price,
            arrival_price=arrival,
            allow_odd_final=order.allow_odd_final,
        )

        def submit_child(spec: OrderSpec) -> None:
            engine.submit(strategy, spec)

        def cancel_child(client_order_id: ClientOrderId) -> None:
            engine.cancel(strategy, client_order_id)

        def on_report(report: ExecutionReport) -> None:
            self._on_report(parent_id, report)

        algo = build_algorithm(
            parent, order.params, clock=engine.clock, submit_child=submit_child,
            cancel_child=cancel_child, on_report=on_report,
        )  # fmt: skip
        if algo is None:  # RouteParams, refused above
            raise InvalidValue(f"unknown algorithm parameters {type(order.params).__name__}")
        for ref in engine.feed_for(order.instrument_id, None).recent(1):
            algo.on_bar(ref.to_bar())  # the last close: what LIMIT-style children rest at
        self._parents.add(parent_id, AlgoRun(strategy.id, algo))
        self._owners[parent_id] = strategy
        self._changed()
        engine.log(strategy, "parent order started", parent=parent_id.value,
                   algorithm=algo.algorithm, quantity=str(order.quantity))  # fmt: skip
        algo.start()

    def cancel(self, parent_id: ClientOrderId, reason: str, strategy_id: StrategyId) -> bool:
        """Cancel one of the strategy's running parents; False when it has no such parent."""
        return self._parents.cancel(parent_id, reason, strategy_id)

    def cancel_strategy(self, strategy_id: StrategyId, reason: str) -> int:
        """Cancel the strategy's running parents; how many."""
        return self._parents.cancel_where(lambda run: run.strategy_id == strategy_id, reason)

    def stop_all(self, reason: str) -> int:
        """Cancel every running parent (the run ends); how many."""
        return self._parents.cancel_where(lambda run: True, reason)

    # ------------------------------------------------------------ what the engine sees
    def on_order_event(self, event: OrderEvent) -> None:
        """An order event of the run (called only while a parent runs)."""
        order = self._engine.oms.get(event.client_order_id)
        if order is not None:
            self._parents.on_order_event(event, order)

    def _on_bar(self, ref: BarRef) -> None:
        iid = ref.instrument_id
        runs = [r for r in self._parents.running.values() if r.algo.parent.instrument_id == iid]
        if not runs:
            return
        bar = ref.to_bar()
        trade: TradeTick | None = None
        if not bar.volume.is_zero() and any(isinstance(r.algo, Pov) for r in runs):
            # The bar-based approximation of the tape (module docstring): one print per bar.
            self._prints += 1
            trade = TradeTick(
                instrument_id=iid,
                price=bar.close,
                size=bar.volume,
                aggressor_side=AggressorSide.NONE,
                trade_id=TradeId(f"bar-{self._prints}"),
                ts_event=bar.ts_event,
                ts_init=bar.ts_init,
            )
        for run in runs:
            run.algo.on_bar(bar)
            if trade is not None and isinstance(run.algo, Pov):
                run.algo.on_trade(trade)

    def _on_report(self, parent_id: ClientOrderId, report: ExecutionReport) -> None:
        run = self._parents.record(parent_id, report)
        if run is None:
            return
        engine = self._engine
        if report.state.is_terminal:
            self._changed()
            engine.log(self._owners[parent_id], "parent order ended", **report.to_dict())
        engine.publish_algo_report(self._owners[parent_id], report)

    def _changed(self) -> None:
        """The set of running parents changed: the engine's hooks follow it."""
        self._engine.algos_active(self if self._parents.running else None)

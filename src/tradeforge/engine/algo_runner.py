"""``AlgoRunner``: the node's execution algorithms (TWAP, VWAP, POV, iceberg) and smart order
routing, each a parent order worked as child orders on the node's clock.

A strategy asks with ``ctx.submit_algo(AlgoOrder(...))``. The runner builds the algorithm
(``tradeforge.execution``) on the node's clock and feeds it what the node sees: the fills and
ends of its children (from the node's order events), trades, bars and, when the node keeps
books, book snapshots. Every child goes through the node's normal order path: pre-trade risk
(a refusal is a rejected child; three in a row fail the parent), the journal before the send,
the OMS, the venue. A child carries the tags ``parent=<id>`` and ``algo=<NAME>``, which is how
the runner finds its parent, also after a restart.

Progress: after every fill and state change the parent's ``ExecutionReport`` (filled,
remaining, working, average price, slippage against arrival in bps) is published on
``events.algos.<strategy>``, handed to the strategy's ``on_algo`` hook, and readable with
``ctx.algo(parent_id)``.

Stopping: ``ctx.cancel_algo``, stopping or failing the strategy, the kill switch (of the
node, the strategy or the account), and stopping the node each cancel the parent: its schedule
stops and its open children are cancelled (late fills still count in its report).

Smart order routing (``RouteParams``): the venues that trade the parent's symbol (two or more)
are routed across by ``execution.sor.route_order`` on the books the node keeps
(``engine.books``); the decision, with the books it was made on, is logged (node log and the
strategy's log) and kept with the parent (``decision(parent_id)``); one limit child per venue
goes through the normal path.

Restart (state key ``algos``): the runner journals each parent that is running (its id,
strategy, instrument, side, quantity, arrival price) when it starts, and drops it when it ends.
A parent still running when the node died is **not resumed**: the node's reconciliation settles
its children with the venue like any order, then the runner cancels the children still open and
marks the parent ``CANCELED`` with the reason "stopped by a node restart"; its report is built
from its children in the OMS (so it stays exact as their last fills or cancels arrive). The
strategy decides again, with a new parent id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from tradeforge.bus.topics import escape_token, join_topic
from tradeforge.domain import (
    Bar,
    ClientOrderId,
    Instrument,
    InstrumentId,
    InvalidValue,
    Order,
    OrderEvent,
    OrderSide,
    OrderSpec,
    Price,
    Quantity,
    StrategyId,
    TradeTick,
    UnknownInstrument,
)
from tradeforge.execution import (
    AlgoOrder,
    AlgoRun,
    ExecutionAlgorithm,
    ExecutionReport,
    ExecutionState,
    ParentOrder,
    ParentRuns,
    Routed,
    RouteParams,
    RoutingDecision,
    RoutingMode,
    VenueBook,
    build_algorithm,
    parent_of,
    route_order,
)
from tradeforge.execution.algos import average_price, slippage_bps
from tradeforge.observability import get_logger
from tradeforge.trading import Scope, ScopeKind

if TYPE_CHECKING:
    from tradeforge.engine.node import TradingNode

__all__ = ["STATE_KEY", "AlgoRunner", "parent_of"]

STATE_KEY: Final = "algos"

log = get_logger("tradeforge.algos")


_Run = AlgoRun  # one parent the runner works (``execution.algos.runs``)


@dataclass(slots=True)
class _Stopped:
    """A parent found running in the journal after a restart (module docstring)."""

    parent_id: ClientOrderId
    strategy_id: StrategyId
    algorithm: str
    instrument: Instrument
    side: OrderSide
    quantity: Quantity
    arrival_price: Price | None
    ts_ns: int
    children: list[Order] = field(default_factory=list)


class AlgoRunner:
    """The parent orders of one node (module docstring)."""

    def __init__(self, node: TradingNode) -> None:
        self._node = node
        # Running and ended parents, child events to parents (shared with the backtest).
        self._parents = ParentRuns()
        self._runs = self._parents.running
        self._stopped: dict[ClientOrderId, _Stopped] = {}

    # ------------------------------------------------------------ queries
    @property
    def running(self) -> list[ClientOrderId]:
        """Ids of the parents being worked now."""
        return list(self._runs)

    def report(
        self, parent_id: ClientOrderId, strategy_id: StrategyId | None = None
    ) -> ExecutionReport | None:
        """The parent's report now (of ``strategy_id``'s parents only, when given)."""
        if parent_id in self._parents:
            return self._parents.report(parent_id, strategy_id)
        stopped = self._stopped.get(parent_id)
        if stopped is None or (strategy_id is not None and stopped.strategy_id != strategy_id):
            return None
        return self._stopped_report(stopped)

    def decision(self, parent_id: ClientOrderId) -> RoutingDecision | None:
        """The routing decision of a SOR parent (with the books it was made on)."""
        run = self._parents.get(parent_id)
        decision = None if run is None else run.decision
        return decision if isinstance(decision, RoutingDecision) else None

    # ------------------------------------------------------------ submit
    def submit(self, strategy_id: StrategyId, order: AlgoOrder, parent_id: ClientOrderId) -> None:
        """Start working ``order`` as parent ``parent_id`` of ``strategy_id``.

        Raises:
            InvalidValue / InvalidOrder: the id is taken, the parameters do not fit the parent
                (too small to split, off the lot or tick, a window of the past), or routing
                finds no book to route on.
            UnknownInstrument: the instrument is not traded by this node.
        """
        node = self._node
        if not node.running:
            raise InvalidValue("the node is not running")
        if parent_id in self._parents or parent_id in self._stopped:
            raise InvalidValue(f"parent order id {parent_id} is already used")
        instrument = node.instruments.get(order.instrument_id)
        if instrument is None:
            raise UnknownInstrument(f"{order.instrument_id} is not traded by this node")
        book = node.books.snapshot(order.instrument_id) if node.books is not None else None
        arrival = order.arrival_price
        if arrival is None and (book is None or not book.bids or not book.asks):
            arrival = node.last_price(order.instrument_id)  # a trade price: on the tick
        parent = ParentOrder(
            client_order_id=parent_id,
            strategy_id=strategy_id,
            instrument=instrument,
            side=order.side,
            quantity=order.quantity,
            limit_price=order.limit_price,
            arrival_price=arrival,
            allow_odd_final=order.allow_odd_final,
        )
        run = _Run(strategy_id, self._build(parent, order))
        if isinstance(run.algo, Routed):
            run.decision = run.algo.decision
        if book is not None:
            run.algo.on_book(book)  # the mid now is the arrival price when none was given
        self._parents.add(parent_id, run)
        self._save()
        log.info("parent order started", parent=parent_id.value, algorithm=run.algo.algorithm,
                 strategy=strategy_id.value, quantity=str(order.quantity))  # fmt: skip
        run.algo.start()

    def _build(self, parent: ParentOrder, order: AlgoOrder) -> ExecutionAlgorithm:
        params = order.params
        clock = self._node.clock
        sid = parent.strategy_id
        pid = parent.client_order_id

        def submit_child(spec: OrderSpec) -> None:
            self._node.submit(self._node.strategy(sid), spec)

        def on_report(report: ExecutionReport) -> None:
            self._on_report(pid, report)

        algo = build_algorithm(
            parent, params, clock=clock, submit_child=submit_child,
            cancel_child=self._cancel_child, on_report=on_report,
        )  # fmt: skip
        if algo is not None:
            return algo
        if not isinstance(params, RouteParams):
            raise InvalidValue(f"unknown algorithm parameters {type(params).__name__}")
        return Routed(
            parent, self._route(parent, params), time_in_force=params.time_in_force,
            clock=clock, submit_child=submit_child, cancel_child=self._cancel_child,
            on_report=on_report,
        )  # fmt: skip

    def _route(self, parent: ParentOrder, params: RouteParams) -> RoutingDecision:
        """Route on the books of every venue trading the parent's symbol (or those asked)."""
        node = self._node
        symbol = parent.instrument_id.symbol
        wanted = set(params.venues)
        books: list[VenueBook] = []
        missing: list[str] = []
        for iid in sorted(node.instruments, key=str):
            if iid.symbol != symbol or iid.venue not in node.venues:
                continue
            if wanted and iid.venue not in wanted:
                continue
            book = node.books.snapshot(iid) if node.books is not None else None
            if book is None:
                missing.append(str(iid))
                continue
            books.append(VenueBook(instrument=node.instruments[iid], book=book))
        if not books:
            raise InvalidValue(
                f"parent order {parent.client_order_id}: no book to route {symbol} on "
                f"(books kept: {node.books is not None}; without a book: {missing or 'none'})"
            )
        now = node.clock.timestamp_ns()
        decision = route_order(
            parent.side,
            parent.quantity,
            books,
            limit_price=parent.limit_price,
            mode=RoutingMode.BEST_VENUE if params.best_venue else RoutingMode.SPLIT,
            ts_ns=now,
            record_depth=params.record_depth,
        )
        record = decision.to_dict()
        log.info("routing decision", parent=parent.client_order_id.value,
                 without_book=missing, **record)  # fmt: skip
        # The strategy's log keeps short fields: the shares and each book's top two levels (the
        # node's log above has the whole record, and ``decision()`` the decision itself).
        shares = ", ".join(
            f"{a.instrument_id.venue} {a.quantity}@{a.limit_price}" for a in decision.allocations
        )
        tops = "; ".join(
            f"{v.instrument_id.venue}#{v.sequence} "
            + " ".join(f"{x.size}@{x.price}" for x in v.top[:2])
            for v in decision.venues
        )
        node.logs.add(
            parent.strategy_id, now, "info",
            f"{parent.client_order_id} routed: {decision.allocated} of {decision.quantity} over "
            f"{len(decision.allocations)} venue(s), {decision.unfilled} beyond visible depth",
            shares=shares, books=tops, without_book=",".join(missing),
        )  # fmt: skip
        return decision

    # ------------------------------------------------------------ control
    def cancel(self, parent_id: ClientOrderId, reason: str, strategy_id: StrategyId) -> bool:
        """Cancel one of the strategy's parents; False when it has no such running parent."""
        return self._parents.cancel(parent_id, reason, strategy_id)

    def cancel_where(self, keep: Callable[[_Run], bool], reason: str) -> int:
        """Cancel every running parent ``keep`` selects; how many."""
        return self._parents.cancel_where(keep, reason)

    def cancel_strategy(self, strategy_id: StrategyId, reason: str) -> int:
        """Cancel the strategy's running parents."""
        return self.cancel_where(lambda run: run.strategy_id == strategy_id, reason)

    def kill(self, scope: Scope, reason: str) -> int:
        """The kill switch of ``scope`` was activated: its parents stop with it."""
        node = self._node

        def in_scope(run: _Run) -> bool:
            if scope.kind is ScopeKind.GLOBAL:
                return True
            if scope.kind is ScopeKind.STRATEGY:
                return run.strategy_id.value == scope.id
            client = node.venues.get(run.algo.parent.instrument_id.venue)
            account = getattr(client, "account_id", None)
            return ("" if account is None else str(account)) == scope.id

        return self.cancel_where(in_scope, f"kill switch ({scope}): {reason}")

    def _cancel_child(self, client_order_id: ClientOrderId) -> None:
        # Not through risk's cancel throttle: stopping a parent must not leave children working.
        node = self._node
        order = node.oms.get(client_order_id)
        if order is not None and (order.is_open or order.is_inflight):
            node._spawn(node._cancel_now(order))

    # ------------------------------------------------------------ what the node sees
    def on_order_event(self, event: OrderEvent, order: Order) -> None:
        """An event of one of the node's orders: a child's fill or end goes to its parent."""
        self._parents.on_order_event(event, order)

    def on_trade(self, trade: TradeTick) -> None:
        """A public trade (POV counts the volume; every algorithm keeps the last price)."""
        self._parents.on_trade(trade)

    def on_bar(self, bar: Bar) -> None:
        """A closed bar."""
        self._parents.on_bar(bar)

    def on_book(self, instrument_id: InstrumentId) -> None:
        """The node's book of ``instrument_id`` changed (resting children price off it)."""
        runs = [r for r in self._runs.values() if r.algo.parent.instrument_id == instrument_id]
        books = self._node.books
        if not runs or books is None:
            return
        snapshot = books.snapshot(instrument_id, depth=1)
        if snapshot is not None:
            for run in runs:
                run.algo.on_book(snapshot)

    def _on_report(self, parent_id: ClientOrderId, report: ExecutionReport) -> None:
        run = self._parents.record(parent_id, report)
        if run is None:
            return
        if report.state.is_terminal:
            self._save()
            log.info("parent order ended", **report.to_dict())
        self._publish(run.strategy_id, report)

    def _publish(self, strategy_id: StrategyId, report: ExecutionReport) -> None:
        node = self._node
        node.bus.publish(join_topic("events", "algos", escape_token(strategy_id.value)), report)
        strategy = node._by_id.get(strategy_id)
        if strategy is not None and node.is_running(strategy_id):
            node._call(strategy, "on_algo", strategy.on_algo, report)

    # ------------------------------------------------------------ restart
    def _save(self) -> None:
        parents = []
        for pid, run in self._runs.items():
            parent = run.algo.parent
            parents.append({
                "parent_order_id": pid.value,
                "strategy_id": run.strategy_id.value,
                "algorithm": run.algo.algorithm,
                "instrument_id": str(parent.instrument_id),
                "side": parent.side.value,
                "quantity": str(parent.quantity),
                "arrival_price": None if parent.arrival_price is None
                else str(parent.arrival_price),
            })  # fmt: skip
        node = self._node
        node.journal.save_state(STATE_KEY, {"parents": parents}, node.clock.timestamp_ns())

    def recover(self) -> list[ClientOrderId]:
        """After the journal was replayed and the venues reconciled: stop the parents the last
        run left running (module docstring); their ids."""
        node = self._node
        body = node.journal.load_state(STATE_KEY)
        saved = [] if body is None else list(body.get("parents", []))
        if not saved:
            return []
        children: dict[ClientOrderId, list[Order]] = {}
        for order in node.oms:
            pid = parent_of(order)
            if pid is not None:
                children.setdefault(pid, []).append(order)
        now = node.clock.timestamp_ns()
        stopped = []
        for item in saved:
            iid = InstrumentId.from_str(item["instrument_id"])
            instrument = node.instruments.get(iid)
            pid = ClientOrderId(item["parent_order_id"])
            if instrument is None:
                log.warning("parent order not recovered: instrument gone", parent=pid.value)
                continue
            arrival = item.get("arrival_price")
            entry = _Stopped(
                parent_id=pid,
                strategy_id=StrategyId(item["strategy_id"]),
                algorithm=item["algorithm"],
                instrument=instrument,
                side=OrderSide(item["side"]),
                quantity=instrument.make_qty(Decimal(item["quantity"])),
                arrival_price=None if arrival is None else instrument.make_price(Decimal(arrival)),
                ts_ns=now,
                children=children.get(pid, []),
            )
            self._stopped[pid] = entry
            still_open = [o for o in entry.children if o.is_open or o.is_inflight]
            for order in still_open:
                node._spawn(node._cancel_now(order))
            report = self._stopped_report(entry)
            log.warning("parent order stopped by a restart", cancelled=len(still_open),
                        **report.to_dict())  # fmt: skip
            node.logs.add(entry.strategy_id, now, "warning",
                          f"parent order {pid} ({entry.algorithm}) stopped by a node restart: "
                          f"{len(entry.children)} children reconciled, {len(still_open)} "
                          "cancelled; it is not resumed", parent=pid.value)  # fmt: skip
            node.bus.publish(
                join_topic("events", "algos", escape_token(entry.strategy_id.value)), report
            )
            stopped.append(pid)
        self._save()  # nothing runs now
        return stopped

    def _stopped_report(self, entry: _Stopped) -> ExecutionReport:
        filled = sum((o.filled_qty.as_decimal() for o in entry.children), Decimal(0))
        notional = sum((o.filled_notional for o in entry.children), Decimal(0))
        working = sum(
            (o.leaves_qty.as_decimal() for o in entry.children if o.is_open or o.is_inflight),
            Decimal(0),
        )
        precision = entry.instrument.lot_size.precision
        return ExecutionReport(
            parent_order_id=entry.parent_id,
            algorithm=entry.algorithm,
            instrument_id=entry.instrument.id,
            side=entry.side,
            state=ExecutionState.CANCELED,
            quantity=entry.quantity,
            filled=Quantity.from_decimal(filled, precision),
            working=Quantity.from_decimal(working, precision),
            notional=notional,
            avg_price=average_price(notional, filled),
            arrival_price=entry.arrival_price,
            slippage_bps=slippage_bps(entry.side, notional, filled, entry.arrival_price),
            children=len(entry.children),
            reason="stopped by a node restart: its children were reconciled, open ones "
            "cancelled; not resumed",
            ts_event=entry.ts_ns,
            ts_init=entry.ts_ns,
        )

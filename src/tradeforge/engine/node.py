"""``TradingNode``: strategies trading through risk, the OMS and the journal to real venues.

The same strategy classes as the backtester, with a ``LiveContext``; only the clock (wall) and
the venue clients (``VenueClient``: the CCXT venue, or the in-process simulated venue for
paper trading) differ. The order path, in order:

1. pre-trade risk: a refusal is an ``OrderDenied`` (journaled, shown to the strategy);
2. ``OrderInitialized`` and ``OrderSubmitted`` are journaled (durably) *before* the order is
   sent;
3. the venue client sends it; its report becomes ``OrderAccepted`` / ``OrderRejected`` / fills;
   an unknown outcome leaves the order in flight, and the in-flight check asks the venue by
   client order id until it knows (after ``inflight_timeout`` and then every
   ``inflight_interval``, ``inflight_retries`` times; then the order is resolved REJECTED as
   unknown at the venue — never re-sent);
4. every event is journaled, applied to the OMS, to positions, and handed to the strategy.

At start the node rebuilds its OMS from the journal and reconciles with each venue: orders the
journal has in flight or open are looked up by client order id, fills it missed are applied
(each trade id once), and orders the journal has never seen are reported as external.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import msgspec

from tradeforge.bus import Clock, InMemoryBus, TimeEvent
from tradeforge.bus.topics import escape_token, join_topic
from tradeforge.domain import (
    AccountBalance,
    AccountId,
    Bar,
    ClientOrderId,
    ContingencyType,
    Currency,
    DenyReason,
    FillReport,
    Instrument,
    InstrumentId,
    Money,
    Order,
    OrderAccepted,
    OrderCanceled,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderList,
    OrderModifyRejected,
    OrderRejected,
    OrderSide,
    OrderSpec,
    OrderStatus,
    OrderStatusReport,
    OrderSubmitted,
    OrderUpdated,
    Position,
    PositionBook,
    PositionMode,
    Price,
    Quantity,
    RejectReason,
    StrategyError,
    StrategyId,
    Timeframe,
    TradeForgeError,
    TradeTick,
    Venue,
)
from tradeforge.domain.errors import InvalidValue, RequestError, TemporaryError, UnknownOrder
from tradeforge.engine import emulation
from tradeforge.engine import instances as saved_instances
from tradeforge.engine.algo_runner import AlgoRunner
from tradeforge.engine.bar_recorder import BarRecorder
from tradeforge.engine.bars import TradeBarAggregator
from tradeforge.engine.books import OrderBooks
from tradeforge.engine.context import LiveContext
from tradeforge.engine.emulation import OrderEmulator, needs_emulation
from tradeforge.engine.feeds import LiveBarFeed
from tradeforge.engine.order_lists import native_oco, split_native_pairs, venue_oco_list
from tradeforge.engine.portfolio import PortfolioRecorder
from tradeforge.engine.strategy_log import StrategyLog
from tradeforge.engine.venue_health import DisconnectPolicy, VenueConnectionChanged, VenueMonitor
from tradeforge.execution import BookUpdate, OcoVenueClient, OrderUpdate, VenueClient
from tradeforge.observability import get_logger
from tradeforge.strategy import Strategy
from tradeforge.trading import GLOBAL, OrderManager, RiskEngine, Scope
from tradeforge.trading.contingency import STATE_KEY as CONTINGENCY_STATE
from tradeforge.trading.contingency import Action, ContingencyManager
from tradeforge.trading.journal import OrderJournal
from tradeforge.trading.valuation import ValuationStore

__all__ = ["ModifyRefusal", "NodeReport", "TradingNode"]


def _base36(value: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while value:
        value, rest = divmod(value, 36)
        out = digits[rest] + out
    return out or "0"


log = get_logger("tradeforge.node")
_ZERO = Decimal(0)

# Crash points of the crash matrix (RELIABILITY.md OMS-1), a test hook: TF_CRASH_AT=<point>:<n>
# ends the process (exit status 137, nothing flushed, as SIGKILL) the n-th time it passes <point>.
#   A  before the submit is journaled (OrderSubmitted)   D  fills received, not journaled
#   B  journaled SUBMITTED, not yet sent                 E  cancel answered, not journaled
#   C  accepted by the venue, the ack not journaled      F  event journaled, strategy not told
_CRASH_BEFORE_JOURNAL: dict[type[OrderEvent], str] = {
    OrderSubmitted: "A", OrderAccepted: "C", OrderFilled: "D", OrderCanceled: "E",
}  # fmt: skip


def _crash_plan(spec: str | None) -> list[Any] | None:
    if not spec:
        return None
    point, _, count = spec.partition(":")
    if point not in "ABCDEF" or len(point) != 1 or not (count or "1").isdigit():
        raise TradeForgeError(f"TF_CRASH_AT={spec!r}: write <point A-F>:<n>, e.g. C:1")
    return [point, int(count or 1)]


def _changed(order: Order, report: OrderStatusReport) -> bool:
    # The venue's quantity or prices differ from the order's (values, not representations).
    def differs(ours: Price | Quantity | None, theirs: Price | Quantity | None) -> bool:
        return theirs is not None and (ours is None or ours.as_decimal() != theirs.as_decimal())

    return (
        differs(order.quantity, report.quantity)
        or differs(order.price, report.price)
        or differs(order.trigger_price, report.trigger_price)
    )


@dataclass(frozen=True)
class ModifyRefusal:
    """Why a modify was not done: ``by`` pre-trade ``risk`` (``reason`` is the ``DenyReason``
    code) or the ``venue`` (``reason`` is ``REJECTED``)."""

    by: str
    reason: str
    message: str


@dataclass
class NodeReport:
    """What reconciliation found and did, for the operator."""

    adopted: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    fills_applied: int = 0
    external: list[str] = field(default_factory=list)


class TradingNode:
    """One node: strategies, their venues, the OMS and its journal (see the module docstring)."""

    def __init__(
        self,
        *,
        clock: Clock,
        venues: dict[Venue, VenueClient],
        strategies: Sequence[Strategy],
        journal: OrderJournal,
        timeframe: Timeframe,
        base_currency: Currency,
        risk: RiskEngine | None = None,
        data: dict[Venue, VenueClient] | None = None,
        cancel_on_stop: bool = True,
        inflight_timeout: float = 5.0,
        inflight_interval: float = 2.0,
        inflight_retries: int = 5,
        id_prefix: str = "N",
        bus: InMemoryBus | None = None,
        reconcile_every_s: float = 60.0,
        valuations: ValuationStore | None = None,
        value_every_s: float = 10.0,
        value_history: int = 8640,
        log_lines: int = 500,
        disconnect: DisconnectPolicy | None = None,
    ) -> None:
        self.clock = clock
        self.venues = venues
        self.data = data or venues
        self.strategies = list(strategies)
        self.journal = journal
        self.timeframe = timeframe
        self.base_currency = base_currency
        self.risk = risk or RiskEngine()
        self.cancel_on_stop = cancel_on_stop
        self.reconcile_every_s = reconcile_every_s
        self._reconciling = False
        self._inflight = (inflight_timeout, inflight_interval, inflight_retries)
        self.oms = OrderManager()
        # What happens in the node, for the gateway's streams and other listeners:
        # events.orders.<strategy>, data.trades.<instrument>, data.bars.<instrument>.<timeframe>,
        # events.positions.<strategy> (PositionChanged after each fill), events.strategies.<id>
        # (StrategyLogged: each strategy log line), events.portfolio (each valuation recorded)
        self.bus = bus or InMemoryBus()
        self.instruments: dict[InstrumentId, Instrument] = {}
        self.positions: PositionBook | None = None
        self.feeds: dict[InstrumentId, LiveBarFeed] = {}
        self._aggregators: dict[InstrumentId, TradeBarAggregator] = {}
        self._last: dict[InstrumentId, Price] = {}
        self._by_id = {s.id: s for s in self.strategies}
        # Client order ids must never repeat, also across restarts: the prefix carries the
        # session (the start time in base 36) as well as the strategy's number.
        session = _base36(clock.timestamp_ns() // 1_000_000)
        self._contexts = {
            s.id: LiveContext(self, s, f"{id_prefix}{k}{session}")
            for k, s in enumerate(self.strategies)
        }
        # A context number is never reused (a strategy started again or added at run time gets
        # a new one), so neither are its client order ids.
        self._prefix = (id_prefix, session)
        self._context_numbers = itertools.count(len(self.strategies))
        self._owners: dict[StrategyId, str | None] = {}
        self._added: list[StrategyId] = []  # added at run time: saved, restored at start
        self._restoring = False
        self._strategy_timers: dict[StrategyId, set[str]] = {}
        self._last_start: dict[StrategyId, int] = {}
        self.logs = StrategyLog(log_lines, bus=self.bus)
        self.portfolio = PortfolioRecorder(
            self, every_s=value_every_s, keep=value_history, store=valuations
        )
        self.balances: dict[str, AccountBalance] = {}
        self._stopped: set[StrategyId] = set()
        self._started: set[StrategyId] = set()  # strategies get events from on_start on
        self.errors: list[StrategyError] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._streams: set[asyncio.Task[Any]] = set()
        self._timers = itertools.count(1)
        self.report = NodeReport()
        self._unsettled: set[ClientOrderId] = set()  # fills the venue reported but not yet seen
        self.rejections: dict[ClientOrderId, str] = {}  # why the venue refused an order
        self.contingency = ContingencyManager(self.instruments.get)
        self._restored: list[Action] = []  # what the rebuilt groups send after reconciliation
        # Orders of a type their venue lacks, held until their trigger (engine.emulation).
        self.emulator = OrderEmulator(self.instruments.get)
        self.running = False
        self._crash_at = _crash_plan(os.environ.get("TF_CRASH_AT"))  # test hook, off when unset
        # Set to append the bars built from trades to the history catalog ([data] record_bars).
        self.bar_recorder: BarRecorder | None = None
        # Set to keep the latest book of each fed instrument from its venue's book feed.
        self.books: OrderBooks | None = None
        # R15: per-venue heartbeats; past the grace period new orders are refused and open
        # ones cancelled (engine.venue_health). Off unless ``disconnect.grace_s`` is set.
        # Parent orders (TWAP, VWAP, POV, iceberg, SOR) worked on this clock (engine.algo_runner).
        self.algos = AlgoRunner(self)
        self.monitor = VenueMonitor(
            disconnect or DisconnectPolicy(), self.venues, clock=clock,
            open_orders=self._open_ids, cancel=self._cancel_ids,
            reconcile=self._reconcile_venue, publish=self._publish_health,
        )  # fmt: skip

    # ============================================================= lifecycle
    async def start(self) -> NodeReport:
        """Connect, recover from the journal, reconcile, then start strategies and streams."""
        for client in {id(c): c for c in [*self.venues.values(), *self.data.values()]}.values():
            await client.connect()
        for client in self.venues.values():
            for inst in await client.instruments():
                self.instruments[inst.id] = inst
        self.positions = PositionBook(PositionMode.NETTING, self.instruments)
        if self.bar_recorder is not None:  # bars opened before now would be partial
            self.bar_recorder.since_ns = self.clock.timestamp_ns()
        await self.refresh_balances()
        self._recover()
        await self.reconcile()
        self._act(self._restored)  # children released by the journal (_recover)
        self._restored = []
        self._restore_risk()
        self.algos.recover()  # parents the last run left running: stopped, children settled
        restart = self._restore_instances()
        wanted = {iid for s in self.strategies for iid in s.configured_instruments}
        for iid in sorted(wanted, key=str):
            if iid not in self.instruments:
                raise TradeForgeError(f"strategy instrument {iid} is not traded at any venue")
            self._add_feed(iid)
        for strategy in self.strategies:
            if strategy.id in self._stopped:  # added stopped: started on request only
                continue
            strategy.bind(self._contexts[strategy.id], list(wanted))
            self._started.add(strategy.id)
            self._last_start[strategy.id] = self.clock.timestamp_ns()
            self._call(strategy, "on_start", strategy.on_start)
        self.running = True
        self.portfolio.start()
        for strategy_id in restart:
            try:
                self.start_strategy(strategy_id)
            except TradeForgeError as exc:
                log.warning("saved strategy not started", strategy=str(strategy_id),
                            error=str(exc))  # fmt: skip
        # Subscribe now (not when the tasks first run), so nothing pushed after start() returns
        # is missed by a venue that publishes in process.
        for iid in self.feeds:
            trades = self.data[iid.venue].trades(iid)
            self._streams.add(self._spawn(self._trade_stream(trades)))
            self._watch_book(iid)
        for client in self.venues.values():
            self._streams.add(self._spawn(self._order_stream(client, client.order_updates())))
        self.monitor.start()
        self.clock.set_timer("node:bars", self.timeframe.nanos // 10, self._flush_bars)
        if self.reconcile_every_s > 0:
            self.clock.set_timer(
                "node:reconcile", int(self.reconcile_every_s * 1e9), self._reconcile_timer
            )
        return self.report

    async def stop(self, grace: float = 10.0) -> None:
        """Stop strategies, let in-flight requests finish, cancel open orders when configured,
        then close the streams and venues."""
        self.algos.cancel_where(lambda _: True, "node stopped")
        self.running = False
        self.portfolio.stop()
        await self.monitor.stop()
        for timer in ("node:bars", "node:reconcile"):
            with contextlib.suppress(TradeForgeError):
                self.clock.cancel_timer(timer)
        for strategy in self.strategies:
            if strategy.id not in self._stopped:
                self._call(strategy, "on_stop", strategy.on_stop)
                self._stopped.add(strategy.id)  # no hook runs after on_stop
            self._detach(strategy.id)  # its timers leave the clock
        requests = [t for t in self._tasks if t not in self._streams]
        if requests:
            await asyncio.wait(requests, timeout=grace)
        if self.cancel_on_stop:
            await asyncio.gather(*(self._cancel_now(o) for o in self._open_orders()))
            for order in self._emulated():  # no one would watch their triggers any more
                self._cancel_emulated(order, "node stopped")
        # A last look at the venue, so the journal ends where the venue is.
        with contextlib.suppress(TradeForgeError):
            await self.reconcile()
        self.save_risk_state()
        if self.bar_recorder is not None:
            await self.bar_recorder.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for client in {id(c): c for c in [*self.venues.values(), *self.data.values()]}.values():
            with contextlib.suppress(Exception):
                await client.close()

    def _open_orders(self) -> list[Order]:
        return [order for order in self.oms if order.is_open]

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        self._streams.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("node task failed", error=repr(task.exception()))

    # ============================================================= recovery
    def _recover(self) -> None:
        """Rebuild the OMS and positions from the journal (each event applied once)."""
        count = 0
        for event in self.journal.events():
            count += 1
            if isinstance(event, OrderInitialized):
                self.oms.create(event.spec, event.ts_event)
                continue
            order = self.oms.get(event.client_order_id)
            if order is None:
                continue
            with contextlib.suppress(TradeForgeError):
                self.oms.apply(event)
                if isinstance(event, OrderFilled) and self.positions is not None:
                    self.positions.apply(event)
        armed = OrderEmulator.saved(self.journal.load_state(emulation.STATE_KEY))
        for order in [o for o in self.oms if o.status is OrderStatus.INITIALIZED]:
            if order.client_order_id.value in armed:  # held by the node: armed again
                self._arm(order, armed[order.client_order_id.value])
        # Contingent groups rebuilt before reconciliation, so the events it brings reach them.
        # Children whose parent filled or ended while the node was down are sent once the
        # reconciliation is done (sent now, they could be looked up before they arrive).
        saved = self.journal.load_state(CONTINGENCY_STATE)
        self._restored = self.contingency.restore(self.oms, armed=self.emulator, saved=saved)
        keep = {a.spec.client_order_id for a in self._restored if a.spec is not None}
        keep |= {a.replaces for a in self._restored if a.replaces is not None}
        unsent = [o for o in self.oms if o.status is OrderStatus.INITIALIZED]
        for order in sorted(unsent, key=lambda o: o.spec.parent_order_id is not None):
            cid = order.client_order_id
            if cid in self.emulator or cid in keep or self.contingency.held(cid):
                continue  # held by the node (armed, waiting for its parent) or released
            # Journaled, never sent (the node stopped before OrderSubmitted): nothing is at the
            # venue and nothing will send it now (parents first: their children are dropped).
            now = self.clock.timestamp_ns()
            self._event(OrderCanceled(**order.spec.ids(), reason="never sent before a restart",
                                      ts_event=now, ts_init=now))  # fmt: skip
        if count:
            log.info("recovered from the journal", events=count, open=len(self._open_orders()))

    async def reconcile(self, venue: Venue | None = None) -> NodeReport:
        """Compare the journal's open and in-flight orders with each venue (or ``venue``) and
        settle them."""
        chosen = self.venues if venue is None else {venue: self.venues[venue]}
        for venue_name, client in chosen.items():
            mine = [
                o
                for o in self.oms
                if (o.is_open or o.is_inflight) and o.instrument_id.venue == venue_name
            ]
            # Asked concurrently: each lookup may wait out the venue's visibility lag.
            reports = await asyncio.gather(
                *(self._status(client, o) for o in mine), return_exceptions=True
            )
            for order, report in zip(mine, reports, strict=True):
                if isinstance(report, TemporaryError):  # no answer: nothing is decided
                    log.warning("order not settled: the venue did not answer",
                                venue=str(venue_name),
                                client_order_id=order.client_order_id.value)  # fmt: skip
                    if order.status is OrderStatus.SUBMITTED:
                        self._spawn(self._inflight_check(client, order))
                    continue
                if isinstance(report, BaseException):
                    raise report
                if report is None:
                    if order.status is OrderStatus.SUBMITTED:
                        self._emit_rejected(order, "not found at the venue after a restart")
                        self.report.resolved.append(order.client_order_id.value)
                    elif order.is_open and order.status is not OrderStatus.INITIALIZED:
                        # The venue had taken it and no longer knows it (a paper venue that
                        # restarted, or one that purged it): it cannot fill any more.
                        log.warning("order lost at the venue", venue=str(venue_name),
                                    client_order_id=order.client_order_id.value,
                                    status=order.status.value)  # fmt: skip
                        now = self.clock.timestamp_ns()
                        self._event(OrderCanceled(**order.spec.ids(), reason="unknown at the venue",
                                                  ts_event=now, ts_init=now))  # fmt: skip
                        self.report.resolved.append(order.client_order_id.value)
                    continue
                await self._apply_report(client, report)
                self.report.adopted.append(order.client_order_id.value)
            known = {o.client_order_id for o in self.oms}
            with contextlib.suppress(TradeForgeError):
                for report in await client.open_orders():
                    if report.client_order_id not in known:
                        self.report.external.append(report.client_order_id.value)
                        log.warning("external order at the venue", venue=str(venue_name),
                                    client_order_id=report.client_order_id.value)  # fmt: skip
        return self.report

    def _reconcile_timer(self, _: TimeEvent) -> None:
        """Periodic reconciliation: open and in-flight orders checked against the venues, so a
        missed update (a stream gap, a lost fill) is repaired within one interval."""
        if self._reconciling or not self.running:
            return

        async def run() -> None:
            self._reconciling = True
            try:
                await self.reconcile()
                await self.refresh_balances()
            except TradeForgeError as exc:
                log.warning("periodic reconciliation failed", error=str(exc))
            finally:
                self._reconciling = False

        self._spawn(run())

    async def refresh_balances(self) -> None:
        """Read every venue's balances into the snapshot strategies see (and risk checks)."""
        for client in self.venues.values():
            with contextlib.suppress(TradeForgeError):
                account = getattr(client, "account_id", None)
                for balance in await client.balances():
                    self.balances[balance.total.currency.code] = balance
                    if self.risk.tracking:
                        self.risk.set_balance(account, balance.total)

    def _restore_risk(self) -> None:
        """Risk state after a restart: switches and disabled strategies from the journal, then
        the open orders and positions it counts."""
        if not self.risk.tracking:
            return
        saved = self.journal.load_state("risk")
        if saved is not None:
            self.risk.import_state(saved)
        for order in self._open_orders():
            inst = self.instruments.get(order.instrument_id)
            if inst is not None:
                self.risk.adopt_order(order, inst)
        for position in self.positions or []:
            self.risk.set_position(
                position.strategy_id, position.instrument.id, position.signed_qty
            )

    def save_risk_state(self) -> None:
        """Keep the risk state (kill switches, disabled strategies) in the journal."""
        if self.risk.tracking:
            self.journal.save_state("risk", self.risk.export_state(), self.clock.timestamp_ns())
        for entry in self.risk.drain_audit():
            log.info("risk audit", entry=repr(entry))

    async def kill(self, scope: Scope = GLOBAL, *, by: str, reason: str) -> int:
        """The kill switch: no new orders in ``scope`` from now, its open orders cancelled;
        returns how many were cancelled. It stays on across restarts until released."""
        activation = self.risk.kill_switch.activate(scope, by=by, reason=reason)
        self.save_risk_state()
        self.algos.kill(scope, reason)  # its parents stop: no child is sent after this
        targets = [self.oms.get(ref.client_order_id) for ref in activation.to_cancel]
        orders = [
            o
            for o in targets
            if o is not None and (o.is_open or o.client_order_id in self.emulator)
        ]
        await asyncio.gather(*(self._cancel_now(o) for o in orders))
        return len(orders)

    async def _status(
        self, client: VenueClient, order: Order, *, in_flight: bool = False
    ) -> OrderStatusReport | None:
        """The venue's view of an order, asked over its visibility lag: None once the venue has
        answered "unknown order" ``inflight_retries`` times (or, ``in_flight``, as soon as the
        order is no longer in flight). An error (a timeout, an open circuit breaker) is no
        answer: ``TemporaryError`` after as many errors in a row."""
        _, interval, retries = self._inflight
        unknown = errors = 0
        while not (in_flight and order.status is not OrderStatus.SUBMITTED):
            try:
                found = await client.order_status(order.instrument_id, order.client_order_id)
            except TradeForgeError as exc:
                errors += 1
                if errors >= max(retries, 1):
                    raise TemporaryError(
                        f"order {order.client_order_id}: no answer from the venue: {exc}"
                    ) from exc
            else:
                if found is not None:
                    return found
                unknown, errors = unknown + 1, 0
                if unknown >= max(retries, 1):
                    return None
            await asyncio.sleep(interval)
        return None

    # ============================================================ market data
    async def _trade_stream(self, trades: AsyncIterator[TradeTick]) -> None:
        async for trade in trades:
            self._on_trade(trade)

    def _on_trade(self, trade: TradeTick) -> None:
        iid = trade.instrument_id
        self._last[iid] = trade.price
        if self.risk.tracking:
            self.risk.on_trade(trade)
        self.bus.publish(join_topic("data", "trades", escape_token(str(iid))), trade)
        self.algos.on_trade(trade)
        if self.emulator.armed:
            released, moved = self.emulator.on_trade(iid, trade.price.as_decimal())
            if released or moved:
                self._save_emulation()
            for spec in released:
                self._release(spec)
        for strategy in self._running_on(iid):
            self._call(strategy, "on_trade", strategy.on_trade, trade)
        bar = self._aggregators[iid].on_trade(
            trade.price.as_decimal(), trade.size.as_decimal(), trade.ts_event
        )
        if bar is not None:
            self._on_bar(bar)

    def _watch_book(self, iid: InstrumentId) -> None:
        client = self.data[iid.venue]
        if self.books is not None and client.capabilities.watch_book:
            self._streams.add(self._spawn(self._book_stream(iid, client.book(iid))))

    async def _book_stream(self, iid: InstrumentId, updates: AsyncIterator[BookUpdate]) -> None:
        assert self.books is not None
        try:
            async for update in updates:
                self.books.apply(update)
                self.algos.on_book(iid)
        except TradeForgeError as exc:  # the book is gone, not stale: trading goes on
            log.warning("book feed stopped", instrument=str(iid), error=str(exc))
        self.books.forget(iid)

    def _flush_bars(self, event: TimeEvent) -> None:
        for aggregator in self._aggregators.values():
            bar = aggregator.flush(event.ts_event)
            if bar is not None:
                self._on_bar(bar)

    def _on_bar(self, bar: Bar) -> None:
        self.feeds[bar.instrument_id].push(bar)
        self.algos.on_bar(bar)
        if self.bar_recorder is not None:
            self.bar_recorder.add(bar)
        self.bus.publish(
            join_topic("data", "bars", escape_token(str(bar.instrument_id)), str(bar.timeframe)),
            bar,
        )
        for strategy in self._running_on(bar.instrument_id):
            self._call(strategy, "on_bar", strategy.on_bar, bar)

    def _running_on(self, instrument_id: InstrumentId) -> list[Strategy]:
        return [
            s
            for s in self.strategies
            if s.id not in self._stopped and instrument_id in s.instrument_ids
        ]

    def last_price(self, instrument_id: InstrumentId) -> Price | None:
        """The last traded price seen."""
        return self._last.get(instrument_id)

    @property
    def last_prices(self) -> Mapping[InstrumentId, Price]:
        """The last traded price of every instrument seen (read-only)."""
        return self._last

    # ================================================================ orders
    def submit(self, strategy: Strategy, spec: OrderSpec) -> None:
        """Risk-check, journal and send one order (the venue's answer comes as events)."""
        self._send_created(self._create(spec))

    def _create(self, spec: OrderSpec) -> Order:
        order, init = self.oms.create(spec, self.clock.timestamp_ns())
        self.journal.append(init, order)
        return order

    def _send_created(self, order: Order) -> None:
        spec = order.spec
        now = self.clock.timestamp_ns()
        denial = self._denial(spec)
        if denial is not None:
            self._event(OrderDenied(**spec.ids(), reason=denial[0], message=denial[1],
                                    ts_event=now, ts_init=now))  # fmt: skip
            return
        client = self.venues[spec.instrument_id.venue]
        if needs_emulation(spec, client.capabilities):
            self._arm(order)
            return
        account = getattr(client, "account_id", None) or AccountId(f"{spec.instrument_id.venue}-1")
        self._event(OrderSubmitted(**spec.ids(), account_id=account, ts_event=now, ts_init=now))
        self._spawn(self._send(client, order))

    # ---------------------------------------------- orders the node emulates
    def _arm(self, order: Order, best: Decimal | None = None) -> None:
        """Hold an order whose type the venue lacks until its trigger (engine.emulation)."""
        self.emulator.arm(order, best)
        self._save_emulation()
        self.logs.add(order.strategy_id, self.clock.timestamp_ns(), "info",
                      f"{order.client_order_id} ({order.order_type}) held by the node until "
                      "its trigger: the venue lacks the type", emulated=True)  # fmt: skip

    def _save_emulation(self) -> None:
        self.journal.save_state(emulation.STATE_KEY, self.emulator.dump(),
                                self.clock.timestamp_ns())  # fmt: skip

    def _release(self, spec: OrderSpec) -> None:
        """An emulated order triggered: journal it SUBMITTED, send ``spec`` (MARKET/LIMIT)."""
        order = self.oms.get(spec.client_order_id)
        if order is None or order.status is not OrderStatus.INITIALIZED:
            return
        client = self.venues[spec.instrument_id.venue]
        if self.monitor.blocked(client.venue) is not None:  # R15: nothing new goes out
            self._cancel_emulated(order, "triggered while its venue was unreachable")
            return
        now = self.clock.timestamp_ns()
        account = getattr(client, "account_id", None) or AccountId(f"{client.venue}-1")
        self._event(OrderSubmitted(**spec.ids(), account_id=account, ts_event=now, ts_init=now))
        self._spawn(self._send(client, order, spec))

    def _cancel_emulated(self, order: Order, reason: str = "canceled (emulated)") -> None:
        if not self.emulator.disarm(order.client_order_id):
            return
        self._save_emulation()
        now = self.clock.timestamp_ns()
        self._event(OrderCanceled(**order.spec.ids(), reason=reason, ts_event=now, ts_init=now))

    def _emulated(
        self, strategy_id: StrategyId | None = None, instrument_id: InstrumentId | None = None
    ) -> list[Order]:
        """Orders held by the node (of one strategy, in one instrument)."""
        found = [self.oms.get(cid) for cid in self.emulator.armed]
        return [
            o for o in found
            if o is not None
            and (strategy_id is None or o.strategy_id == strategy_id)
            and (instrument_id is None or o.instrument_id == instrument_id)
        ]  # fmt: skip

    def is_emulated(self, client_order_id: ClientOrderId) -> bool:
        """True while the node holds the order for a venue that lacks its type."""
        return client_order_id in self.emulator

    def submit_list(self, strategy: Strategy, order_list: OrderList) -> None:
        """A contingent group managed by the node: every member journaled now, OTO children
        sent once their parent fills, OCO members cancelling each other."""
        orders = [self._create(spec) for spec in order_list.orders]
        now = {spec.client_order_id for spec in self.contingency.register(order_list)}
        self._send_together([o for o in orders if o.client_order_id in now])

    def _send_oco_pair(self, pair: tuple[Order, Order]) -> None:
        """Risk-check both legs, journal both SUBMITTED, then send them as one native list.

        A leg refused by risk refuses the pair (the venue takes both or neither). A crash after
        the journal and before the send leaves both SUBMITTED: reconciliation looks each up by
        client order id and, the list being atomic at the venue, adopts both or resolves both
        REJECTED; nothing is re-sent."""
        denials = [self._denial(order.spec) for order in pair]
        now = self.clock.timestamp_ns()
        first = next((d for d in denials if d is not None), None)
        if first is not None:
            for order, denial in zip(pair, denials, strict=True):
                reason, message = denial or (first[0], f"its OCO sibling was refused: {first[1]}")
                self._event(OrderDenied(**order.spec.ids(), reason=reason, message=message,
                                        ts_event=now, ts_init=now))  # fmt: skip
            return
        client = self.venues[pair[0].instrument_id.venue]
        account = getattr(client, "account_id", None) or AccountId(f"{client.venue}-1")
        self.contingency.mark_native((pair[0].client_order_id, pair[1].client_order_id))
        # Kept before the submits are journaled: a restart knows the venue links the pair.
        self.journal.save_state(CONTINGENCY_STATE, self.contingency.dump(), now)
        for order in pair:
            self._event(OrderSubmitted(**order.spec.ids(), account_id=account,
                                       ts_event=now, ts_init=now))  # fmt: skip
        self._spawn(self._send_oco(client, pair))

    async def _send_oco(self, client: VenueClient, pair: tuple[Order, Order]) -> None:
        order_list = venue_oco_list(pair)
        self._crash_point("B")
        try:
            assert isinstance(client, OcoVenueClient)  # native_oco() said so
            reports = await client.submit_oco(order_list)
        except RequestError as exc:
            for order in pair:
                self._emit_rejected(order, str(exc))
            return
        except TradeForgeError as exc:
            log.warning("order list outcome unknown; checking",
                        order_list_id=order_list.order_list_id.value, error=str(exc))  # fmt: skip
            for order in pair:
                self._spawn(self._inflight_check(client, order))
            return
        for report in reports:
            await self._apply_report(client, report)

    def _denial(self, spec: OrderSpec) -> tuple[DenyReason, str] | None:
        down = self.monitor.blocked(spec.instrument_id.venue)
        if down is not None:
            return DenyReason.VENUE_DISCONNECTED, (
                f"venue {down.venue} unreachable since {down.blocked_down_ns} ns "
                f"({down.last_error}); new orders refused until it is back (R15)"
            )
        instrument = self.instruments.get(spec.instrument_id)
        if instrument is None:
            return DenyReason.UNKNOWN_INSTRUMENT, f"{spec.instrument_id} is not traded here"
        if spec.instrument_id.venue not in self.venues:
            return DenyReason.UNKNOWN_INSTRUMENT, f"no venue client for {spec.instrument_id.venue}"
        # A tracking engine keeps its own reference prices (with their age, so a dead feed is
        # caught as stale); otherwise the last price is the reference.
        reference = None if self.risk.tracking else self.last_price(spec.instrument_id)
        return self.risk.check(spec, instrument, reference)

    async def _send(self, client: VenueClient, order: Order, spec: OrderSpec | None = None) -> None:
        spec = spec or order.spec
        if spec.contingency_type is not ContingencyType.NONE or spec.parent_order_id is not None:
            # The node links the group itself: the venue gets a plain order.
            spec = msgspec.structs.replace(
                spec, contingency_type=ContingencyType.NONE, order_list_id=None,
                linked_order_ids=(), parent_order_id=None,
            )  # fmt: skip
        self._crash_point("B")
        try:
            report = await client.submit(spec)
        except RequestError as exc:
            self._emit_rejected(order, str(exc))
            return
        except TradeForgeError as exc:
            log.warning("order outcome unknown; checking",
                        client_order_id=spec.client_order_id.value, error=str(exc))  # fmt: skip
            self._spawn(self._inflight_check(client, order))
            return
        await self._apply_report(client, report)

    async def _inflight_check(self, client: VenueClient, order: Order) -> None:
        """Ask the venue by client order id until it knows the order; never re-send it. Only
        the venue's own "unknown order", over the in-flight checks, resolves it REJECTED."""
        await asyncio.sleep(self._inflight[0])
        while order.status is OrderStatus.SUBMITTED:
            try:
                found = await self._status(client, order, in_flight=True)
            except TemporaryError as exc:
                cid = order.client_order_id.value
                log.warning("no answer; the order stays in flight", client_order_id=cid,
                            error=str(exc))  # fmt: skip
                continue
            if found is not None:
                await self._apply_report(client, found)
            elif order.status is OrderStatus.SUBMITTED:
                self._emit_rejected(order, "unknown at the venue after the in-flight checks")
            return

    def cancel(self, strategy: Strategy, client_order_id: ClientOrderId) -> None:
        """Ask the venue to cancel one order of the strategy."""
        order = self.oms.get(client_order_id)
        if order is None or order.strategy_id != strategy.id:
            return
        if client_order_id in self.emulator:
            self._cancel_emulated(order)
            return
        if not order.is_open:
            return
        denial = self.risk.check_cancel(client_order_id, strategy_id=strategy.id)
        if denial is not None:
            log.warning("cancel refused by risk", client_order_id=client_order_id.value,
                        reason=denial[0].value, message=denial[1])  # fmt: skip
            return
        self._spawn(self._cancel_now(order))

    def cancel_all(
        self, strategy: Strategy, instrument_id: InstrumentId, side: OrderSide | None
    ) -> None:
        """Cancel every open order of the strategy in the instrument (one side, if given)."""
        for order in self.oms.open_orders(strategy.id, instrument_id):
            if side is None or order.side is side:
                self._spawn(self._cancel_now(order))
        for order in self._emulated(strategy.id, instrument_id):
            if side is None or order.side is side:
                self._cancel_emulated(order)

    async def _cancel_now(self, order: Order) -> None:
        if order.client_order_id in self.emulator:
            self._cancel_emulated(order)
            return
        client = self.venues.get(order.instrument_id.venue)
        if client is None:
            return
        try:
            report = await client.cancel(order.instrument_id, order.client_order_id)
        except UnknownOrder:
            self._crash_point("E")
            with contextlib.suppress(TemporaryError):  # no answer: the order stays as it is
                found = await self._status(client, order)
                if found is not None:
                    await self._apply_report(client, found)
            return
        except TradeForgeError as exc:
            log.warning(
                "cancel failed", client_order_id=order.client_order_id.value, error=str(exc)
            )
            return
        await self._apply_report(client, report)

    def modify(
        self,
        strategy: Strategy,
        client_order_id: ClientOrderId,
        *,
        quantity: Quantity | None = None,
        price: Price | None = None,
        trigger_price: Price | None = None,
    ) -> asyncio.Task[ModifyRefusal | None] | None:
        """Change an open order where pre-trade risk lets it and the venue can.

        Returns the task that does it: its result is None once the venue applied the change
        (or its answer was lost and a lookup settled the order), else the ``ModifyRefusal``
        (also logged for the strategy; a venue's refusal is the ``OrderModifyRejected`` event).
        None when the order is not the strategy's or not open.
        """
        order = self.oms.get(client_order_id)
        if order is None or order.strategy_id != strategy.id or not order.is_open:
            return None
        reference = None if self.risk.tracking else self.last_price(order.instrument_id)
        denial = self.risk.check_modify(
            client_order_id, quantity=quantity, price=price, trigger_price=trigger_price,
            reference=reference,
        )  # fmt: skip
        if denial is not None:
            refusal = ModifyRefusal("risk", denial[0].value, denial[1])
            self._refused_modify(strategy, order, refusal)
            return self._spawn(_answer(refusal))
        client = self.venues[order.instrument_id.venue]

        async def go() -> ModifyRefusal | None:
            try:
                report = await client.modify(
                    order.instrument_id, client_order_id,
                    quantity=quantity, price=price, trigger_price=trigger_price,
                )  # fmt: skip
            except TemporaryError:  # outcome unknown: what the venue holds now says
                with contextlib.suppress(TemporaryError):
                    found = await self._status(client, order)
                    if found is not None:
                        await self._apply_report(client, found)
                return None
            except TradeForgeError as exc:
                refusal = ModifyRefusal("venue", "REJECTED", str(exc))
                self._refused_modify(strategy, order, refusal)
                if order.is_open:  # risk gives back what it counted for the change
                    now = self.clock.timestamp_ns()
                    self._event(
                        OrderModifyRejected(**order.spec.ids(), reason=RejectReason.OTHER,
                                            message=str(exc)[:500], ts_event=now, ts_init=now)
                    )  # fmt: skip
                return refusal
            await self._apply_report(client, report)
            return None

        return self._spawn(go())

    def _refused_modify(self, strategy: Strategy, order: Order, refusal: ModifyRefusal) -> None:
        cid = order.client_order_id.value
        log.warning("modify refused", client_order_id=cid, by=refusal.by, reason=refusal.reason,
                    error=refusal.message)  # fmt: skip
        self.logs.add(strategy.id, self.clock.timestamp_ns(), "warning",
                      f"modify of {cid} refused by {refusal.by}: {refusal.message}",
                      reason=refusal.reason)  # fmt: skip

    # ======================================================= venue -> events
    async def _order_stream(self, client: VenueClient, updates: AsyncIterator[OrderUpdate]) -> None:
        """Apply the venue's order updates. A stream that breaks is subscribed again (with
        back-off: 0.1 s doubling to 5 s), then the venue is reconciled: what the node missed
        while it was blind (fills, cancels) is read back."""
        failures = 0
        while True:
            try:
                async for update in updates:
                    failures = 0
                    if isinstance(update, FillReport):
                        self._apply_fill(update)
                    else:
                        await self._apply_report(self.venues[update.instrument_id.venue], update)
                return  # the client closed the subscription: the node is stopping
            except TradeForgeError as exc:
                self.monitor.stream_down(client.venue, str(exc))
                delay = min(5.0, 0.1 * 2**failures)
                failures += 1
                log.warning("order stream broke; subscribing again", venue=str(client.venue),
                            error=str(exc), delay_s=delay)  # fmt: skip
            await asyncio.sleep(delay)
            try:
                updates = client.order_updates()
            except TradeForgeError as exc:
                log.warning("order stream not subscribed", venue=str(client.venue),
                            error=str(exc))  # fmt: skip
                updates = _Broken(exc)
                continue
            self._spawn(self._after_resubscribe(client))

    async def _after_resubscribe(self, client: VenueClient) -> None:
        try:
            await self.reconcile(client.venue)
        except TradeForgeError as exc:
            log.warning("reconciliation after a stream gap failed", error=str(exc))
            return
        await self.monitor.stream_up(client.venue)

    async def _reconcile_venue(self, venue: Venue) -> None:
        await self.reconcile(venue)
        await self.refresh_balances()

    def _open_ids(self, venue: Venue) -> list[ClientOrderId]:
        return [o.client_order_id for o in self._open_orders() if o.instrument_id.venue == venue]

    async def _cancel_ids(self, ids: list[ClientOrderId]) -> int:
        """Cancel those of ``ids`` still open (R15: not through risk's cancel throttle)."""
        orders = [o for o in (self.oms.get(c) for c in ids) if o is not None and o.is_open]
        await asyncio.gather(*(self._cancel_now(o) for o in orders))
        return len(orders)

    def _publish_health(self, event: VenueConnectionChanged) -> None:
        self.bus.publish(join_topic("events", "venues", escape_token(event.venue)), event)

    async def _apply_report(self, client: VenueClient, report: OrderStatusReport) -> None:
        """Bring the OMS's order up to the venue's report (missing fills fetched and applied)."""
        order = self.oms.get(report.client_order_id)
        if order is None:
            return
        now = self.clock.timestamp_ns()
        if order.status is OrderStatus.SUBMITTED and report.status is not OrderStatus.REJECTED:
            self._event(
                OrderAccepted(**order.spec.ids(), account_id=report.account_id,
                              venue_order_id=report.venue_order_id, ts_event=now, ts_init=now)
            )  # fmt: skip
        if order.is_open and _changed(order, report):
            # A modify done at the venue (its answer may have been lost): the report says so.
            self._event(
                OrderUpdated(**order.spec.ids(), quantity=report.quantity, price=report.price,
                             trigger_price=report.trigger_price,
                             venue_order_id=report.venue_order_id, ts_event=now, ts_init=now)
            )  # fmt: skip
        if report.filled_qty > order.filled_qty:
            await self._fetch_fills(client, order)
        if not order.is_open:
            return
        if report.status is OrderStatus.REJECTED:
            self._emit_rejected(order, report.reason or "rejected by the venue")
        elif report.status is OrderStatus.CANCELED and order.filled_qty >= report.filled_qty:
            self._event(
                OrderCanceled(**order.spec.ids(), reason="venue", ts_event=now, ts_init=now)
            )
        elif report.status is OrderStatus.EXPIRED and order.filled_qty >= report.filled_qty:
            self._event(OrderExpired(**order.spec.ids(), ts_event=now, ts_init=now))

    async def _fetch_fills(self, client: VenueClient, order: Order, attempts: int = 3) -> None:
        """Apply the order's fills the node has not seen (each trade id once)."""
        for attempt in range(attempts):
            try:
                fills = await client.fills(order.instrument_id)
            except TradeForgeError as exc:
                if attempt + 1 == attempts:
                    log.warning("fills not fetched; will reconcile", error=str(exc),
                                client_order_id=order.client_order_id.value)  # fmt: skip
                    self._unsettled.add(order.client_order_id)
                    return
                await asyncio.sleep(0.2 * (attempt + 1))
                continue
            for fill in fills:
                if fill.client_order_id == order.client_order_id:
                    self._apply_fill(fill)
            self._unsettled.discard(order.client_order_id)
            return

    def _apply_fill(self, fill: FillReport) -> None:
        order = self.oms.get(fill.client_order_id)
        if order is None or order.has_trade(fill.trade_id):
            return  # not ours, or already applied (a fill seen twice)
        if order.status is OrderStatus.SUBMITTED:
            now = self.clock.timestamp_ns()
            self._event(
                OrderAccepted(**order.spec.ids(), account_id=fill.account_id,
                              venue_order_id=fill.venue_order_id, ts_event=now, ts_init=now)
            )  # fmt: skip
        self._event(
            OrderFilled(
                **order.spec.ids(), account_id=fill.account_id,
                venue_order_id=fill.venue_order_id, trade_id=fill.trade_id,
                order_side=order.side, order_type=order.order_type, last_qty=fill.last_qty,
                last_px=fill.last_px, commission=fill.commission,
                liquidity_side=fill.liquidity_side, ts_event=fill.ts_event,
                ts_init=self.clock.timestamp_ns(),
            )
        )  # fmt: skip
        self.report.fills_applied += 1
        if self.running:
            self._spawn(self.refresh_balances())

    def _emit_rejected(self, order: Order, message: str) -> None:
        now = self.clock.timestamp_ns()
        client = self.venues.get(order.instrument_id.venue)
        account = getattr(client, "account_id", None) or AccountId(f"{order.instrument_id.venue}-1")
        self._event(
            OrderRejected(**order.spec.ids(), account_id=account, reason=RejectReason.OTHER,
                          message=message, ts_event=now, ts_init=now)
        )  # fmt: skip

    def _event(self, event: OrderEvent) -> None:
        """Journal, apply and deliver one order event."""
        order = self.oms.get(event.client_order_id)
        if order is None:
            return
        try:
            order = self.oms.apply(event)
        except TradeForgeError as exc:
            log.warning("event not applied", kind=type(event).__name__,
                        client_order_id=event.client_order_id.value, error=str(exc))  # fmt: skip
            return
        if self._crash_at is not None:
            self._crash_point(_CRASH_BEFORE_JOURNAL.get(type(event), "-"))
        if not self.journal.append(event, order):
            return
        if isinstance(event, OrderRejected):
            self.rejections[event.client_order_id] = event.message
        self._crash_point("F")
        changed = None
        if isinstance(event, OrderFilled) and self.positions is not None:
            changed = self.positions.apply(event)[0].to_event(self.clock.timestamp_ns())
        if self.risk.tracking:
            self.risk.on_order_event(event)
        self.bus.publish(
            join_topic("events", "orders", escape_token(event.strategy_id.value)), event
        )
        if changed is not None:
            self.bus.publish(
                join_topic("events", "positions", escape_token(event.strategy_id.value)), changed
            )
        self._act(self.contingency.on_event(event))
        self.algos.on_order_event(event, order)
        strategy = self._by_id.get(event.strategy_id)
        if strategy is None or strategy.id in self._stopped or strategy.id not in self._started:
            return
        self._call(strategy, "on_order", strategy.on_order, event)
        if isinstance(event, OrderFilled):
            self._call(strategy, "on_fill", strategy.on_fill, event)

    def _act(self, actions: list[Action]) -> None:
        """Do what the contingency manager asked: held children released together go out
        together (as one native OCO list where the venue has it), cancels are sent."""
        release: list[Order] = []
        for action in actions:
            if action.spec is None:
                continue
            if action.replaces is not None:
                # The resized child is journaled before the held one is cancelled: a crash in
                # between leaves both, and the restart sends the resized one (contingency).
                resized = self._create(action.spec)
                held = self.oms.get(action.replaces)
                if held is not None and held.status is OrderStatus.INITIALIZED:
                    now = self.clock.timestamp_ns()
                    self._event(OrderCanceled(**held.spec.ids(), reason="parent partly filled",
                                              ts_event=now, ts_init=now))  # fmt: skip
                release.append(resized)
                continue
            order = self.oms.get(action.spec.client_order_id)
            if order is not None and order.status is OrderStatus.INITIALIZED:
                release.append(order)
        self._send_together(release)
        for action in actions:
            if action.cancel is None:
                continue
            target = self.oms.get(action.cancel)
            if target is not None and target.client_order_id in self.emulator:
                self._cancel_emulated(target, "OCO sibling filled or ended")
            elif (
                target is not None
                and target.is_open
                and target.status is not OrderStatus.INITIALIZED
            ):
                self._spawn(self._cancel_now(target))

    def _send_together(self, orders: list[Order]) -> None:
        """Send created orders; OCO pairs as one native list where their venue takes it."""
        native = [o for o in orders if native_oco(self.venues.get(o.instrument_id.venue))]
        pairs, _ = split_native_pairs(
            native, {o.client_order_id: self.contingency.group_of(o.client_order_id)
                     for o in native}
        )  # fmt: skip
        paired = {o.client_order_id for pair in pairs for o in pair}
        for pair in pairs:
            self._send_oco_pair(pair)
        for order in orders:
            if order.client_order_id not in paired:
                self._send_created(order)

    # ================================================= strategies at run time
    def add_strategy(self, strategy: Strategy, *, owner: str | None = None) -> None:
        """Add a strategy, stopped: ``start_strategy`` starts it (also a running node's).
        ``owner`` is who added it (the gateway's user id), None for the node's own.

        Raises InvalidValue when the id is taken or, while the node runs, an instrument is
        not traded here."""
        if strategy.id in self._by_id:
            raise InvalidValue(f"a strategy {strategy.id} already exists in this node")
        if self.running:
            self._check_instruments(strategy)
        self.strategies.append(strategy)
        self._by_id[strategy.id] = strategy
        self._contexts[strategy.id] = self._new_context(strategy)
        self._stopped.add(strategy.id)
        self._owners[strategy.id] = owner
        self._added.append(strategy.id)
        self.logs.add(strategy.id, self.clock.timestamp_ns(), "info", "added",
                      strategy=strategy.name)  # fmt: skip
        self._save_instances()

    def replace_strategy(self, strategy: Strategy) -> None:
        """Put ``strategy`` (new parameters) in the place of the stopped strategy with its id."""
        old = self.strategy(strategy.id)
        if self.is_running(old.id):
            raise InvalidValue(f"strategy {strategy.id} is running: stop it first")
        if self.running:
            self._check_instruments(strategy)
        self.strategies[self.strategies.index(old)] = strategy
        self._by_id[strategy.id] = strategy
        self._contexts[strategy.id] = self._new_context(strategy)
        self.logs.add(strategy.id, self.clock.timestamp_ns(), "info", "configured",
                      params=repr(strategy.params))  # fmt: skip
        self._save_instances()

    def start_strategy(self, strategy_id: StrategyId) -> None:
        """Start a stopped strategy of the running node (a strategy that ran before starts
        afresh: a new instance with the same id and parameters, and new order ids)."""
        strategy = self.strategy(strategy_id)
        if not self.running:
            raise InvalidValue("the node is not running")
        if self.is_running(strategy_id):
            return
        self._check_instruments(strategy)
        if strategy_id in self._started:
            self._detach(strategy_id)  # a strategy that failed left its timers behind
            try:
                fresh = type(strategy)(strategy.params, strategy_id=strategy_id.value,
                                       instruments=strategy.configured_instruments)  # fmt: skip
            except Exception as exc:  # user code: its constructor may raise anything
                raise InvalidValue(f"strategy {strategy_id} could not be rebuilt: {exc}") from None
            self.strategies[self.strategies.index(strategy)] = fresh
            self._by_id[strategy_id] = strategy = fresh
            self._contexts[strategy_id] = self._new_context(strategy)
        for iid in strategy.configured_instruments:
            self._add_feed(iid)
        strategy.bind(self._contexts[strategy_id], sorted(self.feeds, key=str))
        self._stopped.discard(strategy_id)
        self._started.add(strategy_id)
        now = self.clock.timestamp_ns()
        self._last_start[strategy_id] = now
        self.logs.add(strategy_id, now, "info", "started")
        self._call(strategy, "on_start", strategy.on_start)
        self._save_instances()

    def stop_strategy(self, strategy_id: StrategyId) -> int:
        """Stop a strategy: ``on_stop``, no more hooks or timers, its open orders cancelled;
        how many orders it asked the venue to cancel."""
        strategy = self.strategy(strategy_id)
        if self.is_running(strategy_id):
            self._call(strategy, "on_stop", strategy.on_stop)
        self._stopped.add(strategy_id)
        self._detach(strategy_id)
        self.algos.cancel_strategy(strategy_id, "strategy stopped")
        orders = [*self.oms.open_orders(strategy_id), *self._emulated(strategy_id)]
        for order in orders:
            self._spawn(self._cancel_now(order))
        self.logs.add(strategy_id, self.clock.timestamp_ns(), "info", "stopped",
                      cancelled=len(orders))  # fmt: skip
        self._save_instances()
        return len(orders)

    def _detach(self, strategy_id: StrategyId) -> None:
        """Drop what a run of the strategy set up: its timers and its indicators' feeding."""
        for name in self._strategy_timers.pop(strategy_id, set()):
            with contextlib.suppress(TradeForgeError):
                self.clock.cancel_timer(name)
        context = self._contexts[strategy_id]
        for iid, indicator in context.indicators:
            feed = self.feeds.get(iid)
            if feed is not None:
                feed.remove_indicator(indicator)
        context.indicators.clear()

    def remove_strategy(self, strategy_id: StrategyId) -> None:
        """Forget a stopped strategy (its orders and fills stay in the OMS and journal)."""
        strategy = self.strategy(strategy_id)
        if self.is_running(strategy_id):
            raise InvalidValue(f"strategy {strategy_id} is running: stop it first")
        self.logs.forget(strategy_id, self.clock.timestamp_ns())  # while its owner is known
        self._detach(strategy_id)  # a strategy that failed left its timers behind
        self.strategies.remove(strategy)
        del self._by_id[strategy_id]
        del self._contexts[strategy_id]
        self._owners.pop(strategy_id, None)
        self._last_start.pop(strategy_id, None)
        self._started.discard(strategy_id)
        if strategy_id in self._added:
            self._added.remove(strategy_id)
            self._save_instances()

    def _save_instances(self) -> None:
        """Keep the strategies added at run time (and which run) for the next start."""
        if self._restoring:
            return
        saved = [
            saved_instances.dump(self._by_id[sid], owner=self._owners.get(sid),
                                 running=sid not in self._stopped)
            for sid in self._added
        ]  # fmt: skip
        now = self.clock.timestamp_ns()
        self.journal.save_state(saved_instances.STATE_KEY, {"instances": saved}, now)

    def _restore_instances(self) -> list[StrategyId]:
        """Add the strategies saved by the last run (stopped); those that ran, to start."""
        restart = []
        body = self.journal.load_state(saved_instances.STATE_KEY)
        self._restoring = True
        try:
            for strategy, saved in saved_instances.load(body):
                try:
                    self._check_instruments(strategy)
                    self.add_strategy(strategy, owner=saved.owner)
                except InvalidValue as exc:  # its instrument is gone, or its id is taken now
                    log.warning("saved strategy not restored", strategy=saved.id, error=str(exc))
                    continue
                if saved.running:
                    restart.append(strategy.id)
        finally:
            self._restoring = False
        return restart

    def is_running(self, strategy_id: StrategyId) -> bool:
        """Whether the strategy gets data and events now."""
        return self.running and strategy_id in self._by_id and strategy_id not in self._stopped

    def owner(self, strategy_id: StrategyId) -> str | None:
        """Who added the strategy (None: the node's own)."""
        return self._owners.get(strategy_id)

    def errors_since_start(self, strategy_id: StrategyId) -> list[StrategyError]:
        """The strategy's errors since it last started."""
        since = self._last_start.get(strategy_id, 0)
        return [
            e for e in self.errors
            if e.strategy_id == strategy_id.value and (e.ts_ns is None or e.ts_ns >= since)
        ]  # fmt: skip

    def _new_context(self, strategy: Strategy) -> LiveContext:
        prefix, session = self._prefix
        return LiveContext(self, strategy, f"{prefix}{next(self._context_numbers)}{session}")

    def _check_instruments(self, strategy: Strategy) -> None:
        for iid in strategy.configured_instruments:
            if iid not in self.instruments:
                raise InvalidValue(f"instrument {iid} is not traded by this node")

    def _add_feed(self, iid: InstrumentId) -> None:
        """Build bars of ``iid`` (and, once running, subscribe to its trades)."""
        if iid in self.feeds:
            return
        self.feeds[iid] = LiveBarFeed(iid, self.timeframe)
        self._aggregators[iid] = TradeBarAggregator(self.instruments[iid], self.timeframe)
        if self.running:
            trades = self.data[iid.venue].trades(iid)
            self._streams.add(self._spawn(self._trade_stream(trades)))
            self._watch_book(iid)

    # ================================================================ queries
    def strategy(self, strategy_id: StrategyId) -> Strategy:
        """One of the node's strategies (``UnknownOrder``-free: raises ``InvalidValue``)."""
        strategy = self._by_id.get(strategy_id)
        if strategy is None:
            raise InvalidValue(f"no strategy {strategy_id} in this node")
        return strategy

    def position(self, strategy_id: StrategyId, instrument_id: InstrumentId) -> Position | None:
        """The strategy's position in the instrument."""
        if self.positions is None:
            return None
        return self.positions.get(self.positions.position_id(instrument_id, strategy_id))

    def equity_now(self) -> Money:
        """Realised PnL minus fees plus unrealised PnL of every position, in the base currency."""
        total = _ZERO
        for position in self.positions or []:
            total += position.realized_pnl.amount
            mark = self.last_price(position.instrument.id)
            if mark is not None and not position.is_flat:
                total += position.unrealized_pnl(mark).amount
        return Money.rounded(total, self.base_currency)

    def set_timer(
        self, strategy: Strategy, name: str, interval_ns: int,
        callback: Callable[[TimeEvent], None] | None,
    ) -> None:  # fmt: skip
        """A timer of the strategy on the wall clock."""
        target = callback or strategy.on_timer

        def fire(event: TimeEvent) -> None:
            if strategy.id not in self._stopped:
                own = TimeEvent(name=name, ts_event=event.ts_event, ts_init=event.ts_init)
                self._call(strategy, "on_timer", target, own)

        self.clock.set_timer(f"{strategy.id}:{name}", interval_ns, fire)
        self._strategy_timers.setdefault(strategy.id, set()).add(f"{strategy.id}:{name}")

    def _crash_point(self, point: str) -> None:
        # The crash matrix's hook (see _CRASH_BEFORE_JOURNAL); one test when TF_CRASH_AT is unset.
        if self._crash_at is not None and self._crash_at[0] == point:
            self._crash_at[1] -= 1
            if self._crash_at[1] <= 0:
                os._exit(137)

    # ============================================================= user code
    def _call(self, strategy: Strategy, hook: str, fn: Callable[..., None], *args: object) -> None:
        try:
            fn(*args)
        except Exception as exc:
            error = StrategyError(str(strategy.id), hook, self.clock.timestamp_ns(), exc)
            self.errors.append(error)
            self._stopped.add(strategy.id)  # before the line is published: it failed
            self.logs.add(strategy.id, self.clock.timestamp_ns(), "error",
                          f"{hook} raised {exc!r}; strategy stopped", hook=hook)  # fmt: skip
            log.error("strategy failed; stopped", strategy=str(strategy.id), hook=hook,
                      error=repr(exc))  # fmt: skip
            self.algos.cancel_strategy(strategy.id, f"strategy failed in {hook}")
            for order in [*self.oms.open_orders(strategy.id), *self._emulated(strategy.id)]:
                self._spawn(self._cancel_now(order))
            if strategy.id in self._added:
                self._save_instances()  # a failed strategy is not started again by a restart


async def _answer(refusal: ModifyRefusal) -> ModifyRefusal:
    return refusal


class _Broken(AsyncIterator[OrderUpdate]):
    """A subscription that failed to open: fails when read, so the stream loop tries again."""

    def __init__(self, error: TradeForgeError) -> None:
        self._error = error

    async def __anext__(self) -> OrderUpdate:
        raise self._error

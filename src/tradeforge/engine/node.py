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

The node owns its parts, each in its module: ``strategy_lifecycle`` (strategies, their hooks and
timers, adding and removing them at run time), ``market_data``, ``order_submission``,
``contingent_orders``, ``emulated_orders``, ``order_changes`` (cancel, modify),
``order_events`` (venue reports to journaled events) and ``reconciliation`` (the journal and
the venues at start, and after).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from tradeforge.bus import Clock, InMemoryBus, TimeEvent
from tradeforge.bus.topics import escape_token, join_topic
from tradeforge.domain import (
    AccountBalance,
    ClientOrderId,
    Currency,
    Instrument,
    InstrumentId,
    Money,
    Order,
    OrderList,
    OrderSide,
    OrderSpec,
    Position,
    PositionBook,
    PositionMode,
    Price,
    Quantity,
    StrategyError,
    StrategyId,
    Timeframe,
    TradeForgeError,
    Venue,
)
from tradeforge.engine.algo_runner import AlgoRunner
from tradeforge.engine.bar_recorder import BarRecorder
from tradeforge.engine.books import OrderBooks
from tradeforge.engine.contingent_orders import ContingentOrders
from tradeforge.engine.crash_points import CrashPoints
from tradeforge.engine.emulated_orders import EmulatedOrders
from tradeforge.engine.emulation import OrderEmulator
from tradeforge.engine.feeds import LiveBarFeed
from tradeforge.engine.market_data import MarketData
from tradeforge.engine.order_changes import ModifyRefusal, OrderChanges
from tradeforge.engine.order_events import OrderEvents
from tradeforge.engine.order_submission import OrderSubmitter
from tradeforge.engine.portfolio import PortfolioRecorder
from tradeforge.engine.reconciliation import NodeReport, Reconciler
from tradeforge.engine.strategy_lifecycle import StrategyLifecycle
from tradeforge.engine.strategy_log import StrategyLog
from tradeforge.engine.venue_health import DisconnectPolicy, VenueConnectionChanged, VenueMonitor
from tradeforge.execution import VenueClient
from tradeforge.observability import get_logger
from tradeforge.strategy import Strategy
from tradeforge.trading import GLOBAL, OrderManager, RiskEngine, Scope
from tradeforge.trading.contingency import ContingencyManager
from tradeforge.trading.journal import OrderJournal
from tradeforge.trading.valuation import ValuationStore

__all__ = ["ModifyRefusal", "NodeReport", "TradingNode"]

log = get_logger("tradeforge.node")
_ZERO = Decimal(0)


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
        self.oms = OrderManager()
        # What happens in the node, for the gateway's streams and other listeners:
        # events.orders.<strategy>, data.trades.<instrument>, data.bars.<instrument>.<timeframe>,
        # events.positions.<strategy> (PositionChanged after each fill), events.strategies.<id>
        # (StrategyLogged: each strategy log line), events.portfolio (each valuation recorded)
        self.bus = bus or InMemoryBus()
        self.instruments: dict[InstrumentId, Instrument] = {}
        self.positions: PositionBook | None = None
        self.feeds: dict[InstrumentId, LiveBarFeed] = {}
        self.logs = StrategyLog(log_lines, bus=self.bus)
        self.portfolio = PortfolioRecorder(
            self, every_s=value_every_s, keep=value_history, store=valuations
        )
        self.balances: dict[str, AccountBalance] = {}
        self.errors: list[StrategyError] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._streams: set[asyncio.Task[Any]] = set()
        self._timers = itertools.count(1)
        self.report = NodeReport()
        self.rejections: dict[ClientOrderId, str] = {}  # why the venue refused an order
        self.contingency = ContingencyManager(self.instruments.get)
        # Orders of a type their venue lacks, held until their trigger (engine.emulation).
        self.emulator = OrderEmulator(self.instruments.get)
        self.running = False
        self._crash = CrashPoints(os.environ.get("TF_CRASH_AT"))  # test hook, off when unset
        # Set to append the bars built from trades to the history catalog ([data] record_bars).
        self.bar_recorder: BarRecorder | None = None
        # Set to keep the latest book of each fed instrument from its venue's book feed.
        self.books: OrderBooks | None = None
        # The node's parts (module docstring); each reaches the others through the node.
        self._lifecycle = StrategyLifecycle(self, id_prefix)
        self._market = MarketData(self)
        self._submitter = OrderSubmitter(self)
        self._groups = ContingentOrders(self)
        self._emulation = EmulatedOrders(self)
        self._changes = OrderChanges(self)
        self._events = OrderEvents(self)
        self._reconciler = Reconciler(self, (inflight_timeout, inflight_interval, inflight_retries))
        # Parent orders (TWAP, VWAP, POV, iceberg, SOR) worked on this clock (engine.algo_runner).
        self.algos = AlgoRunner(self)
        # R15: per-venue heartbeats; past the grace period new orders are refused and open
        # ones cancelled (engine.venue_health). Off unless ``disconnect.grace_s`` is set.
        self.monitor = VenueMonitor(
            disconnect or DisconnectPolicy(), self.venues, clock=clock,
            open_orders=self._changes.open_ids, cancel=self._changes.cancel_ids,
            reconcile=self._reconciler.reconcile_venue, publish=self._publish_health,
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
        restored = self._reconciler.recover()
        await self.reconcile()
        self._groups.act(restored)  # children released by the journal (recover)
        self._reconciler.restore_risk()
        self.algos.recover()  # parents the last run left running: stopped, children settled
        restart = self._lifecycle.restore_instances()
        wanted = {iid for s in self.strategies for iid in s.configured_instruments}
        for iid in sorted(wanted, key=str):
            if iid not in self.instruments:
                raise TradeForgeError(f"strategy instrument {iid} is not traded at any venue")
            self._market.add_feed(iid)
        self._lifecycle.start_all(wanted)
        self.running = True
        self.portfolio.start()
        self._lifecycle.restart(restart)
        # Subscribe now (not when the tasks first run), so nothing pushed after start() returns
        # is missed by a venue that publishes in process.
        for iid in self.feeds:
            self._market.subscribe(iid)
        for client in self.venues.values():
            self._streams.add(self._spawn(self._events.stream(client, client.order_updates())))
        self.monitor.start()
        self.clock.set_timer("node:bars", self.timeframe.nanos // 10, self._market.flush_bars)
        if self.reconcile_every_s > 0:
            self.clock.set_timer(
                "node:reconcile", int(self.reconcile_every_s * 1e9), self._reconciler.on_timer
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
        self._lifecycle.stop_all()
        requests = [t for t in self._tasks if t not in self._streams]
        if requests:
            await asyncio.wait(requests, timeout=grace)
        if self.cancel_on_stop:
            await asyncio.gather(*(self._changes.cancel_now(o) for o in self._open_orders()))
            for order in self._emulation.held():  # no one would watch their triggers any more
                self._emulation.cancel(order, "node stopped")
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

    # ======================================================= venues and risk
    async def reconcile(self, venue: Venue | None = None) -> NodeReport:
        """Compare the journal's open and in-flight orders with each venue (or ``venue``) and
        settle them."""
        return await self._reconciler.reconcile(venue)

    async def refresh_balances(self) -> None:
        """Read every venue's balances into the snapshot strategies see (and risk checks)."""
        for client in self.venues.values():
            with contextlib.suppress(TradeForgeError):
                account = getattr(client, "account_id", None)
                for balance in await client.balances():
                    self.balances[balance.total.currency.code] = balance
                    if self.risk.tracking:
                        self.risk.set_balance(account, balance.total)

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
        await asyncio.gather(*(self._changes.cancel_now(o) for o in orders))
        return len(orders)

    def _publish_health(self, event: VenueConnectionChanged) -> None:
        self.bus.publish(join_topic("events", "venues", escape_token(event.venue)), event)

    # ============================================================ market data
    def last_price(self, instrument_id: InstrumentId) -> Price | None:
        """The last traded price seen."""
        return self._market.last_price(instrument_id)

    @property
    def last_prices(self) -> Mapping[InstrumentId, Price]:
        """The last traded price of every instrument seen (read-only)."""
        return self._market.last_prices

    # ================================================================ orders
    def submit(self, strategy: Strategy, spec: OrderSpec) -> None:
        """Risk-check, journal and send one order (the venue's answer comes as events)."""
        self._submitter.submit(spec)

    def submit_list(self, strategy: Strategy, order_list: OrderList) -> None:
        """A contingent group managed by the node: every member journaled now, OTO children
        sent once their parent fills, OCO members cancelling each other."""
        self._groups.submit_list(order_list)

    def is_emulated(self, client_order_id: ClientOrderId) -> bool:
        """True while the node holds the order for a venue that lacks its type."""
        return client_order_id in self.emulator

    def cancel(self, strategy: Strategy, client_order_id: ClientOrderId) -> None:
        """Ask the venue to cancel one order of the strategy."""
        self._changes.cancel(strategy, client_order_id)

    def cancel_all(
        self, strategy: Strategy, instrument_id: InstrumentId, side: OrderSide | None
    ) -> None:
        """Cancel every open order of the strategy in the instrument (one side, if given)."""
        self._changes.cancel_all(strategy, instrument_id, side)

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
        return self._changes.modify(
            strategy, client_order_id, quantity=quantity, price=price, trigger_price=trigger_price
        )

    async def _cancel_now(self, order: Order) -> None:
        await self._changes.cancel_now(order)

    # ================================================= strategies at run time
    def add_strategy(self, strategy: Strategy, *, owner: str | None = None) -> None:
        """Add a strategy, stopped: ``start_strategy`` starts it (also a running node's).
        ``owner`` is who added it (the gateway's user id), None for the node's own.

        Raises InvalidValue when the id is taken or, while the node runs, an instrument is
        not traded here."""
        self._lifecycle.add(strategy, owner=owner)

    def replace_strategy(self, strategy: Strategy) -> None:
        """Put ``strategy`` (new parameters) in the place of the stopped strategy with its id."""
        self._lifecycle.replace(strategy)

    def start_strategy(self, strategy_id: StrategyId) -> None:
        """Start a stopped strategy of the running node (a strategy that ran before starts
        afresh: a new instance with the same id and parameters, and new order ids)."""
        self._lifecycle.start(strategy_id)

    def stop_strategy(self, strategy_id: StrategyId) -> int:
        """Stop a strategy: ``on_stop``, no more hooks or timers, its open orders cancelled;
        how many orders it asked the venue to cancel."""
        return self._lifecycle.stop(strategy_id)

    def remove_strategy(self, strategy_id: StrategyId) -> None:
        """Forget a stopped strategy (its orders and fills stay in the OMS and journal)."""
        self._lifecycle.remove(strategy_id)

    def is_running(self, strategy_id: StrategyId) -> bool:
        """Whether the strategy gets data and events now."""
        return self._lifecycle.is_running(strategy_id)

    def owner(self, strategy_id: StrategyId) -> str | None:
        """Who added the strategy (None: the node's own)."""
        return self._lifecycle.owner(strategy_id)

    def errors_since_start(self, strategy_id: StrategyId) -> list[StrategyError]:
        """The strategy's errors since it last started."""
        return self._lifecycle.errors_since_start(strategy_id)

    def set_timer(
        self, strategy: Strategy, name: str, interval_ns: int,
        callback: Callable[[TimeEvent], None] | None,
    ) -> None:  # fmt: skip
        """A timer of the strategy on the wall clock."""
        self._lifecycle.set_timer(strategy, name, interval_ns, callback)

    @property
    def _by_id(self) -> dict[StrategyId, Strategy]:
        return self._lifecycle.by_id

    def _call(self, strategy: Strategy, hook: str, fn: Callable[..., None], *args: object) -> None:
        self._lifecycle.call(strategy, hook, fn, *args)

    # ================================================================ queries
    def strategy(self, strategy_id: StrategyId) -> Strategy:
        """One of the node's strategies (``UnknownOrder``-free: raises ``InvalidValue``)."""
        return self._lifecycle.get(strategy_id)

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

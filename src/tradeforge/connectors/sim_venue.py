"""``SimVenueClient``: the ``sim`` venue, the ``VenueClient`` port over an in-process
``SimulatedVenue`` (the backtester's venue: funds checks, locks, matching engines, fees). Paper
trading and tests use it; there is no server and no network.

**Market data.** The caller pushes domain market data in with ``on_trade``, ``on_quote``,
``on_book`` and ``on_bar``. Each item goes to the subscribers first and then to the venue's
matching engines, so a fill it causes comes after it. ``run_feed`` drives a ``MarketFeed`` on the
clock and pushes what it yields. Feeds given to the constructor run from ``connect`` to ``close``.
Book data also yields quotes: a ``QuoteTick`` whenever the best bid or ask changes.

**Orders.** Each call sends the domain command to the venue and waits for the venue's answer,
which the venue's ``emit`` callback resolves: at once with no ``LatencyModel``, or after the
model's delay on the clock. ``submit`` returns the order's report once the venue has taken it
(with whatever the venue did at once: fills, an IOC remainder canceled). If no answer comes within
``timeout_ns`` (on the same clock), the call looks the order up by its client order id, as the
port requires, and raises ``UnknownOutcome`` when it is not there. The venue may still act later:
``order_status`` and ``order_updates`` then show it. A refusal becomes the domain error sorted by
what the caller should do, with the venue's reason code and message in its text, and leaves no
order and no lock behind. Client order ids are unique per client: an id in use (open, closed or
in flight) is refused with ``InvalidOrder``.

**Queries.** The client keeps the venue's view of every order it accepted: a domain ``Order``
fed the venue's events, so statuses follow the lifecycle table. As on a real venue, closed orders
stay queryable by client order id. The most recent ``closed_orders_kept`` closed orders are kept;
older ones are forgotten, and ``order_status`` then answers None. Fills are all kept, with the
venue's unique trade ids. Balances are read from the venue's account, so they are exact.

**Subscriptions** are bounded queues, so a slow consumer never makes memory grow without bound:

- trades, quotes and bars: when a queue is full, the oldest item is dropped and counted in
  ``SimSubscription.dropped``;
- book: a snapshot comes first, then deltas. When the queue is full, its content is replaced by
  one fresh snapshot (a resync, which the port allows) and the items replaced are counted;
- own order updates are never dropped. A consumer that falls ``order_update_limit`` updates
  behind is cut off, as a venue disconnects a slow user stream: it reads what was queued, then
  gets ``TemporaryError``, and should reconcile (``open_orders``, ``fills``) and subscribe again.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Generic, Literal, Self, TypeVar

import msgspec

from tradeforge.backtest import FillModel, LatencyModel, SimulatedVenue, VenueAccount
from tradeforge.bus import Clock, TimeEvent, UnknownTimer
from tradeforge.connectors.errors import UnknownOutcome
from tradeforge.domain import (
    AccountBalance,
    AccountId,
    AccountType,
    Bar,
    BookAction,
    BookLevel,
    BookSide,
    CancelOrder,
    ClientOrderId,
    ContingencyType,
    FillReport,
    Instrument,
    InstrumentId,
    InsufficientFunds,
    InvalidOrder,
    InvalidValue,
    Message,
    ModifyOrder,
    Money,
    Order,
    OrderAccepted,
    OrderBookSnapshot,
    OrderCanceled,
    OrderCancelRejected,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderList,
    OrderModifyRejected,
    OrderRejected,
    OrderSpec,
    OrderStatusReport,
    OrderSubmitted,
    OrderTriggered,
    OrderUpdated,
    Price,
    Quantity,
    QuoteTick,
    RateLimited,
    RejectReason,
    StrategyId,
    SubmitOrder,
    SubmitOrderList,
    TemporaryError,
    Timeframe,
    TradeForgeError,
    TradeId,
    TradeTick,
    UnknownInstrument,
    UnknownOrder,
    Venue,
)
from tradeforge.execution import BookUpdate, OrderUpdate, VenueCapabilities

if TYPE_CHECKING:  # importing the server package would load its web stack
    from tradeforge.connectors.sim_exchange.market import MarketFeed

__all__ = ["SimSubscription", "SimVenueClient"]

_T = TypeVar("_T")
_K = TypeVar("_K")
Overflow = Literal["drop_oldest", "resync", "disconnect"]

_SECOND = 1_000_000_000
# A cancel or modify of an order we never saw is sent for this strategy (the venue answers it).
_ANY_STRATEGY = StrategyId("sim-venue-client")
# Refusals the caller cannot fix by changing the order: which error says what to do instead.
_REFUSALS: dict[RejectReason, type[TradeForgeError]] = {
    RejectReason.INSUFFICIENT_BALANCE: InsufficientFunds,
    RejectReason.UNKNOWN_INSTRUMENT: UnknownInstrument,
    RejectReason.UNKNOWN_ORDER: UnknownOrder,
    RejectReason.RATE_LIMITED: RateLimited,
    RejectReason.NO_LIQUIDITY: TemporaryError,  # no price yet: the same order may pass later
    RejectReason.MARKET_CLOSED: TemporaryError,
}


class SimSubscription(AsyncIterator[_T], Generic[_T]):
    """One subscription: a bounded queue read with ``async for`` (module docstring: policy).

    ``aclose()``, or leaving ``async with``, ends it. ``dropped`` counts what it discarded.
    """

    def __init__(
        self,
        *,
        limit: int,
        overflow: Overflow,
        detach: Callable[[SimSubscription[_T]], None],
        resync: Callable[[], _T] | None = None,
    ) -> None:
        self._items: deque[_T] = deque()
        self._limit = limit
        self._overflow = overflow
        self._detach = detach
        self._resync = resync
        self._waiter: asyncio.Future[None] | None = None
        self._ended = False
        self._error: TradeForgeError | None = None
        self.dropped = 0

    @property
    def queued(self) -> int:
        """Items waiting to be read."""
        return len(self._items)

    def push(self, item: _T) -> None:
        """Queue ``item`` (the client calls this), applying the overflow policy when full."""
        if self._ended:
            return
        items = self._items
        if len(items) >= self._limit:
            if self._overflow == "drop_oldest":
                items.popleft()
                self.dropped += 1
            elif self._overflow == "resync" and self._resync is not None:
                # The snapshot already holds ``item``: it replaces everything queued.
                self.dropped += len(items) + 1
                items.clear()
                item = self._resync()
            else:
                self._error = TemporaryError(
                    f"subscription cut off: {len(items)} updates unread; reconcile with "
                    "open_orders and fills, then subscribe again"
                )
                self.end()
                return
        items.append(item)
        self._wake()

    def end(self) -> None:
        """Stop taking items; the reader gets what is queued, then the end."""
        if not self._ended:
            self._ended = True
            self._detach(self)
            self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> _T:
        while True:
            if self._items:
                return self._items.popleft()
            if self._error is not None:
                error, self._error = self._error, None
                raise error
            if self._ended:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    async def aclose(self) -> None:
        """End the subscription and discard what is queued."""
        self._items.clear()
        self.end()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class _PublicBook:
    """One instrument's level-2 book as pushed: snapshots for subscribers, and its top."""

    def __init__(self, instrument_id: InstrumentId) -> None:
        self.instrument_id = instrument_id
        self.bids: dict[Decimal, BookLevel] = {}
        self.asks: dict[Decimal, BookLevel] = {}
        self.sequence = 0
        self.ts = 0

    def apply(self, update: BookUpdate) -> None:
        if isinstance(update, OrderBookSnapshot):
            self.bids = {lvl.price.as_decimal(): lvl for lvl in update.bids}
            self.asks = {lvl.price.as_decimal(): lvl for lvl in update.asks}
        elif update.action is BookAction.CLEAR:
            self.bids, self.asks = {}, {}
        else:
            side = self.bids if update.side is BookSide.BID else self.asks
            key = update.price.as_decimal()
            if update.action is BookAction.DELETE or update.size.is_zero():
                side.pop(key, None)
            else:
                side[key] = BookLevel(update.price, update.size)
        self.sequence, self.ts = update.sequence, update.ts_event

    def top(self) -> tuple[BookLevel, BookLevel] | None:
        if not self.bids or not self.asks:
            return None
        return self.bids[max(self.bids)], self.asks[min(self.asks)]

    def snapshot(self) -> OrderBookSnapshot:
        return OrderBookSnapshot(
            instrument_id=self.instrument_id,
            bids=tuple(self.bids[p] for p in sorted(self.bids, reverse=True)),
            asks=tuple(self.asks[p] for p in sorted(self.asks)),
            sequence=self.sequence,
            ts_event=self.ts,
            ts_init=self.ts,
        )


class _Tracked:
    """The venue's view of one accepted order, and why it ended (if it did)."""

    __slots__ = ("order", "reason")

    def __init__(self, order: Order) -> None:
        self.order = order
        self.reason = ""


class SimVenueClient:
    """The ``sim`` venue: one account at an in-process ``SimulatedVenue`` (module docstring).

    Args:
        instruments: what is traded, all at one venue (which names this client's venue).
        balances: the account's starting balances.
        clock: the venue's time: a ``LiveClock`` for paper trading, a ``ReplayClock`` in tests
            and backtests (then someone must advance it for latency and timeouts to pass).
        account_id: defaults to ``<VENUE>-sim``.
        account_type, leverage: cash (spot) or margin account, as in ``VenueAccount``.
        fill_model, latency: the venue's models; ``latency`` delays every command on the clock.
        feeds: market feeds that ``connect`` starts with ``run_feed`` every ``feed_interval_ns``.
        timeout_ns: how long a command waits for the venue's answer, on the clock.
        market_data_limit: queue size of each trades, quotes, book and bars subscription.
        order_update_limit: how far an ``order_updates`` reader may fall behind before it is
            cut off.
        closed_orders_kept: how many closed orders stay queryable (the most recent ones).
    """

    def __init__(
        self,
        *,
        instruments: Iterable[Instrument],
        balances: Iterable[Money],
        clock: Clock,
        account_id: AccountId | None = None,
        account_type: AccountType = AccountType.CASH,
        leverage: Decimal = Decimal(1),
        fill_model: FillModel | None = None,
        latency: LatencyModel | None = None,
        feeds: Iterable[MarketFeed] = (),
        feed_interval_ns: int = _SECOND // 10,
        timeout_ns: int = 10 * _SECOND,
        market_data_limit: int = 10_000,
        order_update_limit: int = 100_000,
        closed_orders_kept: int = 100_000,
    ) -> None:
        listed = list(instruments)
        if not listed:
            raise InvalidValue("sim venue: instruments must not be empty")
        for name, value in (
            ("feed_interval_ns", feed_interval_ns),
            ("timeout_ns", timeout_ns),
            ("market_data_limit", market_data_limit),
            ("order_update_limit", order_update_limit),
            ("closed_orders_kept", closed_orders_kept),
        ):
            if value <= 0:
                raise InvalidValue(f"sim venue: {name} must be positive, got {value}")
        self.venue: Venue = listed[0].id.venue
        self.capabilities = VenueCapabilities(
            modify_order=True, reduce_only=True, trailing_stop_orders=True,
            if_touched_orders=True, oco_orders=True,
        )  # fmt: skip
        self.account_id = account_id or AccountId(f"{self.venue.value}-sim")
        self._clock = clock
        self._sim = SimulatedVenue(
            venue=self.venue,
            account=VenueAccount(self.account_id, account_type, balances, leverage=leverage),
            instruments=listed,
            clock=clock,
            emit=self._on_event,
            fill_model=fill_model,
            latency=latency,
            report_balances=False,  # balances are read from the account itself
        )
        self._timeout_ns = timeout_ns
        self._market_limit = market_data_limit
        self._order_limit = order_update_limit
        self._closed_kept = closed_orders_kept
        self._feeds = list(feeds)
        self._feed_interval_ns = feed_interval_ns
        for feed in self._feeds:
            self._instrument(feed.instrument.id)
        # Orders: accepted (open and recently closed), in flight, and who waits for an answer.
        self._orders: dict[ClientOrderId, _Tracked] = {}
        self._open: dict[ClientOrderId, None] = {}
        self._closed: deque[ClientOrderId] = deque()
        self._in_flight: dict[ClientOrderId, OrderSpec] = {}
        self._submits: dict[ClientOrderId, asyncio.Future[bool]] = {}
        self._cancels: dict[ClientOrderId, list[asyncio.Future[bool]]] = {}
        self._modifies: dict[ClientOrderId, list[asyncio.Future[bool]]] = {}
        self._fills: dict[InstrumentId, list[FillReport]] = {iid: [] for iid in self._sim.engines}
        # Market data and subscribers (dicts as ordered sets).
        self._books = {iid: _PublicBook(iid) for iid in self._sim.engines}
        self._trade_subs: dict[InstrumentId, dict[SimSubscription[TradeTick], None]] = {}
        self._quote_subs: dict[InstrumentId, dict[SimSubscription[QuoteTick], None]] = {}
        self._book_subs: dict[InstrumentId, dict[SimSubscription[BookUpdate], None]] = {}
        self._bar_subs: dict[tuple[InstrumentId, Timeframe], dict[SimSubscription[Bar], None]] = {}
        self._order_subs: dict[SimSubscription[OrderUpdate], None] = {}
        self._feed_tasks: list[asyncio.Task[None]] = []
        self._feed_stops: set[asyncio.Future[None]] = set()
        self._timer_ids = itertools.count(1)
        self._connected = False
        self._closed_client = False
        self._session = _base36(clock.timestamp_ns() // 1_000_000)

    # ------------------------------------------------------------- session
    async def connect(self) -> None:
        """Start the feeds given to the constructor (once)."""
        self._check_open()
        if self._connected:
            return
        self._connected = True
        for feed in self._feeds:
            task = asyncio.create_task(self.run_feed(feed, interval_ns=self._feed_interval_ns))
            self._feed_tasks.append(task)

    async def close(self) -> None:
        """Stop the feeds, end every subscription, fail calls still waiting for the venue."""
        if self._closed_client:
            return
        self._closed_client = True
        for stop in list(self._feed_stops):
            if not stop.done():
                stop.set_result(None)
        if self._feed_tasks:
            await asyncio.gather(*self._feed_tasks, return_exceptions=True)
        waiting = [*self._submits.values()]
        waiting += [
            f for futures in (*self._cancels.values(), *self._modifies.values()) for f in futures
        ]
        for answer in waiting:
            if not answer.done():
                answer.set_exception(
                    UnknownOutcome(f"{self.venue} client closed before the venue answered")
                )
        every: list[SimSubscription[Any]] = [*self._order_subs]
        for registry in (self._trade_subs, self._quote_subs, self._book_subs, self._bar_subs):
            every += [sub for subs in registry.values() for sub in subs]
        for sub in every:
            sub.end()

    async def ping(self) -> None:
        """The venue is in process: reachable while the client is open."""
        self._check_open()

    # ------------------------------------------------------------- queries
    async def instruments(self) -> list[Instrument]:
        """The venue's instruments."""
        return list(self._sim.instruments.values())

    async def balances(self) -> list[AccountBalance]:
        """Every balance the account has held, exact, straight from the venue's account."""
        account = self._sim.account
        return [account.balance(currency) for currency in account.currencies()]

    async def order_status(
        self, instrument_id: InstrumentId, client_order_id: ClientOrderId
    ) -> OrderStatusReport | None:
        """The order (open or closed) with this client order id, or None when unknown."""
        self._instrument(instrument_id)
        tracked = self._orders.get(client_order_id)
        if tracked is None or tracked.order.instrument_id != instrument_id:
            return None
        return self._report(tracked)

    async def open_orders(
        self, instrument_id: InstrumentId | None = None
    ) -> list[OrderStatusReport]:
        """Open orders in the order the venue accepted them, of one instrument or all."""
        if instrument_id is not None:
            self._instrument(instrument_id)
        tracked = [self._orders[cid] for cid in self._open]
        return [
            self._report(t)
            for t in tracked
            if instrument_id is None or t.order.instrument_id == instrument_id
        ]

    async def fills(
        self, instrument_id: InstrumentId, *, since_ns: int | None = None
    ) -> list[FillReport]:
        """The account's executions in one instrument (at or after ``since_ns``), oldest first."""
        self._instrument(instrument_id)
        fills = self._fills[instrument_id]
        return list(fills) if since_ns is None else [f for f in fills if f.ts_event >= since_ns]

    # ------------------------------------------------------------- orders
    async def submit(self, spec: OrderSpec) -> OrderStatusReport:
        """Send a new order; its report once the venue has taken it (module docstring)."""
        self._check_open()
        cid = spec.client_order_id
        if cid in self._orders or cid in self._in_flight:
            raise InvalidOrder(
                f"{self.venue} refused order {cid}: {RejectReason.DUPLICATE_CLIENT_ORDER_ID}: "
                "client order id already used"
            )
        answer = asyncio.get_running_loop().create_future()
        self._in_flight[cid] = spec
        self._submits[cid] = answer
        now = self._clock.timestamp_ns()
        try:
            command = SubmitOrder(
                strategy_id=spec.strategy_id, spec=spec, ts_event=now, ts_init=now
            )
            self._sim.execute(command)
        except BaseException:  # it never reached the venue: the id is free again
            self._in_flight.pop(cid, None)
            self._submits.pop(cid, None)
            raise
        try:
            answered = await self._wait(answer, "submit")
        finally:
            if self._submits.get(cid) is answer:
                del self._submits[cid]
        tracked = self._orders.get(cid)
        if tracked is None:  # looked up by its client order id, not there
            raise UnknownOutcome(
                f"{self.venue} did not answer order {cid} in time"
                if not answered
                else f"{self.venue} lost order {cid}",
                client_order_id=cid.value,
            )
        return self._report(tracked)

    async def submit_oco(self, order_list: OrderList) -> list[OrderStatusReport]:
        """Send an OCO pair as one list: the venue locks funds once for both, and the first
        fill of one cancels the other. Both are taken or neither: a leg the venue took while it
        refused the other is cancelled before the refusal is raised."""
        self._check_open()
        specs = order_list.orders
        if len(specs) != 2 or any(s.contingency_type is not ContingencyType.OCO for s in specs):
            raise InvalidOrder(
                f"{self.venue} refused order list {order_list.order_list_id}: an OCO list is "
                f"two orders linked OCO, got {[str(s.contingency_type) for s in specs]}"
            )
        for spec in specs:
            cid = spec.client_order_id
            if cid in self._orders or cid in self._in_flight:
                raise InvalidOrder(
                    f"{self.venue} refused order {cid}: "
                    f"{RejectReason.DUPLICATE_CLIENT_ORDER_ID}: client order id already used"
                )
        loop = asyncio.get_running_loop()
        answers = {spec.client_order_id: loop.create_future() for spec in specs}
        for spec in specs:
            self._in_flight[spec.client_order_id] = spec
            self._submits[spec.client_order_id] = answers[spec.client_order_id]
        now = self._clock.timestamp_ns()
        try:
            self._sim.execute(
                SubmitOrderList(strategy_id=specs[0].strategy_id, order_list=order_list,
                                ts_event=now, ts_init=now)
            )  # fmt: skip
        except BaseException:  # it never reached the venue: the ids are free again
            for cid in answers:
                self._in_flight.pop(cid, None)
                self._submits.pop(cid, None)
            raise
        try:
            results = await asyncio.gather(
                *(self._wait(answer, "submit") for answer in answers.values()),
                return_exceptions=True,
            )
        finally:
            for cid, answer in answers.items():
                if self._submits.get(cid) is answer:
                    del self._submits[cid]
        refusals = [r for r in results if isinstance(r, BaseException)]
        if refusals:
            for cid in answers:
                tracked = self._orders.get(cid)
                if tracked is not None and tracked.order.is_open:
                    with contextlib.suppress(TradeForgeError):
                        await self.cancel(tracked.order.instrument_id, cid)
            raise refusals[0]
        missing = [cid for cid in answers if cid not in self._orders]
        if missing:
            raise UnknownOutcome(
                f"{self.venue} did not answer order list {order_list.order_list_id} in time "
                f"({', '.join(c.value for c in missing)} not found)",
                client_order_id=missing[0].value,
            )
        return [self._report(self._orders[cid]) for cid in answers]

    async def cancel(
        self, instrument_id: InstrumentId, client_order_id: ClientOrderId
    ) -> OrderStatusReport:
        """Cancel an open order; its report once closed (canceled, or filled first while the
        cancel was on its way). ``UnknownOrder`` when the venue has no such open order."""
        self._check_open()
        self._instrument(instrument_id)
        cid = client_order_id
        now = self._clock.timestamp_ns()
        command = CancelOrder(
            strategy_id=self._strategy_of(cid),
            instrument_id=instrument_id,
            client_order_id=cid,
            ts_event=now,
            ts_init=now,
        )
        await self._command(command, self._cancels, "cancel")
        tracked = self._orders.get(cid)
        if tracked is None or tracked.order.is_open:  # no answer, and nothing closed it
            raise UnknownOutcome(
                f"{self.venue} did not answer the cancel of {cid} in time",
                client_order_id=cid.value,
            )
        return self._report(tracked)

    async def modify(
        self,
        instrument_id: InstrumentId,
        client_order_id: ClientOrderId,
        *,
        quantity: Quantity | None = None,
        price: Price | None = None,
        trigger_price: Price | None = None,
    ) -> OrderStatusReport:
        """Change an open order's quantity, price or trigger price; its report after."""
        self._check_open()
        self._instrument(instrument_id)
        cid = client_order_id
        now = self._clock.timestamp_ns()
        try:
            command = ModifyOrder(
                strategy_id=self._strategy_of(cid),
                instrument_id=instrument_id,
                client_order_id=cid,
                quantity=quantity,
                price=price,
                trigger_price=trigger_price,
                ts_event=now,
                ts_init=now,
            )
        except InvalidValue as exc:
            raise InvalidOrder(f"{self.venue} cannot modify {cid}: {exc}") from exc
        if not await self._command(command, self._modifies, "modify"):
            raise UnknownOutcome(
                f"{self.venue} did not answer the modify of {cid} in time",
                client_order_id=cid.value,
            )
        return self._report(self._orders[cid])

    def _strategy_of(self, cid: ClientOrderId) -> StrategyId:
        tracked = self._orders.get(cid)
        if tracked is not None:
            return tracked.order.strategy_id
        spec = self._in_flight.get(cid)
        return spec.strategy_id if spec is not None else _ANY_STRATEGY

    async def _command(
        self,
        command: CancelOrder | ModifyOrder,
        waiting: dict[ClientOrderId, list[asyncio.Future[bool]]],
        what: str,
    ) -> bool:
        cid = command.client_order_id
        answer = asyncio.get_running_loop().create_future()
        waiting.setdefault(cid, []).append(answer)
        try:
            self._sim.execute(command)
            return await self._wait(answer, what)
        finally:
            futures = waiting.get(cid)
            if futures is not None and answer in futures:
                futures.remove(answer)
                if not futures:
                    del waiting[cid]

    async def _wait(self, answer: asyncio.Future[bool], what: str) -> bool:
        """The venue's answer: True, or False when ``timeout_ns`` passed on the clock first."""
        if answer.done():
            return answer.result()
        name = self._timer_name(f"{what}-timeout")

        def expire(event: TimeEvent) -> None:
            if not answer.done():
                answer.set_result(False)

        self._clock.set_time_alert(name, self._clock.timestamp_ns() + self._timeout_ns, expire)
        try:
            return await answer
        finally:
            self._cancel_timer(name)

    # ------------------------------------------------------------- venue events
    def _on_event(self, msg: Message) -> None:
        if isinstance(msg, OrderAccepted):
            self._accepted(msg)
        elif isinstance(msg, OrderRejected):
            cid = msg.client_order_id
            self._in_flight.pop(cid, None)
            answer = self._submits.pop(cid, None)
            if answer is not None and not answer.done():
                answer.set_exception(self._refusal("order", cid, msg.reason, msg.message))
        elif isinstance(msg, OrderFilled):
            self._filled(msg)
        elif isinstance(msg, (OrderCanceled, OrderExpired, OrderTriggered, OrderUpdated)):
            self._changed(msg)
        elif isinstance(msg, OrderCancelRejected):
            error = self._refusal("cancel of", msg.client_order_id, msg.reason, msg.message)
            self._answer(self._cancels, msg.client_order_id, error)
        elif isinstance(msg, OrderModifyRejected):
            error = self._refusal("modify of", msg.client_order_id, msg.reason, msg.message)
            self._answer(self._modifies, msg.client_order_id, error)
        # Nothing else reaches the port: balances are read from the account when asked.

    def _accepted(self, msg: OrderAccepted) -> None:
        cid = msg.client_order_id
        spec = self._in_flight.pop(cid, None)
        if spec is None:
            return  # not sent through this client: nothing to report it against
        order = Order(OrderInitialized.of(spec, msg.ts_event))
        order.apply(
            OrderSubmitted(
                **spec.ids(), account_id=self.account_id, ts_event=msg.ts_event, ts_init=msg.ts_init
            )
        )
        order.apply(msg)
        tracked = self._orders[cid] = _Tracked(order)
        self._open[cid] = None
        answer = self._submits.pop(cid, None)
        if answer is not None and not answer.done():
            answer.set_result(True)
        if self._order_subs:
            self._publish_order(self._report(tracked))

    def _filled(self, fill: OrderFilled) -> None:
        tracked = self._orders.get(fill.client_order_id)
        if tracked is None:
            return
        # The simulated venue counts trade ids from 1 in every session: prefixed with this
        # session's start, they stay unique across restarts (a journal keys fills by them).
        fill = msgspec.structs.replace(
            fill, trade_id=TradeId(f"{self._session}-{fill.trade_id.value}")
        )
        tracked.order.apply(fill)
        report = FillReport(
            account_id=fill.account_id,
            instrument_id=fill.instrument_id,
            client_order_id=fill.client_order_id,
            venue_order_id=fill.venue_order_id,
            trade_id=fill.trade_id,
            side=fill.order_side,
            last_qty=fill.last_qty,
            last_px=fill.last_px,
            commission=fill.commission,
            liquidity_side=fill.liquidity_side,
            ts_event=fill.ts_event,
            ts_init=fill.ts_init,
        )
        self._fills[fill.instrument_id].append(report)
        if self._order_subs:
            self._publish_order(report)
        self._after_change(tracked)

    def _changed(self, msg: OrderCanceled | OrderExpired | OrderTriggered | OrderUpdated) -> None:
        cid = msg.client_order_id
        tracked = self._orders.get(cid)
        if tracked is None:
            return
        tracked.order.apply(msg)
        if isinstance(msg, OrderCanceled):
            tracked.reason = msg.reason
        elif isinstance(msg, OrderExpired):
            tracked.reason = "expired"
        if isinstance(msg, OrderUpdated):
            self._answer(self._modifies, cid, None)
        self._after_change(tracked)

    def _after_change(self, tracked: _Tracked) -> None:
        order = tracked.order
        cid = order.client_order_id
        if not order.is_open and cid in self._open:
            del self._open[cid]
            self._closed.append(cid)
            if len(self._closed) > self._closed_kept:
                self._orders.pop(self._closed.popleft(), None)
            # Whatever closed it answers a cancel on its way (the venue would refuse it now).
            self._answer(self._cancels, cid, None, every=True)
        if self._order_subs:
            self._publish_order(self._report(tracked))

    @staticmethod
    def _answer(
        waiting: dict[ClientOrderId, list[asyncio.Future[bool]]],
        cid: ClientOrderId,
        error: TradeForgeError | None,
        *,
        every: bool = False,
    ) -> None:
        for answer in waiting.get(cid, ()):
            if answer.done():
                continue
            if error is None:
                answer.set_result(True)
            else:
                answer.set_exception(error)
            if not every:
                return

    def _refusal(
        self, what: str, cid: ClientOrderId, reason: RejectReason, message: str
    ) -> TradeForgeError:
        text = f"{self.venue} refused {what} {cid}: {reason}: {message}"
        return _REFUSALS.get(reason, InvalidOrder)(text)

    def _report(self, tracked: _Tracked) -> OrderStatusReport:
        order = tracked.order
        spec = order.spec
        assert order.venue_order_id is not None  # set by the OrderAccepted that made it
        return OrderStatusReport(
            account_id=self.account_id,
            instrument_id=spec.instrument_id,
            client_order_id=spec.client_order_id,
            venue_order_id=order.venue_order_id,
            side=spec.side,
            order_type=spec.order_type,
            status=order.status,
            quantity=order.quantity,
            filled_qty=order.filled_qty,
            time_in_force=spec.time_in_force,
            price=order.price,
            trigger_price=order.trigger_price,
            avg_px=order.avg_px,
            reason=tracked.reason,
            ts_event=order.ts_last,
            ts_init=self._clock.timestamp_ns(),
        )

    # ------------------------------------------------------------- market data in
    def on_trade(self, trade: TradeTick) -> None:
        """A public trade: to the trade subscribers, then to the venue."""
        iid = trade.instrument_id
        self._instrument(iid)
        self._publish(self._trade_subs.get(iid), trade)
        self._sim.on_trade(iid, trade.price, trade.size, trade.ts_event)

    def on_quote(self, quote: QuoteTick) -> None:
        """A best bid/ask: to the quote subscribers, then to the venue."""
        iid = quote.instrument_id
        self._instrument(iid)
        self._publish(self._quote_subs.get(iid), quote)
        self._sim.on_quote(
            iid,
            quote.bid_price,
            quote.ask_price,
            bid_size=quote.bid_size,
            ask_size=quote.ask_size,
            ts=quote.ts_event,
        )

    def on_book(self, update: BookUpdate) -> None:
        """A book snapshot or delta: to the book subscribers (and a quote to the quote
        subscribers when the best bid or ask changed), then to the venue."""
        iid = update.instrument_id
        self._instrument(iid)
        book = self._books[iid]
        before = book.top()
        book.apply(update)
        self._publish(self._book_subs.get(iid), update)
        top = book.top()
        if top is not None and top != before:
            bid, ask = top
            quote = QuoteTick(
                instrument_id=iid,
                bid_price=bid.price,
                ask_price=ask.price,
                bid_size=bid.size,
                ask_size=ask.size,
                ts_event=update.ts_event,
                ts_init=update.ts_init,
            )
            self._publish(self._quote_subs.get(iid), quote)
        self._sim.on_book(update)

    def on_bar(self, bar: Bar, *, match: bool = True) -> None:
        """A closed bar: to the subscribers of its timeframe, then (unless ``match`` is False,
        e.g. for a second timeframe of the same market) to the venue."""
        iid = bar.instrument_id
        self._instrument(iid)
        self._publish(self._bar_subs.get((iid, bar.timeframe)), bar)
        if match:
            self._sim.on_bar(iid, bar)

    async def run_feed(
        self, feed: MarketFeed, *, interval_ns: int = _SECOND // 10, stop_ns: int | None = None
    ) -> None:
        """Drive ``feed`` on the clock: push its book now, then every ``interval_ns`` what it
        yields up to that time (``on_book``/``on_trade``).

        Returns after the last tick at or before ``stop_ns`` or when the client closes, and
        raises what pushing raised; cancel the task to stop sooner.
        """
        self._check_open()
        self._instrument(feed.instrument.id)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        name = self._timer_name("feed")

        def tick(event: TimeEvent) -> None:
            if done.done():
                return
            try:
                for item in feed.advance(event.ts_event):
                    if isinstance(item, TradeTick):
                        self.on_trade(item)
                    else:
                        self.on_book(item)
            except Exception as exc:  # to the awaiting task, not into the clock
                done.set_exception(exc)
                self._cancel_timer(name)
                return
            if stop_ns is not None and event.ts_event + interval_ns > stop_ns:
                done.set_result(None)

        self.on_book(feed.snapshot())
        self._feed_stops.add(done)
        try:
            self._clock.set_timer(name, interval_ns, tick, stop_ns=stop_ns)
            await done
        finally:
            self._feed_stops.discard(done)
            self._cancel_timer(name)

    # ------------------------------------------------------------- subscriptions
    def trades(self, instrument_id: InstrumentId) -> SimSubscription[TradeTick]:
        """Public trades (oldest dropped when the reader falls behind)."""
        return self._subscribe(self._trade_subs, instrument_id, instrument_id)

    def quotes(self, instrument_id: InstrumentId) -> SimSubscription[QuoteTick]:
        """Best bid and ask (oldest dropped when the reader falls behind)."""
        return self._subscribe(self._quote_subs, instrument_id, instrument_id)

    def bars(self, instrument_id: InstrumentId, timeframe: Timeframe) -> SimSubscription[Bar]:
        """Bars of ``timeframe`` as pushed (oldest dropped when the reader falls behind)."""
        return self._subscribe(self._bar_subs, (instrument_id, timeframe), instrument_id)

    def book(self, instrument_id: InstrumentId) -> SimSubscription[BookUpdate]:
        """The book: a snapshot, then deltas; a new snapshot when the reader fell behind."""
        book = self._books[self._instrument(instrument_id)]
        sub: SimSubscription[BookUpdate] = self._subscribe(
            self._book_subs, instrument_id, instrument_id, resync=book.snapshot
        )
        sub.push(book.snapshot())
        return sub

    def order_updates(self) -> SimSubscription[OrderUpdate]:
        """Every change of the account's orders: a report per change, and each fill before the
        report it led to. Never dropped; a reader too far behind is cut off (module docstring)."""
        self._check_open()
        sub: SimSubscription[OrderUpdate] = SimSubscription(
            limit=self._order_limit,
            overflow="disconnect",
            detach=lambda s: self._order_subs.pop(s, None),
        )
        self._order_subs[sub] = None
        return sub

    def _subscribe(
        self,
        registry: dict[_K, dict[SimSubscription[_T], None]],
        key: _K,
        instrument_id: InstrumentId,
        *,
        resync: Callable[[], _T] | None = None,
    ) -> SimSubscription[_T]:
        self._check_open()
        self._instrument(instrument_id)
        subs = registry.setdefault(key, {})
        sub = SimSubscription(
            limit=self._market_limit,
            overflow="drop_oldest" if resync is None else "resync",
            detach=lambda s: subs.pop(s, None),
            resync=resync,
        )
        subs[sub] = None
        return sub

    @staticmethod
    def _publish(subs: dict[SimSubscription[_T], None] | None, item: _T) -> None:
        if subs:
            for sub in list(subs):
                sub.push(item)

    def _publish_order(self, update: OrderUpdate) -> None:
        for sub in list(self._order_subs):
            sub.push(update)

    # ------------------------------------------------------------- helpers
    def _instrument(self, instrument_id: InstrumentId) -> InstrumentId:
        if instrument_id not in self._sim.instruments:
            raise UnknownInstrument(f"{instrument_id} is not traded at {self.venue}")
        return instrument_id

    def _check_open(self) -> None:
        if self._closed_client:
            raise TemporaryError(f"{self.venue} client {self.account_id} is closed")

    def _timer_name(self, what: str) -> str:
        return f"sim-venue:{self.venue}:{self.account_id}:{what}:{next(self._timer_ids)}"

    def _cancel_timer(self, name: str) -> None:
        with contextlib.suppress(UnknownTimer):  # already fired
            self._clock.cancel_timer(name)


def _base36(value: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while value:
        value, rest = divmod(value, 36)
        out = digits[rest] + out
    return out or "0"

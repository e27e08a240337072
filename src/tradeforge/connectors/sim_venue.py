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

The client's parts live in their own modules: ``sim_commands`` (orders sent and waited for),
``sim_orders`` (the venue's view of them, its events, the order updates), ``sim_market_data``
(books and market data subscribers) and ``sim_subscription``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tradeforge.backtest import FillModel, LatencyModel, SimulatedVenue, VenueAccount
from tradeforge.bus import Clock, TimeEvent, UnknownTimer
from tradeforge.connectors.sim_commands import SimCommands
from tradeforge.connectors.sim_market_data import SimMarketData
from tradeforge.connectors.sim_orders import SimOrders

# Re-exported: ``Overflow`` was defined here before ``sim_subscription`` was split out.
from tradeforge.connectors.sim_subscription import Overflow as Overflow  # noqa: PLC0414
from tradeforge.connectors.sim_subscription import SimSubscription
from tradeforge.domain import (
    AccountBalance,
    AccountId,
    AccountType,
    Bar,
    ClientOrderId,
    FillReport,
    Instrument,
    InstrumentId,
    InvalidValue,
    Message,
    Money,
    OrderList,
    OrderSpec,
    OrderStatusReport,
    Price,
    Quantity,
    QuoteTick,
    TemporaryError,
    Timeframe,
    TradeTick,
    UnknownInstrument,
    Venue,
)
from tradeforge.execution import BookUpdate, OrderUpdate, VenueCapabilities

if TYPE_CHECKING:  # importing the server package would load its web stack
    from tradeforge.connectors.sim_exchange.market import MarketFeed

__all__ = ["SimSubscription", "SimVenueClient"]

_SECOND = 1_000_000_000


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
        self._feeds = list(feeds)
        self._feed_interval_ns = feed_interval_ns
        for feed in self._feeds:
            self._instrument(feed.instrument.id)
        # Orders (accepted, in flight, awaited answers) and the calls that send them.
        self._orders = SimOrders(
            venue=self.venue,
            account_id=self.account_id,
            clock=clock,
            instrument_ids=self._sim.engines,
            closed_kept=closed_orders_kept,
            update_limit=order_update_limit,
        )
        self._commands = SimCommands(
            sim=self._sim,
            orders=self._orders,
            clock=clock,
            timeout_ns=timeout_ns,
            check_open=self._check_open,
            instrument=self._instrument,
            timer_name=self._timer_name,
            cancel_timer=self._cancel_timer,
        )
        # Market data: the books as pushed, and their subscribers.
        self._market = SimMarketData(self._sim.engines, limit=market_data_limit)
        self._feed_tasks: list[asyncio.Task[None]] = []
        self._feed_stops: set[asyncio.Future[None]] = set()
        self._timer_ids = itertools.count(1)
        self._connected = False
        self._closed_client = False

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
        self._orders.abandon()
        every: list[SimSubscription[Any]] = [*self._orders.subscriptions()]
        every += self._market.subscriptions()
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
        return self._orders.status(instrument_id, client_order_id)

    async def open_orders(
        self, instrument_id: InstrumentId | None = None
    ) -> list[OrderStatusReport]:
        """Open orders in the order the venue accepted them, of one instrument or all."""
        if instrument_id is not None:
            self._instrument(instrument_id)
        return self._orders.open_reports(instrument_id)

    async def fills(
        self, instrument_id: InstrumentId, *, since_ns: int | None = None
    ) -> list[FillReport]:
        """The account's executions in one instrument (at or after ``since_ns``), oldest first."""
        self._instrument(instrument_id)
        return self._orders.fills(instrument_id, since_ns)

    # ------------------------------------------------------------- orders
    async def submit(self, spec: OrderSpec) -> OrderStatusReport:
        """Send a new order; its report once the venue has taken it (module docstring)."""
        return await self._commands.submit(spec)

    async def submit_oco(self, order_list: OrderList) -> list[OrderStatusReport]:
        """Send an OCO pair as one list: the venue locks funds once for both, and the first
        fill of one cancels the other. Both are taken or neither: a leg the venue took while it
        refused the other is cancelled before the refusal is raised."""
        return await self._commands.submit_oco(order_list)

    async def cancel(
        self, instrument_id: InstrumentId, client_order_id: ClientOrderId
    ) -> OrderStatusReport:
        """Cancel an open order; its report once closed (canceled, or filled first while the
        cancel was on its way). ``UnknownOrder`` when the venue has no such open order."""
        return await self._commands.cancel(instrument_id, client_order_id)

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
        return await self._commands.modify(
            instrument_id,
            client_order_id,
            quantity=quantity,
            price=price,
            trigger_price=trigger_price,
        )

    def _on_event(self, msg: Message) -> None:
        self._orders.on_event(msg)

    # ------------------------------------------------------------- market data in
    def on_trade(self, trade: TradeTick) -> None:
        """A public trade: to the trade subscribers, then to the venue."""
        iid = trade.instrument_id
        self._instrument(iid)
        self._market.on_trade(trade)
        self._sim.on_trade(iid, trade.price, trade.size, trade.ts_event)

    def on_quote(self, quote: QuoteTick) -> None:
        """A best bid/ask: to the quote subscribers, then to the venue."""
        iid = quote.instrument_id
        self._instrument(iid)
        self._market.on_quote(quote)
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
        self._instrument(update.instrument_id)
        self._market.on_book(update)
        self._sim.on_book(update)

    def on_bar(self, bar: Bar, *, match: bool = True) -> None:
        """A closed bar: to the subscribers of its timeframe, then (unless ``match`` is False,
        e.g. for a second timeframe of the same market) to the venue."""
        iid = bar.instrument_id
        self._instrument(iid)
        self._market.on_bar(bar)
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
        self._check_open()
        return self._market.trades(self._instrument(instrument_id))

    def quotes(self, instrument_id: InstrumentId) -> SimSubscription[QuoteTick]:
        """Best bid and ask (oldest dropped when the reader falls behind)."""
        self._check_open()
        return self._market.quotes(self._instrument(instrument_id))

    def bars(self, instrument_id: InstrumentId, timeframe: Timeframe) -> SimSubscription[Bar]:
        """Bars of ``timeframe`` as pushed (oldest dropped when the reader falls behind)."""
        self._check_open()
        return self._market.bars(self._instrument(instrument_id), timeframe)

    def book(self, instrument_id: InstrumentId) -> SimSubscription[BookUpdate]:
        """The book: a snapshot, then deltas; a new snapshot when the reader fell behind."""
        self._instrument(instrument_id)
        self._check_open()
        return self._market.book(instrument_id)

    def order_updates(self) -> SimSubscription[OrderUpdate]:
        """Every change of the account's orders: a report per change, and each fill before the
        report it led to. Never dropped; a reader too far behind is cut off (module docstring)."""
        self._check_open()
        return self._orders.subscribe()

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

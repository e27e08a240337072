"""``MatchingEngine``: one instrument's order matching for the simulated venue.

It holds the venue's working orders and fills them against the market data it is given — bars,
trades or best bid/ask quotes — without knowing whether the data is history or live, so the
backtester, paper trading and the simulated exchange server can all use it. Bars are walked along
the path documented in ``docs/backtesting.md``: the open (where waiting and gapped orders act),
then open -> low -> high -> close for a bar that closed at or above its open, else
open -> high -> low -> close; along each leg orders act at their own price in the order the market
reaches them.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from typing import Final

from tradeforge.backtest.book import L2Book
from tradeforge.backtest.feed import bar_times, exact_close, exact_high_low, exact_open
from tradeforge.backtest.listener import MatchListener
from tradeforge.backtest.models import FillModel, SlippageModel
from tradeforge.backtest.order_checks import Rejection, modify_rejection, venue_rejection
from tradeforge.backtest.path import IMMEDIATE, MAKER, TAKER, PathWalking
from tradeforge.backtest.working_order import WorkingOrder
from tradeforge.domain import (
    ClientOrderId,
    ContingencyType,
    Instrument,
    LiquiditySide,
    OrderBookDelta,
    OrderBookSnapshot,
    OrderSpec,
    Price,
    Quantity,
    RejectReason,
    TimeInForce,
    VenueOrderId,
)
from tradeforge.strategy import BarLike

__all__ = ["MatchingEngine"]

_ZERO: Final = Decimal(
    0
)  # compared with a Decimal, not an int (which would be converted each time)

_DAY_NS: Final = 86_400_000_000_000


class MatchingEngine(PathWalking):
    """Matches the venue's orders in one instrument against market data."""

    def __init__(
        self,
        instrument: Instrument,
        listener: MatchListener,
        *,
        fill_model: FillModel | None = None,
        id_prefix: str = "V",
    ) -> None:
        self.instrument = instrument
        self.fill_model = fill_model or FillModel()
        self._listener = listener
        self._tick = instrument.tick_size.as_decimal()
        self._lot = instrument.lot_size.as_decimal()
        self._orders = {}  # declared by PathWalking, as _tick and _last
        # OCO members whose sibling filled or closed before they arrived (a list's first leg
        # can fill on arrival): they are cancelled as soon as they reach the venue.
        self._oco_gone: set[ClientOrderId] = set()
        self._seq = 0
        self._prefix = id_prefix
        self._last = None
        self._last_bar: BarLike | None = None
        self._book = L2Book()
        self._in_bar = False  # inside a bar's path: arrivals fill at the current price
        self._capacity: Decimal | None = None
        self._volume: Decimal | None = None
        self._mode: str | None = None  # the kind of data seen last: "bar", "trade" or "book"
        self._close_ts = 0  # close time of the last bar
        self._close_capacity: Decimal | None = None  # what fill_at="close" may still take
        self._close_bar: BarLike | None = None  # whose volume that is, until first needed
        # A bar that closed while no order worked, taken in when next needed (``_catch_up``):
        # a replay may set it instead of calling ``on_bar``, which would do only that.
        self._idle_bar: BarLike | None = None

    # ---------------------------------------------------------------- state
    @property
    def has_orders(self) -> bool:
        """True while any order works here."""
        return bool(self._orders)

    def orders(self) -> list[WorkingOrder]:
        """Working orders in time priority (the dict is kept in that order)."""
        return list(self._orders.values())

    def get(self, client_order_id: ClientOrderId) -> WorkingOrder | None:
        """A working order by client order id."""
        return self._orders.get(client_order_id)

    def _catch_up(self) -> None:
        """Take in the bar that closed while no order worked (see ``_idle_bar``)."""
        bar = self._idle_bar
        if bar is not None:
            self._idle_bar = None
            self._mode, self._close_ts = "bar", bar_times(bar)[1]
            self._last_bar = self._close_bar = bar
            self._close_capacity = None

    @property
    def last_price(self) -> Decimal | None:
        """The last traded (or bar close) price seen."""
        if self._idle_bar is not None:
            self._catch_up()
        bar = self._last_bar
        if bar is not None:
            self._last = exact_close(bar)
            self._last_bar = None
        return self._last

    def reference_price(self, is_buy: bool) -> Decimal | None:
        """What a marketable order would pay now: the ask (bid) when quoted, else the last."""
        if self._book.empty:  # never quoted: bars or trades only
            return self.last_price
        quote = self._book.ask if is_buy else self._book.bid
        return quote if quote is not None else self.last_price

    # ------------------------------------------------------------- commands
    def submit(self, spec: OrderSpec, ts: int, *, held: bool = False) -> WorkingOrder | None:
        """A new order reaches the venue; ``held`` keeps an OTO child idle until its parent
        fills. Returns the working order, or None when rejected."""
        if self._idle_bar is not None:
            self._catch_up()
        if spec.client_order_id in self._orders:
            problem: Rejection | None = (
                RejectReason.DUPLICATE_CLIENT_ORDER_ID,
                "Duplicate order sent.",
            )
        else:
            problem = venue_rejection(self.instrument, spec, ts, self.reference_price)
        if problem is not None:
            self._listener.order_rejected(spec, problem[0], problem[1], ts)
            return None
        self._seq += 1
        expire = spec.expire_time_ns
        if spec.time_in_force is TimeInForce.DAY:
            expire = (ts // _DAY_NS + 1) * _DAY_NS
        # The venue's own prefix and a counter: a valid id by construction.
        venue_order_id = VenueOrderId(f"{self._prefix}-{self._seq}", _checked=True)
        order = WorkingOrder(spec, venue_order_id, self._seq, expire)
        order.held = held
        self._orders[order.id] = order
        self._listener.order_accepted(order, ts)
        if order.id in self._oco_gone:
            self._oco_gone.discard(order.id)
            self._close(order, "OCO sibling filled", ts, cascade=False)
            return order
        if not held:
            self._arrive(order, ts)
        return order

    def cancel(self, client_order_id: ClientOrderId, ts: int, reason: str = "canceled") -> None:
        """Cancel a working order (and its OCO siblings and held children)."""
        order = self._orders.get(client_order_id)
        if order is None:
            self._listener.cancel_rejected(
                client_order_id, RejectReason.UNKNOWN_ORDER, "order is not working", ts
            )
            return
        self._close(order, reason, ts)

    def modify(
        self,
        client_order_id: ClientOrderId,
        ts: int,
        *,
        quantity: Quantity | None = None,
        price: Price | None = None,
        trigger_price: Price | None = None,
    ) -> bool:
        """Change a working order; a new price or a larger size loses time priority.
        Returns whether the change was applied (else it was rejected)."""
        if self._idle_bar is not None:
            self._catch_up()
        order = self._orders.get(client_order_id)
        reject = self._listener.modify_rejected
        if order is None:
            reject(client_order_id, RejectReason.UNKNOWN_ORDER, "order is not working", ts)
            return False
        problem = modify_rejection(
            self.instrument,
            order,
            quantity=quantity,
            price=price,
            trigger_price=trigger_price,
            reference=self.reference_price,
        )
        if problem is not None:
            reject(client_order_id, problem[0], problem[1], ts)
            return False
        if (price is not None and price.as_decimal() != order.price) or (
            quantity is not None and quantity.as_decimal() > order.quantity
        ):
            self._seq += 1
            order.seq = self._seq
            self._orders[order.id] = self._orders.pop(order.id)  # to the back of the queue
        if quantity is not None:
            order.quantity = quantity.as_decimal()
        if price is not None:
            order.price = price.as_decimal()
        if trigger_price is not None:
            order.trigger = trigger_price.as_decimal()
        self._listener.order_updated(order, ts)
        if not order.held:
            self._arrive(order, ts)
        return True

    # ---------------------------------------------------------- market data
    def on_bar(self, bar: BarLike) -> None:
        """Walk one bar's price path (see the module docstring)."""
        if not self._orders:
            self._idle_bar = bar
            return
        if self._idle_bar is not None:
            self._catch_up()
        ts_open, ts_close = bar_times(bar)
        self._mode, self._close_ts = "bar", ts_close
        prev = self.last_price
        o = exact_open(bar)
        model = self.fill_model
        # The bar's volume matters only to a volume cap or volume-proportional slippage.
        needs_volume = model.max_volume_fraction is not None or model.slippage.volume_ticks
        self._volume = bar.volume.as_decimal() if needs_volume else None
        self._capacity = self._bar_capacity(self._volume) if needs_volume else None
        self._in_bar = True
        try:
            self._expire(ts_open)
            self._open(prev, o, ts_open)
            if self._orders:  # nothing left to act on the legs once every order is done
                (h, low), c = exact_high_low(bar), exact_close(bar)
                path = (o, low, h, c) if c >= o else (o, h, low, c)
                step = (ts_close - ts_open) // 3
                times = (ts_open, ts_open + step, ts_open + 2 * step, ts_close)
                for k in range(1, 4):
                    self._expire(times[k - 1])
                    self._move(path[k - 1], path[k], times[k])
        finally:
            self._in_bar = False
            self._close_capacity, self._capacity = self._capacity, None
            # The close, read from the bar when first needed.
            self._last_bar, self._close_bar = bar, None

    def _bar_capacity(self, volume: Decimal | None) -> Decimal | None:
        fraction = self.fill_model.max_volume_fraction
        if fraction is None or volume is None:
            return None
        return self._round_lot(fraction * volume)

    def on_trade(self, price: Price, size: Quantity, ts: int) -> None:
        """A trade printed at ``price`` for ``size``: orders it reaches fill up to that size."""
        if self._idle_bar is not None:
            self._catch_up()
        px = price.as_decimal()
        prev = self.last_price
        self._mode, self._last, self._last_bar = "trade", px, None
        if not self._orders:
            return
        self._capacity, self._volume, self._in_bar = size.as_decimal(), size.as_decimal(), True
        try:
            self._expire(ts)
            if prev is not None:
                self._move(prev, px, ts)
            self._sweep(px, ts)
            for order in self.orders():
                order.marketable_on_arrival = False  # whatever is left now rests
                if self._working(order) and order.triggered and order.time_in_force in IMMEDIATE:
                    self._close_rest(order, ts, "not filled")
        finally:
            self._in_bar = False
            self._capacity = self._volume = None
            self._last = px

    def on_quote(
        self, bid: Price, ask: Price, bid_size: Quantity, ask_size: Quantity, ts: int
    ) -> None:
        """Best bid and ask changed: orders they reach fill, up to the quoted size."""
        if self._idle_bar is not None:
            self._catch_up()
        self._book.set_quote(
            bid.as_decimal(), ask.as_decimal(), bid_size.as_decimal(), ask_size.as_decimal()
        )
        self._on_book_change(ts)

    def on_book(self, update: OrderBookSnapshot | OrderBookDelta) -> None:
        """A level-2 snapshot or delta: orders walk the book for size."""
        if self._idle_bar is not None:
            self._catch_up()
        if isinstance(update, OrderBookSnapshot):
            self._book.apply_snapshot(update)
        else:
            self._book.apply_delta(update)
        self._on_book_change(update.ts_event)

    def _on_book_change(self, ts: int) -> None:
        self._mode = "book"
        bid, ask = self._book.bid, self._book.ask
        if not self._orders or bid is None or ask is None:
            return
        self._expire(ts)
        for order in self.orders():
            if not self._working(order):
                continue
            resting = order.triggered and order.is_resting_limit
            if not order.triggered and order.touched_by_quote(bid, ask, self._tick):
                self._trigger(order, ts)
            if order.triggered and self._working(order):
                self._take_from_book(order, ts, maker=resting)
            if order.triggered and self._working(order) and order.time_in_force in IMMEDIATE:
                self._close_rest(order, ts, "not filled at once")

    # ------------------------------------------------------------ internals
    def _arrive(self, order: WorkingOrder, ts: int) -> None:
        """An order becomes active: trigger, fill or rest, depending on the market now."""
        cur = self.last_price
        if not order.triggered:
            start = self.reference_price(order.is_buy)
            if start is not None:
                order.trail(start, self._tick)
            if cur is not None and order.beyond(cur):
                self._trigger(order, ts)  # already beyond its trigger when it arrives
        if not order.triggered or not self._working(order):
            return
        # Between bars (or before any data) orders wait for the next bar's open; on trades-only
        # data for the next trade: the last one is already history.
        waits = not self._in_bar and (
            self._mode == "trade"
            or (self._mode in (None, "bar") and self.fill_model.fill_at == "open")
        )
        known = cur is not None or not self._book.empty
        if order.is_market:
            if not waits and known:
                self._fill_now(order, ts)
        elif order.is_resting_limit:
            ref = self.reference_price(order.is_buy)
            assert order.price is not None
            if ref is not None and order.crosses(ref):
                if waits:
                    order.marketable_on_arrival = True
                else:
                    self._fill_now(order, ts, limit=order.price)
        if self._working(order) and order.time_in_force in IMMEDIATE and not waits:
            self._close_rest(order, ts, "not filled at once")

    def _fill_now(self, order: WorkingOrder, ts: int, limit: Decimal | None = None) -> None:
        if not self._book.empty and not self._in_bar:
            self._take_from_book(order, ts, maker=False)
            return
        px = self.last_price
        if px is None or (limit is not None and (px > limit if order.is_buy else px < limit)):
            return
        if self._in_bar or self._mode != "bar":
            self._fill(order, px, TAKER, ts)
            return
        # fill_at="close": the last bar's close, at its time, from what is left of its volume.
        if self._close_bar is not None:
            self._close_capacity = self._bar_capacity(self._close_bar.volume.as_decimal())
            self._close_bar = None
        self._capacity = self._close_capacity
        try:
            self._fill(order, px, TAKER, max(ts, self._close_ts))
        finally:
            self._close_capacity, self._capacity = self._capacity, None

    def _take_from_book(self, order: WorkingOrder, ts: int, *, maker: bool) -> None:
        # Walk the opposite side best first; a resting (maker) order fills at its own price.
        levels = [
            (level, size)
            for level, size in self._book.levels(order.is_buy)
            if order.price is None
            or (level <= order.price if order.is_buy else level >= order.price)
        ]
        if order.time_in_force is TimeInForce.FOK and sum(s for _, s in levels) < order.leaves:
            self._close(order, "FOK not fillable in full", ts)
            return
        for level, size in levels:
            if order.id not in self._orders or (
                order.price is not None
                and (level > order.price if order.is_buy else level < order.price)
            ):
                return
            before = order.filled
            self._capacity = size
            try:
                price = order.price if maker and order.price is not None else level
                self._fill(order, price, MAKER if maker else TAKER, ts, partial_ok=True)
            finally:
                self._capacity = None
            self._book.consume(order.is_buy, level, order.filled - before)

    def _trigger(self, order: WorkingOrder, ts: int) -> None:
        order.triggered = True
        self._listener.order_triggered(order, ts)

    def _round_lot(self, qty: Decimal) -> Decimal:
        return (qty / self._lot).to_integral_value(rounding=ROUND_FLOOR) * self._lot

    def _fill(
        self,
        order: WorkingOrder,
        price: Decimal,
        liquidity: LiquiditySide,
        ts: int,
        *,
        partial_ok: bool = False,
    ) -> None:
        qty = order.leaves
        capacity = self._capacity
        if capacity is not None and capacity < qty:
            if order.time_in_force is TimeInForce.FOK and not partial_ok:
                self._close(order, "FOK not fillable in full", ts)
                return
            qty = capacity
        if qty <= _ZERO:
            return
        slippage = self.fill_model.slippage
        # (The default model without slippage is seen here without calling into it.)
        if liquidity is TAKER and (
            type(slippage) is not SlippageModel or slippage.fixed_ticks or slippage.volume_ticks
        ):
            price = slippage.apply(price, qty, order.is_buy, self._tick, self._volume)
            if order.price is not None:  # slippage never takes a limit past its limit
                price = min(price, order.price) if order.is_buy else max(price, order.price)
        refusal = self._listener.fill_refusal(order, qty, price)
        if refusal is not None:
            self._close(order, f"fill refused: {refusal}", ts)
            return
        order.filled += qty
        if capacity is not None:
            self._capacity = capacity - qty
        done = order.leaves <= _ZERO
        if done:  # off the book before anyone hears of the fill (and reacts to it)
            del self._orders[order.id]
        self._listener.order_filled(order, qty, price, liquidity, ts)
        if done:
            self._after_done(order, ts)
        self._after_fill(order, ts)

    def _after_fill(self, order: WorkingOrder, ts: int) -> None:
        # One cancels the other at the first fill, so two legs (a bracket's stop and target
        # included) never both fill; the filled leg keeps working for the rest of its quantity.
        if order.is_oco:
            for sibling_id in order.spec.linked_order_ids:
                sibling = self._orders.get(sibling_id)
                if sibling is not None:
                    self._close(sibling, "OCO sibling filled", ts, cascade=False)
                else:  # not here yet (submitted after this leg): cancelled when it arrives
                    self._oco_gone.add(sibling_id)

    def _after_done(self, order: WorkingOrder, ts: int) -> None:
        """Release or cancel the OTO children of an order that is finished."""
        if order.spec.contingency_type is not ContingencyType.OTO:
            return
        for child_id in order.spec.linked_order_ids:
            child = self._orders.get(child_id)
            if child is None or not child.held:
                continue
            if order.filled <= 0:
                self._close(child, "parent order did not fill", ts, cascade=False)
                continue
            if order.filled < order.quantity:
                child.quantity = min(child.quantity, order.filled)
                self._listener.order_updated(child, ts)
            child.held = False
            self._arrive(child, ts)

    def _close(self, order: WorkingOrder, reason: str, ts: int, *, cascade: bool = True) -> None:
        if self._orders.pop(order.id, None) is None:
            return
        if reason == "expired":
            self._listener.order_expired(order, ts)
        else:
            self._listener.order_canceled(order, reason, ts)
        self._after_done(order, ts)
        if cascade and order.is_oco:
            for sibling_id in order.spec.linked_order_ids:
                sibling = self._orders.get(sibling_id)
                if sibling is not None:
                    self._close(sibling, "OCO sibling canceled", ts, cascade=False)

    def _expire(self, ts: int) -> None:
        for order in self.orders():
            if order.expire_ns is not None and order.expire_ns <= ts:
                self._close(order, "expired", order.expire_ns)  # it expired at its time

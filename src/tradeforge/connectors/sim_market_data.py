"""``SimMarketData``: the public market data of the ``sim`` venue client (``SimVenueClient``).

What the caller pushes in goes out to its subscribers (``SimSubscription``): trades, quotes,
book updates and bars of each timeframe. Each instrument's level-2 book is kept as pushed, so a
book subscription starts with a snapshot (and gets a fresh one when its reader fell behind),
and a change of the best bid or ask yields a ``QuoteTick`` to the quote subscribers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, TypeVar

from tradeforge.connectors.sim_subscription import SimSubscription
from tradeforge.domain import (
    Bar,
    BookAction,
    BookLevel,
    BookSide,
    InstrumentId,
    OrderBookSnapshot,
    QuoteTick,
    Timeframe,
    TradeTick,
)
from tradeforge.execution import BookUpdate

__all__ = ["SimMarketData"]

_T = TypeVar("_T")
_K = TypeVar("_K")


class SimMarketData:
    """The books and the market data subscribers of one client (module docstring).

    Args:
        instrument_ids: the instruments whose books are kept.
        limit: the queue size of each subscription (the oldest item is dropped when full; a
            book subscription resyncs instead).
    """

    def __init__(self, instrument_ids: Iterable[InstrumentId], *, limit: int) -> None:
        self._limit = limit
        self._books = {iid: _PublicBook(iid) for iid in instrument_ids}
        # Subscribers (dicts as ordered sets).
        self._trade_subs: dict[InstrumentId, dict[SimSubscription[TradeTick], None]] = {}
        self._quote_subs: dict[InstrumentId, dict[SimSubscription[QuoteTick], None]] = {}
        self._book_subs: dict[InstrumentId, dict[SimSubscription[BookUpdate], None]] = {}
        self._bar_subs: dict[tuple[InstrumentId, Timeframe], dict[SimSubscription[Bar], None]] = {}

    # ------------------------------------------------------------- pushed in
    def on_trade(self, trade: TradeTick) -> None:
        """A public trade, to the trade subscribers."""
        self._publish(self._trade_subs.get(trade.instrument_id), trade)

    def on_quote(self, quote: QuoteTick) -> None:
        """A best bid/ask, to the quote subscribers."""
        self._publish(self._quote_subs.get(quote.instrument_id), quote)

    def on_book(self, update: BookUpdate) -> None:
        """A book snapshot or delta, applied to the book and sent to the book subscribers (and
        a quote to the quote subscribers when the best bid or ask changed)."""
        iid = update.instrument_id
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

    def on_bar(self, bar: Bar) -> None:
        """A closed bar, to the subscribers of its timeframe."""
        self._publish(self._bar_subs.get((bar.instrument_id, bar.timeframe)), bar)

    # ------------------------------------------------------------- subscriptions
    def trades(self, instrument_id: InstrumentId) -> SimSubscription[TradeTick]:
        """Public trades."""
        return self._subscribe(self._trade_subs, instrument_id)

    def quotes(self, instrument_id: InstrumentId) -> SimSubscription[QuoteTick]:
        """Best bid and ask."""
        return self._subscribe(self._quote_subs, instrument_id)

    def bars(self, instrument_id: InstrumentId, timeframe: Timeframe) -> SimSubscription[Bar]:
        """Bars of ``timeframe``."""
        return self._subscribe(self._bar_subs, (instrument_id, timeframe))

    def book(self, instrument_id: InstrumentId) -> SimSubscription[BookUpdate]:
        """The book: a snapshot, then deltas; a new snapshot when the reader fell behind."""
        book = self._books[instrument_id]
        sub: SimSubscription[BookUpdate] = self._subscribe(
            self._book_subs, instrument_id, resync=book.snapshot
        )
        sub.push(book.snapshot())
        return sub

    def subscriptions(self) -> list[SimSubscription[Any]]:
        """Every subscription still taking items: trades, quotes, books, then bars."""
        every: list[SimSubscription[Any]] = []
        for registry in (self._trade_subs, self._quote_subs, self._book_subs, self._bar_subs):
            every += [sub for subs in registry.values() for sub in subs]
        return every

    def _subscribe(
        self,
        registry: dict[_K, dict[SimSubscription[_T], None]],
        key: _K,
        *,
        resync: Callable[[], _T] | None = None,
    ) -> SimSubscription[_T]:
        subs = registry.setdefault(key, {})
        sub = SimSubscription(
            limit=self._limit,
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

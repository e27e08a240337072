"""``OrderBooks``: the latest level-2 order book of each instrument whose venue sends one.

The node feeds it its venues' book subscriptions (``VenueClient.book``: a snapshot first, then
deltas, and a fresh snapshot whenever the venue resyncs). A snapshot replaces the book; a
level-2 delta (``order_id`` 0) adds, changes or removes one price level; ``CLEAR`` empties the
book. Levels are keyed by exact price, so a book is always strictly ordered. A level-3 delta
(by order) cannot be folded into price levels without each order's size: the book becomes
unknown (``snapshot`` answers None) until the next snapshot, rather than shown wrong.
"""

from __future__ import annotations

from decimal import Decimal

from tradeforge.domain import (
    BookAction,
    BookLevel,
    BookSide,
    InstrumentId,
    OrderBookDelta,
    OrderBookSnapshot,
)

__all__ = ["OrderBooks"]


class _Book:
    __slots__ = ("asks", "bids", "sequence", "ts_event", "ts_init")

    def __init__(self, snapshot: OrderBookSnapshot) -> None:
        self.bids = {level.price.as_decimal(): level for level in snapshot.bids}
        self.asks = {level.price.as_decimal(): level for level in snapshot.asks}
        self.sequence = snapshot.sequence
        self.ts_event = snapshot.ts_event
        self.ts_init = snapshot.ts_init

    def apply(self, delta: OrderBookDelta) -> None:
        if delta.action is BookAction.CLEAR:
            self.bids, self.asks = {}, {}
        else:
            side = self.bids if delta.side is BookSide.BID else self.asks
            price = delta.price.as_decimal()
            if delta.action is BookAction.DELETE or delta.size.is_zero():
                side.pop(price, None)
            else:
                side[price] = BookLevel(delta.price, delta.size)
        self.sequence, self.ts_event, self.ts_init = delta.sequence, delta.ts_event, delta.ts_init


def _best(levels: dict[Decimal, BookLevel], depth: int | None, *, high: bool) -> list[BookLevel]:
    prices = sorted(levels, reverse=high)
    return [levels[p] for p in (prices if depth is None else prices[:depth])]


class OrderBooks:
    """The latest book per instrument (see the module docstring)."""

    def __init__(self) -> None:
        self._books: dict[InstrumentId, _Book] = {}

    def apply(self, update: OrderBookSnapshot | OrderBookDelta) -> None:
        """Fold one snapshot or delta into its instrument's book."""
        iid = update.instrument_id
        if isinstance(update, OrderBookSnapshot):
            self._books[iid] = _Book(update)
            return
        book = self._books.get(iid)
        if book is None:
            return  # a delta before any snapshot (or after a level-3 one): wait for a snapshot
        if update.order_id:
            del self._books[iid]
            return
        book.apply(update)

    def forget(self, instrument_id: InstrumentId) -> None:
        """Drop a book whose feed ended (so it is not shown as current)."""
        self._books.pop(instrument_id, None)

    def snapshot(
        self, instrument_id: InstrumentId, depth: int | None = None
    ) -> OrderBookSnapshot | None:
        """The book now, best levels first (at most ``depth`` a side), or None when none is
        known."""
        book = self._books.get(instrument_id)
        if book is None:
            return None
        return OrderBookSnapshot(
            instrument_id=instrument_id,
            bids=tuple(_best(book.bids, depth, high=True)),
            asks=tuple(_best(book.asks, depth, high=False)),
            sequence=book.sequence,
            ts_event=book.ts_event,
            ts_init=book.ts_init,
        )

    def __contains__(self, instrument_id: object) -> bool:
        return instrument_id in self._books

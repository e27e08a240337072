"""``OrderBooks``: the node's latest level-2 book per instrument, from a snapshot and deltas."""

from __future__ import annotations

from tests.kit.stubs import btcusdt

from tradeforge.domain import (
    BookAction,
    BookLevel,
    BookSide,
    OrderBookDelta,
    OrderBookSnapshot,
    Price,
    Quantity,
)
from tradeforge.engine import OrderBooks

IID = btcusdt().id


def snapshot(bids: list[tuple[str, str]], asks: list[tuple[str, str]], seq: int = 1
             ) -> OrderBookSnapshot:  # fmt: skip
    def levels(rows: list[tuple[str, str]]) -> tuple[BookLevel, ...]:
        return tuple(BookLevel(Price(p), Quantity(q)) for p, q in rows)

    return OrderBookSnapshot(instrument_id=IID, bids=levels(bids), asks=levels(asks),
                             sequence=seq, ts_event=seq, ts_init=seq)  # fmt: skip


def delta(action: BookAction, side: BookSide, price: str, size: str, seq: int, *,
          order_id: int = 0) -> OrderBookDelta:  # fmt: skip
    return OrderBookDelta(instrument_id=IID, action=action, side=side, price=Price(price),
                          size=Quantity(size), sequence=seq, order_id=order_id, ts_event=seq,
                          ts_init=seq)  # fmt: skip


def rows(book: OrderBookSnapshot | None) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    assert book is not None
    return ([(str(lv.price), str(lv.size)) for lv in book.bids],
            [(str(lv.price), str(lv.size)) for lv in book.asks])  # fmt: skip


def test_deltas_change_the_levels_of_the_last_snapshot() -> None:
    books = OrderBooks()
    assert books.snapshot(IID) is None
    books.apply(delta(BookAction.ADD, BookSide.BID, "99.00", "1.0", 1))  # before any snapshot
    assert books.snapshot(IID) is None

    books.apply(snapshot([("100.00", "1.0"), ("99.50", "2.0")], [("100.50", "1.5")], seq=2))
    books.apply(delta(BookAction.ADD, BookSide.BID, "100.10", "0.5", 3))  # a new best bid
    books.apply(delta(BookAction.UPDATE, BookSide.ASK, "100.50", "3.0", 4))
    books.apply(delta(BookAction.ADD, BookSide.ASK, "101.00", "1.0", 5))
    books.apply(delta(BookAction.DELETE, BookSide.BID, "99.50", "0", 6))
    books.apply(delta(BookAction.UPDATE, BookSide.ASK, "101.00", "0", 7))  # size 0: gone

    book = books.snapshot(IID)
    assert rows(book) == ([("100.10", "0.5"), ("100.00", "1.0")], [("100.50", "3.0")])
    assert book is not None
    assert (book.sequence, book.ts_event) == (7, 7)
    assert rows(books.snapshot(IID, depth=1)) == ([("100.10", "0.5")], [("100.50", "3.0")])

    books.apply(delta(BookAction.CLEAR, BookSide.BID, "0", "0", 8))
    assert rows(books.snapshot(IID)) == ([], [])
    books.apply(snapshot([("98.00", "1.0")], [("99.00", "1.0")], seq=9))  # a resync
    assert rows(books.snapshot(IID)) == ([("98.00", "1.0")], [("99.00", "1.0")])


def test_a_level_3_delta_makes_the_book_unknown_until_the_next_snapshot() -> None:
    books = OrderBooks()
    books.apply(snapshot([("100.00", "1.0")], [("100.50", "1.0")]))
    books.apply(delta(BookAction.ADD, BookSide.BID, "100.00", "0.2", 2, order_id=42))
    assert books.snapshot(IID) is None
    assert IID not in books
    books.apply(delta(BookAction.ADD, BookSide.BID, "100.00", "0.2", 3))
    assert books.snapshot(IID) is None
    books.apply(snapshot([("100.00", "1.2")], [("100.50", "1.0")], seq=4))
    assert rows(books.snapshot(IID)) == ([("100.00", "1.2")], [("100.50", "1.0")])
    books.forget(IID)
    assert books.snapshot(IID) is None

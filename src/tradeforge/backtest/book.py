"""``L2Book``: the venue's view of resting liquidity, from quotes or level-2 snapshots/deltas.

Market orders and marketable limits walk it for size, best level first, and consume what they
take, so two orders in the same instant never fill against the same liquidity; the next quote,
snapshot or delta from the feed replaces it.
"""

from __future__ import annotations

from decimal import Decimal

from tradeforge.domain import BookAction, BookSide, OrderBookDelta, OrderBookSnapshot

__all__ = ["L2Book"]


class L2Book:
    """Price → size on each side."""

    def __init__(self) -> None:
        self._bids: dict[Decimal, Decimal] = {}
        self._asks: dict[Decimal, Decimal] = {}

    @property
    def empty(self) -> bool:
        """True before any quote or book arrived."""
        return not self._bids and not self._asks

    @property
    def bid(self) -> Decimal | None:
        """Best (highest) bid."""
        return max(self._bids) if self._bids else None

    @property
    def ask(self) -> Decimal | None:
        """Best (lowest) ask."""
        return min(self._asks) if self._asks else None

    def set_quote(self, bid: Decimal, ask: Decimal, bid_size: Decimal, ask_size: Decimal) -> None:
        """A top-of-book quote: the whole book is these two levels."""
        self._bids = {bid: bid_size} if bid_size > 0 else {}
        self._asks = {ask: ask_size} if ask_size > 0 else {}

    def apply_snapshot(self, snapshot: OrderBookSnapshot) -> None:
        """Replace the book."""
        self._bids = {lvl.price.as_decimal(): lvl.size.as_decimal() for lvl in snapshot.bids}
        self._asks = {lvl.price.as_decimal(): lvl.size.as_decimal() for lvl in snapshot.asks}

    def apply_delta(self, delta: OrderBookDelta) -> None:
        """Change one level (or clear the book)."""
        if delta.action is BookAction.CLEAR:
            self._bids, self._asks = {}, {}
            return
        side = self._bids if delta.side is BookSide.BID else self._asks
        price, size = delta.price.as_decimal(), delta.size.as_decimal()
        if delta.action is BookAction.DELETE or size <= 0:
            side.pop(price, None)
        else:
            side[price] = size

    def levels(self, is_buy: bool) -> list[tuple[Decimal, Decimal]]:
        """What an order of that side can take, best price first (asks for a buy)."""
        side = self._asks if is_buy else self._bids
        return sorted(side.items(), reverse=not is_buy)

    def consume(self, is_buy: bool, price: Decimal, quantity: Decimal) -> None:
        """Take ``quantity`` from the level at ``price`` on the side a ``is_buy`` order hits."""
        side = self._asks if is_buy else self._bids
        left = side.get(price, Decimal(0)) - quantity
        if left > 0:
            side[price] = left
        else:
            side.pop(price, None)

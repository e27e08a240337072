"""``MarketView``: what an algorithm remembers of the market to price its children.

It keeps the latest touch (from a book or a quote), the last trade price and the last bar
close, and turns them into a child's limit price for a :class:`ChildStyle`.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from tradeforge.domain import (
    Bar,
    OrderBookSnapshot,
    OrderSide,
    Price,
    QuoteTick,
    TradeTick,
)
from tradeforge.execution.algos._exact import EXACT
from tradeforge.execution.algos.parent import ParentOrder

__all__ = ["MarketView"]


class MarketView:
    """The latest touch, trade and bar close of one instrument."""

    def __init__(self) -> None:
        self.bid: Price | None = None
        self.ask: Price | None = None
        self.last: Price | None = None
        self.close: Price | None = None

    def update_book(self, book: OrderBookSnapshot) -> None:
        """Take the touch of a book snapshot (a side with no levels clears that side)."""
        self.bid = book.bids[0].price if book.bids else None
        self.ask = book.asks[0].price if book.asks else None

    def update_quote(self, quote: QuoteTick) -> None:
        """Take the touch of a quote."""
        self.bid, self.ask = quote.bid_price, quote.ask_price

    def update_trade(self, trade: TradeTick) -> None:
        """Remember the last trade price."""
        self.last = trade.price

    def update_bar(self, bar: Bar) -> None:
        """Remember the last bar close."""
        self.close = bar.close

    def mid(self) -> Price | None:
        """The mid of the touch, else the last trade, else the last bar close, else None."""
        if self.bid is not None and self.ask is not None:
            total = EXACT.add(self.bid.as_decimal(), self.ask.as_decimal())
            return Price(EXACT.divide(total, Decimal(2)))
        return self.last if self.last is not None else self.close

    def near_touch(self, side: OrderSide) -> Price | None:
        """Best bid for a buy, best ask for a sell; the last trade or close without a touch."""
        touch = self.bid if side is OrderSide.BUY else self.ask
        if touch is not None:
            return touch
        return self.last if self.last is not None else self.close

    def limit_price(self, parent: ParentOrder, offset_ticks: int) -> Price | None:
        """A resting child's price: the near touch moved ``offset_ticks`` towards the other
        side (negative: further away), on the tick, never beyond the parent's limit.

        Falls back to the parent's limit without any market data, and None without either.
        """
        touch = self.near_touch(parent.side)
        if touch is None:
            return parent.limit_price
        inst = parent.instrument
        step = EXACT.multiply(inst.tick_size.as_decimal(), Decimal(offset_ticks * parent.side.sign))
        # A touch off the tick (a trade printed elsewhere) rounds to the passive side.
        rounding = ROUND_FLOOR if parent.side is OrderSide.BUY else ROUND_CEILING
        price = inst.make_price(EXACT.add(touch.as_decimal(), step), rounding=rounding)
        limit = parent.limit_price
        if limit is not None and not parent.within_limit(price):
            return limit
        return price

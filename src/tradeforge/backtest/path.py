"""How a moving market reaches working orders: the open of a bar, the legs of its path, a trade.

``PathWalking`` is the part of the matching engine that decides which order acts at which price
and in which order; the engine decides what acting means (fill, trigger, cancel). Orders act at
their own level in the order the market reaches them, ties in order of arrival (price-time
priority). See ``docs/backtesting.md`` for the path of a bar.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from tradeforge.backtest.working_order import WorkingOrder
from tradeforge.domain import ClientOrderId, LiquiditySide, TimeInForce

__all__ = ["IMMEDIATE", "MAKER", "TAKER", "PathWalking"]

MAKER: Final = LiquiditySide.MAKER
TAKER: Final = LiquiditySide.TAKER
IMMEDIATE: Final = (TimeInForce.IOC, TimeInForce.FOK)


class PathWalking:
    """Mixin of ``MatchingEngine``: walks prices past the working orders."""

    _orders: dict[ClientOrderId, WorkingOrder]
    _tick: Decimal
    _last: Decimal | None

    # provided by the engine
    def orders(self) -> list[WorkingOrder]:
        raise NotImplementedError

    def _fill(self, order: WorkingOrder, price: Decimal, liquidity: LiquiditySide, ts: int) -> None:
        raise NotImplementedError

    def _trigger(self, order: WorkingOrder, ts: int) -> None:
        raise NotImplementedError

    def _close(self, order: WorkingOrder, reason: str, ts: int, *, cascade: bool = True) -> None:
        raise NotImplementedError

    def _close_rest(self, order: WorkingOrder, ts: int, unfilled: str) -> None:
        # What an IOC/FOK order could not fill at once is canceled.
        self._close(order, "IOC remainder" if order.filled else unfilled, ts)

    def _working(self, order: WorkingOrder) -> bool:
        return not order.held and order.id in self._orders

    def _expired(self, order: WorkingOrder, ts: int) -> bool:
        if order.expire_ns is not None and order.expire_ns <= ts:
            self._close(order, "expired", order.expire_ns)
            return True
        return False

    # ------------------------------------------------------------- the open
    def _open(self, prev: Decimal | None, o: Decimal, ts: int) -> None:
        """The bar opens at ``o`` after ``prev``: waiting orders fill, gapped-through ones act
        at the open. Orders that arrived marketable, just triggered or IOC/FOK are takers."""
        self._last = o
        for order in self.orders():
            if not self._working(order):
                continue
            triggered_now = False
            if not order.triggered:
                order.trail(o, self._tick)
                if order.beyond(o) if prev is None else self._gapped(order, prev, o):
                    self._trigger(order, ts)
                    triggered_now = True
            if order.triggered and self._working(order):
                taker = (
                    order.is_market
                    or triggered_now
                    or order.marketable_on_arrival
                    or order.time_in_force in IMMEDIATE
                )
                if order.is_market:
                    self._fill(order, o, TAKER, ts)
                elif order.crosses(o):
                    self._fill(order, o, TAKER if taker else MAKER, ts)
            order.marketable_on_arrival = False
            if order.triggered and self._working(order) and order.time_in_force in IMMEDIATE:
                self._close_rest(order, ts, "not filled at open")

    @staticmethod
    def _gapped(order: WorkingOrder, prev: Decimal, o: Decimal) -> bool:
        up = o > prev
        level = order.level(up)
        return level is not None and (prev < level <= o if up else o <= level < prev)

    # ----------------------------------------------------------------- legs
    def _move(self, a: Decimal, b: Decimal, ts: int) -> None:
        """The market moves from ``a`` to ``b``: every order on the way acts at its level."""
        if a == b:
            return
        up = b > a
        cur = a
        while True:
            hits = self._next_hits(cur, b, up)
            if hits is None:
                break
            level, found = hits
            cur = self._last = level
            for order in found:
                if self._working(order) and not self._expired(order, ts):
                    self._act(order, level, ts)
        self._last = b
        for order in self.orders():
            if not order.triggered:
                order.trail(b, self._tick)

    def _next_hits(
        self, cur: Decimal, end: Decimal, up: bool
    ) -> tuple[Decimal, list[WorkingOrder]] | None:
        best: Decimal | None = None
        found: list[WorkingOrder] = []
        for order in self._orders.values():
            level = order.level(up)
            if level is None or not (cur < level <= end if up else end <= level < cur):
                continue
            if best is None or (level < best if up else level > best):
                best, found = level, [order]
            elif level == best:
                found.append(order)
        if best is None:
            return None
        found.sort(key=lambda o: o.seq)
        return best, found

    def _act(self, order: WorkingOrder, level: Decimal, ts: int) -> None:
        if order.triggered:
            self._fill(order, level, MAKER, ts)  # a resting limit reached by the market
            return
        self._trigger(order, ts)
        if not self._working(order):
            return
        if order.is_market or (order.crosses(level)):
            self._fill(order, level, TAKER, ts)
        if self._working(order) and order.time_in_force in IMMEDIATE:
            self._close(order, "IOC remainder", ts)

    # --------------------------------------------------------------- trades
    def _sweep(self, px: Decimal, ts: int) -> None:
        """After a trade at ``px``: orders the market is already beyond act at ``px`` (a
        resting limit at its own price), whether or not this trade crossed their level."""
        for order in self.orders():
            if not self._working(order) or self._expired(order, ts):
                continue
            if not order.triggered:
                if not order.beyond(px):
                    continue
                self._trigger(order, ts)
                if order.is_market or (order.crosses(px)):
                    self._fill(order, px, TAKER, ts)
            elif order.is_market or (order.marketable_on_arrival and order.crosses(px)):
                self._fill(order, px, TAKER, ts)  # it was waiting for this trade
            elif order.price is not None and order.crosses(px):
                self._fill(order, order.price, MAKER, ts)

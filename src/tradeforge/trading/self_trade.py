"""R14 self-trade prevention: an account's resting limit orders, and whether a new order of the
same account would trade against one of them.

Venues call this STP. Binance applies it at matching time with a mode per order:
``EXPIRE_TAKER`` (the incoming order is expired), ``EXPIRE_MAKER`` (the resting one is) or
``EXPIRE_BOTH``; CME's self-match prevention likewise cancels the resting or the aggressing
order. Before an order leaves the node only the incoming one can be stopped, so the one mode
here is ``expire_taker``: the new order is refused (``SELF_TRADE``) and the resting order stays.
Expiring the resting order instead would need its cancel confirmed before the new order is
sent; that is the node's to do and is not built.

What counts as resting: an open order of the account in the instrument with a limit price
(``LIMIT``; a stop-limit or limit-if-touched once the venue says it triggered would too, but
the venue reports triggering separately, so those are not counted). A new buy crosses a resting
sell at ``q`` when it has no price (a market order) or its price is ``>= q``; a sell crosses a
resting buy at ``q`` when it has no price or its price is ``<= q``. The price is the order's
limit price; a stop-market's is its trigger (once triggered it trades at about that price, so
into the account's own order if that is at or beyond it).
"""

from __future__ import annotations

from decimal import Decimal

from tradeforge.domain import (
    AccountId,
    ClientOrderId,
    DenyReason,
    InstrumentId,
    OrderSide,
)
from tradeforge.trading.risk_checks import Denial

__all__ = ["STP_MODES", "RestingOrders"]

STP_MODES = frozenset({"expire_taker"})
"""The values ``self_trade_prevention`` takes (see the module docstring)."""

_Key = tuple[AccountId | None, InstrumentId, OrderSide]


class RestingOrders:
    """The limit orders each account has resting, by instrument and side."""

    __slots__ = ("_books", "_where")

    def __init__(self) -> None:
        self._books: dict[_Key, dict[ClientOrderId, Decimal]] = {}
        self._where: dict[ClientOrderId, _Key] = {}

    def __len__(self) -> int:
        return len(self._where)

    def add(
        self,
        client_order_id: ClientOrderId,
        account_id: AccountId | None,
        instrument_id: InstrumentId,
        side: OrderSide,
        price: Decimal,
    ) -> None:
        """An order now rests at ``price``."""
        key = (account_id, instrument_id, side)
        self._books.setdefault(key, {})[client_order_id] = price
        self._where[client_order_id] = key

    def move(self, client_order_id: ClientOrderId, price: Decimal) -> None:
        """A resting order's price changed (a modify the venue applied)."""
        key = self._where.get(client_order_id)
        if key is not None:
            self._books[key][client_order_id] = price

    def remove(self, client_order_id: ClientOrderId) -> None:
        """An order no longer rests (filled, cancelled, expired, rejected)."""
        key = self._where.pop(client_order_id, None)
        if key is not None:
            book = self._books[key]
            del book[client_order_id]
            if not book:
                del self._books[key]

    def __contains__(self, client_order_id: object) -> bool:
        return client_order_id in self._where

    def check(
        self,
        account_id: AccountId | None,
        instrument_id: InstrumentId,
        side: OrderSide,
        price: Decimal | None,
        *,
        skip: ClientOrderId | None = None,
    ) -> Denial | None:
        """``SELF_TRADE`` when an order of ``side`` at ``price`` (None: at market) would trade
        against one of the account's resting orders (``skip``: the order being modified)."""
        buying = side is OrderSide.BUY
        book = self._books.get(
            (account_id, instrument_id, OrderSide.SELL if buying else OrderSide.BUY)
        )
        if not book:
            return None
        best_id: ClientOrderId | None = None
        best = Decimal(0)
        for cid, resting in book.items():
            if cid == skip:
                continue
            if best_id is None or (resting < best if buying else resting > best):
                best_id, best = cid, resting
        if best_id is None:
            return None
        if price is not None and (price < best if buying else price > best):
            return None
        at = "at market" if price is None else f"at {price.normalize():f}"
        other = "sell" if buying else "buy"
        return DenyReason.SELF_TRADE, (
            f"{side.value.lower()} {at} would trade against the account's own resting {other} "
            f"{best_id} at {best.normalize():f} (self-trade prevention: expire_taker)"
        )

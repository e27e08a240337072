"""What a matching engine tells its venue: the port between matching and account keeping."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from tradeforge.backtest.working_order import WorkingOrder
from tradeforge.domain import ClientOrderId, LiquiditySide, OrderSpec, RejectReason

__all__ = ["MatchListener"]


class MatchListener(Protocol):
    """Receives every outcome of a matching engine, in the order it happened."""

    def order_accepted(self, order: WorkingOrder, ts: int) -> None: ...

    def order_rejected(
        self, spec: OrderSpec, reason: RejectReason, message: str, ts: int
    ) -> None: ...

    def order_triggered(self, order: WorkingOrder, ts: int) -> None: ...

    def order_filled(
        self,
        order: WorkingOrder,
        quantity: Decimal,
        price: Decimal,
        liquidity: LiquiditySide,
        ts: int,
    ) -> None: ...

    def order_canceled(self, order: WorkingOrder, reason: str, ts: int) -> None: ...

    def order_expired(self, order: WorkingOrder, ts: int) -> None: ...

    def order_updated(self, order: WorkingOrder, ts: int) -> None: ...

    def modify_rejected(
        self, client_order_id: ClientOrderId, reason: RejectReason, message: str, ts: int
    ) -> None: ...

    def cancel_rejected(
        self, client_order_id: ClientOrderId, reason: RejectReason, message: str, ts: int
    ) -> None: ...

    def fill_refusal(
        self, order: WorkingOrder, quantity: Decimal, price: Decimal
    ) -> RejectReason | None:
        """Why the venue cannot book this fill now (e.g. insufficient balance), or None."""
        ...

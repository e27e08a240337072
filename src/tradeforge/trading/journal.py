"""The ``OrderJournal`` port: where the OMS writes every order event before acting on it.

``tradeforge.store`` implements it on SQLite or PostgreSQL. The rules the OMS relies on:

- ``append`` is durable when it returns (the order is journaled before it is sent);
- appending the same event twice stores it once and returns False (a fill is identified by
  its venue and trade id), so replays and duplicate reports are harmless;
- ``events()`` gives every event back in the order appended, to rebuild the OMS after a crash.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from tradeforge.domain import Order, OrderDenied, OrderEvent, StrategyId

__all__ = ["OrderJournal"]


class OrderJournal(Protocol):
    """Append-only order events plus the projections the services query."""

    def append(self, event: OrderEvent, order: Order | None = None) -> bool:
        """Journal ``event`` (and ``order``, its state after it); False if already journaled."""
        ...

    def events(self) -> Iterator[OrderEvent]:
        """Every journaled event, oldest first."""
        ...

    def open_orders(self) -> list[dict[str, Any]]:
        """The projection rows of orders not yet closed."""
        ...

    def fills(self, client_order_id: str | None = None) -> list[dict[str, Any]]:
        """Journaled fills (of one order, or all), oldest first."""
        ...

    def denials(self, strategy_id: StrategyId | None = None, limit: int = 100) -> list[OrderDenied]:
        """The most recent pre-trade refusals, newest first."""
        ...

    def save_state(self, key: str, body: dict[str, Any], ts_ns: int) -> None:
        """Keep a piece of service state (a kill switch, a disabled strategy) across restarts."""
        ...

    def load_state(self, key: str) -> dict[str, Any] | None:
        """A piece of state saved earlier, or None."""
        ...

"""``CcxtOrderReports``: CCXT orders as ``OrderStatusReport``, and our ids for the venue's.

A venue's trade list names its own order ids, not ours: every order read is remembered (venue
order id -> client order id) so that fills can name the client order id they belong to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tradeforge.connectors.ccxt_convert import report_from_order
from tradeforge.domain import AccountId, Instrument, OrderStatusReport

__all__ = ["CcxtOrderReports"]


class CcxtOrderReports:
    """Reads a CCXT venue's orders as reports of ``account_id``, learning its order ids."""

    def __init__(self, account_id: AccountId, now_ns: Callable[[], int]) -> None:
        self._account_id = account_id
        self._now_ns = now_ns
        self._client_ids: dict[str, str] = {}  # venue order id -> our client order id

    def report(self, order: dict[str, Any], inst: Instrument) -> OrderStatusReport:
        """The report of a CCXT order (remembered for :meth:`client_order_id`)."""
        self.remember(order)
        if str(order.get("type")).lower() == "market":
            # CCXT puts a market order's average fill price in ``price``: off the tick once
            # the order has walked the book. A market order has no price of its own.
            order = {**order, "price": None}
        return report_from_order(order, inst, self._account_id, self._now_ns())

    def remember(self, order: dict[str, Any]) -> None:
        """Note which client order id a CCXT order's venue order id stands for."""
        if order.get("clientOrderId"):
            self._client_ids[str(order["id"])] = str(order["clientOrderId"])

    def knows(self, venue_order_id: str) -> bool:
        """Whether the client order id of ``venue_order_id`` is known."""
        return venue_order_id in self._client_ids

    def client_order_id(self, venue_order_id: str) -> str | None:
        """Our client order id for ``venue_order_id``, when known."""
        return self._client_ids.get(venue_order_id)

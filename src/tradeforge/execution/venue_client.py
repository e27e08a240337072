"""The ``VenueClient`` port: everything the execution service needs from a trading venue.

The execution service owns this interface; ``tradeforge.connectors`` implements it (the CCXT
venue for real exchanges, the in-process simulated venue for paper trading). Everything crosses
it as domain types, and every failure as an error of the domain taxonomy
(``tradeforge.domain.errors``), so callers never see a library's exceptions:

- ``RequestError`` subclasses (``InvalidOrder``, ``InsufficientFunds``, ``UnknownInstrument``,
  ``UnknownOrder``, the connectors' ``AuthFailed`` and ``ClockSkew``): the venue refused; do not
  retry unchanged.
- ``RateLimited`` / ``TemporaryError``: nothing was decided, or (``UnknownOutcome``) the venue
  may or may not have acted. ``submit`` raises ``UnknownOutcome`` only after it has looked the
  order up by its client order id and not found it: it never re-sends an order by itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from tradeforge.domain import (
    AccountBalance,
    Bar,
    ClientOrderId,
    FillReport,
    Instrument,
    InstrumentId,
    OrderBookDelta,
    OrderBookSnapshot,
    OrderList,
    OrderSpec,
    OrderStatusReport,
    Price,
    Quantity,
    QuoteTick,
    Timeframe,
    TradeTick,
    Venue,
)

__all__ = [
    "BookUpdate",
    "HeartbeatClient",
    "OcoVenueClient",
    "OrderUpdate",
    "VenueCapabilities",
    "VenueClient",
]

BookUpdate = OrderBookSnapshot | OrderBookDelta
"""What a book subscription yields: a whole book (first, and after every resync) or a change."""

OrderUpdate = OrderStatusReport | FillReport
"""What the own-orders subscription yields."""


@dataclass(frozen=True)
class VenueCapabilities:
    """What a venue can do, so callers choose a path instead of failing at run time.

    Where a venue lacks an order type (``stop_orders``, ``trailing_stop_orders``,
    ``if_touched_orders``) the node holds the order and triggers it itself; where it lacks
    ``oco_orders`` the node links the pair itself (two separate orders at the venue).
    """

    modify_order: bool = False
    stop_orders: bool = True
    trailing_stop_orders: bool = False
    if_touched_orders: bool = False
    oco_orders: bool = False
    post_only: bool = True
    reduce_only: bool = False
    fetch_order_by_client_id: bool = True
    watch_trades: bool = True
    watch_quotes: bool = True
    watch_book: bool = True
    watch_bars: bool = True
    watch_orders: bool = True


@runtime_checkable
class VenueClient(Protocol):
    """One venue account, in domain terms (see the module docstring for errors)."""

    venue: Venue
    capabilities: VenueCapabilities

    async def connect(self) -> None:
        """Open sessions and load what the other calls need (instruments, server time)."""
        ...

    async def close(self) -> None:
        """Close sessions and subscriptions."""
        ...

    async def instruments(self) -> list[Instrument]:
        """The venue's instruments, with tick, lot, minimum quantity and notional."""
        ...

    async def balances(self) -> list[AccountBalance]:
        """The account's balances (total, locked, free) in every currency it holds."""
        ...

    async def submit(self, spec: OrderSpec) -> OrderStatusReport:
        """Send a new order; the venue's report of it once accepted (or filled)."""
        ...

    async def cancel(
        self, instrument_id: InstrumentId, client_order_id: ClientOrderId
    ) -> OrderStatusReport:
        """Cancel an open order; the venue's report of it after the cancel."""
        ...

    async def modify(
        self,
        instrument_id: InstrumentId,
        client_order_id: ClientOrderId,
        *,
        quantity: Quantity | None = None,
        price: Price | None = None,
        trigger_price: Price | None = None,
    ) -> OrderStatusReport:
        """Change an open order where the venue allows it (``capabilities.modify_order``)."""
        ...

    async def order_status(
        self, instrument_id: InstrumentId, client_order_id: ClientOrderId
    ) -> OrderStatusReport | None:
        """The order with this client order id, or None when the venue does not know it."""
        ...

    async def open_orders(
        self, instrument_id: InstrumentId | None = None
    ) -> list[OrderStatusReport]:
        """Open orders, of one instrument or all."""
        ...

    async def fills(
        self, instrument_id: InstrumentId, *, since_ns: int | None = None
    ) -> list[FillReport]:
        """The account's executions in one instrument, oldest first."""
        ...

    def trades(self, instrument_id: InstrumentId) -> AsyncIterator[TradeTick]:
        """Public trades, as they happen."""
        ...

    def quotes(self, instrument_id: InstrumentId) -> AsyncIterator[QuoteTick]:
        """Best bid and ask, whenever either changes."""
        ...

    def book(self, instrument_id: InstrumentId) -> AsyncIterator[BookUpdate]:
        """The level-2 book: a snapshot, then deltas; a new snapshot after every resync."""
        ...

    def bars(self, instrument_id: InstrumentId, timeframe: Timeframe) -> AsyncIterator[Bar]:
        """Bars of ``timeframe``, each once it has closed."""
        ...

    def order_updates(self) -> AsyncIterator[OrderUpdate]:
        """The account's own order reports and fills, as the venue pushes them."""
        ...


@runtime_checkable
class OcoVenueClient(VenueClient, Protocol):
    """A venue that takes an OCO pair as one order list (``capabilities.oco_orders``)."""

    async def submit_oco(self, order_list: OrderList) -> list[OrderStatusReport]:
        """Send the two orders of an OCO ``order_list`` as one native list (both or neither);
        the venue's report of each, in the list's order. Errors as ``submit``: a refusal
        refuses both; an unknown outcome is raised only after both were looked up by client
        order id and neither was found."""
        ...


@runtime_checkable
class HeartbeatClient(VenueClient, Protocol):
    """A venue client with a cheap round trip for liveness checks."""

    async def ping(self) -> None:
        """One cheap request to the venue; raises what the request raised."""
        ...

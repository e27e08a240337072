"""Exchange connectors: venue clients, the simulated exchange, and resilience at the edge.

``SimVenueClient`` is the ``sim`` venue: the ``VenueClient`` port over the in-process simulated
venue, for paper trading with no server.

Resilience building blocks live in :mod:`tradeforge.connectors.resilience`.
"""

from tradeforge.connectors.egress import EgressGuard, refused_address
from tradeforge.connectors.errors import (
    AuthFailed,
    BookInvalid,
    CircuitOpen,
    ClockSkew,
    UnknownOutcome,
    WriteRetryRefused,
)
from tradeforge.connectors.order_book_sync import (
    BookLevel,
    DepthDiff,
    DepthSnapshot,
    OrderBookSync,
    SyncResult,
    SyncState,
    book_checksum,
    run_order_book_sync,
)
from tradeforge.connectors.sim_venue import SimVenueClient

__all__ = [
    "AuthFailed",
    "BookInvalid",
    "BookLevel",
    "CircuitOpen",
    "ClockSkew",
    "DepthDiff",
    "DepthSnapshot",
    "EgressGuard",
    "OrderBookSync",
    "SimVenueClient",
    "SyncResult",
    "SyncState",
    "refused_address",
    "UnknownOutcome",
    "WriteRetryRefused",
    "book_checksum",
    "run_order_book_sync",
]

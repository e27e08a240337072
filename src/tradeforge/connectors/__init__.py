"""Exchange connectors: venue clients, the simulated exchange, and resilience at the edge.

Resilience building blocks live in :mod:`tradeforge.connectors.resilience`.
"""

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

__all__ = [
    "AuthFailed",
    "BookInvalid",
    "BookLevel",
    "CircuitOpen",
    "ClockSkew",
    "DepthDiff",
    "DepthSnapshot",
    "OrderBookSync",
    "SyncResult",
    "SyncState",
    "UnknownOutcome",
    "WriteRetryRefused",
    "book_checksum",
    "run_order_book_sync",
]

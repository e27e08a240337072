"""Execution service: routing, execution algorithms and reconciliation; owns the ``VenueClient``
port that ``tradeforge.connectors`` implements."""

from tradeforge.execution.venue_client import (
    BookUpdate,
    OrderUpdate,
    VenueCapabilities,
    VenueClient,
)

__all__ = ["BookUpdate", "OrderUpdate", "VenueCapabilities", "VenueClient"]

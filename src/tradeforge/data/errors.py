"""Errors the data service raises, sorted by what the caller should do.

::

    TradeForgeError
    ├── RequestError
    │   ├── InvalidValue
    │   │   └── InvalidBars       bar arrays that break an invariant: names the bar, the
    │   │                         column and the value (also raised for an out-of-order append)
    │   ├── BadDataFile           a file to import is unreadable or wrong: names the file, the
    │   │                         line (or row) and the column
    │   └── DatasetNotFound       no dataset for that instrument and timeframe: names those that
    │                             exist
    └── OperatorError
        └── CatalogCorrupt        a dataset on disk cannot be read back: names the path

Nothing is written when any of these is raised by a write.
"""

from __future__ import annotations

from tradeforge.domain.errors import InvalidValue, OperatorError, RequestError

__all__ = ["BadDataFile", "CatalogCorrupt", "DatasetNotFound", "InvalidBars"]


class InvalidBars(InvalidValue):
    """Bar arrays break an invariant (order, OHLC consistency, finite positive prices)."""


class BadDataFile(RequestError):
    """A file to import cannot be read or holds bad data; names the file, line and column."""


class DatasetNotFound(RequestError):
    """The catalog has no dataset for that instrument and timeframe."""


class CatalogCorrupt(OperatorError):
    """A dataset on disk cannot be read back (damaged or foreign files); names the path."""

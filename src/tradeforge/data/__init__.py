"""Data service: normalisation, bar aggregation, the Parquet history catalog, live ingestion.

Only its settings exist so far.
"""

from tradeforge.data.config import DataConfig

__all__ = ["DataConfig"]

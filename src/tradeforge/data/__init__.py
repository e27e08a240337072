"""Data service: the Parquet history catalog, file import, synthetic bars, resampling.

Normalisation of live feeds, TA-Lib indicators and real-time ingestion come later.
"""

from tradeforge.data.bars import BAR_COLUMNS, BarArrays, BarProblem
from tradeforge.data.catalog import Catalog, Progress, WriteMode
from tradeforge.data.columns import ALIASES
from tradeforge.data.config import DataConfig
from tradeforge.data.dataset import DatasetInfo
from tradeforge.data.errors import BadDataFile, CatalogCorrupt, DatasetNotFound, InvalidBars
from tradeforge.data.importer import import_bars
from tradeforge.data.layout import canonical_timeframe, escape_symbol, unescape_symbol
from tradeforge.data.precision import infer_precision
from tradeforge.data.resample import BarResampler, resample
from tradeforge.data.synthetic import generate_bar_chunks, generate_bars
from tradeforge.data.timestamps import format_utc_ns, parse_utc_ns

__all__ = [
    "ALIASES",
    "BAR_COLUMNS",
    "BadDataFile",
    "BarArrays",
    "BarProblem",
    "BarResampler",
    "Catalog",
    "CatalogCorrupt",
    "DataConfig",
    "DatasetInfo",
    "DatasetNotFound",
    "InvalidBars",
    "Progress",
    "WriteMode",
    "canonical_timeframe",
    "escape_symbol",
    "format_utc_ns",
    "generate_bar_chunks",
    "generate_bars",
    "import_bars",
    "infer_precision",
    "parse_utc_ns",
    "resample",
    "unescape_symbol",
]

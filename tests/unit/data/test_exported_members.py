from __future__ import annotations

import tradeforge.data


def test_public_api_is_pinned() -> None:
    assert tradeforge.data.__all__ == [
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


def test_every_public_name_resolves() -> None:
    missing = [name for name in tradeforge.data.__all__ if not hasattr(tradeforge.data, name)]

    assert missing == []

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeforge.data import canonical_timeframe, escape_symbol, unescape_symbol
from tradeforge.data.layout import dataset_dir
from tradeforge.domain import InstrumentId, InvalidValue, Timeframe

PRINTABLE = "".join(chr(c) for c in range(0x21, 0x7F))


@pytest.mark.parametrize(
    ("symbol", "escaped"),
    [
        ("BTC/USDT", "BTC%2FUSDT"),
        ("BTC-USDT", "BTC-USDT"),
        ("BTC/USDT:USDT", "BTC%2FUSDT%3AUSDT"),
        ("BRK.B", "BRK.B"),
        ("^GSPC", "%5EGSPC"),
        ("50%OFF", "50%25OFF"),
        (".", "%2E"),
        ("..", "%2E."),
        ("a\\b*c", "a%5Cb%2Ac"),
    ],
)
def test_symbols_become_safe_directory_names(symbol: str, escaped: str) -> None:
    assert escape_symbol(symbol) == escaped
    assert unescape_symbol(escaped) == symbol


@given(st.text(alphabet=PRINTABLE, min_size=1, max_size=64))
def test_escaping_is_reversible_and_file_system_safe(symbol: str) -> None:
    name = escape_symbol(symbol)

    assert unescape_symbol(name) == symbol
    assert set(name) <= set(string.ascii_letters + string.digits + "-_.%")
    assert not name.startswith(".")


def test_distinct_symbols_never_share_a_directory() -> None:
    names = {escape_symbol(s) for s in ("BTC/USDT", "BTC-USDT", "BTC%2FUSDT", "BTC_USDT")}

    assert len(names) == 4


@pytest.mark.parametrize("name", ["50%", "%zz", "%2f"])
def test_unescaping_refuses_names_escape_never_makes(name: str) -> None:
    with pytest.raises(InvalidValue):
        unescape_symbol(name)


@pytest.mark.parametrize(
    ("given", "canonical"),
    [("60s", "1m"), ("90s", "90s"), ("1440m", "1d"), ("14d", "2w"), ("4h", "4h")],
)
def test_timeframes_use_their_largest_whole_unit(given: str, canonical: str) -> None:
    assert str(canonical_timeframe(Timeframe.from_str(given))) == canonical


def test_dataset_directory(tmp_path: Path) -> None:
    path = dataset_dir(
        tmp_path, InstrumentId.from_str("BTC/USDT.BINANCE"), Timeframe.from_str("60m")
    )

    assert path == tmp_path / "bars" / "BINANCE" / "BTC%2FUSDT" / "1h"

from __future__ import annotations

import numpy as np
import pytest

from tradeforge.data import format_utc_ns, parse_utc_ns
from tradeforge.data.timestamps import year_of_ns, year_start_ns
from tradeforge.domain import InvalidValue

NEW_YEAR_2020 = 1_577_836_800 * 10**9


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-01-01", NEW_YEAR_2020),
        ("2020-01-01T00:00:00Z", NEW_YEAR_2020),
        ("2020-01-01 02:00:00+02:00", NEW_YEAR_2020),
        ("2020-01-01T00:00:00.25", NEW_YEAR_2020 + 250_000_000),
    ],
)
def test_parse_iso_8601_with_naive_as_utc(text: str, expected: int) -> None:
    assert parse_utc_ns(text) == expected


def test_parse_refuses_other_text() -> None:
    with pytest.raises(InvalidValue, match=r"time must be ISO-8601 .* got 'soon'"):
        parse_utc_ns("soon")


@pytest.mark.parametrize(
    ("ts", "text"),
    [
        (NEW_YEAR_2020, "2020-01-01T00:00:00Z"),
        (NEW_YEAR_2020 + 1, "2020-01-01T00:00:00.000000001Z"),
        (NEW_YEAR_2020 + 500_000_000, "2020-01-01T00:00:00.5Z"),
        (-(10**9), "1969-12-31T23:59:59Z"),
    ],
)
def test_format_shows_fractions_only_when_present(ts: int, text: str) -> None:
    assert format_utc_ns(ts) == text


def test_years() -> None:
    stamps = np.array(
        [year_start_ns(2020) - 1, year_start_ns(2020), NEW_YEAR_2020 + 10**15], dtype=np.int64
    )

    assert year_of_ns(stamps).tolist() == [2019, 2020, 2020]
    assert year_start_ns(2020) == NEW_YEAR_2020

from __future__ import annotations

import numpy as np
import pytest

from tradeforge.data import BarArrays, InvalidBars, parse_utc_ns
from tradeforge.domain import Timeframe

T0 = parse_utc_ns("2020-01-01")
MINUTE = 60_000_000_000


def _bars(rows: int = 5) -> BarArrays:
    price = 100.0 + np.arange(rows, dtype=np.float64)
    return BarArrays(
        T0 + np.arange(rows, dtype=np.int64) * MINUTE,
        price,
        price + 1,
        price - 1,
        price + 0.5,
        np.full(rows, 2.0),
    )


def _with(bars: BarArrays, column: str, row: int, value: float) -> BarArrays:
    arrays = {
        name: getattr(bars, name).copy()
        for name in ("ts", "open", "high", "low", "close", "volume")
    }
    arrays[column][row] = value
    return BarArrays(**arrays)


def test_length_and_slices_are_views() -> None:
    bars = _bars(5)

    middle = bars[1:3]

    assert len(bars) == 5
    assert middle.ts.tolist() == [T0 + MINUTE, T0 + 2 * MINUTE]
    assert np.shares_memory(middle.close, bars.close)


def test_head_tail_and_between() -> None:
    bars = _bars(5)

    assert bars.head(2).ts.tolist() == bars.ts[:2].tolist()
    assert bars.tail(2).ts.tolist() == bars.ts[3:].tolist()
    assert bars.tail(9).ts.tolist() == bars.ts.tolist()
    assert bars.between(T0 + MINUTE, T0 + 3 * MINUTE).ts.tolist() == bars.ts[1:3].tolist()
    assert len(bars.between(T0 + 9 * MINUTE)) == 0


def test_concat_and_empty() -> None:
    bars = _bars(4)

    joined = BarArrays.concat([bars[:1], BarArrays.empty(), bars[1:]])

    assert joined.ts.tolist() == bars.ts.tolist()
    assert len(BarArrays.concat([])) == 0


def test_wrong_dtype_is_refused_naming_the_column() -> None:
    bars = _bars(2)

    with pytest.raises(
        InvalidBars, match=r"bar column 'volume' must be a 1-d float64 array, got 1-d int64"
    ):
        BarArrays(bars.ts, bars.open, bars.high, bars.low, bars.close, np.array([1, 2]))


def test_unequal_lengths_are_refused() -> None:
    bars = _bars(3)

    with pytest.raises(InvalidBars, match=r"'ts' has 3, 'close' has 2"):
        BarArrays(bars.ts, bars.open, bars.high, bars.low, bars.close[:2], bars.volume)


def test_valid_bars_have_no_problem() -> None:
    assert _bars().first_problem(Timeframe.from_str("1m")) is None


@pytest.mark.parametrize(
    ("column", "row", "value", "message"),
    [
        ("high", 2, 50.0, "bar 2 (2020-01-01T00:02:00Z), column 'high': high 50 is below low 101"),
        ("open", 1, 0.0, "bar 1 (2020-01-01T00:01:00Z), column 'open': open 0 is not positive"),
        (
            "close",
            3,
            200.0,
            "bar 3 (2020-01-01T00:03:00Z), column 'close': "
            "close 200 is outside low 102 .. high 104",
        ),
        (
            "volume",
            4,
            -1.5,
            "bar 4 (2020-01-01T00:04:00Z), column 'volume': volume -1.5 is negative",
        ),
        ("low", 0, float("nan"), "bar 0 (2020-01-01T00:00:00Z), column 'low': missing value"),
        (
            "high",
            0,
            float("inf"),
            "bar 0 (2020-01-01T00:00:00Z), column 'high': high is not finite",
        ),
    ],
)
def test_validate_names_bar_time_and_column(
    column: str, row: int, value: float, message: str
) -> None:
    bars = _with(_bars(), column, row, value)

    with pytest.raises(InvalidBars) as caught:
        bars.validate()

    assert str(caught.value) == message


def test_timestamps_must_increase_by_at_least_the_timeframe() -> None:
    bars = _bars(3)

    problem = bars.first_problem(Timeframe.from_str("5m"))

    assert problem is not None
    assert (problem.row, problem.column) == (1, "ts")
    assert "5m bars must be at least 5m apart" in problem.message
    assert bars.first_problem() is None


def test_the_earliest_row_wins_and_at_one_row_the_order_is_fixed() -> None:
    bars = _with(_with(_bars(), "volume", 3, -1.0), "high", 1, 0.5)  # high 0.5 < low and > 0

    problem = bars.first_problem()

    assert problem is not None
    assert (problem.row, problem.column) == (1, "high")

"""Indicators: computed over the whole history in a backtest and over a rolling window live, and
the two agree bar by bar (exactly for finite-window functions, to floating-point noise for
recursive ones, as the module promises); reading backwards; crosses; refusals."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from tradeforge.backtest import run
from tradeforge.data import BarArrays, generate_bars
from tradeforge.domain import InstrumentId, InvalidValue, Timeframe
from tradeforge.strategy import BarLike, Indicator, RollingWindow, Strategy

IID = InstrumentId.from_str("BTC/USDT.SIM")
START = 1_577_836_800_000_000_000  # 2020-01-01
COLUMNS = ("open", "high", "low", "close", "volume")
F64 = npt.NDArray[np.float64]

# (function, parameters, output) — the indicators the module names as finite-window or recursive.
SMA10 = ("SMA", {"timeperiod": 10}, 0)
BB_UPPER = ("BBANDS", {"timeperiod": 20}, "upperband")
BB_MIDDLE = ("BBANDS", {"timeperiod": 20}, "middleband")
BB_LOWER = ("BBANDS", {"timeperiod": 20}, "lowerband")
MAX14 = ("MAX", {"timeperiod": 14}, 0)
EMA10 = ("EMA", {"timeperiod": 10}, 0)
RSI14 = ("RSI", {"timeperiod": 14}, 0)
Spec = tuple[str, dict[str, Any], str | int]

MINUTE = Timeframe.from_str("1m")


@pytest.fixture(scope="module")
def bars() -> BarArrays:
    # 10,000 minutes span three of the 4,096-bar blocks indicators are computed in.
    return generate_bars(bars=10_000, seed=3, timeframe=MINUTE, start_ns=START)


def columns(bars: BarArrays) -> dict[str, F64]:
    return {c: getattr(bars, c) for c in COLUMNS}


def indicator(spec: Spec) -> Indicator:
    function, params, output = spec
    return Indicator(function, output=output, **params)


def live_values(spec: Spec, bars: BarArrays) -> F64:
    """``ind[-1]`` after each bar, fed one by one to a ``RollingWindow`` as live trading does."""
    ind = indicator(spec)
    window = RollingWindow([ind], MINUTE)
    seen = []
    for i in range(len(bars)):
        window.update(int(bars.ts[i]), {c: float(getattr(bars, c)[i]) for c in COLUMNS})
        seen.append(ind[-1])
    return np.array(seen)


def next_ts(window: RollingWindow) -> int:
    """The open time of the next one-minute bar fed to ``window``."""
    return START + (window.cursor.i + 1) * MINUTE.nanos


def same_with_nans(a: F64, b: F64) -> bool:
    return bool(np.array_equal(np.isnan(a), np.isnan(b))) and bool(np.all((a == b) | np.isnan(a)))


# --------------------------------------------------------- live == backtest


@pytest.mark.parametrize(
    "spec", [SMA10, BB_UPPER, BB_MIDDLE, BB_LOWER, MAX14, EMA10, RSI14], ids=str
)
def test_an_indicator_is_identical_live_and_in_a_backtest_bar_by_bar(
    bars: BarArrays, spec: Spec
) -> None:
    in_backtest = np.array(backtest_values(bars, chunk=997).current[ALL.index(spec)])

    live = live_values(spec, bars)

    assert same_with_nans(live, in_backtest)


@pytest.mark.parametrize("spec", [SMA10, BB_UPPER, BB_MIDDLE, BB_LOWER, MAX14], ids=str)
def test_a_finite_window_indicator_agrees_with_the_whole_history_to_the_last_bits(
    bars: BarArrays, spec: Spec
) -> None:
    history = indicator(spec).compute(columns(bars))

    live = live_values(spec, bars)

    assert np.array_equal(np.isnan(live), np.isnan(history))
    defined = ~np.isnan(history)
    np.testing.assert_allclose(live[defined], history[defined], rtol=1e-13, atol=0)


@pytest.mark.parametrize("spec", [EMA10, RSI14], ids=str)
def test_a_recursive_indicator_agrees_with_the_whole_history_after_the_warm_up(
    bars: BarArrays, spec: Spec
) -> None:
    ind = indicator(spec)
    history = ind.compute(columns(bars))

    live = live_values(spec, bars)

    warm = ind.window  # once the window before a block is full
    np.testing.assert_allclose(live[warm:], history[warm:], rtol=1e-12, atol=0)


def test_windows_are_the_lookback_or_many_lookbacks_for_recursive_functions() -> None:
    assert (indicator(SMA10).lookback, indicator(SMA10).window) == (9, 10)
    assert (indicator(MAX14).lookback, indicator(MAX14).window) == (13, 14)
    assert (indicator(EMA10).lookback, indicator(EMA10).window) == (9, 500)
    assert (indicator(RSI14).lookback, indicator(RSI14).window) == (14, 500)


# ------------------------------------------------------ backtest == history


class Recorder(Strategy):
    """Reads ``ind[-1]`` and ``ind[-2]`` of every declared indicator at every bar."""

    def __init__(self, specs: list[Spec]) -> None:
        super().__init__()
        self.specs = specs
        self.current: list[list[float]] = [[] for _ in specs]
        self.previous: list[list[float]] = [[] for _ in specs]

    def on_start(self) -> None:
        self.indicators = [
            self.indicator(function, output=output, **params)
            for function, params, output in self.specs
        ]

    def on_bar(self, bar: BarLike) -> None:
        for k, ind in enumerate(self.indicators):
            self.current[k].append(ind[-1])
            self.previous[k].append(ind[-2])


ALL = [SMA10, BB_UPPER, BB_MIDDLE, BB_LOWER, MAX14, EMA10, RSI14]


def backtest_values(bars: BarArrays, chunk: int) -> Recorder:
    recorder = Recorder(ALL)
    chunks = [bars[i : i + chunk] for i in range(0, len(bars), chunk)]
    result = run(recorder, bars={IID: chunks})
    assert result.errors == []
    return recorder


@pytest.mark.parametrize("spec", ALL, ids=str)
def test_a_strategy_sees_the_whole_history_values_to_the_last_bits(
    bars: BarArrays, spec: Spec
) -> None:
    recorder = backtest_values(bars, chunk=len(bars))
    ind = indicator(spec)

    seen = np.array(recorder.current[ALL.index(spec)])

    history = ind.compute(columns(bars))
    assert np.array_equal(np.isnan(seen), np.isnan(history))
    warm = ind.window
    np.testing.assert_allclose(seen[warm:], history[warm:], rtol=1e-12, atol=0)


@pytest.mark.parametrize("spec", ALL, ids=str)
def test_a_strategy_sees_the_same_values_however_history_is_chunked(
    bars: BarArrays, spec: Spec
) -> None:
    whole = np.array(backtest_values(bars, chunk=len(bars)).current[ALL.index(spec)])

    seen = np.array(backtest_values(bars, chunk=997).current[ALL.index(spec)])

    assert same_with_nans(seen, whole)


def test_the_previous_value_is_what_the_strategy_saw_one_bar_earlier_across_chunks(
    bars: BarArrays,
) -> None:
    recorder = backtest_values(bars, chunk=997)

    for k in range(len(ALL)):
        previous, current = np.array(recorder.previous[k]), np.array(recorder.current[k])
        assert same_with_nans(previous[1:], current[:-1]), ALL[k]


def test_the_previous_value_is_what_the_strategy_saw_one_bar_earlier_in_one_chunk(
    bars: BarArrays,
) -> None:
    recorder = backtest_values(bars, chunk=len(bars))

    for k in range(len(ALL)):
        previous, current = np.array(recorder.previous[k]), np.array(recorder.current[k])
        assert math.isnan(previous[0])
        assert same_with_nans(previous[1:], current[:-1]), ALL[k]


# ------------------------------------------------------------------ reading


def fed(closes: list[float], *indicators: Indicator) -> RollingWindow:
    window = RollingWindow(list(indicators), MINUTE)
    for c in closes:
        window.update(next_ts(window), {"open": c, "high": c, "low": c, "close": c, "volume": 1.0})
    return window


def test_reading_backwards_gives_the_current_and_previous_values() -> None:
    sma = Indicator("SMA", timeperiod=2)

    fed([1.0, 3.0, 5.0, 9.0], sma)

    assert (sma[-1], sma[-2], sma[-3]) == (7.0, 4.0, 2.0)
    assert math.isnan(sma[-4])  # before the indicator had two bars
    assert math.isnan(sma[-100])  # before the first bar
    assert sma.value == 7.0
    assert sma.ready


def test_an_indicator_is_not_ready_before_its_lookback() -> None:
    sma = Indicator("SMA", timeperiod=3)

    fed([1.0, 2.0], sma)

    assert not sma.ready
    assert math.isnan(sma[-1])


def test_reading_forwards_is_refused() -> None:
    sma = Indicator("SMA", timeperiod=2)
    fed([1.0, 2.0], sma)

    with pytest.raises(IndexError, match=r"read backwards: \[-1\] is the current value"):
        sma[0]


def test_crossed_above_and_below_need_a_strict_cross_from_one_bar_to_the_next() -> None:
    fast, slow = Indicator("SMA", timeperiod=2), Indicator("SMA", timeperiod=3)
    window = RollingWindow([fast, slow], MINUTE)
    closes = [5.0, 4.0, 3.0, 2.0, 1.0, 9.0, 9.0, 9.0, 1.0, 1.0]
    above, below = [], []

    for c in closes:
        window.update(next_ts(window), {"open": c, "high": c, "low": c, "close": c, "volume": 1.0})
        above.append(fast.crossed_above(slow))
        below.append(fast.crossed_below(slow))

    # fast/slow: ..., (1.5, 2.0), (5.0, 4.0) up, (9, 6.33), (9, 9) equal, (5, 6.33): from equal,
    # not a cross, (1, 3.67), (1, 1)
    assert [i for i, x in enumerate(above) if x] == [5]
    assert [i for i, x in enumerate(below) if x] == []


def test_crossed_below_is_the_mirror_of_crossed_above() -> None:
    fast, slow = Indicator("SMA", timeperiod=2), Indicator("SMA", timeperiod=3)
    window = RollingWindow([fast, slow], MINUTE)
    crosses = []

    for c in [1.0, 2.0, 3.0, 4.0, 0.0, 0.0]:
        window.update(next_ts(window), {"open": c, "high": c, "low": c, "close": c, "volume": 1.0})
        crosses.append((fast.crossed_above(slow), fast.crossed_below(slow)))

    # fast: nan 1.5 2.5 3.5 2.0 0.0 / slow: nan nan 2.0 3.0 2.33 1.33
    assert crosses == [(False, False)] * 4 + [(False, True), (False, False)]


def test_the_rolling_window_keeps_only_recent_values() -> None:
    sma = Indicator("SMA", timeperiod=2)
    window = RollingWindow([sma], MINUTE, keep=5)

    for c in range(50):
        window.update(
            next_ts(window), {"open": c, "high": c, "low": c, "close": float(c), "volume": 1.0}
        )

    assert sma[-1] == 48.5
    assert sma[-5] == 44.5


def test_a_source_column_replaces_the_default_input() -> None:
    on_high = Indicator("SMA", source="high", timeperiod=2)
    window = RollingWindow([on_high], MINUTE)

    for c in (1.0, 2.0):
        window.update(
            next_ts(window), {"open": c, "high": c + 10, "low": c, "close": c, "volume": 1.0}
        )

    assert on_high.inputs == ("high",)
    assert on_high[-1] == 11.5


def test_labels_name_the_function_its_parameters_and_output() -> None:
    assert Indicator("sma", timeperiod=10).label == "SMA(10)"
    assert indicator(BB_LOWER).label == "BBANDS(20).lowerband"


# ----------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("function", "kwargs", "message"),
    [
        ("NOPE", {}, "unknown indicator 'NOPE': NOPE not supported by TA-LIB"),
        ("SMA", {"output": "upper"}, r"indicator SMA: output 'upper' not in \['real'\]"),
        ("BBANDS", {"output": "top"}, "indicator BBANDS: output 'top' not in"),
        ("BBANDS", {"output": 3}, "indicator BBANDS: output 3 out of range"),
        ("SMA", {"timeperiod": "x"}, "indicator SMA refuses {'timeperiod': 'x'}"),
        ("SMA", {"source": "vwap"}, "indicator source must be one of"),
        ("ATR", {"source": "close"}, "indicator ATR: source= needs a one-input function"),
    ],
)
def test_a_bad_indicator_is_refused_clearly(
    function: str, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidValue, match=message):
        Indicator(function, **kwargs)


@pytest.mark.parametrize("params", [{"bogus": 3}, {"timeperiod": 0}], ids=str)
def test_parameters_talib_would_refuse_are_refused_when_declared(params: dict[str, Any]) -> None:
    with pytest.raises(InvalidValue):
        Indicator("SMA", **params)


def test_bollinger_outputs_are_upper_middle_lower(bars: BarArrays) -> None:
    cols = columns(bars)

    upper, middle, lower = (indicator(s).compute(cols) for s in (BB_UPPER, BB_MIDDLE, BB_LOWER))

    defined = ~np.isnan(middle)
    assert defined.sum() == len(bars) - 19
    assert np.all(upper[defined] > middle[defined])
    assert np.all(lower[defined] < middle[defined])


def test_indicator_values_are_floats_of_the_close_by_default(bars: BarArrays) -> None:
    sma = Indicator("SMA", timeperiod=3).compute(columns(bars))

    assert math.isnan(sma[1])
    assert sma[2] == pytest.approx(bars.close[:3].sum() / 3, rel=1e-15)

"""``BarFeed``: one instrument's history loaded chunk by chunk with the indicators' tail carried
over, and ``BarRef``, the lazy bar whose prices are exact values on the instrument's tick."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.kit.stubs import btcusdt

from tradeforge.backtest import BarFeed, BarRef, run, spot_pair
from tradeforge.backtest.feed import _round_half_even
from tradeforge.data import BarArrays, generate_bars
from tradeforge.domain import Bar, InstrumentId, Price, Quantity, Timeframe
from tradeforge.strategy import BarLike, Indicator, Strategy
from tradeforge.strategy.indicators import BLOCK_BARS

BTC = InstrumentId.from_str("BTC/USDT.SIM")
START = 1_577_836_800_000_000_000
MINUTE = 60_000_000_000
ONE_MINUTE = Timeframe.from_str("1m")
PAIR = spot_pair(BTC, price_precision=2, size_precision=3)


@pytest.fixture(scope="module")
def bars() -> BarArrays:
    return generate_bars(bars=100, seed=1, timeframe=ONE_MINUTE, start_ns=START)


def feed(chunks: list[BarArrays], *indicators: Indicator) -> BarFeed:
    result = BarFeed(PAIR, ONE_MINUTE, chunks)
    for ind in indicators:
        result.add_indicator(ind)
    return result


@pytest.fixture(scope="module")
def straddle() -> BarArrays:
    """100 bars, the first 40 before a block boundary and the other 60 after it."""
    size = BLOCK_BARS * MINUTE
    edge = (START // size + 1) * size
    return generate_bars(bars=100, seed=1, timeframe=ONE_MINUTE, start_ns=edge - 40 * MINUTE)


@pytest.mark.parametrize("cut", [10, 40, 70, 100])
def test_history_is_replayed_in_time_aligned_blocks_whatever_the_chunks(
    straddle: BarArrays, cut: int
) -> None:
    f = feed([straddle[:cut], straddle[cut:]])

    assert f.load_next()

    assert (f.pos, f.n, f.rows_seen) == (0, 40, 40)
    assert f.ts_open == straddle.ts[:40].tolist()
    assert f.ts_close_array.tolist() == (straddle.ts[:40] + MINUTE).tolist()
    assert f.nanos == MINUTE
    assert f.close == straddle.close[:40].tolist()


def test_a_later_block_starts_after_the_tail_the_indicators_need(straddle: BarArrays) -> None:
    sma = Indicator("SMA", timeperiod=5)
    f = feed([straddle[:70], straddle[70:]], sma)
    f.load_next()

    assert f.load_next()

    assert f.window == 5
    assert (f.pos, f.n, f.rows_seen) == (5, 65, 100)  # 5 rows of tail, then 60 new ones
    assert f.ts_open[:6] == straddle.ts[35:41].tolist()
    f.cursor.i = f.pos
    assert sma[-1] == pytest.approx(straddle.close[36:41].mean(), rel=1e-12)
    assert sma[-2] == pytest.approx(straddle.close[35:40].mean(), rel=1e-12)


def test_without_indicators_no_tail_is_kept(straddle: BarArrays) -> None:
    f = feed([straddle[:40], straddle[40:]])
    f.load_next()

    f.load_next()

    assert (f.window, f.pos, f.n) == (0, 0, 60)


def test_empty_chunks_are_skipped_and_the_end_is_reported(straddle: BarArrays) -> None:
    empty = BarArrays.empty()
    f = feed([empty, straddle[:10], empty, empty, straddle[10:60], empty])

    loads = [f.load_next() for _ in range(3)]

    assert loads == [True, True, False]
    assert f.rows_seen == 60
    assert (f.pos, f.n) == (0, 0)


def test_indicators_before_the_lookback_are_nan(bars: BarArrays) -> None:
    sma = Indicator("SMA", timeperiod=5)
    f = feed([bars], sma)
    f.load_next()

    f.cursor.i = 3
    assert not sma.ready
    assert math.isnan(sma[-1])
    f.cursor.i = 4
    assert sma.ready
    assert sma.value == pytest.approx(bars.close[:5].mean(), rel=1e-12)


# ------------------------------------------------------------------ BarRef


def test_a_bar_reads_exact_prices_and_volume_on_the_instruments_steps(bars: BarArrays) -> None:
    f = feed([bars])
    f.load_next()

    bar = f.bar(3)

    assert isinstance(bar, BarRef)
    assert bar.instrument_id == BTC
    assert bar.timeframe == ONE_MINUTE
    assert (bar.ts_open, bar.ts_event, bar.ts_init) == (
        START + 3 * MINUTE,
        START + 4 * MINUTE,
        START + 4 * MINUTE,
    )
    assert bar.close == Price(repr(float(bars.close[3])))
    assert bar.close.precision == 2
    assert bar.volume == Quantity(repr(float(bars.volume[3])))
    assert bar.volume.precision == 3
    assert (bar.open.as_float(), bar.high.as_float(), bar.low.as_float()) == (
        bars.open[3],
        bars.high[3],
        bars.low[3],
    )


def test_a_bars_exact_prices_are_its_prices_as_decimals(bars: BarArrays) -> None:
    nickel = btcusdt(tick_size=Price("0.05"))  # a tick that is not a power of ten: rounded
    for instrument in (PAIR, nickel):
        f = BarFeed(instrument, ONE_MINUTE, [bars])
        f.load_next()
        for i in range(len(bars)):
            bar = f.bar(i)
            exact = (bar.exact_open(), bar.exact_high(), bar.exact_low(), bar.exact_close())
            prices = (bar.open, bar.high, bar.low, bar.close)
            assert exact == tuple(p.as_decimal() for p in prices)
            # the same Decimal, exponent included (what the matching engine fills at)
            assert [d.as_tuple() for d in exact] == [p.as_decimal().as_tuple() for p in prices]


@given(st.floats(min_value=-1e15, max_value=1e15, allow_nan=False))
def test_the_feeds_rounding_is_pythons_round(x: float) -> None:
    assert _round_half_even(x) == round(x)


@pytest.mark.parametrize("k", [-3, -2, -1, 0, 1, 2, 3, 2**40, 2**40 + 1])
def test_the_feeds_rounding_takes_ties_to_even(k: int) -> None:
    assert _round_half_even(k + 0.5) == round(k + 0.5)
    assert _round_half_even(k - 0.5) == round(k - 0.5)


def test_a_bar_becomes_a_validated_domain_bar(bars: BarArrays) -> None:
    f = feed([bars])
    f.load_next()

    bar = f.bar(7).to_bar()

    assert isinstance(bar, Bar)
    assert (bar.close, bar.ts_event) == (f.bar(7).close, START + 8 * MINUTE)
    assert "close_ts=" in repr(f.bar(7))


def test_prices_round_to_a_tick_that_is_not_a_power_of_ten() -> None:
    nickel = btcusdt(tick_size=Price("0.05"))
    values = np.array([100.05, 100.10, 100.15], dtype=np.float64)
    chunk = BarArrays(
        START + np.arange(3, dtype=np.int64) * MINUTE, values, values, values, values, values
    )
    f = BarFeed(nickel, ONE_MINUTE, [chunk])
    f.load_next()

    assert [f.bar(i).close for i in range(3)] == [
        Price("100.05"),
        Price("100.10"),
        Price("100.15"),
    ]


def test_a_strategy_sees_every_bar_once_across_chunks(bars: BarArrays) -> None:
    seen: list[int] = []

    class Watcher(Strategy):
        def on_start(self) -> None:
            self.indicator("SMA", timeperiod=7)  # a tail of 7 rows between chunks

        def on_bar(self, bar: BarLike) -> None:
            seen.append(bar.ts_event)

    run(Watcher(), bars={BTC: [bars[i : i + 13] for i in range(0, len(bars), 13)]})

    assert seen == (bars.ts + MINUTE).tolist()

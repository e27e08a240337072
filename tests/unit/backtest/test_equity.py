"""The equity curve: at every bar close it equals cash plus position times close, worked out here
independently from the fills; the invested mask; thinning by stride keeps the last bar; and the
recorder on its own, window by window."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from tradeforge.backtest import FillModel, run
from tradeforge.backtest.equity import EquityRecorder
from tradeforge.data import BarArrays, generate_bars
from tradeforge.domain import InstrumentId, OrderFilled, OrderSide, Price, StrategyId, Timeframe
from tradeforge.strategy import BarLike, Strategy

BTC = InstrumentId.from_str("BTC/USDT.SIM")
ETH = InstrumentId.from_str("ETH/USDT.SIM")
START = 1_577_836_800_000_000_000
MINUTE = 60_000_000_000
CASH = Decimal(100_000)


class Alternating(Strategy):
    """Buys 1, adds 0.5, then flattens, on a 9-bar cycle; records every fill."""

    def on_start(self) -> None:
        self.n = -1
        self.fills: list[OrderFilled] = []

    def on_bar(self, bar: BarLike) -> None:
        self.n += 1
        step = self.n % 9
        if step == 0:
            self.buy("1")
        elif step == 2:
            self.buy("0.5")
        elif step == 5:
            self.close_position()

    def on_fill(self, fill: OrderFilled) -> None:
        self.fills.append(fill)


def independent_curve(
    bars: BarArrays, fills: list[OrderFilled]
) -> tuple[list[Decimal], list[bool]]:
    """Cash + position x close after each bar, from the fills (each at some bar's open)."""
    by_bar: dict[int, list[OrderFilled]] = {}
    for fill in fills:
        by_bar.setdefault((fill.ts_event - START) // MINUTE, []).append(fill)
    cash, held = CASH, Decimal(0)
    equity, invested = [], []
    for i, close in enumerate(bars.close.tolist()):
        for fill in by_bar.get(i, []):
            qty, px = fill.last_qty.as_decimal(), fill.last_px.as_decimal()
            sign = 1 if fill.order_side is OrderSide.BUY else -1
            cash -= sign * qty * px + fill.commission.amount
            held += sign * qty
        equity.append(cash + held * Decimal(repr(close)))
        invested.append(held != 0)
    return equity, invested


@pytest.fixture(scope="module")
def bars() -> BarArrays:
    return generate_bars(bars=2_000, seed=11, timeframe=Timeframe.from_str("1m"), start_ns=START)


@pytest.mark.parametrize("chunk", [2_000, 97], ids=["one-chunk", "chunks-of-97"])
def test_the_curve_is_cash_plus_position_times_close_at_every_bar(
    bars: BarArrays, chunk: int
) -> None:
    strategy = Alternating()

    result = run(
        strategy,
        bars={BTC: [bars[i : i + chunk] for i in range(0, len(bars), chunk)]},
        cash=CASH,
        fee=Decimal("0.00075"),
    )

    expected, invested = independent_curve(bars, strategy.fills)
    assert len(strategy.fills) > 600
    assert np.array_equal(result.equity.ts, bars.ts + MINUTE)
    np.testing.assert_allclose(
        result.equity.equity, [float(x) for x in expected], rtol=0, atol=1e-6
    )
    assert result.equity.invested.tolist() == invested
    # The exact final figure agrees with the ledger to the cent.
    assert abs(result.metrics.final_equity - expected[-1]) < Decimal("0.01")


def test_the_per_strategy_curve_equals_the_runs_when_it_is_the_only_one(bars: BarArrays) -> None:
    result = run(Alternating(strategy_id="alt"), bars={BTC: bars}, cash=CASH)

    mine = result.strategies[StrategyId("alt")].equity
    assert np.array_equal(mine.ts, result.equity.ts)
    assert np.array_equal(mine.equity, result.equity.equity)
    assert np.array_equal(mine.invested, result.equity.invested)


@pytest.mark.parametrize(("bars_n", "max_points", "stride"), [(2_000, 300, 7), (2_000, 500, 4)])
def test_thinning_keeps_every_stride_th_bar_and_the_last(
    bars: BarArrays, bars_n: int, max_points: int, stride: int
) -> None:
    full = run(Alternating(), bars={BTC: [bars[:777], bars[777:]]}, cash=CASH)

    thin = run(
        Alternating(), bars={BTC: [bars[:777], bars[777:]]}, cash=CASH, max_points=max_points
    )

    kept = list(range(stride - 1, bars_n, stride))
    if kept[-1] != bars_n - 1:
        kept.append(bars_n - 1)
    assert thin.equity.ts.tolist() == full.equity.ts[kept].tolist()
    assert np.array_equal(thin.equity.equity, full.equity.equity[kept])
    assert np.array_equal(thin.equity.invested, full.equity.invested[kept])
    assert len(thin.equity.ts) <= max_points + 1
    assert thin.metrics.final_equity == full.metrics.final_equity


# ----------------------------------------------------------- the recorder


def recorder(stride: int = 1) -> EquityRecorder:
    return EquityRecorder([BTC, ETH], 1_000.0, [StrategyId("a"), StrategyId("b")], stride=stride)


def window(ts: list[int], closes: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    return np.array(ts, dtype=np.int64), np.array(closes, dtype=np.float64)


def test_the_recorder_values_positions_at_each_close_from_the_step_of_the_fill() -> None:
    rec = recorder()
    # Strategy a buys 2 BTC at 10 (cost 20, fee 1) during step 1 of the window.
    rec.update(StrategyId("a"), BTC, signed_qty=2.0, signed_cost=20.0, cash_delta=-1.0, step=1)

    rec.close_window(*window([1, 2, 3], [(10.0, 5.0), (11.0, 5.0), (13.0, 5.0)]))

    curve = rec.curve()
    assert curve.ts.tolist() == [1, 2, 3]
    assert curve.equity.tolist() == [1_000.0, 1_001.0, 1_005.0]  # 1000 - 1 + 2 x close - 20
    assert curve.invested.tolist() == [False, True, True]
    assert rec.curve(StrategyId("a")).equity.tolist() == [1_000.0, 1_001.0, 1_005.0]
    assert rec.curve(StrategyId("b")).equity.tolist() == [1_000.0] * 3


def test_the_recorder_carries_positions_into_the_next_window() -> None:
    rec = recorder()
    rec.update(StrategyId("a"), BTC, signed_qty=1.0, signed_cost=10.0, cash_delta=0.0, step=0)
    rec.close_window(*window([1], [(10.0, 5.0)]))
    rec.update(StrategyId("b"), ETH, signed_qty=-2.0, signed_cost=-10.0, cash_delta=0.0, step=1)

    rec.close_window(*window([2, 3], [(12.0, 5.0), (12.0, 4.0)]))

    assert rec.curve().equity.tolist() == [1_000.0, 1_002.0, 1_004.0]
    assert rec.curve(StrategyId("a")).equity.tolist() == [1_000.0, 1_002.0, 1_002.0]
    assert rec.curve(StrategyId("b")).equity.tolist() == [1_000.0, 1_000.0, 1_002.0]
    assert rec.curve(StrategyId("b")).invested.tolist() == [False, False, True]


def test_a_later_fill_in_the_same_step_replaces_the_earlier_state() -> None:
    rec = recorder()
    rec.update(StrategyId("a"), BTC, signed_qty=1.0, signed_cost=10.0, cash_delta=0.0, step=0)
    rec.update(StrategyId("a"), BTC, signed_qty=0.0, signed_cost=0.0, cash_delta=3.0, step=0)

    rec.close_window(*window([1], [(50.0, 5.0)]))

    assert rec.curve().equity.tolist() == [1_003.0]
    assert rec.curve().invested.tolist() == [False]


def test_a_fill_booked_for_an_earlier_step_supersedes_the_later_marks() -> None:
    # Merged feeds can book a bar's fill after one at the next step (a close fill of one
    # instrument after an open fill of the other): the latest state holds from its step on.
    rec = recorder()
    rec.update(StrategyId("a"), BTC, signed_qty=1.0, signed_cost=10.0, cash_delta=0.0, step=1)
    rec.update(StrategyId("a"), BTC, signed_qty=2.0, signed_cost=20.0, cash_delta=0.0, step=2)
    rec.update(StrategyId("a"), BTC, signed_qty=3.0, signed_cost=30.0, cash_delta=0.0, step=1)

    rec.close_window(*window([1, 2, 3], [(10.0, 5.0), (11.0, 5.0), (12.0, 5.0)]))

    assert rec.curve().equity.tolist() == [1_000.0, 1_003.0, 1_006.0]  # 3 x close - 30 from 1


def test_two_feeds_filling_at_their_closes_give_a_whole_curve() -> None:
    class Both(Strategy):
        def on_bar(self, bar: BarLike) -> None:
            if bar.instrument_id == BTC:
                self.buy("0.01", instrument_id=BTC)
            else:  # a resting buy below the close, on the other instrument
                self.buy("0.01", instrument_id=ETH, price=bar.close - Price("5.00"))

    bars_btc = generate_bars(bars=300, seed=1, timeframe=Timeframe.from_str("1m"), start_ns=START)
    bars_eth = generate_bars(bars=300, seed=2, timeframe=Timeframe.from_str("1m"), start_ns=START)

    result = run(
        Both(instruments=[BTC, ETH]),
        bars={BTC: bars_btc, ETH: bars_eth},
        fill_model=FillModel(fill_at="close"),
        cash=Decimal(10_000_000),
    )

    assert result.errors == []
    assert result.fills > 300
    assert len(result.equity.equity) == 600  # a point per bar of either feed
    assert np.isfinite(result.equity.equity).all()
    assert abs(float(result.metrics.final_equity) - float(result.equity.equity[-1])) < 1


def test_the_recorder_thins_by_stride_across_windows_and_keeps_the_last_bar() -> None:
    rec = recorder(stride=3)

    rec.close_window(*window([1, 2, 3, 4], [(1.0, 1.0)] * 4))
    rec.close_window(*window([5, 6, 7, 8], [(1.0, 1.0)] * 4))

    assert rec.curve().ts.tolist() == [3, 6, 8]
    assert rec.curve(StrategyId("a")).ts.tolist() == [3, 6, 8]


def test_an_empty_recorder_has_an_empty_curve() -> None:
    curve = recorder().curve()

    assert (len(curve.ts), len(curve.equity), len(curve.invested)) == (0, 0, 0)

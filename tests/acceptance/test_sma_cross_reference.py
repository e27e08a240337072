"""The SMA crossover backtest equals, to the cent, a reference computed here in plain NumPy.

The reference follows the strategy's written rule: buy ``size`` at the next bar's open when the
fast SMA of closes crosses above the slow one (previous fast < previous slow and current fast >
current slow) while flat; sell everything at the next bar's open on the opposite cross; a
commission of ``fee`` times the notional on every fill.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import numpy.typing as npt
import pytest

from tradeforge.backtest import BacktestResult, run
from tradeforge.data import BarArrays, generate_bars
from tradeforge.domain import InstrumentId, Timeframe
from tradeforge.strategy.examples.sma_cross import SmaCross

IID = InstrumentId.from_str("BTC/USDT.SIM")
START = 1_577_836_800_000_000_000  # 2020-01-01
FEE = 0.001
CASH = 1_000_000.0


def _sma(values: npt.NDArray[np.float64], n: int) -> npt.NDArray[np.float64]:
    out = np.full(len(values), np.nan)
    sums = np.cumsum(np.insert(values, 0, 0.0))
    out[n - 1 :] = (sums[n:] - sums[:-n]) / n
    return out


def _reference(bars: BarArrays, fast: int, slow: int, size: float) -> dict[str, object]:
    f, s = _sma(bars.close, fast), _sma(bars.close, slow)
    up = (f[:-1] < s[:-1]) & (f[1:] > s[1:])
    down = (f[:-1] > s[:-1]) & (f[1:] < s[1:])
    cash, held, entries, exits, fees = CASH, 0.0, [], [], 0.0
    curve = np.full(len(bars.close), CASH)
    for i in range(1, len(bars.close) - 1):  # a signal on the last bar never fills
        curve[i] = cash + held * bars.close[i]
        price = bars.open[i + 1]
        if up[i - 1] and held == 0.0:
            fee = round(price * size * FEE, 8)
            cash -= price * size + fee
            fees += fee
            held = size
            entries.append(price)
        elif down[i - 1] and held > 0.0:
            fee = round(price * held * FEE, 8)
            cash += price * held - fee
            fees += fee
            held = 0.0
            exits.append(price)
    equity = cash + held * bars.close[-1]
    curve[-1] = equity
    return {
        "entries": entries,
        "exits": exits,
        "cash": cash,
        "equity": equity,
        "fees": fees,
        "curve": curve,
    }


@pytest.fixture(scope="module")
def bars() -> BarArrays:
    return generate_bars(bars=30_000, seed=7, timeframe=Timeframe.from_str("1m"), start_ns=START)


def _backtest(bars: BarArrays, fast: int, slow: int) -> BacktestResult:
    strategy = SmaCross({"fast": fast, "slow": slow, "size": "1"})
    # Odd-sized chunks, so history is streamed across several windows as from the catalog.
    chunks = [bars[i : i + 7_001] for i in range(0, len(bars), 7_001)]
    return run(strategy, bars={IID: chunks}, cash=Decimal(int(CASH)), fee=Decimal(str(FEE)))


@pytest.mark.parametrize(("fast", "slow"), [(10, 30), (5, 50), (20, 60)])
def test_sma_cross_matches_the_numpy_reference_to_the_cent(
    bars: BarArrays, fast: int, slow: int
) -> None:
    expected = _reference(bars, fast, slow, 1.0)

    result = _backtest(bars, fast, slow)

    entries = [float(t.entry_price) for t in result.trades]
    exits = [float(t.exit_price) for t in result.trades]
    ref_entries, ref_exits = expected["entries"], expected["exits"]
    assert isinstance(ref_entries, list)
    assert isinstance(ref_exits, list)
    assert len(result.trades) == len(ref_exits)
    assert entries == ref_entries[: len(exits)]
    assert exits == ref_exits
    assert float(result.metrics.final_equity) == pytest.approx(expected["equity"], abs=0.01)
    assert float(result.final_cash.amount) == pytest.approx(expected["cash"], abs=0.01)
    assert float(result.fees.amount) == pytest.approx(expected["fees"], abs=0.01)
    # The equity curve, bar by bar (the reference's state after bar i's fills, at its close).
    assert len(result.equity.ts) == len(bars.ts)
    assert np.array_equal(result.equity.ts, bars.ts + Timeframe.from_str("1m").nanos)
    np.testing.assert_allclose(result.equity.equity, expected["curve"], atol=0.01, rtol=0)


def test_money_reconciles_exactly(bars: BarArrays) -> None:
    result = _backtest(bars, 10, 30)

    assert (
        result.initial_cash + result.realized_pnl - result.fees - result.open_cost
        == result.final_cash
    )
    assert sum((t.pnl for t in result.trades), result.initial_cash - result.initial_cash) == (
        result.realized_pnl
    )

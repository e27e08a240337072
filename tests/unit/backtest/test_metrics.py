"""Metrics against values worked out by hand on tiny curves, and the edge cases."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeforge.backtest.metrics import (
    Metrics,
    compute_metrics,
    drawdown_pct,
    infer_periods_per_year,
    metrics_rows,
    monthly_returns,
)
from tradeforge.backtest.results import EquityCurve, RoundTrip
from tradeforge.domain import (
    KNOWN_CURRENCIES,
    InstrumentId,
    InvalidValue,
    Money,
    PositionSide,
    Quantity,
    StrategyId,
)

pytestmark = pytest.mark.filterwarnings("error")  # no RuntimeWarning may escape

MINUTE = 60 * 1_000_000_000
DAY = 86_400 * 1_000_000_000
T0 = 1_704_067_200 * 1_000_000_000  # 2024-01-01 00:00 UTC
USDT = KNOWN_CURRENCIES["USDT"]
BTC = KNOWN_CURRENCIES["BTC"]


def curve(
    equity: Sequence[float], *, step: int = DAY, invested: Sequence[bool] | None = None
) -> EquityCurve:
    n = len(equity)
    return EquityCurve(
        T0 + np.arange(n, dtype=np.int64) * step,
        np.asarray(equity, dtype=np.float64),
        np.asarray(invested if invested is not None else [False] * n, dtype=np.bool_),
    )


def trip(net: str, fees: str = "1", *, side: PositionSide = PositionSide.LONG) -> RoundTrip:
    # pnl before fees = net + fees, so net_pnl is exactly ``net``.
    return RoundTrip(
        instrument_id=InstrumentId("BTC/USDT", "BINANCE"),
        strategy_id=StrategyId("test-001"),
        side=side,
        quantity=Quantity("0.5"),
        entry_ts=T0,
        exit_ts=T0 + DAY,
        entry_price=Decimal("100"),
        exit_price=Decimal("110"),
        pnl=Money(Decimal(net) + Decimal(fees), USDT),
        fees=Money(fees, USDT),
    )


def metrics(
    c: EquityCurve,
    trades: Sequence[RoundTrip] = (),
    *,
    initial: str = "100",
    final: str | None = None,
    periods_per_year: float | None = None,
    risk_free_rate: float = 0.0,
) -> Metrics:
    end = Decimal(final) if final is not None else Decimal(repr(float(c.equity[-1])))
    return compute_metrics(
        c,
        trades,
        initial_cash=Decimal(initial),
        final_cash=end,
        final_equity=end,
        fees=Decimal("0"),
        periods_per_year=periods_per_year,
        risk_free_rate=risk_free_rate,
    )


class TestReturnsAndRisk:
    def test_hand_computed_curve(self) -> None:
        # Arrange: daily equity 100, 110, 99, 121 from 100 cash; a position open on bars 1 and 2.
        c = curve([100, 110, 99, 121], invested=[False, True, True, False])

        # Act
        m = metrics(c, final="121")

        # Assert
        # Total return: 121 / 100 - 1 = 21 %; net profit 21 exactly.
        assert m.total_return_pct == 21.0
        assert m.net_profit == Decimal("21")
        # Peak 110 on bar 1, trough 99 on bar 2: (110 - 99) / 110 = 10 %.
        assert m.max_drawdown_pct == pytest.approx(10.0)
        # Under water from the peak on day 1 until the new high on day 3: 2 days.
        assert m.max_drawdown_duration_ns == 2 * DAY
        # One bar a day over a 365-day year.
        assert m.periods_per_year == pytest.approx(365.0)
        # Bar returns 0.1, -0.1, 22/99; mean 2/27 = 0.0740741;
        # deviations 0.7/27, -4.7/27, 4/27 -> sum of squares 38.58/729, / (3 - 1) -> std 0.1626686.
        mean, std = 2 / 27, math.sqrt(38.58 / 729 / 2)
        assert m.sharpe == pytest.approx(mean / std * math.sqrt(365))  # 8.6998
        assert m.sharpe == pytest.approx(8.6998, abs=1e-4)
        assert m.volatility_ann_pct == pytest.approx(100 * std * math.sqrt(365))  # 310.78 %
        # Downside deviation: only -0.1 is negative, over all 3 periods: sqrt(0.01 / 3) = 0.057735.
        assert m.sortino == pytest.approx(mean / math.sqrt(0.01 / 3) * math.sqrt(365))  # 24.51
        # CAGR: 1.21 grown over 3 days of a 365-day year.
        cagr = 100 * (1.21 ** (365 / 3) - 1)
        assert m.cagr_pct == pytest.approx(cagr)
        assert m.calmar == pytest.approx(cagr / 10.0)
        # A position was open at 2 of the 4 bar closes.
        assert m.exposure_pct == 50.0
        assert (m.start_ns, m.end_ns, m.duration_ns) == (T0, T0 + 3 * DAY, 3 * DAY)

    def test_drawdown_counts_from_initial_cash(self) -> None:
        # Arrange: 100 cash, the first bar already shows 98 (fees), back above 100 on day 2.
        c = curve([98, 99, 101])

        # Act
        m = metrics(c)

        # Assert: (100 - 98) / 100 = 2 %, under water from the start (day 0) to day 2.
        assert m.max_drawdown_pct == pytest.approx(2.0)
        assert m.max_drawdown_duration_ns == 2 * DAY

    def test_drawdown_never_recovered_lasts_to_the_end(self) -> None:
        # Arrange: peak 120 on day 1, then 90 and 100 until the end on day 4.
        c = curve([100, 120, 90, 100, 110])

        # Act
        m = metrics(c)

        # Assert: (120 - 90) / 120 = 25 %; from day 1 to the last bar (day 4) = 3 days.
        assert m.max_drawdown_pct == pytest.approx(25.0)
        assert m.max_drawdown_duration_ns == 3 * DAY

    def test_longest_drawdown_is_not_the_deepest(self) -> None:
        # Arrange: a deep one-day dip (100 -> 50 -> 100) then a shallow four-day one (-> 99 x3).
        c = curve([100, 50, 100, 99, 99, 99, 101])

        # Act
        m = metrics(c)

        # Assert: depth from the first, duration from the second (day 2 to day 6).
        assert m.max_drawdown_pct == pytest.approx(50.0)
        assert m.max_drawdown_duration_ns == 4 * DAY

    def test_flat_curve_has_zero_risk_ratios(self) -> None:
        # Arrange: nothing ever happens.
        c = curve([100.0] * 10)

        # Act
        m = metrics(c)

        # Assert: std 0 -> Sharpe 0; no downside and no excess -> Sortino 0.
        assert (m.sharpe, m.sortino, m.volatility_ann_pct) == (0.0, 0.0, 0.0)
        assert (m.max_drawdown_pct, m.max_drawdown_duration_ns) == (0.0, 0)
        assert (m.total_return_pct, m.cagr_pct, m.calmar) == (0.0, 0.0, 0.0)

    def test_rising_curve_without_a_down_bar_has_infinite_sortino(self) -> None:
        # Arrange: 100, 101, 103, 104: no negative return, no drawdown.
        c = curve([100, 101, 103, 104])

        # Act
        m = metrics(c)

        # Assert
        assert m.sortino == math.inf
        assert m.calmar == math.inf
        assert m.to_dict()["sortino"] is None

    def test_single_bar(self) -> None:
        # Arrange: one bar, no spacing to infer a period from.
        c = curve([105.0])

        # Act
        m = metrics(c)

        # Assert: the exact return is known; nothing that needs a span or a return series is.
        assert m.total_return_pct == pytest.approx(5.0)
        assert m.periods_per_year == 0.0
        assert (m.sharpe, m.sortino, m.volatility_ann_pct, m.cagr_pct) == (0.0, 0.0, 0.0, 0.0)
        assert m.duration_ns == 0
        json.dumps(m.to_dict(), allow_nan=False)

    def test_empty_curve(self) -> None:
        # Arrange
        c = EquityCurve(np.empty(0, np.int64), np.empty(0, np.float64), np.empty(0, np.bool_))

        # Act
        m = metrics(c, final="100")

        # Assert
        assert (m.start_ns, m.end_ns, m.max_drawdown_pct, m.exposure_pct) == (0, 0, 0.0, 0.0)
        json.dumps(m.to_dict(), allow_nan=False)

    def test_equity_that_hits_zero(self) -> None:
        # Arrange: the account is wiped out on day 2 and stays at zero.
        c = curve([100, 50, 0, 0])

        # Act (a division by zero would raise: warnings are errors here)
        m = metrics(c, final="0")

        # Assert: -100 %, a 100 % drawdown never recovered; returns after zero count as 0.
        assert m.total_return_pct == -100.0
        assert m.cagr_pct == -100.0
        assert m.max_drawdown_pct == 100.0
        assert m.max_drawdown_duration_ns == 3 * DAY
        # Returns -0.5, -1, 0: mean -0.5, std 0.5.
        assert m.sharpe == pytest.approx(-0.5 / 0.5 * math.sqrt(365))
        json.dumps(m.to_dict(), allow_nan=False)

    def test_explicit_periods_per_year_and_risk_free_rate(self) -> None:
        # Arrange
        c = curve([100, 110, 99, 121])
        rf = (1.05) ** (1 / 252) - 1  # 5 % a year, per period of a 252-day year

        # Act
        m = metrics(c, periods_per_year=252.0, risk_free_rate=0.05)

        # Assert
        mean, std = 2 / 27, math.sqrt(38.58 / 729 / 2)
        assert m.periods_per_year == 252.0
        assert m.sharpe == pytest.approx((mean - rf) / std * math.sqrt(252))


class TestPeriodsPerYear:
    def test_one_minute_bars(self) -> None:
        ts = T0 + np.arange(100, dtype=np.int64) * MINUTE

        assert infer_periods_per_year(ts) == pytest.approx(365 * 24 * 60)  # 525,600

    def test_daily_bars_with_a_gap_use_the_median(self) -> None:
        # Arrange: daily bars with one week-long hole.
        days = np.array([0, 1, 2, 3, 10, 11, 12], dtype=np.int64)

        # Act / Assert
        assert infer_periods_per_year(T0 + days * DAY) == pytest.approx(365.0)

    def test_fewer_than_two_bars(self) -> None:
        assert infer_periods_per_year(np.array([T0], dtype=np.int64)) == 0.0


class TestTradeStatistics:
    def test_profit_factor_win_rate_and_expectancy(self) -> None:
        # Arrange: net +30, -10, +20, -20 and one break-even trade.
        trades = [trip("30"), trip("-10"), trip("20"), trip("-20"), trip("0")]

        # Act
        m = metrics(curve([100, 100]), trades)

        # Assert
        assert m.num_trades == 5
        assert m.win_rate_pct == 40.0  # 2 winners of 5; break-even is not a win
        assert m.profit_factor == pytest.approx(50 / 30)  # (30 + 20) / (10 + 20)
        assert m.expectancy == Decimal("4")  # (30 - 10 + 20 - 20 + 0) / 5
        assert m.avg_trade == Decimal("4")
        assert m.best_trade == Decimal("30")
        assert m.worst_trade == Decimal("-20")

    def test_fees_turn_a_gross_win_into_a_loss(self) -> None:
        # Arrange: pnl +2 before a fee of 3 -> net -1.
        trades = [trip("-1", fees="3")]

        # Act
        m = metrics(curve([100, 99]), trades)

        # Assert
        assert (m.win_rate_pct, m.profit_factor) == (0.0, 0.0)
        assert m.worst_trade == Decimal("-1")

    def test_only_winners_give_infinite_profit_factor(self) -> None:
        m = metrics(curve([100, 110]), [trip("4"), trip("6")])

        assert m.profit_factor == math.inf
        assert m.to_dict()["profit_factor"] is None

    def test_no_trades(self) -> None:
        m = metrics(curve([100, 101]))

        assert (m.num_trades, m.win_rate_pct, m.profit_factor) == (0, 0.0, 0.0)
        assert (m.avg_trade, m.best_trade, m.worst_trade, m.expectancy) == (None,) * 4

    def test_mean_is_rounded_to_the_currency(self) -> None:
        # Arrange: 1 / 3 USDT does not fit in 8 decimals.
        trades = [trip("1"), trip("0"), trip("0")]

        # Act
        m = metrics(curve([100, 101]), trades)

        # Assert
        assert m.expectancy == Decimal("0.33333333")

    def test_mixed_currencies_are_refused(self) -> None:
        # Arrange
        btc = RoundTrip(
            instrument_id=InstrumentId("ETH/BTC", "BINANCE"),
            strategy_id=StrategyId("test-001"),
            side=PositionSide.SHORT,
            quantity=Quantity("1"),
            entry_ts=T0,
            exit_ts=T0 + DAY,
            entry_price=Decimal("0.05"),
            exit_price=Decimal("0.04"),
            pnl=Money("0.01", BTC),
            fees=Money("0", BTC),
        )

        # Act / Assert
        with pytest.raises(InvalidValue, match="more than one currency"):
            metrics(curve([100, 101]), [trip("1"), btc])


class TestInputChecks:
    def test_initial_cash_must_be_positive(self) -> None:
        with pytest.raises(InvalidValue, match="initial_cash"):
            metrics(curve([100, 101]), initial="0")

    def test_curve_arrays_must_match(self) -> None:
        bad = EquityCurve(
            np.array([T0, T0 + DAY], np.int64), np.array([1.0]), np.array([False, False])
        )

        with pytest.raises(InvalidValue, match="one length"):
            metrics(bad)

    def test_periods_per_year_must_be_positive(self) -> None:
        with pytest.raises(InvalidValue, match="periods_per_year"):
            metrics(curve([100, 101]), periods_per_year=0.0)


class TestOutputs:
    def test_to_dict_is_strict_json(self) -> None:
        # Arrange: infinite CAGR (huge gain over one minute) and infinite profit factor.
        c = curve([100, 1e6], step=MINUTE)

        # Act
        d = metrics(c, [trip("5")], final="1000000").to_dict()

        # Assert
        text = json.dumps(d, allow_nan=False)
        assert d["cagr_pct"] is None
        assert d["final_equity"] == "1000000"
        assert d["best_trade"] == "5.00000000"  # USDT is booked in 8 decimals
        assert isinstance(d["num_trades"], int)
        assert json.loads(text)["net_profit"] == "999900"

    def test_metrics_rows(self) -> None:
        m = metrics(curve([100, 110, 99, 121]), [trip("3")], final="121")

        rows = dict(metrics_rows(m))
        chosen = metrics_rows(m, ["total_return_pct", "max_drawdown_duration_ns", "start_ns"])

        assert rows["Total return"] == "21.00 %"
        assert rows["Max drawdown"] == "10.00 %"
        assert rows["Net profit"] == "21"
        assert rows["Profit factor"] == "∞"
        assert chosen == [
            ("Total return", "21.00 %"),
            ("Max drawdown duration", "2d 0h"),
            ("Start", "2024-01-01 00:00 UTC"),
        ]
        assert len(metrics_rows(m)) == len(Metrics.__struct_fields__)

    def test_metrics_rows_refuses_an_unknown_key(self) -> None:
        with pytest.raises(InvalidValue, match="nope"):
            metrics_rows(metrics(curve([100, 101])), ["nope"])

    def test_drawdown_series(self) -> None:
        dd = drawdown_pct(curve([100, 110, 99, 121]), 100.0)

        assert dd == pytest.approx([0.0, 0.0, -10.0, 0.0])

    def test_monthly_returns(self) -> None:
        # Arrange: month-end equity 110 (Jan), 99 (Feb), 121 (Mar 2024), then 133.1 (Jan 2025).
        ts = [
            "2024-01-15", "2024-01-31", "2024-02-10", "2024-02-29", "2024-03-31", "2025-01-31",
        ]  # fmt: skip
        c = EquityCurve(
            np.array(ts, dtype="datetime64[ns]").astype(np.int64),
            np.array([105, 110, 100, 99, 121, 133.1]),
            np.zeros(6, np.bool_),
        )

        # Act
        years = monthly_returns(c, 100.0)

        # Assert: Jan 110/100, Feb 99/110, Mar 121/99; 2024: 121/100; 2025: 133.1/121.
        y2024, y2025 = years
        assert y2024.year == 2024
        assert y2024.months[:3] == pytest.approx((10.0, -10.0, 100 * (121 / 99 - 1)))
        assert y2024.months[3:] == (None,) * 9
        assert y2024.total == pytest.approx(21.0)
        assert y2025.months[0] == pytest.approx(10.0)
        assert y2025.total == pytest.approx(10.0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=1e9, allow_nan=False), min_size=1, max_size=50))
def test_any_non_negative_curve_gives_strict_json(equity: list[float]) -> None:
    c = curve(equity)

    m = metrics(c)

    json.dumps(m.to_dict(), allow_nan=False)
    assert 0.0 <= m.max_drawdown_pct <= 100.0
    assert 0 <= m.max_drawdown_duration_ns <= m.duration_ns


def _drawdown_by_hand(equity: list[float], initial: float) -> tuple[float, int]:
    """Max drawdown and longest underwater span, bar by bar (ts = bar index x DAY)."""
    peak, depth = initial, 0.0
    peaks = []
    for value in equity:
        peak = max(peak, value)
        peaks.append(peak)
        depth = max(depth, (peak - value) / peak)
    under = [value < p for value, p in zip(equity, peaks, strict=True)]
    longest = 0
    for i, is_under in enumerate(under):
        if not is_under:
            continue
        start = max((j for j in range(i + 1) if not under[j]), default=0)
        stop = min((j for j in range(i, len(under)) if not under[j]), default=len(under) - 1)
        longest = max(longest, (stop - start) * DAY)
    return depth, longest


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=200), min_size=1, max_size=60))
def test_drawdown_and_its_duration_equal_a_bar_by_bar_count(values: list[int]) -> None:
    equity = [float(v) for v in values]

    m = metrics(curve(equity), final=str(values[-1]))

    depth, longest = _drawdown_by_hand(equity, 100.0)
    assert m.max_drawdown_pct == pytest.approx(100.0 * depth)
    assert m.max_drawdown_duration_ns == longest

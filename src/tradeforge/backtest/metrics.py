"""Backtest metrics: returns, risk and trade statistics from an equity curve and round trips.

Money stays exact (``Decimal``); statistics are floats. Every definition, with its edge cases, is
written out in ``docs/metrics.md``; keep the two in step.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any, Final

import msgspec
import numpy as np
import numpy.typing as npt

from tradeforge.backtest.results import EquityCurve, RoundTrip
from tradeforge.bus import ns_to_utc
from tradeforge.domain import Currency, InvalidValue, Money

__all__ = [
    "Metrics",
    "YearReturns",
    "compute_metrics",
    "drawdown_pct",
    "infer_periods_per_year",
    "metrics_rows",
    "monthly_returns",
]

DAY_NS: Final = 86_400 * 1_000_000_000
YEAR_NS: Final = 365 * DAY_NS  # crypto trades every day of the year
# A standard deviation below this is rounding noise on a flat curve, not risk.
_STD_EPS: Final = 1e-12


class Metrics(msgspec.Struct, frozen=True, kw_only=True):
    """What a backtest achieved. Money fields are exact ``Decimal``; statistics are floats.

    Percentages are in percent (``21.0`` is 21 %). ``max_drawdown_pct`` is a positive magnitude.
    ``profit_factor``, ``sortino``, ``calmar`` and ``cagr_pct`` may be ``inf``; ``to_dict`` turns
    any non-finite float into ``None``. Trade averages are ``None`` when there are no trades.
    """

    start_ns: int
    end_ns: int
    duration_ns: int
    initial_cash: Decimal
    final_cash: Decimal
    final_equity: Decimal
    net_profit: Decimal
    fees: Decimal
    total_return_pct: float
    cagr_pct: float
    volatility_ann_pct: float
    sharpe: float
    sortino: float
    calmar: float
    max_drawdown_pct: float
    max_drawdown_duration_ns: int
    exposure_pct: float
    num_trades: int
    win_rate_pct: float
    profit_factor: float
    avg_trade: Decimal | None
    best_trade: Decimal | None
    worst_trade: Decimal | None
    expectancy: Decimal | None
    periods_per_year: float
    risk_free_rate: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values: ``Decimal`` as str, non-finite floats as ``None``."""
        out: dict[str, Any] = {}
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if isinstance(value, Decimal):
                out[name] = format(value, "f")
            elif isinstance(value, float):
                out[name] = value if math.isfinite(value) else None
            else:
                out[name] = value
        return out


class YearReturns(msgspec.Struct, frozen=True, kw_only=True):
    """One calendar year (UTC) of returns in percent; ``None`` where there is no data."""

    year: int
    months: tuple[float | None, ...]  # January..December
    total: float | None


def compute_metrics(
    curve: EquityCurve,
    trades: Sequence[RoundTrip],
    *,
    initial_cash: Decimal,
    final_cash: Decimal,
    final_equity: Decimal,
    fees: Decimal,
    periods_per_year: float | None = None,
    risk_free_rate: float = 0.0,
) -> Metrics:
    """Compute every metric of ``docs/metrics.md``.

    ``periods_per_year`` defaults to the median bar spacing over a 365-day year;
    ``risk_free_rate`` is annual, as a fraction (``0.02`` is 2 %).
    """
    if initial_cash <= 0:
        raise InvalidValue(f"initial_cash must be positive, got {initial_cash}")
    if not math.isfinite(risk_free_rate) or risk_free_rate <= -1.0:
        raise InvalidValue(f"risk_free_rate must be a finite fraction > -1, got {risk_free_rate}")
    ts, equity, invested = _checked_curve(curve)
    if periods_per_year is None:
        ppy = infer_periods_per_year(ts)
    elif math.isfinite(periods_per_year) and periods_per_year > 0:
        ppy = float(periods_per_year)
    else:
        raise InvalidValue(f"periods_per_year must be positive, got {periods_per_year}")

    start_ns = int(ts[0]) if ts.size else 0
    end_ns = int(ts[-1]) if ts.size else 0
    growth = float(final_equity / initial_cash)
    cagr = _cagr_pct(growth, (end_ns - start_ns) / YEAR_NS)
    max_dd, max_dd_ns = _max_drawdown(ts, equity, float(initial_cash))
    returns = _bar_returns(equity)
    rf = (1.0 + risk_free_rate) ** (1.0 / ppy) - 1.0 if ppy else 0.0
    sharpe, sortino, vol = _risk_ratios(returns - rf if rf else returns, returns, ppy)
    pnl = _TradeStats.of(trades)
    return Metrics(
        start_ns=start_ns,
        end_ns=end_ns,
        duration_ns=end_ns - start_ns,
        initial_cash=initial_cash,
        final_cash=final_cash,
        final_equity=final_equity,
        net_profit=final_equity - initial_cash,
        fees=fees,
        total_return_pct=float(100 * (final_equity - initial_cash) / initial_cash),
        cagr_pct=cagr,
        volatility_ann_pct=vol,
        sharpe=sharpe,
        sortino=sortino,
        calmar=_ratio(cagr, 100.0 * max_dd),
        max_drawdown_pct=100.0 * max_dd,
        max_drawdown_duration_ns=max_dd_ns,
        exposure_pct=100.0 * float(np.mean(invested)) if invested.size else 0.0,
        num_trades=len(trades),
        win_rate_pct=100.0 * pnl.wins / len(trades) if trades else 0.0,
        profit_factor=_ratio(float(pnl.gross_win), float(pnl.gross_loss)),
        avg_trade=pnl.mean,
        best_trade=pnl.best,
        worst_trade=pnl.worst,
        expectancy=pnl.mean,
        periods_per_year=ppy,
        risk_free_rate=risk_free_rate,
    )


def infer_periods_per_year(ts: npt.NDArray[np.int64]) -> float:
    """Bars per 365-day year from the median spacing of ``ts`` (ns); 0.0 with under two bars."""
    if ts.size < 2:
        return 0.0
    spacing = float(np.median(np.diff(ts), overwrite_input=True))  # sorts the diffs in place
    return YEAR_NS / spacing if spacing > 0 else 0.0


def drawdown_pct(curve: EquityCurve, initial_cash: float) -> npt.NDArray[np.float64]:
    """Underwater curve: percent below the running peak at each bar (``<= 0``).

    The running peak starts at ``initial_cash``, so a loss on the first bar is a drawdown too.
    """
    _, equity, _ = _checked_curve(curve)
    peak = _running_peak(equity, initial_cash)
    return np.asarray(100.0 * (equity / peak - 1.0), dtype=np.float64)


def monthly_returns(curve: EquityCurve, initial_cash: float) -> list[YearReturns]:
    """Returns per calendar month and year (UTC) in percent, from month-end equity.

    A month's return compares its last bar with the last bar before it (``initial_cash`` for
    the first month); a year's compares its last bar with the previous year's. A period whose
    base equity is ``<= 0`` has no return (``None``), as has a month without bars.
    """
    ts, equity, _ = _checked_curve(curve)
    if not ts.size:
        return []
    month = ts.astype("datetime64[ns]").astype("datetime64[M]").astype(np.int64)
    ends = np.append(np.flatnonzero(np.diff(month)), month.size - 1)
    closes = [float(v) for v in equity[ends]]
    bases = [initial_cash, *closes[:-1]]
    years: dict[int, list[float | None]] = {}
    year_close: dict[int, float] = {}
    year_base: dict[int, float] = {}
    for m, close, base in zip(month[ends].tolist(), closes, bases, strict=True):
        year, mon = 1970 + m // 12, m % 12
        years.setdefault(year, [None] * 12)[mon] = _pct_change(close, base)
        year_base.setdefault(year, base)
        year_close[year] = close
    return [
        YearReturns(
            year=year,
            months=tuple(row),
            total=_pct_change(year_close[year], year_base[year]),
        )
        for year, row in years.items()
    ]


def metrics_rows(metrics: Metrics, keys: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """``(label, formatted value)`` rows for a table: every metric, or the fields in ``keys``."""
    rows: list[tuple[str, str]] = []
    for key in _ROWS if keys is None else keys:
        try:
            label, fmt = _ROWS[key]
        except KeyError:
            raise InvalidValue(f"metrics_rows: unknown metric {key!r}") from None
        rows.append((label, fmt(getattr(metrics, key))))
    return rows


class _TradeStats(msgspec.Struct, frozen=True, kw_only=True):
    wins: int
    gross_win: Decimal
    gross_loss: Decimal  # a positive magnitude
    mean: Decimal | None
    best: Decimal | None
    worst: Decimal | None

    @classmethod
    def of(cls, trades: Sequence[RoundTrip]) -> _TradeStats:
        if not trades:
            zero = Decimal(0)
            return cls(wins=0, gross_win=zero, gross_loss=zero, mean=None, best=None, worst=None)
        # A TradeLog hands its amounts over as scaled integers when it can (numpy does the
        # sums, exactly), else as Decimals, without building a RoundTrip per trade.
        scaled = getattr(trades, "net_pnl_scaled", None)
        found = scaled() if scaled is not None else None
        if found is not None:
            return cls._of_scaled(*found)
        columns = getattr(trades, "net_pnl_columns", None)
        net: Iterable[Decimal]
        if columns is not None:
            currencies, net = columns()
        else:
            currencies = sorted(
                {t.pnl.currency for t in trades} | {t.fees.currency for t in trades},
                key=lambda c: c.code,
            )
            net = (t.net_pnl.amount for t in trades)
        if len(currencies) > 1:
            codes = ", ".join(c.code for c in currencies)
            raise InvalidValue(
                f"trades settle in more than one currency ({codes}); "
                "metrics need one account currency"
            )
        # One pass, holding one trade's PnL at a time.
        count = wins = 0
        total = gross_win = gross_loss = Decimal(0)
        best = worst = None
        for x in net:
            count += 1
            total += x
            if x > 0:
                wins += 1
                gross_win += x
            elif x < 0:
                gross_loss -= x
            if best is None or x > best:
                best = x
            if worst is None or x < worst:
                worst = x
        return cls(
            wins=wins,
            gross_win=gross_win,
            gross_loss=gross_loss,
            mean=Money.rounded(total / count, currencies[0]).amount,
            best=best,
            worst=worst,
        )

    @classmethod
    def _of_scaled(cls, currency: Currency, net: npt.NDArray[np.int64]) -> _TradeStats:
        """``of`` over net PnLs in units of ``10**-currency.precision`` (int64 sums cannot
        overflow: ``TradeLog.net_pnl_scaled`` bounds the amounts)."""
        places = -currency.precision

        def exact(units: int) -> Decimal:
            return Decimal(units).scaleb(places)

        def total(units: int) -> Decimal:  # a sum of nothing is a plain 0, as in ``of``
            return exact(units) if units else Decimal(0)

        won, lost = net > 0, net < 0
        return cls(
            wins=int(won.sum()),
            gross_win=total(int(net[won].sum())),
            gross_loss=total(-int(net[lost].sum())),
            mean=Money.rounded(total(int(net.sum())) / len(net), currency).amount,
            best=exact(int(net.max())),
            worst=exact(int(net.min())),
        )


def _checked_curve(
    curve: EquityCurve,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    ts = np.asarray(curve.ts, dtype=np.int64)
    equity = np.asarray(curve.equity, dtype=np.float64)
    invested = np.asarray(curve.invested, dtype=np.bool_)
    if not ts.shape == equity.shape == invested.shape or ts.ndim != 1:
        raise InvalidValue(
            "equity curve arrays must be 1-D and of one length, got "
            f"ts {ts.shape}, equity {equity.shape}, invested {invested.shape}"
        )
    if ts.size > 1 and bool(np.any(ts[1:] < ts[:-1])):
        raise InvalidValue("equity curve ts must not decrease")
    if not bool(np.all(np.isfinite(equity))):
        raise InvalidValue("equity curve has a NaN or infinite equity")
    return ts, equity, invested


def _running_peak(equity: npt.NDArray[np.float64], initial: float) -> npt.NDArray[np.float64]:
    return np.maximum(np.maximum.accumulate(equity), initial) if equity.size else equity


def _max_drawdown(
    ts: npt.NDArray[np.int64], equity: npt.NDArray[np.float64], initial: float
) -> tuple[float, int]:
    """Deepest fall below the running peak (a fraction) and the longest underwater time (ns).

    Written to hold few curve-sized arrays at once (a 1,000,000-bar curve is 8 MB an array):
    the underwater stretches are found as runs, and each is timed from the last bar at a peak
    before it (bar 0 stands in for the initial cash) to the first bar back at a peak after it
    (the last bar when it never recovers).
    """
    if not equity.size:
        return 0.0, 0
    peak = _running_peak(equity, initial)
    under = equity < peak
    fall = np.subtract(peak, equity)
    np.divide(fall, peak, out=fall)
    depth = float(np.max(fall))
    del fall, peak
    if not under.any():
        return max(depth, 0.0), 0
    edges = np.diff(under.view(np.int8))
    firsts = np.flatnonzero(edges == 1) + 1
    lasts = np.flatnonzero(edges == -1)
    if under[0]:
        firsts = np.concatenate(([0], firsts))
    if under[-1]:
        lasts = np.concatenate((lasts, [under.size - 1]))
    start = np.maximum(firsts - 1, 0)
    stop = np.minimum(lasts + 1, under.size - 1)
    longest = int(np.max(ts[stop] - ts[start]))
    return depth, longest


def _bar_returns(equity: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    # A bar after the account reached zero (or less) has no meaningful return; count it as 0.
    if equity.size < 2:
        return np.empty(0, dtype=np.float64)
    prev = equity[:-1]
    out = np.subtract(equity[1:], prev)
    with np.errstate(over="ignore", invalid="ignore"):  # from ~0 to anything: inf, see below
        np.divide(out, prev, out=out, where=prev > 0)
    out[prev <= 0] = 0.0
    return out


def _risk_ratios(
    excess: npt.NDArray[np.float64], returns: npt.NDArray[np.float64], ppy: float
) -> tuple[float, float, float]:
    """Sharpe, Sortino and annualised volatility (percent)."""
    if returns.size < 2 or not ppy:
        return 0.0, 0.0, 0.0
    scale = math.sqrt(ppy)
    # Returns beyond float range (a bar from ~1e-300 to 1) overflow to inf/NaN: reported as 0.
    with np.errstate(over="ignore", invalid="ignore"):
        std = _real(float(np.std(returns, ddof=1)))
        mean = _real(float(np.mean(excess)))
        below = np.minimum(excess, 0.0)
        np.square(below, out=below)
        downside = _real(math.sqrt(float(np.mean(below))))
        del below
    sharpe = mean / std * scale if std > _STD_EPS else 0.0
    sortino = _ratio(mean, downside if downside > _STD_EPS else 0.0) * scale
    return sharpe, sortino, 100.0 * std * scale


def _real(x: float) -> float:
    return x if math.isfinite(x) else 0.0


def _cagr_pct(growth: float, years: float) -> float:
    if years <= 0:
        return 0.0
    if growth <= 0:
        return -100.0
    try:
        return 100.0 * math.expm1(math.log(growth) / years)
    except OverflowError:  # a big gain over a short span
        return math.inf


def _ratio(num: float, den: float) -> float:
    # num / |den|, with 0/0 = 0 and x/0 = inf for x > 0: what profit factor and Calmar need.
    if den:
        return num / abs(den)
    return math.inf if num > 0 else 0.0


def _pct_change(close: float, base: float) -> float | None:
    return 100.0 * (close / base - 1.0) if base > 0 else None


# Formatting for tables (Rich, HTML).
def _pct(x: float) -> str:
    return f"{x:,.2f} %" if math.isfinite(x) else "∞"


def _num(x: float) -> str:
    return f"{x:,.2f}" if math.isfinite(x) else "∞"


def _money(x: Decimal | None) -> str:
    return "—" if x is None else format(x, ",f")


def _count(x: int) -> str:
    return f"{x:,}"


def _utc(ts_ns: int) -> str:
    return ns_to_utc(ts_ns).strftime("%Y-%m-%d %H:%M UTC")


def _duration(ns: int) -> str:
    seconds = ns // 1_000_000_000
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days:,}d {hours}h"
    return f"{hours}h {minutes}m" if hours else f"{minutes}m {seconds}s"


_ROWS: Final[dict[str, tuple[str, Callable[[Any], str]]]] = {
    "start_ns": ("Start", _utc),
    "end_ns": ("End", _utc),
    "duration_ns": ("Duration", _duration),
    "initial_cash": ("Initial cash", _money),
    "final_cash": ("Final cash", _money),
    "final_equity": ("Final equity", _money),
    "net_profit": ("Net profit", _money),
    "fees": ("Fees", _money),
    "total_return_pct": ("Total return", _pct),
    "cagr_pct": ("CAGR", _pct),
    "volatility_ann_pct": ("Volatility (ann.)", _pct),
    "sharpe": ("Sharpe ratio", _num),
    "sortino": ("Sortino ratio", _num),
    "calmar": ("Calmar ratio", _num),
    "max_drawdown_pct": ("Max drawdown", _pct),
    "max_drawdown_duration_ns": ("Max drawdown duration", _duration),
    "exposure_pct": ("Exposure", _pct),
    "num_trades": ("Trades", _count),
    "win_rate_pct": ("Win rate", _pct),
    "profit_factor": ("Profit factor", _num),
    "avg_trade": ("Avg trade (net)", _money),
    "best_trade": ("Best trade (net)", _money),
    "worst_trade": ("Worst trade (net)", _money),
    "expectancy": ("Expectancy", _money),
    "periods_per_year": ("Periods per year", lambda x: f"{x:,.1f}"),
    "risk_free_rate": ("Risk-free rate", lambda x: f"{100.0 * x:.2f} %"),
}

"""The HTML report: self-contained, escaped, complete, and small and fast on a million bars."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from tradeforge.backtest.metrics import Metrics, compute_metrics
from tradeforge.backtest.report import MAX_TRADE_ROWS, write_report
from tradeforge.backtest.report_charts import downsample
from tradeforge.backtest.results import EquityCurve, RoundTrip
from tradeforge.domain import (
    KNOWN_CURRENCIES,
    InstrumentId,
    Money,
    PositionSide,
    Quantity,
    StrategyId,
)

pytestmark = pytest.mark.filterwarnings("error")

MINUTE = 60 * 1_000_000_000
HOUR = 60 * MINUTE
T0 = 1_704_067_200 * 1_000_000_000  # 2024-01-01 00:00 UTC
USDT = KNOWN_CURRENCIES["USDT"]
BTCUSDT = InstrumentId("BTC/USDT", "BINANCE")


def walk(n: int, step: int = HOUR, seed: int = 1) -> tuple[EquityCurve, np.ndarray]:
    """A random-walk close series and an equity curve that follows it."""
    rng = np.random.default_rng(seed)
    ts = T0 + np.arange(n, dtype=np.int64) * step
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.003, n)))
    equity = 10_000.0 * close / close[0]
    return EquityCurve(ts, equity, np.arange(n) % 3 != 0), close


def trips(count: int, instrument: InstrumentId = BTCUSDT, step: int = HOUR) -> list[RoundTrip]:
    out = []
    for i in range(count):
        long = i % 2 == 0
        out.append(
            RoundTrip(
                instrument_id=instrument,
                strategy_id=StrategyId("report-001"),
                side=PositionSide.LONG if long else PositionSide.SHORT,
                quantity=Quantity("0.5"),
                entry_ts=T0 + (2 * i) * step,
                exit_ts=T0 + (2 * i + 1) * step,
                entry_price=Decimal("100.5"),
                exit_price=Decimal("101.25") if long else Decimal("99.75"),
                pnl=Money("0.375" if i % 3 else "-0.25", USDT),
                fees=Money("0.01", USDT),
            )
        )
    return out


def metrics_of(curve: EquityCurve, trades: list[RoundTrip]) -> Metrics:
    final = Decimal(f"{curve.equity[-1]:.2f}")
    return compute_metrics(
        curve,
        trades,
        initial_cash=Decimal("10000"),
        final_cash=final,
        final_equity=final,
        fees=Decimal("1.5"),
    )


def render(tmp_path: Path, n: int = 2_000, n_trades: int = 20, title: str = "Demo") -> str:
    curve, close = walk(n)
    trades = trips(n_trades)
    path = tmp_path / "report.html"
    write_report(
        path,
        title=title,
        curve=curve,
        trades=trades,
        metrics=metrics_of(curve, trades),
        prices={str(BTCUSDT): (curve.ts, close)},
    )
    return path.read_text(encoding="utf-8")


def test_report_has_every_section(tmp_path: Path) -> None:
    page = render(tmp_path)

    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") == 3  # equity, drawdown, one price chart
    for heading in ("Equity", "Drawdown", "BTC/USDT.BINANCE", "Monthly returns", "Trades"):
        assert f"<h2>{heading}" in page
    assert "Net profit" in page
    assert "Sharpe ratio" in page


def test_title_and_instrument_ids_are_escaped(tmp_path: Path) -> None:
    # Arrange: a hostile title and a symbol with markup in it (printable ASCII is a valid symbol).
    curve, close = walk(50)
    odd = InstrumentId("<b>X&Y</b>", "SIM")
    trades = trips(2, odd)

    # Act
    path = tmp_path / "r.html"
    write_report(
        path,
        title="<script>alert('x')</script> & co",
        curve=curve,
        trades=trades,
        metrics=metrics_of(curve, trades),
        prices={str(odd): (curve.ts, close)},
    )
    page = path.read_text(encoding="utf-8")

    # Assert
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co" in page
    assert "<b>X&Y</b>" not in page
    assert "&lt;b&gt;X&amp;Y&lt;/b&gt;.SIM" in page


def test_report_loads_nothing_from_the_network(tmp_path: Path) -> None:
    page = render(tmp_path)

    # Only the SVG namespace may mention http; nothing is fetched.
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert "@import" not in page
    assert "url(" not in page
    assert "<link" not in page
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) <= {"http://www.w3.org/2000/svg"}


def test_monthly_table_has_every_month(tmp_path: Path) -> None:
    page = render(tmp_path, n=24 * 70)  # 70 days of hourly bars: January to mid-March 2024

    table = page[page.index('<table class="monthly">') :]
    table = table[: table.index("</table>")]
    for month in ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov"):
        assert f"<th>{month}</th>" in table
    assert "<th>Dec</th><th>Year</th>" in table
    assert "<th>2024</th>" in table
    assert table.count("background:rgba(") == 4  # Jan, Feb, Mar and the year


def test_trades_table_shows_the_first_rows_and_says_how_many_were_left_out(
    tmp_path: Path,
) -> None:
    page = render(tmp_path, n=2_000, n_trades=600)

    table = page[page.index('<table class="trades">') :]
    table = table[: table.index("</table>")]
    assert table.count("<tr>") == MAX_TRADE_ROWS + 1  # with the header
    assert "First 500 of 600 trades shown; 100 left out." in page


def test_trades_are_marked_on_the_price_chart(tmp_path: Path) -> None:
    page = render(tmp_path, n_trades=20)

    # An entry and an exit per trade, with a hover label each.
    assert page.count('<path class="mk"') == 40
    assert "Long entry · 2024-01-01 00:00 · 100.5 · qty 0.5" in page
    assert "Short exit · 2024-01-01 03:00 · 99.75" in page


def test_trades_without_prices_are_named(tmp_path: Path) -> None:
    curve, _ = walk(100)
    trades = trips(3)
    path = tmp_path / "r.html"

    write_report(path, title="t", curve=curve, trades=trades, metrics=metrics_of(curve, trades))

    assert "No prices given for BTC/USDT.BINANCE (3 trades)." in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("n", [0, 1, 2])
def test_tiny_curves_and_no_trades_render(tmp_path: Path, n: int) -> None:
    curve = EquityCurve(
        T0 + np.arange(n, dtype=np.int64) * HOUR,
        np.full(n, 10_000.0),
        np.zeros(n, np.bool_),
    )
    m = compute_metrics(
        curve,
        [],
        initial_cash=Decimal("10000"),
        final_cash=Decimal("10000"),
        final_equity=Decimal("10000"),
        fees=Decimal("0"),
    )
    path = tmp_path / "r.html"

    write_report(path, title="flat", curve=curve, trades=[], metrics=m)

    page = path.read_text(encoding="utf-8")
    assert "No trades." in page
    assert page.count("<svg") == (2 if n else 0)


def test_a_million_bars_stay_small_and_fast(tmp_path: Path) -> None:
    # Arrange: a million one-minute bars (almost two years) and 5,000 trades.
    curve, close = walk(1_000_000, step=MINUTE)
    trades = trips(5_000, step=MINUTE)
    m = metrics_of(curve, trades)
    path = tmp_path / "big.html"

    # Act
    start = time.perf_counter()
    write_report(
        path,
        title="big",
        curve=curve,
        trades=trades,
        metrics=m,
        prices={str(BTCUSDT): (curve.ts, close)},
    )
    elapsed = time.perf_counter() - start

    # Assert
    assert elapsed < 3.0
    assert path.stat().st_size < 2_000_000
    assert "1,000 of 5,000 trades marked (evenly sampled)" in path.read_text(encoding="utf-8")


class TestDownsample:
    def test_keeps_extremes_ends_and_order(self) -> None:
        # Arrange: noise with one spike up and one crash down hidden inside a bucket.
        n = 1_000_000
        x = np.arange(n, dtype=np.int64)
        y = np.sin(np.arange(n) / 5_000.0)
        y[123_457] = 50.0
        y[876_543] = -50.0

        # Act
        dx, dy = downsample(x, y, 2_000)

        # Assert
        assert dx.size <= 2_000
        assert (dx[0], dx[-1]) == (0, n - 1)
        assert bool(np.all(np.diff(dx) > 0))
        assert dy.max() == 50.0
        assert dy.min() == -50.0
        assert 123_457 in dx
        assert 876_543 in dx

    def test_short_series_pass_through(self) -> None:
        x = np.arange(10, dtype=np.int64)
        y = np.arange(10, dtype=np.float64)

        dx, dy = downsample(x, y, 2_000)

        assert dx is x
        assert dy is y


@pytest.mark.integration
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs /usr/bin/chromium")
def test_renders_in_headless_chromium(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render(tmp_path, n=24 * 60, n_trades=30), encoding="utf-8")
    png = tmp_path / "report.png"
    chromium = shutil.which("chromium") or "/usr/bin/chromium"

    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--screenshot={png}",
            "--window-size=1200,2000",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )

    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 20_000

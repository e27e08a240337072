"""``tradeforge backtest``, run as the installed console script against a temp data dir: the
metrics table, the JSON and HTML outputs, bars from a file, and one-line errors for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

TRADEFORGE = Path(sys.executable).parent / "tradeforge"
SMA_CROSS = (
    "--strategy",
    "sma_cross",
    "--instrument",
    "BTC/USDT.SIM",
    "--timeframe",
    "1m",
    "--param",
    "fast=10",
    "--param",
    "slow=30",
    "--param",
    "size=1",
    "--cash",
    "1000000",
    "--fee",
    "0.001",
)


def tradeforge(
    data_dir: Path, *args: str, pythonpath: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("TRADEFORGE__")}
    env["COLUMNS"] = "200"
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [str(TRADEFORGE), "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("catalog")
    generated = tradeforge(
        path, "data", "generate", "--instrument", "BTC/USDT.SIM", "--bars", "5000", "--seed", "7"
    )
    assert generated.returncode == 0, generated.stderr
    return path


def assert_one_line_error(done: subprocess.CompletedProcess[str], message: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert lines == [f"error: {message}"]
    assert "Traceback" not in done.stdout + done.stderr


def test_a_backtest_prints_metrics_and_writes_json_and_html(data_dir: Path, tmp_path: Path) -> None:
    out_json, out_html = tmp_path / "out.json", tmp_path / "out.html"

    done = tradeforge(
        data_dir, "backtest", *SMA_CROSS, "--json", str(out_json), "--report", str(out_html)
    )

    assert done.returncode == 0, done.stderr
    assert "Final equity" in done.stdout
    assert "5,000 bars" in done.stdout
    report = json.loads(out_json.read_text(encoding="utf-8"))
    metrics = report["metrics"]
    assert {"final_equity", "num_trades", "fees"} <= set(metrics)
    assert metrics["num_trades"] == len(report["trades"]) > 0
    first = report["trades"][0]
    assert {
        "entry_ts",
        "exit_ts",
        "entry_price",
        "exit_price",
        "quantity",
        "pnl",
        "fees",
    } <= set(first)
    assert first["entry_ts"] < first["exit_ts"]
    assert first["quantity"] == "1.000"
    assert first["fees"].endswith(" USDT")
    assert len(report["equity"]["ts"]) == len(report["equity"]["equity"]) == 5_000
    assert report["errors"] == []
    assert report["initial_cash"] == "1000000.00000000 USDT"
    assert report["fees"] == f"{metrics['fees']} USDT"  # exact decimal text, not a float
    assert report["final_cash"] == f"{metrics['final_cash']} USDT"
    html = out_html.read_text(encoding="utf-8")
    assert "<svg" in html
    assert "sma_cross" in html


def test_the_same_command_gives_the_same_result(data_dir: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"

    for out in (first, second):
        assert tradeforge(data_dir, "backtest", *SMA_CROSS, "--json", str(out)).returncode == 0

    a, b = (json.loads(p.read_text(encoding="utf-8")) for p in (first, second))
    assert a["trades"] == b["trades"]
    assert a["metrics"]["final_equity"] == b["metrics"]["final_equity"]


def test_bars_from_a_csv_file(tmp_path: Path) -> None:
    csv, out = tmp_path / "eth.csv", tmp_path / "eth.json"
    rows = ["open_time,open,high,low,close,volume"]
    for i in range(600):
        close = 100 + 10 * ((i // 40) % 2) + (i % 40) * 0.25  # saw-tooth: crosses both ways
        rows.append(
            f"{1_577_836_800_000 + i * 60_000},{close:.2f},{close + 0.5:.2f},"
            f"{close - 0.5:.2f},{close:.2f},{1 + i % 7}.5"
        )
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")

    done = tradeforge(
        tmp_path / "empty-catalog",
        "backtest",
        "--strategy",
        "sma_cross",
        "--instrument",
        "ETH/USDT.SIM",
        "--data",
        str(csv),
        "--param",
        "fast=5",
        "--param",
        "slow=20",
        "--json",
        str(out),
    )

    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["metrics"]["num_trades"] >= 1
    assert report["equity"]["ts"][0] == 1_577_836_860_000_000_000  # first bar's close
    assert len(report["equity"]["ts"]) == 600
    assert all(t["instrument_id"] == "ETH/USDT.SIM" for t in report["trades"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--strategy", "nope", "--instrument", "BTC/USDT.SIM"),
            "unknown strategy 'nope': use a registered name (bollinger_breakout, pairs_spread, "
            "rsi_reversion, sma_cross) or package.module:Class",
        ),
        (
            ("--strategy", "sma_cross", "--instrument", "BTC/USDT.SIM", "--param", "fast=x"),
            "parameter 'fast' = 'x': must be an integer",
        ),
        (
            ("--strategy", "sma_cross", "--instrument", "BTC/USDT.SIM", "--param", "fst=5"),
            "strategy sma_cross: unknown parameter 'fst' (parameters: fast, size, slow)",
        ),
        (
            ("--strategy", "sma_cross", "--instrument", "BTC/USDT.SIM", "--param", "fast"),
            "--param must look like NAME=VALUE (e.g. fast=10), got 'fast'",
        ),
        (
            ("--strategy", "sma_cross", "--instrument", "BTC/USDT.SIM", "--param", "fast=40"),
            "parameter 'fast' = 40 must be below 'slow' = 30",
        ),
        (
            ("--strategy", "sma_cross", "--instrument", "BTC/USDT.SIM", "--cash", "abc"),
            "--cash must be a number, got 'abc'",
        ),
        (
            ("--strategy", "no_such_pkg:Momentum", "--instrument", "BTC/USDT.SIM"),
            "strategy 'no_such_pkg:Momentum': cannot import 'no_such_pkg': "
            "No module named 'no_such_pkg'",
        ),
    ],
    ids=[
        "unknown-strategy",
        "bad-param",
        "unknown-param",
        "param-without-value",
        "fast-not-below-slow",
        "bad-cash",
        "missing-module",
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(
    data_dir: Path, args: tuple[str, ...], message: str
) -> None:
    done = tradeforge(data_dir, "backtest", *args)

    assert_one_line_error(done, message)


def test_an_instrument_without_a_dataset_is_one_error_line_and_exit_2(data_dir: Path) -> None:
    done = tradeforge(
        data_dir, "backtest", "--strategy", "sma_cross", "--instrument", "ETH/USDT.SIM"
    )

    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: no dataset ETH/USDT.SIM 1m in ")
    assert "Traceback" not in done.stderr


def test_a_strategy_that_fails_while_running_is_reported_with_exit_1(data_dir: Path) -> None:
    done = tradeforge(
        data_dir, "backtest", "--strategy", "pairs_spread", "--instrument", "BTC/USDT.SIM"
    )

    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1
    assert "strategy 'pairs_spread-1' failed in on_start" in errors[0]
    assert "pairs_spread needs exactly two instruments" in errors[0]
    assert "Traceback" not in done.stderr


def test_a_strategy_module_that_does_not_import_is_one_error_line(
    data_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "tf_broken_strategy.py").write_text("def broken(:\n", encoding="utf-8")

    done = tradeforge(
        data_dir,
        "backtest",
        "--strategy",
        "tf_broken_strategy:Momentum",
        "--instrument",
        "BTC/USDT.SIM",
        pythonpath=tmp_path,
    )

    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("error: strategy")
    assert "Traceback" not in done.stderr

"""``tradeforge data`` through click's runner: output, one-line user errors, nothing written."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from tradeforge.data import Catalog
from tradeforge.domain import InstrumentId, Timeframe
from tradeforge.runtime.cli import cli

BTC = InstrumentId.from_str("BTC/USDT.SIM")
ONE_MINUTE = Timeframe.from_str("1m")


def _run(data_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["--data-dir", str(data_dir), "data", *args], env={"COLUMNS": "200"}
    )


def _csv(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "prices.csv"
    path.write_text("\n".join(["time,open,high,low,close,volume", *rows]) + "\n", encoding="utf-8")
    return path


GOOD = [
    "2020-01-01T00:00:00Z,100.5,101.25,100,101,3.5",
    "2020-01-01T00:01:00Z,101,101.5,100.75,101.5,0.25",
    "2020-01-01T00:02:00Z,101.5,102,101,101.75,1",
]


def test_generate_then_list_then_show(tmp_path: Path) -> None:
    generated = _run(
        tmp_path, "generate", "--instrument", "BTC/USDT.SIM", "--bars", "2000", "--seed", "7"
    )
    listed = _run(tmp_path, "list")
    head = _run(
        tmp_path, "show", "--instrument", "BTC/USDT.SIM", "--timeframe", "1m", "--head", "2"
    )
    tail = _run(
        tmp_path, "show", "--instrument", "BTC/USDT.SIM", "--timeframe", "1m", "--tail", "1"
    )

    assert generated.exit_code == 0, generated.output
    assert generated.stdout.startswith("generated 2,000 bars (seed 7); BTC/USDT.SIM 1m: 2,000 bars")
    assert listed.exit_code == 0, listed.output
    for text in (
        "BTC/USDT.SIM",
        "1m",
        "2,000",
        "2020-01-01T00:00:00Z",
        "2020-01-02T09:19:00Z",
        "price 2 / size 3",
    ):
        assert text in listed.stdout
    assert head.exit_code == 0, head.output
    assert "2020-01-01T00:00:00Z" in head.stdout
    assert "2020-01-01T00:01:00Z" in head.stdout
    assert "30000.00" in head.stdout
    assert "2020-01-01T00:02:00Z" not in head.stdout
    assert tail.exit_code == 0, tail.output
    assert "2020-01-02T09:19:00Z" in tail.stdout.split("ts (open, UTC)")[1]


def test_the_data_dir_comes_from_the_environment_too(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["data", "generate", "--instrument", "ETH/USDT.SIM", "--bars", "10"],
        env={"TRADEFORGE__DATA__DIR": str(tmp_path)},
    )

    assert result.exit_code == 0, result.output
    assert Catalog(tmp_path).info(InstrumentId.from_str("ETH/USDT.SIM"), ONE_MINUTE).rows == 10


def test_list_of_an_empty_catalog_suggests_generate(tmp_path: Path) -> None:
    result = _run(tmp_path, "list")

    assert result.exit_code == 0
    assert f"no datasets in {tmp_path}" in result.stdout
    assert "tradeforge data generate" in result.stdout


def test_import_and_append(tmp_path: Path) -> None:
    path = _csv(tmp_path, GOOD[:2])
    later = tmp_path / "later.csv"
    later.write_text("time,open,high,low,close,volume\n" + GOOD[2] + "\n", encoding="utf-8")

    imported = _run(
        tmp_path, "import", str(path), "--instrument", "BTC/USDT.SIM", "--timeframe", "1m"
    )
    appended = _run(
        tmp_path,
        "import",
        str(later),
        "--instrument",
        "BTC/USDT.SIM",
        "--timeframe",
        "1m",
        "--append",
    )

    assert imported.exit_code == 0, imported.output
    assert imported.stdout.startswith("imported 2 bars from prices.csv; BTC/USDT.SIM 1m: 2 bars")
    assert "price precision 2, size precision 2" in imported.stdout
    assert appended.exit_code == 0, appended.output
    assert appended.stdout.startswith("appended 1 bars from later.csv; BTC/USDT.SIM 1m: 3 bars")
    info = Catalog(tmp_path).info(BTC, ONE_MINUTE)
    assert info.source == f"{path.resolve()}; {later.resolve()}"
    assert info.created_ns > 0


def test_import_with_column_overrides(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text("when,a,b,c_,d,e\n" + GOOD[0] + "\n", encoding="utf-8")

    result = _run(
        tmp_path, "import", str(path), "--instrument", "BTC/USDT.SIM", "--timeframe", "1m",
        "--column", "ts=when", "--column", "open=a", "--column", "high=b",
        "--column", "low=c_", "--column", "close=d", "--column", "volume=e",
    )  # fmt: skip

    assert result.exit_code == 0, result.output


def test_resample(tmp_path: Path) -> None:
    _run(tmp_path, "generate", "--instrument", "BTC/USDT.SIM", "--bars", "600")

    result = _run(
        tmp_path, "resample", "--instrument", "BTC/USDT.SIM", "--from", "1m", "--to", "1h"
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("resampled 600 1m bars; BTC/USDT.SIM 1h: 10 bars")


def _one_red_line(result: Result, message: str) -> None:
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"error: {message}\n"
    assert "Traceback" not in result.output


def test_a_bad_file_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    path = _csv(tmp_path, [GOOD[0], "2020-01-01T00:01:00Z,101,100,100.5,100.75,1"])
    data_dir = tmp_path / "data"

    result = _run(
        data_dir, "import", str(path), "--instrument", "BTC/USDT.SIM", "--timeframe", "1m"
    )

    _one_red_line(result, "prices.csv line 3, column 'high': high 100 is below low 100.5")
    assert Catalog(data_dir).datasets() == []
    assert not (data_dir / "bars").exists()


def test_a_bad_append_keeps_the_dataset(tmp_path: Path) -> None:
    path = _csv(tmp_path, GOOD)
    _run(tmp_path, "import", str(path), "--instrument", "BTC/USDT.SIM", "--timeframe", "1m")

    result = _run(
        tmp_path,
        "import",
        str(path),
        "--instrument",
        "BTC/USDT.SIM",
        "--timeframe",
        "1m",
        "--append",
    )

    _one_red_line(
        result,
        "BTC/USDT.SIM 1m: bars must start at least 1m after the dataset's last bar "
        "2020-01-01T00:02:00Z, got 2020-01-01T00:00:00Z",
    )
    assert Catalog(tmp_path).info(BTC, ONE_MINUTE).rows == 3


def test_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.csv"

    result = _run(tmp_path, "import", str(path), "--instrument", "X.SIM", "--timeframe", "1m")

    _one_red_line(result, f"{path}: No such file or directory")


def test_an_unknown_dataset(tmp_path: Path) -> None:
    result = _run(tmp_path, "show", "--instrument", "BTC/USDT.SIM", "--timeframe", "1h")

    _one_red_line(result, f"no dataset BTC/USDT.SIM 1h in {tmp_path}; the catalog is empty")


def test_a_bad_timeframe(tmp_path: Path) -> None:
    result = _run(tmp_path, "generate", "--instrument", "BTC/USDT.SIM", "--timeframe", "1x")

    _one_red_line(result, "timeframe must look like 1m, 5m, 1h or 1d; got '1x'")


def test_a_bad_instrument_id(tmp_path: Path) -> None:
    result = _run(tmp_path, "generate", "--instrument", "BTCUSDT")

    _one_red_line(
        result,
        "instrument_id must look like SYMBOL.VENUE (e.g. BTC/USDT.BINANCE), got 'BTCUSDT'",
    )


def test_a_bad_start_time(tmp_path: Path) -> None:
    result = _run(tmp_path, "generate", "--instrument", "BTC/USDT.SIM", "--start", "soon")

    assert result.exit_code == 2
    assert result.stderr.startswith("error: time must be ISO-8601")


def test_resample_to_a_shorter_timeframe(tmp_path: Path) -> None:
    _run(tmp_path, "generate", "--instrument", "BTC/USDT.SIM", "--bars", "10", "--timeframe", "1h")

    result = _run(
        tmp_path, "resample", "--instrument", "BTC/USDT.SIM", "--from", "1h", "--to", "1m"
    )

    _one_red_line(
        result, "cannot resample 1h bars to 1m: the target timeframe must be a whole multiple of 1h"
    )


def test_a_bad_column_override(tmp_path: Path) -> None:
    path = _csv(tmp_path, GOOD)

    result = _run(
        tmp_path, "import", str(path), "--instrument", "BTC/USDT.SIM", "--timeframe", "1m",
        "--column", "price",
    )  # fmt: skip

    _one_red_line(result, "--column must look like ROLE=NAME (e.g. ts=Date), got 'price'")


def test_head_and_tail_together_is_a_usage_error(tmp_path: Path) -> None:
    result = _run(
        tmp_path, "show", "--instrument", "X.SIM", "--timeframe", "1m", "--head", "1", "--tail", "1"
    )

    assert result.exit_code == 2
    assert "use --head or --tail, not both" in result.stderr


def test_errors_are_red(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["--data-dir", str(tmp_path), "data", "show", "--instrument", "X.SIM", "--timeframe", "1m"],
        color=True,
    )

    assert (
        result.stderr
        == click.style(f"error: no dataset X.SIM 1m in {tmp_path}; the catalog is empty", fg="red")
        + "\n"
    )


@pytest.mark.parametrize("command", ["import", "list", "show", "generate", "resample"])
def test_every_data_command_has_help_with_examples(command: str) -> None:
    result = CliRunner().invoke(cli, ["data", command, "--help"])

    assert result.exit_code == 0
    assert "Examples:" in result.stdout

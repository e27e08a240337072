"""The installed ``tradeforge`` console script, run as a real process against a temp data dir."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tradeforge.data import Catalog
from tradeforge.domain import InstrumentId, Timeframe

pytestmark = pytest.mark.integration

TRADEFORGE = Path(sys.executable).parent / "tradeforge"


def _tradeforge(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("TRADEFORGE__")}
    env["COLUMNS"] = "200"
    return subprocess.run(
        [str(TRADEFORGE), "--data-dir", str(data_dir), "data", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_generate_list_show_import_resample(tmp_path: Path) -> None:
    data_dir = tmp_path / "md"
    csv = tmp_path / "eth.csv"
    csv.write_text(
        "open_time,Open,High,Low,Close,Volume\n"
        + "".join(
            f"{1_577_836_800_000 + i * 60_000},{100 + i},{101 + i}.5,{99 + i},{100 + i}.25,{i}.5\n"
            for i in range(180)
        ),
        encoding="utf-8",
    )

    generated = _tradeforge(
        data_dir, "generate", "--instrument", "BTC/USDT.SIM", "--bars", "100000", "--seed", "7"
    )
    imported = _tradeforge(
        data_dir, "import", str(csv), "--instrument", "ETH/USDT.SIM", "--timeframe", "1m"
    )
    resampled = _tradeforge(
        data_dir, "resample", "--instrument", "ETH/USDT.SIM", "--from", "1m", "--to", "1h"
    )
    listed = _tradeforge(data_dir, "list")
    shown = _tradeforge(data_dir, "show", "--instrument", "ETH/USDT.SIM", "--timeframe", "1h")

    for result in (generated, imported, resampled, listed, shown):
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
    assert "generated 100,000 bars (seed 7)" in generated.stdout
    assert "imported 180 bars from eth.csv; ETH/USDT.SIM 1m: 180 bars" in imported.stdout
    assert "ETH/USDT.SIM 1h: 3 bars" in resampled.stdout
    rows = [line for line in listed.stdout.splitlines() if ".SIM" in line]
    assert [line.split()[1:4] for line in rows] == [
        ["BTC/USDT.SIM", "│", "1m"],
        ["ETH/USDT.SIM", "│", "1m"],
        ["ETH/USDT.SIM", "│", "1h"],
    ]
    assert "100,000" in rows[0]
    assert "2020-01-01T02:00:00Z" in shown.stdout
    eth = InstrumentId.from_str("ETH/USDT.SIM")
    hourly = Catalog(data_dir).load_bars(eth, Timeframe.from_str("1h"))
    assert hourly.open.tolist() == [100.0, 160.0, 220.0]
    assert hourly.high.tolist() == [160.5, 220.5, 280.5]
    assert hourly.volume.tolist() == [
        sum(i + 0.5 for i in range(h * 60, h * 60 + 60)) for h in range(3)
    ]


def test_a_user_error_is_one_line_and_exit_status_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("ts,open,high,low,close,volume\n1577836800,1,1,1,1,1\n1577836800,1,1,1,1,1\n")

    result = _tradeforge(
        tmp_path / "md", "import", str(bad), "--instrument", "X.SIM", "--timeframe", "1m"
    )

    assert result.returncode == 2
    assert result.stderr == (
        "error: bad.csv line 3, column 'ts': duplicate timestamp 2020-01-01T00:00:00Z "
        "(same as the row before)\n"
    )
    assert not (tmp_path / "md" / "bars").exists()

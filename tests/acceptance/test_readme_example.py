"""The Python example in the README runs as written (against a generated catalog)."""

from __future__ import annotations

import re
from pathlib import Path

from tradeforge.data import Catalog, generate_bars
from tradeforge.domain import InstrumentId, Timeframe

README = Path(__file__).resolve().parents[2] / "README.md"


def _python_example() -> str:
    block = re.search(r"```python\n(.*?)```", README.read_text(), re.S)
    assert block is not None, "README has no python example"
    return "\n".join(line.removeprefix("   ") for line in block.group(1).splitlines())


def test_readme_backtest_example_runs(tmp_path: Path) -> None:
    minute = Timeframe.from_str("1m")
    bars = generate_bars(bars=5_000, seed=3, timeframe=minute, start_ns=1_600_000_000_000_000_000)
    Catalog(tmp_path).write_bars(InstrumentId.from_str("BTC/USDT.SIM"), minute, bars)
    code = _python_example().replace(
        'Path("~/.tradeforge/data").expanduser()', f"Path({str(tmp_path)!r})"
    )
    namespace: dict[str, object] = {}

    exec(compile(code, str(README), "exec"), namespace)

    result = namespace["result"]
    assert result.trades  # type: ignore[attr-defined]
    assert result.errors == []  # type: ignore[attr-defined]

"""``tradeforge backtest``: run a strategy over history from the catalog (or a file) and show,
save or chart the result."""

from __future__ import annotations

import json
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol

import click
import numpy as np
from rich.console import Console
from rich.table import Table

from tradeforge.backtest import (
    BacktestResult,
    FillModel,
    LatencyModel,
    SlippageModel,
    metrics_rows,
    run,
    write_report,
)
from tradeforge.bus import Codec
from tradeforge.data import Catalog, import_bars, parse_utc_ns
from tradeforge.domain import InstrumentId, InvalidValue, Timeframe
from tradeforge.observability import progress_bar
from tradeforge.runtime.settings import Settings
from tradeforge.strategy import StrategyRegistry

__all__ = ["backtest_command"]

_REPORT_POINTS = 200_000


class _Invocation(Protocol):
    @property
    def settings(self) -> Settings: ...


@click.command("backtest")
@click.option(
    "--strategy",
    "strategy_ref",
    required=True,
    metavar="NAME|module:Class",
    help="A registered strategy (sma_cross, rsi_reversion, bollinger_breakout, "
    "pairs_spread) or package.module:Class.",
)
@click.option(
    "--instrument",
    "instruments",
    required=True,
    multiple=True,
    metavar="SYMBOL.VENUE",
    help="Instrument to trade; repeat for several (e.g. pairs_spread).",
)
@click.option("--timeframe", default="1m", show_default=True, metavar="TF", help="Bar length.")
@click.option(
    "--param", "params", multiple=True, metavar="NAME=VALUE", help="Strategy parameter; repeatable."
)
@click.option(
    "--cash", default="1000000", show_default=True, help="Starting cash (quote currency)."
)
@click.option("--fee", default=None, help="Commission rate per fill, e.g. 0.001 for 0.1%.")
@click.option("--start", default=None, metavar="TIME", help="First bar (ISO-8601 or epoch).")
@click.option("--end", default=None, metavar="TIME", help="Stop before this time.")
@click.option(
    "--data",
    "data_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read bars from this CSV/Parquet file instead of the catalog.",
)
@click.option(
    "--fill-at",
    type=click.Choice(["open", "close"]),
    default="open",
    show_default=True,
    help="Market orders fill at the next bar's open or this close.",
)
@click.option(
    "--slippage-ticks",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Ticks of slippage on taker fills.",
)
@click.option(
    "--latency-ms",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Delay before orders reach the venue.",
)
@click.option(
    "--json",
    "json_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write metrics, trades and the equity curve as one JSON object.",
)
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a self-contained HTML report.",
)
@click.pass_obj
def backtest_command(
    invocation: _Invocation,
    *,
    strategy_ref: str,
    instruments: tuple[str, ...],
    timeframe: str,
    params: tuple[str, ...],
    cash: str,
    fee: str | None,
    start: str | None,
    end: str | None,
    data_file: Path | None,
    fill_at: str,
    slippage_ticks: int,
    latency_ms: int,
    json_file: Path | None,
    report_file: Path | None,
) -> None:
    """Backtest a strategy and print its metrics.

    Bars come from the catalog in the data directory (see `tradeforge data`), or from
    --data FILE. Market orders fill at the next bar's open by default.

    \b
    Examples:
      tradeforge data generate --instrument BTC/USDT.SIM --bars 100000 --seed 7
      tradeforge backtest --strategy sma_cross --instrument BTC/USDT.SIM --timeframe 1m \\
          --param fast=10 --param slow=30 --param size=1 --cash 1000000 --fee 0.001
      tradeforge backtest --strategy rsi_reversion --instrument BTC/USDT.SIM \\
          --json out.json --report out.html
      tradeforge backtest --strategy my_pkg.strats:Momentum --instrument ETH/USDT.SIM \\
          --data eth.csv --start 2024-01-01 --end 2024-06-01
    """
    ids = [InstrumentId.from_str(i) for i in instruments]
    frame = Timeframe.from_str(timeframe)
    cls = StrategyRegistry().load(strategy_ref)
    strategy = cls(_parse_params(params), instruments=ids)
    start_ns = parse_utc_ns(start) if start else None
    end_ns = parse_utc_ns(end) if end else None
    catalog = Catalog(invocation.settings.data.path)
    common: dict[str, Any] = {
        "cash": _decimal("--cash", cash),
        "fee": _decimal("--fee", fee) if fee is not None else None,
        "fill_model": FillModel(
            fill_at="close" if fill_at == "close" else "open",
            slippage=SlippageModel(fixed_ticks=slippage_ticks),
        ),
        "latency": LatencyModel(
            submit_ns=latency_ms * 1_000_000,
            modify_ns=latency_ms * 1_000_000,
            cancel_ns=latency_ms * 1_000_000,
        ),
        "timeframe": frame,
    }
    if data_file is not None:
        if len(ids) != 1:
            raise InvalidValue("--data FILE holds one instrument: give exactly one --instrument")
        bars = import_bars(data_file, instrument_id=ids[0], timeframe=frame)
        bars = bars.between(start_ns, end_ns) if (start_ns or end_ns) else bars
        total = len(bars)
        source: dict[str, Any] = {"bars": {ids[0]: bars}}
    else:
        total = sum(catalog.info(i, frame).rows for i in ids)
        source = {"catalog": catalog, "instrument_ids": ids, "start_ns": start_ns, "end_ns": end_ns}
    began = time.perf_counter()  # wall-clock: how long the run took, for the user
    with progress_bar(f"backtesting {strategy.name}", total) as advance:
        result = run(strategy, progress=advance, **source, **common)
    elapsed = time.perf_counter() - began  # wall-clock: as above
    _print(Console(highlight=False), result, elapsed)
    if json_file is not None:
        json_file.write_text(json.dumps(_as_json(result), allow_nan=False))
        click.echo(f"wrote {json_file}")
    if report_file is not None:
        prices = (
            _prices(catalog, ids, frame, start_ns, end_ns)
            if data_file is None
            else {str(ids[0]): (source["bars"][ids[0]].ts, source["bars"][ids[0]].close)}
        )
        write_report(
            report_file,
            title=f"{strategy.name} on {', '.join(instruments)}",
            curve=result.equity,
            trades=result.trades,
            metrics=result.metrics,
            prices=prices,
        )
        click.echo(f"wrote {report_file}")
    if result.errors:
        for error in result.errors:
            click.secho(f"error: {error}", fg="red", err=True)
        raise SystemExit(1)


def _decimal(flag: str, value: str) -> Decimal:
    try:
        parsed = Decimal(value)
    except InvalidOperation:
        raise InvalidValue(f"{flag} must be a number, got {value!r}") from None
    if not parsed.is_finite():
        raise InvalidValue(f"{flag} must be finite, got {value!r}")
    return parsed


def _parse_params(pairs: tuple[str, ...]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name.strip():
            raise InvalidValue(f"--param must look like NAME=VALUE (e.g. fast=10), got {pair!r}")
        params[name.strip()] = value.strip()
    return params


def _print(console: Console, result: BacktestResult, elapsed: float) -> None:
    table = Table(title="Backtest", show_header=False, title_justify="left")
    table.add_column("metric", style="bold")
    table.add_column("value", justify="right")
    for label, value in metrics_rows(result.metrics):
        table.add_row(label, value)
    console.print(table)
    speed = result.bars / elapsed if elapsed > 0 else 0.0
    console.print(
        f"{result.bars:,} bars, {result.orders:,} orders, {len(result.trades):,} trades "
        f"in {elapsed:.2f} s ({speed:,.0f} bars/s)"
    )


def _as_json(result: BacktestResult) -> dict[str, Any]:
    codec = Codec()
    curve = result.equity
    return {
        "metrics": {**result.metrics.to_dict(), "num_trades": len(result.trades)},
        "trades": [codec.to_builtins(t) for t in result.trades],
        "equity": {"ts": curve.ts.tolist(), "equity": curve.equity.tolist()},
        "strategies": {
            str(sid): {"metrics": s.metrics.to_dict(), "num_trades": len(s.trades)}
            for sid, s in result.strategies.items()
        },
        "initial_cash": str(result.initial_cash),
        "final_cash": str(result.final_cash),
        "fees": str(result.fees),
        "errors": [str(e) for e in result.errors],
    }


def _prices(
    catalog: Catalog,
    ids: list[InstrumentId],
    frame: Timeframe,
    start_ns: int | None,
    end_ns: int | None,
) -> dict[str, tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]]:
    out: dict[str, tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]] = {}
    for iid in ids:
        stride = max(1, catalog.info(iid, frame).rows // _REPORT_POINTS)
        ts_parts, close_parts = [], []
        for chunk in catalog.iter_bars(iid, frame, start_ns=start_ns, end_ns=end_ns):
            ts_parts.append(chunk.ts[::stride] + frame.nanos)
            close_parts.append(chunk.close[::stride])
        if ts_parts:
            out[str(iid)] = (np.concatenate(ts_parts), np.concatenate(close_parts))
    return out

"""``tradeforge data``: import, list, show, generate and resample the history catalog.

Every command works on the catalog in the data directory (``--data-dir``,
``TRADEFORGE__DATA__DIR``, default ``~/.tradeforge/data``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import click
from rich.console import Console
from rich.table import Table

from tradeforge.data import (
    BarArrays,
    Catalog,
    DatasetInfo,
    format_utc_ns,
    generate_bar_chunks,
    import_bars,
    parse_utc_ns,
)
from tradeforge.domain.errors import ConfigurationError, InvalidValue
from tradeforge.domain.identifiers import InstrumentId
from tradeforge.domain.market_data import Timeframe
from tradeforge.observability import progress_bar
from tradeforge.runtime.settings import Settings

__all__ = ["data_group"]

_DEFAULT_ROWS = 10


class _Invocation(Protocol):
    # What the ``tradeforge`` group puts in ``ctx.obj`` (runtime.cli.Invocation).
    @property
    def settings(self) -> Settings: ...


@click.group("data")
def data_group() -> None:
    """Import, inspect, generate and resample market history.

    Bars live as Parquet files under the data directory (--data-dir), one dataset per
    instrument and timeframe; see docs/data.md.

    \b
    Examples:
      tradeforge data generate --instrument BTC/USDT.SIM --bars 1000000 --seed 7
      tradeforge data import prices.csv --instrument BTC/USDT.BINANCE --timeframe 1m
      tradeforge data list
      tradeforge data show --instrument BTC/USDT.SIM --timeframe 1m --tail 5
      tradeforge data resample --instrument BTC/USDT.SIM --from 1m --to 1h
    """


@data_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--instrument", required=True, metavar="SYMBOL.VENUE", help="e.g. BTC/USDT.BINANCE")
@click.option("--timeframe", required=True, metavar="TF", help="Bar length: 1m, 5m, 1h, 1d ...")
@click.option(
    "--append", is_flag=True, help="Add after the dataset's last bar instead of replacing."
)
@click.option(
    "--column",
    "column_overrides",
    multiple=True,
    metavar="ROLE=NAME",
    help="Use column NAME for ROLE (ts, open, high, low, close, volume); repeatable.",
)
@click.option(
    "--price-precision", type=click.IntRange(0, 10), help="Decimals of prices [inferred]."
)
@click.option(
    "--size-precision", type=click.IntRange(0, 10), help="Decimals of volumes [inferred]."
)
@click.pass_obj
def import_command(
    invocation: _Invocation,
    *,
    file: Path,
    instrument: str,
    timeframe: str,
    append: bool,
    column_overrides: tuple[str, ...],
    price_precision: int | None,
    size_precision: int | None,
) -> None:
    """Import OHLCV bars from a CSV or Parquet FILE.

    Columns are found by name (timestamp/time/date/open_time/ts, open/o, high/h, low/l,
    close/c, volume/vol/v, any case); timestamps may be epoch seconds, milliseconds,
    microseconds or nanoseconds, or ISO-8601 text (naive means UTC), and are the bars' open
    times. A bad file is refused with its line and column, and nothing is written.

    \b
    Examples:
      tradeforge data import prices.csv --instrument BTC/USDT.BINANCE --timeframe 1m
      tradeforge data import march.parquet --instrument BTC/USDT.BINANCE --timeframe 1m --append
      tradeforge data import spy.csv --instrument SPY.NYSE --timeframe 1d --column ts=Date
    """
    instrument_id, frame = _parse_ids(instrument, timeframe)
    catalog = _catalog(invocation)
    bars = import_bars(
        file, instrument_id=instrument_id, timeframe=frame, columns=_parse_columns(column_overrides)
    )
    with _data_dir_errors(catalog), progress_bar(f"importing {file.name}", len(bars)) as advance:
        info = catalog.write_bar_chunks(
            instrument_id,
            frame,
            [bars],
            price_precision=price_precision,
            size_precision=size_precision,
            source=str(file.resolve()),
            created_ns=time.time_ns(),  # wall-clock: dataset metadata
            mode="append" if append else "replace",
            progress=advance,
        )
    verb = "appended" if append else "imported"
    click.echo(f"{verb} {len(bars):,} bars from {file.name}; {_summary(info)}")


@data_group.command("list")
@click.pass_obj
def list_command(invocation: _Invocation) -> None:
    """List every dataset: instrument, timeframe, bars, first and last bar, precision.

    \b
    Examples:
      tradeforge data list
      tradeforge --data-dir /srv/marketdata data list
    """
    catalog = _catalog(invocation)
    datasets = catalog.datasets()
    console = Console(highlight=False)
    if not datasets:
        console.print(f"no datasets in {catalog.root}")
        console.print("try: tradeforge data generate --instrument BTC/USDT.SIM --bars 100000")
        return
    table = Table(title=f"datasets in {catalog.root}", title_justify="left")
    for name in ("instrument", "timeframe", "rows", "first", "last", "precision"):
        table.add_column(name, justify="right" if name == "rows" else "left", no_wrap=True)
    for info in datasets:
        table.add_row(
            str(info.instrument_id),
            str(info.timeframe),
            f"{info.rows:,}",
            format_utc_ns(info.first_ts),
            format_utc_ns(info.last_ts),
            f"price {info.price_precision} / size {info.size_precision}",
        )
    console.print(table)


@data_group.command("show")
@click.option("--instrument", required=True, metavar="SYMBOL.VENUE", help="e.g. BTC/USDT.SIM")
@click.option("--timeframe", required=True, metavar="TF", help="Bar length: 1m, 1h, 1d ...")
@click.option(
    "--head", type=click.IntRange(min=1), help=f"First N bars [default: {_DEFAULT_ROWS}]."
)
@click.option("--tail", type=click.IntRange(min=1), help="Last N bars.")
@click.pass_obj
def show_command(
    invocation: _Invocation, instrument: str, timeframe: str, head: int | None, tail: int | None
) -> None:
    """Show a dataset's summary and its first (or last) bars.

    Times are bar open times in UTC.

    \b
    Examples:
      tradeforge data show --instrument BTC/USDT.SIM --timeframe 1m
      tradeforge data show --instrument BTC/USDT.SIM --timeframe 1h --head 24
      tradeforge data show --instrument BTC/USDT.SIM --timeframe 1m --tail 5
    """
    if head is not None and tail is not None:
        raise click.UsageError("use --head or --tail, not both")
    instrument_id, frame = _parse_ids(instrument, timeframe)
    catalog = _catalog(invocation)
    info = catalog.info(instrument_id, frame)
    if tail is not None:
        bars = _last_bars(catalog, info, tail)
    else:
        bars = _first_bars(catalog, info, head or _DEFAULT_ROWS)
    console = Console(highlight=False)
    console.print(_summary(info), soft_wrap=True)
    console.print(f"source {info.source or '-'}; files in {info.path}", soft_wrap=True)
    table = Table(show_edge=False)
    table.add_column("ts (open, UTC)", no_wrap=True)
    for name in ("open", "high", "low", "close", "volume"):
        table.add_column(name, justify="right", no_wrap=True)
    for row in range(len(bars)):
        table.add_row(
            format_utc_ns(int(bars.ts[row])),
            *(f"{getattr(bars, name)[row]:.{info.price_precision}f}" for name in _PRICES),
            f"{bars.volume[row]:.{info.size_precision}f}",
        )
    console.print(table)


@data_group.command("generate")
@click.option("--instrument", required=True, metavar="SYMBOL.VENUE", help="e.g. BTC/USDT.SIM")
@click.option("--bars", type=click.IntRange(min=1), default=100_000, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same bars.")
@click.option("--timeframe", default="1m", show_default=True, metavar="TF")
@click.option(
    "--start", default="2020-01-01", show_default=True, help="First bar's open time (UTC)."
)
@click.option("--start-price", type=click.FloatRange(min=0, min_open=True), default=30_000.0)
@click.option(
    "--tick", type=click.FloatRange(min=0, min_open=True), default=0.01, show_default=True
)
@click.option(
    "--lot", type=click.FloatRange(min=0, min_open=True), default=0.001, show_default=True
)
@click.pass_obj
def generate_command(
    invocation: _Invocation,
    *,
    instrument: str,
    bars: int,
    seed: int,
    timeframe: str,
    start: str,
    start_price: float,
    tick: float,
    lot: float,
) -> None:
    """Write a realistic seeded synthetic series (replaces the dataset).

    Volatility clusters, returns have fat tails and occasional jumps, volatility and volume
    follow the time of day, and OHLC is consistent and rounded to --tick and --lot; see
    docs/data.md for the model. Large series are generated and written in chunks.

    \b
    Examples:
      tradeforge data generate --instrument BTC/USDT.SIM --bars 1000000 --seed 7
      tradeforge data generate --instrument ETH/USDT.SIM --timeframe 5m --start 2022-06-01
      tradeforge data generate --instrument EURUSD.SIM --start-price 1.1 --tick 0.00001 --lot 1000
    """
    instrument_id, frame = _parse_ids(instrument, timeframe)
    catalog = _catalog(invocation)
    chunks = generate_bar_chunks(
        bars=bars,
        seed=seed,
        timeframe=frame,
        start_ns=parse_utc_ns(start),
        start_price=start_price,
        tick=tick,
        lot=lot,
    )
    with _data_dir_errors(catalog), progress_bar(f"generating {instrument_id}", bars) as advance:
        info = catalog.write_bar_chunks(
            instrument_id,
            frame,
            chunks,
            source=f"synthetic seed={seed} start_price={start_price} tick={tick} lot={lot}",
            created_ns=time.time_ns(),  # wall-clock: dataset metadata
            progress=advance,
        )
    click.echo(f"generated {bars:,} bars (seed {seed}); {_summary(info)}")


@data_group.command("resample")
@click.option("--instrument", required=True, metavar="SYMBOL.VENUE", help="e.g. BTC/USDT.SIM")
@click.option("--from", "source", required=True, metavar="TF", help="Existing timeframe.")
@click.option("--to", "target", required=True, metavar="TF", help="New timeframe (a multiple).")
@click.pass_obj
def resample_command(invocation: _Invocation, instrument: str, source: str, target: str) -> None:
    """Aggregate a dataset into a longer timeframe (replaces the target dataset).

    Target bars start at whole multiples of the target from the Unix epoch (1h on the hour,
    1d at 00:00 UTC); open is the first open, high the highest, low the lowest, close the
    last close, volume the sum.

    \b
    Examples:
      tradeforge data resample --instrument BTC/USDT.SIM --from 1m --to 1h
      tradeforge data resample --instrument BTC/USDT.SIM --from 1h --to 1d
    """
    instrument_id, source_frame = _parse_ids(instrument, source)
    target_frame = Timeframe.from_str(target)
    catalog = _catalog(invocation)
    rows = catalog.info(instrument_id, source_frame).rows
    with _data_dir_errors(catalog), progress_bar(f"resampling to {target_frame}", rows) as advance:
        info = catalog.resample(
            instrument_id,
            source_frame,
            target_frame,
            created_ns=time.time_ns(),  # wall-clock: dataset metadata
            progress=advance,
        )
    click.echo(f"resampled {rows:,} {source_frame} bars; {_summary(info)}")


_PRICES = ("open", "high", "low", "close")


def _catalog(invocation: _Invocation) -> Catalog:
    return Catalog(invocation.settings.data.path)


def _parse_ids(instrument: str, timeframe: str) -> tuple[InstrumentId, Timeframe]:
    return InstrumentId.from_str(instrument), Timeframe.from_str(timeframe)


def _parse_columns(pairs: tuple[str, ...]) -> dict[str, str]:
    columns: dict[str, str] = {}
    for pair in pairs:
        role, equals, name = pair.partition("=")
        if not equals or not role or not name:
            raise InvalidValue(f"--column must look like ROLE=NAME (e.g. ts=Date), got {pair!r}")
        columns[role.strip()] = name
    return columns


def _summary(info: DatasetInfo) -> str:
    return (
        f"{info.instrument_id} {info.timeframe}: {info.rows:,} bars, "
        f"{format_utc_ns(info.first_ts)} .. {format_utc_ns(info.last_ts)}, "
        f"price precision {info.price_precision}, size precision {info.size_precision}"
    )


def _first_bars(catalog: Catalog, info: DatasetInfo, rows: int) -> BarArrays:
    chunks: list[BarArrays] = []
    count = 0
    for chunk in catalog.iter_bars(info.instrument_id, info.timeframe, chunk_rows=rows):
        chunks.append(chunk)
        count += len(chunk)
        if count >= rows:
            break
    return BarArrays.concat(chunks).head(rows)


def _last_bars(catalog: Catalog, info: DatasetInfo, rows: int) -> BarArrays:
    # Streams the dataset keeping only the newest ``rows``; fine for a display command.
    kept = BarArrays.empty()
    for chunk in catalog.iter_bars(info.instrument_id, info.timeframe):
        kept = BarArrays.concat([kept, chunk.tail(rows)]).tail(rows)
    return kept


@contextmanager
def _data_dir_errors(catalog: Catalog) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise ConfigurationError(
            f"data.dir {str(catalog.root)!r} cannot be written: {exc.strerror or exc}"
        ) from None

"""Writing a dataset safely: per-chunk checks and tallies, then a swap of whole directories.

A write goes to a fresh staging directory on the catalog's file system; only when every chunk
has passed its checks and the metadata is written does :func:`swap_into_place` rename it over
the old dataset.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from tradeforge.data.bars import PRICE_COLUMNS, BarArrays, format_number
from tradeforge.data.dataset import DatasetInfo
from tradeforge.data.errors import InvalidBars
from tradeforge.data.precision import infer_precision
from tradeforge.data.timestamps import format_utc_ns
from tradeforge.domain.identifiers import InstrumentId
from tradeforge.domain.market_data import Timeframe

__all__ = ["WriteTally", "link_or_copy", "round_volume", "swap_into_place"]


class WriteTally:
    """Checks each chunk of a write against what came before and tallies the metadata.

    ``previous`` is the stored dataset an append continues (None for a replace).
    """

    def __init__(
        self,
        *,
        label: str,
        timeframe: Timeframe,
        previous: DatasetInfo | None,
        price_precision: int | None,
        size_precision: int | None,
    ) -> None:
        self.label = label
        self.timeframe = timeframe
        self.previous = previous
        self.given_price = price_precision
        self.given_size = size_precision
        self.price_precision = 0 if previous is None else previous.price_precision
        self.size_precision = 0 if previous is None else previous.size_precision
        self.rows_written = 0
        self.first_ts: int | None = None if previous is None else previous.first_ts
        self.last_ts: int | None = None if previous is None else previous.last_ts

    def check(self, chunk: BarArrays) -> None:
        """Raise :class:`InvalidBars` if ``chunk`` is bad or does not follow what came before."""
        problem = chunk.first_problem(self.timeframe)
        if problem is not None:
            row = self.rows_written + problem.row
            at = format_utc_ns(int(chunk.ts[problem.row]))
            raise InvalidBars(
                f"{self.label} bar {row} ({at}), column {problem.column!r}: {problem.message}"
            )
        first = int(chunk.ts[0])
        if self.last_ts is not None and first - self.last_ts < self.timeframe.nanos:
            where = "the dataset's" if self.rows_written == 0 else "the previous chunk's"
            raise InvalidBars(
                f"{self.label}: bars must start at least {self.timeframe} after {where} last bar "
                f"{format_utc_ns(self.last_ts)}, got {format_utc_ns(first)}"
            )
        for given, columns, name in (
            (self.given_price, PRICE_COLUMNS, "price_precision"),
            (self.given_size, ("volume",), "size_precision"),
        ):
            if given is not None:
                self._check_fits(chunk, columns, given, name)

    def account(self, chunk: BarArrays) -> None:
        """Count a written chunk: rows, first and last time, inferred precisions."""
        if self.given_price is None:
            for column in PRICE_COLUMNS:
                self.price_precision = infer_precision(
                    chunk.column(column).astype(np.float64), at_least=self.price_precision
                )
        if self.given_size is None:
            self.size_precision = infer_precision(chunk.volume, at_least=self.size_precision)
        if self.first_ts is None:
            self.first_ts = int(chunk.ts[0])
        self.last_ts = int(chunk.ts[-1])
        self.rows_written += len(chunk)

    def finish(
        self, *, instrument_id: InstrumentId, source: str, created_ns: int, path: Path
    ) -> DatasetInfo:
        """The metadata of the finished dataset; :class:`InvalidBars` if nothing was written."""
        if self.rows_written == 0:
            raise InvalidBars(f"{self.label}: no bars to write")
        assert self.first_ts is not None
        assert self.last_ts is not None
        previous_rows = 0 if self.previous is None else self.previous.rows
        return DatasetInfo(
            instrument_id=instrument_id,
            timeframe=self.timeframe,
            rows=previous_rows + self.rows_written,
            first_ts=self.first_ts,
            last_ts=self.last_ts,
            price_precision=self.given_price
            if self.given_price is not None
            else self.price_precision,
            size_precision=self.given_size if self.given_size is not None else self.size_precision,
            source=self._source(source),
            created_ns=created_ns,
            path=path,
        )

    def _source(self, source: str) -> str:
        # An append records every file the dataset was built from.
        earlier = "" if self.previous is None else self.previous.source
        return "; ".join(part for part in (earlier, source) if part)

    def _check_fits(
        self, chunk: BarArrays, columns: Iterable[str], decimals: int, name: str
    ) -> None:
        for column in columns:
            values = chunk.column(column).astype(np.float64)
            bad = np.round(values, decimals) != values
            if bad.any():
                row = int(np.argmax(bad))
                raise InvalidBars(
                    f"{self.label} bar {self.rows_written + row}, column {column!r}: "
                    f"{format_number(values[row])} has more than {name}={decimals} decimals"
                )


def round_volume(bars: BarArrays, decimals: int) -> BarArrays:
    """``bars`` with volumes rounded: sums pick up float noise (293.751 -> 293.75100000000003)."""
    return BarArrays(
        bars.ts, bars.open, bars.high, bars.low, bars.close, np.round(bars.volume, decimals)
    )


def link_or_copy(source: Path, destination: Path) -> None:
    """Hard-link ``source`` to ``destination``, or copy it where the file system cannot link."""
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def swap_into_place(staging: Path, target: Path) -> None:
    """Make the finished ``staging`` directory the dataset at ``target``.

    Two renames: the old dataset steps aside, the new one takes its place, the old one is
    removed. If the second rename fails the old dataset is put back.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        os.rename(staging, target)
        return
    retired = staging.with_name(staging.name + "-retired")
    os.rename(target, retired)
    try:
        os.rename(staging, target)
    except BaseException:
        os.rename(retired, target)
        raise
    shutil.rmtree(retired, ignore_errors=True)

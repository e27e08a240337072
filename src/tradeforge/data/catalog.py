"""The history catalog: OHLCV datasets as year-partitioned Parquet under one root directory.

Layout (see :mod:`tradeforge.data.layout`)::

    <root>/bars/<VENUE>/<escaped symbol>/<timeframe>/<year>.parquet
    <root>/bars/<VENUE>/<escaped symbol>/<timeframe>/dataset.json

Every write builds the complete new dataset in a staging directory under ``<root>/.staging``
and then renames it into place, so a failed or interrupted write leaves the previous dataset
(or nothing) behind, never a partial one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Literal

import numpy as np

from tradeforge.data.bars import BarArrays
from tradeforge.data.dataset import DatasetInfo, read_info, write_info
from tradeforge.data.errors import DatasetNotFound
from tradeforge.data.layout import BARS_DIR, METADATA_FILE, canonical_timeframe, dataset_dir
from tradeforge.data.parquet_io import YearFileWriter, read_batches, year_files
from tradeforge.data.precision import MAX_PRECISION
from tradeforge.data.resample import BarResampler
from tradeforge.data.staging import WriteTally, link_or_copy, round_volume, swap_into_place
from tradeforge.data.timestamps import year_of_ns
from tradeforge.domain.errors import InvalidValue
from tradeforge.domain.identifiers import InstrumentId
from tradeforge.domain.market_data import Timeframe

__all__ = ["Catalog", "Progress", "WriteMode"]

WriteMode = Literal["replace", "append"]
Progress = Callable[[int], None]
"""Called with the number of bars just processed."""

_STAGING_DIR = ".staging"
_ROW_GROUP_ROWS = 65_536


class Catalog:
    """OHLCV history under ``root`` (usually the ``data.dir`` setting).

    The catalog holds no state besides its root: every call reads the disk, so several
    catalogs (or processes) may share one root. Writers should not race on the same dataset.
    """

    def __init__(self, root: Path) -> None:
        self._root = Path(root)

    @property
    def root(self) -> Path:
        """The directory the catalog lives in."""
        return self._root

    def datasets(self) -> list[DatasetInfo]:
        """Every dataset, ordered by instrument id then timeframe."""
        found = [
            read_info(path.parent) for path in self._root.glob(f"{BARS_DIR}/*/*/*/{METADATA_FILE}")
        ]
        return sorted(found, key=lambda info: (info.instrument_id.value, info.timeframe.nanos))

    def info(self, instrument_id: InstrumentId, timeframe: Timeframe) -> DatasetInfo:
        """The dataset of ``instrument_id`` at ``timeframe``.

        Raises:
            DatasetNotFound: there is none; the message lists the datasets that exist.
        """
        directory = dataset_dir(self._root, instrument_id, timeframe)
        if not (directory / METADATA_FILE).is_file():
            raise DatasetNotFound(self._missing_message(instrument_id, timeframe))
        return read_info(directory)

    def exists(self, instrument_id: InstrumentId, timeframe: Timeframe) -> bool:
        """Whether the dataset exists."""
        return (dataset_dir(self._root, instrument_id, timeframe) / METADATA_FILE).is_file()

    def iter_bars(
        self,
        instrument_id: InstrumentId,
        timeframe: Timeframe,
        *,
        start_ns: int | None = None,
        end_ns: int | None = None,
        chunk_rows: int = 65_536,
    ) -> Iterator[BarArrays]:
        """Stream bars with ``start_ns <= ts < end_ns`` in chunks of at most ``chunk_rows``.

        Reads one Parquet batch at a time, skipping year files and row groups outside the range,
        so memory stays flat however long the history is. Chunks are never empty.
        """
        if chunk_rows <= 0:
            raise InvalidValue(f"chunk_rows must be positive, got {chunk_rows}")
        directory = self.info(instrument_id, timeframe).path
        return self._iter_directory(directory, start_ns, end_ns, chunk_rows)

    def load_bars(
        self,
        instrument_id: InstrumentId,
        timeframe: Timeframe,
        *,
        start_ns: int | None = None,
        end_ns: int | None = None,
    ) -> BarArrays:
        """All bars with ``start_ns <= ts < end_ns`` in one :class:`BarArrays`."""
        chunks = self.iter_bars(
            instrument_id, timeframe, start_ns=start_ns, end_ns=end_ns, chunk_rows=1 << 20
        )
        return BarArrays.concat(list(chunks))

    def write_bars(
        self,
        instrument_id: InstrumentId,
        timeframe: Timeframe,
        columns: BarArrays,
        *,
        price_precision: int | None = None,
        size_precision: int | None = None,
        source: str = "",
        created_ns: int = 0,
        mode: WriteMode = "replace",
    ) -> DatasetInfo:
        """Write ``columns`` as the dataset (``replace``) or after its last bar (``append``).

        The bars are validated first (:meth:`BarArrays.validate` at ``timeframe``); an append
        must start at least one ``timeframe`` after the last stored bar. Precisions not given
        are inferred from the values (for an append, never below the stored ones). Nothing is
        written if anything fails.

        Raises:
            InvalidBars: a bar breaks an invariant, an append overlaps, or there are no bars.
        """
        return self.write_bar_chunks(
            instrument_id,
            timeframe,
            [columns],
            price_precision=price_precision,
            size_precision=size_precision,
            source=source,
            created_ns=created_ns,
            mode=mode,
        )

    def write_bar_chunks(
        self,
        instrument_id: InstrumentId,
        timeframe: Timeframe,
        chunks: Iterable[BarArrays],
        *,
        price_precision: int | None = None,
        size_precision: int | None = None,
        source: str = "",
        created_ns: int = 0,
        mode: WriteMode = "replace",
        progress: Progress | None = None,
    ) -> DatasetInfo:
        """Like :meth:`write_bars`, for a stream of time-ordered chunks (e.g. a generator).

        Only one chunk is held at a time. ``progress`` is called with each chunk's length.
        """
        for name, given in (
            ("price_precision", price_precision),
            ("size_precision", size_precision),
        ):
            if given is not None and not 0 <= given <= MAX_PRECISION:
                raise InvalidValue(f"{name} must be 0 .. {MAX_PRECISION}, got {given}")
        if mode not in ("replace", "append"):
            raise InvalidValue(f"mode must be 'replace' or 'append', got {mode!r}")
        timeframe = canonical_timeframe(timeframe)
        target = dataset_dir(self._root, instrument_id, timeframe)
        previous = (
            self.info(instrument_id, timeframe)
            if mode == "append" and self.exists(instrument_id, timeframe)
            else None
        )
        staging = Path(tempfile.mkdtemp(prefix="write-", dir=self._staging_root()))
        try:
            tally = WriteTally(
                label=f"{instrument_id} {timeframe}",
                timeframe=timeframe,
                previous=previous,
                price_precision=price_precision,
                size_precision=size_precision,
            )
            writer = YearFileWriter(staging, row_group_rows=_ROW_GROUP_ROWS)
            try:
                for chunk in chunks:
                    if not len(chunk):
                        continue
                    tally.check(chunk)
                    if tally.rows_written == 0 and previous is not None:
                        self._carry_over(previous.path, staging, writer, int(chunk.ts[0]))
                    writer.write(chunk)
                    tally.account(chunk)
                    if progress is not None:
                        progress(len(chunk))
            finally:
                writer.close()
            info = tally.finish(
                instrument_id=instrument_id, source=source, created_ns=created_ns, path=target
            )
            write_info(info, staging)
            swap_into_place(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return info

    def resample(
        self,
        instrument_id: InstrumentId,
        source: Timeframe,
        target: Timeframe,
        *,
        created_ns: int = 0,
        progress: Progress | None = None,
    ) -> DatasetInfo:
        """Aggregate the ``source`` dataset into a new (replaced) ``target`` dataset.

        Streams chunk by chunk; buckets are aligned to ``target`` from the epoch (see
        :func:`tradeforge.data.resample.resample`). Precisions are copied from the source.
        """
        origin = self.info(instrument_id, source)
        resampler = BarResampler(origin.timeframe, target)

        def chunks() -> Iterator[BarArrays]:
            for chunk in self._iter_directory(origin.path, None, None, _ROW_GROUP_ROWS):
                yield round_volume(resampler.push(chunk), origin.size_precision)
                if progress is not None:
                    progress(len(chunk))
            yield round_volume(resampler.finish(), origin.size_precision)

        return self.write_bar_chunks(
            instrument_id,
            target,
            chunks(),
            price_precision=origin.price_precision,
            size_precision=origin.size_precision,
            source=f"resampled from {instrument_id} {origin.timeframe}",
            created_ns=created_ns,
        )

    def delete(self, instrument_id: InstrumentId, timeframe: Timeframe) -> None:
        """Remove a dataset.

        Raises:
            DatasetNotFound: there is none.
        """
        directory = self.info(instrument_id, timeframe).path
        trash = Path(tempfile.mkdtemp(prefix="delete-", dir=self._staging_root()))
        os.rename(directory, trash / "dataset")
        shutil.rmtree(trash, ignore_errors=True)

    def _staging_root(self) -> Path:
        path = self._root / _STAGING_DIR
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _iter_directory(
        self, directory: Path, start_ns: int | None, end_ns: int | None, chunk_rows: int
    ) -> Iterator[BarArrays]:
        first_year = None if start_ns is None else int(year_of_ns(np.array([start_ns]))[0])
        last_year = None if end_ns is None else int(year_of_ns(np.array([end_ns - 1]))[0])
        for year, path in year_files(directory):
            if (first_year is not None and year < first_year) or (
                last_year is not None and year > last_year
            ):
                continue
            yield from read_batches(path, chunk_rows=chunk_rows, start_ns=start_ns, end_ns=end_ns)

    def _carry_over(
        self, previous: Path, staging: Path, writer: YearFileWriter, first_new_ts: int
    ) -> None:
        # An append keeps the old year files: untouched years are hard-linked (copied if the
        # file system cannot link); the year the new bars start in is rewritten with them.
        first_new_year = int(year_of_ns(np.array([first_new_ts]))[0])
        for year, path in year_files(previous):
            if year < first_new_year:
                link_or_copy(path, staging / path.name)
            else:
                for chunk in read_batches(
                    path, chunk_rows=_ROW_GROUP_ROWS, start_ns=None, end_ns=None
                ):
                    writer.write(chunk)

    def _missing_message(self, instrument_id: InstrumentId, timeframe: Timeframe) -> str:
        existing = self.datasets()
        wanted = f"no dataset {instrument_id} {canonical_timeframe(timeframe)} in {self._root}"
        if not existing:
            return f"{wanted}; the catalog is empty"
        names = ", ".join(f"{info.instrument_id} {info.timeframe}" for info in existing)
        return f"{wanted}; datasets: {names}"

"""``BarRecorder``: the bars a node builds from live trades, appended to the history catalog.

A later backtest reads them like any imported dataset (``<data dir>/bars/<VENUE>/<symbol>/
<timeframe>``). What it promises:

- **Batched.** Bars wait in memory, per instrument, until ``batch_bars`` of them are there or
  the oldest is ``max_delay_ns`` older (in bar time) than the newest; then they are written as
  one append. An append rewrites the current year's Parquet file, so one write per bar would
  cost a year file per minute.
- **Atomic.** Each append is the catalog's: the new dataset is built in a staging directory and
  renamed into place, so a crash during a write leaves the previous dataset, never half a batch.
- **Idempotent by bar open time.** Before each write the dataset's last stored open time is
  read and every bar at or before it is dropped, so a batch written twice, or a restarted node
  building a bar the catalog already holds, adds nothing twice.
- **Only whole bars.** A bar whose interval began before the recorder did (``since_ns``: the
  node started, or restarted, inside it) holds only part of the interval's trades and is not
  recorded; neither is the bar still open when the node stops.
- **Flushed on a clean stop** (``close``). After a crash, what was still in memory (at most one
  batch per instrument) is lost: the catalog has a gap there, never a wrong bar.

Writes run in a worker thread, one at a time, so the event loop (and the strategies) never wait
on the disk; a failed write is logged and its bars are kept for the next attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import numpy as np

from tradeforge.data import BarArrays, Catalog
from tradeforge.domain import Bar, Instrument, InstrumentId, InvalidValue, Timeframe
from tradeforge.observability import get_logger

__all__ = ["BarRecorder"]

log = get_logger("tradeforge.node.bars")

_SOURCE = "live bars of the trading node"


class BarRecorder:
    """Closed bars in, appended to ``catalog`` in batches (see the module docstring).

    Args:
        catalog: the history catalog (``<data dir>``).
        instrument: the definition of an instrument id (its tick and lot give the precisions).
        since_ns: bars that opened before this time are partial and not recorded.
        batch_bars: bars of one instrument written together.
        max_delay_ns: a batch is written once its oldest bar is this much older (bar time) than
            its newest, however few bars it has.
    """

    def __init__(
        self,
        catalog: Catalog,
        instrument: Callable[[InstrumentId], Instrument | None],
        *,
        since_ns: int,
        batch_bars: int = 60,
        max_delay_ns: int = 300 * 1_000_000_000,
    ) -> None:
        if batch_bars < 1:
            raise InvalidValue(f"batch_bars must be >= 1, got {batch_bars}")
        if max_delay_ns <= 0:
            raise InvalidValue(f"max_delay_ns must be positive, got {max_delay_ns}")
        self.catalog = catalog
        self._instrument = instrument
        self.since_ns = since_ns
        self.batch_bars = batch_bars
        self.max_delay_ns = max_delay_ns
        self._pending: dict[tuple[InstrumentId, Timeframe], list[Bar]] = {}
        self._lock = asyncio.Lock()
        self._writes: set[asyncio.Task[int]] = set()
        self._failed: Exception | None = None  # the last write's error, for flush to raise
        self.written = 0  # bars appended so far
        self.skipped = 0  # partial bars, and bars the catalog already held

    def add(self, bar: Bar) -> None:
        """One closed bar; starts a write when its batch is full or old enough."""
        if bar.ts_open < self.since_ns:
            self.skipped += 1
            return
        key = (bar.instrument_id, bar.timeframe)
        batch = self._pending.setdefault(key, [])
        batch.append(bar)
        if len(batch) >= self.batch_bars or bar.ts_open - batch[0].ts_open >= self.max_delay_ns:
            self._start_write(key)

    async def flush(self) -> int:
        """Write everything waiting (and wait for writes under way); how many bars were added.
        Raises what a failed write raised (its bars wait for the next write)."""
        for key in list(self._pending):
            self._start_write(key)
        added = sum(await asyncio.gather(*list(self._writes)))
        failed, self._failed = self._failed, None
        if failed is not None:
            raise failed
        return added

    async def close(self) -> None:
        """Flush on a clean stop; a write that fails is logged, not raised."""
        with contextlib.suppress(Exception):
            await self.flush()
        if any(self._pending.values()):
            count = sum(len(b) for b in self._pending.values())
            log.warning("bars not recorded: the catalog write failed", bars=count)

    @property
    def pending(self) -> int:
        """Bars waiting in memory."""
        return sum(len(batch) for batch in self._pending.values())

    def _start_write(self, key: tuple[InstrumentId, Timeframe]) -> None:
        bars = self._pending.pop(key, [])
        if not bars:
            return
        task = asyncio.get_running_loop().create_task(self._write(key, bars))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _write(self, key: tuple[InstrumentId, Timeframe], bars: list[Bar]) -> int:
        async with self._lock:  # one writer per catalog dataset at a time
            try:
                added = await asyncio.to_thread(self._append, key, bars)
            except Exception as exc:
                # Kept for the next write (the catalog is unchanged: its writes are atomic).
                self._pending[key] = bars + self._pending.get(key, [])
                log.error("bars not recorded; will retry", instrument=str(key[0]),
                          timeframe=str(key[1]), bars=len(bars), error=repr(exc))  # fmt: skip
                self._failed = exc
                return 0
        self.written += added
        self.skipped += len(bars) - added
        return added

    def _append(self, key: tuple[InstrumentId, Timeframe], bars: list[Bar]) -> int:
        """Append the bars the catalog does not hold yet (in the worker thread)."""
        iid, timeframe = key
        catalog = self.catalog
        stored = catalog.info(iid, timeframe) if catalog.exists(iid, timeframe) else None
        last = None if stored is None else stored.last_ts
        fresh: dict[int, Bar] = {}
        for bar in bars:
            if (last is None or bar.ts_open > last) and bar.ts_open not in fresh:
                fresh[bar.ts_open] = bar
        if not fresh:
            return 0
        rows = [fresh[ts] for ts in sorted(fresh)]
        inst = self._instrument(iid)
        columns = BarArrays(
            np.array([b.ts_open for b in rows], dtype=np.int64),
            *(
                np.array([float(getattr(b, name).as_decimal()) for b in rows], dtype=np.float64)
                for name in ("open", "high", "low", "close", "volume")
            ),
        )
        # The instrument's tick and lot, never below what the dataset already stores.
        price_p = size_p = None
        if inst is not None:
            price_p, size_p = inst.price_precision, inst.size_precision
            if stored is not None:
                price_p = max(price_p, stored.price_precision)
                size_p = max(size_p, stored.size_precision)
        catalog.write_bars(
            iid,
            timeframe,
            columns,
            price_precision=price_p,
            size_precision=size_p,
            source=_SOURCE,
            created_ns=rows[-1].ts_event,
            mode="append",
        )
        return len(rows)

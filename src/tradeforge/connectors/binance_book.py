"""A Binance-protocol depth stream kept as a local book, with reconnects and resyncs.

``BinanceBookStream`` connects to ``<ws_url>/<symbol>@depth@100ms``, feeds every diff to an
:class:`~tradeforge.connectors.order_book_sync.OrderBookSync`, fetches REST snapshots when the
algorithm asks (first sync, after a gap, after a stale snapshot) and yields domain book updates:
a whole ``OrderBookSnapshot`` after each (re)sync, then one ``OrderBookDelta`` per changed
level. A dropped or silent connection (no message for ``stall_timeout`` seconds) is
reconnected after a jittered back-off; the book is invalid (reads raise ``BookInvalid``) from
the moment a gap or a drop is seen until the next sync.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import msgspec
import websockets

from tradeforge.connectors.order_book_sync import (
    DepthDiff,
    DepthSnapshot,
    OrderBookSync,
    SyncResult,
    SyncState,
)
from tradeforge.connectors.resilience import Backoff, FullJitter, Sleep
from tradeforge.domain import (
    BookAction,
    BookLevel,
    BookSide,
    Instrument,
    OrderBookDelta,
    OrderBookSnapshot,
)
from tradeforge.observability import get_logger

__all__ = ["BinanceBookStream", "BookStreamStats"]

log = get_logger("tradeforge.connectors.book")

_decode_diff = msgspec.json.Decoder(DepthDiff)


@dataclass
class BookStreamStats:
    """What happened to one book stream so far."""

    connects: int = 0
    reconnects: int = 0
    gaps: int = 0
    stale_snapshots: int = 0
    syncs: int = 0
    malformed: int = 0


class BinanceBookStream:
    """One instrument's depth stream and local book (see the module docstring)."""

    def __init__(
        self,
        instrument: Instrument,
        *,
        ws_url: str,
        fetch_snapshot: Callable[[], Awaitable[DepthSnapshot]],
        now_ns: Callable[[], int],
        sleep: Sleep = asyncio.sleep,
        backoff: Backoff | None = None,
        stall_timeout: float = 30.0,
        max_snapshot_attempts: int = 5,
    ) -> None:
        self.instrument = instrument
        self.url = f"{ws_url.rstrip('/')}/{instrument.raw_symbol.lower()}@depth@100ms"
        self._fetch = fetch_snapshot
        self._now_ns = now_ns
        self._sleep = sleep
        self._backoff = backoff or FullJitter(base=0.05, cap=2.0)
        self._stall = stall_timeout
        self._max_snapshots = max_snapshot_attempts
        self.sync = OrderBookSync(instrument.raw_symbol)
        self.stats = BookStreamStats()

    async def updates(self) -> AsyncIterator[OrderBookSnapshot | OrderBookDelta]:
        """The book as a snapshot, then deltas; reconnects and resyncs until cancelled."""
        failures = 0
        while True:
            try:
                async with websockets.connect(self.url, open_timeout=10) as ws:
                    self.stats.connects += 1
                    failures = 0
                    async for update in self._session(ws):
                        yield update
            except (websockets.ConnectionClosed, OSError, TimeoutError) as exc:
                reason = f"stream lost: {type(exc).__name__}"
            else:
                reason = "stream ended"
            self.sync.invalidate(reason)
            self.stats.reconnects += 1
            delay = self._backoff.delay(failures, 0.0)
            failures += 1
            log.info("book stream reconnecting", symbol=self.instrument.raw_symbol, reason=reason,
                     delay_s=round(delay, 3))  # fmt: skip
            await self._sleep(delay)

    async def _session(
        self, ws: websockets.ClientConnection
    ) -> AsyncIterator[OrderBookSnapshot | OrderBookDelta]:
        while True:
            async with asyncio.timeout(self._stall):
                raw = await ws.recv()
            try:
                diff = _decode_diff.decode(raw)
            except (msgspec.DecodeError, msgspec.ValidationError, ValueError):
                self.stats.malformed += 1
                continue
            result = self.sync.on_diff(diff)
            if result is SyncResult.GAP:
                self.stats.gaps += 1
                log.info("book gap; resyncing", symbol=self.instrument.raw_symbol,
                         first=diff.first_update_id)  # fmt: skip
            if self.sync.state is SyncState.AWAITING_SNAPSHOT:
                if await self._resync():
                    yield self._snapshot()
            elif result is SyncResult.APPLIED:
                for delta in self._deltas(diff):
                    yield delta

    async def _resync(self) -> bool:
        """Fetch snapshots until the book is live (True) or the attempts run out (False)."""
        for _ in range(self._max_snapshots):
            result = self.sync.on_snapshot(await self._fetch())
            if result is SyncResult.STALE_SNAPSHOT:
                self.stats.stale_snapshots += 1
                continue
            if result is SyncResult.SYNCED:
                self.stats.syncs += 1
                return True
        return False

    def _snapshot(self) -> OrderBookSnapshot:
        inst, ts = self.instrument, self._now_ns()
        return OrderBookSnapshot(
            instrument_id=inst.id,
            bids=tuple(
                BookLevel(inst.make_price(p), inst.make_qty(q)) for p, q in self.sync.bids()
            ),
            asks=tuple(
                BookLevel(inst.make_price(p), inst.make_qty(q)) for p, q in self.sync.asks()
            ),
            sequence=self.sync.last_update_id,
            ts_event=ts,
            ts_init=ts,
        )

    def _deltas(self, diff: DepthDiff) -> list[OrderBookDelta]:
        inst, ts = self.instrument, self._now_ns()
        out = []
        for side, levels in ((BookSide.BID, diff.bids), (BookSide.ASK, diff.asks)):
            for price, qty in levels:
                out.append(
                    OrderBookDelta(
                        instrument_id=inst.id,
                        action=BookAction.DELETE if qty == 0 else BookAction.UPDATE,
                        side=side,
                        price=inst.make_price(price),
                        size=inst.make_qty(qty),
                        sequence=diff.final_update_id,
                        ts_event=ts,
                        ts_init=ts,
                    )
                )
        return out

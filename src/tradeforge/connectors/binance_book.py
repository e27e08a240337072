"""A Binance-protocol depth stream kept as a local book, with reconnects and resyncs.

``BinanceBookStream`` connects to ``<ws_url>/<symbol>@depth@100ms``, feeds every diff to an
:class:`~tradeforge.connectors.order_book_sync.OrderBookSync`, fetches REST snapshots when the
algorithm asks (first sync, after a gap, after a stale snapshot) and yields domain book updates:
a whole ``OrderBookSnapshot`` after each (re)sync, then one ``OrderBookDelta`` per changed
level. A dropped or silent connection (no message for ``stall_timeout`` seconds), a refused
handshake, or a snapshot that cannot be fetched (a retryable error) is reconnected after a
jittered back-off that grows until the book is synced again; the book is invalid (reads raise
``BookInvalid``) from the moment a gap or a drop is seen until the next sync. A message that is
not a valid diff for this instrument (bad JSON, bad fields, off-tick prices) is counted in
``stats.malformed`` and skipped; the gap it leaves is then found like any other.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

import websockets

from tradeforge.connectors.errors import MalformedResponse
from tradeforge.connectors.order_book_sync import (
    DepthDiff,
    DepthSnapshot,
    OrderBookSync,
    SyncResult,
    SyncState,
    parse_depth_diff,
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
from tradeforge.domain.errors import InvalidValue, RetryableError
from tradeforge.observability import get_logger

__all__ = ["BinanceBookStream", "BookStreamStats"]

log = get_logger("tradeforge.connectors.book")


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
                    async for update in self._session(ws):
                        if isinstance(update, OrderBookSnapshot):
                            failures = 0  # synced: the next trouble starts a fresh back-off
                        yield update
            except (
                websockets.ConnectionClosed,
                websockets.InvalidHandshake,
                OSError,
                TimeoutError,
            ) as exc:
                reason = f"stream lost: {type(exc).__name__}"
            except RetryableError as exc:  # the snapshot could not be had (or was malformed)
                reason = f"no snapshot: {exc}"
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
                diff = parse_depth_diff(raw)
                deltas = self._deltas(diff)  # checks every level against the tick and lot
            except MalformedResponse:
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
                for delta in deltas:
                    yield delta

    async def _resync(self) -> bool:
        """Fetch snapshots until the book is live (True) or the attempts run out (False)."""
        for _ in range(self._max_snapshots):
            snapshot = await self._fetch()
            try:
                self._levels(snapshot.bids)
                self._levels(snapshot.asks)
            except MalformedResponse:
                self.stats.malformed += 1
                raise
            result = self.sync.on_snapshot(snapshot)
            if result is SyncResult.STALE_SNAPSHOT:
                self.stats.stale_snapshots += 1
                continue
            if result is SyncResult.SYNCED:
                self.stats.syncs += 1
                return True
        return False

    def _snapshot(self) -> OrderBookSnapshot:
        ts = self._now_ns()
        return OrderBookSnapshot(
            instrument_id=self.instrument.id,
            bids=self._levels(self.sync.bids()),
            asks=self._levels(self.sync.asks()),
            sequence=self.sync.last_update_id,
            ts_event=ts,
            ts_init=ts,
        )

    def _levels(self, levels: Iterable[tuple[Decimal, Decimal]]) -> tuple[BookLevel, ...]:
        inst = self.instrument
        try:
            return tuple(BookLevel(inst.make_price(p), inst.make_qty(q)) for p, q in levels)
        except (InvalidValue, ArithmeticError) as exc:
            raise MalformedResponse(f"book level off {inst.id}'s tick or lot: {exc}") from exc

    def _deltas(self, diff: DepthDiff) -> list[OrderBookDelta]:
        inst, ts = self.instrument, self._now_ns()
        out = []
        for side, levels in ((BookSide.BID, diff.bids), (BookSide.ASK, diff.asks)):
            for level in self._levels(levels):
                out.append(
                    OrderBookDelta(
                        instrument_id=inst.id,
                        action=BookAction.DELETE if level.size.is_zero() else BookAction.UPDATE,
                        side=side,
                        price=level.price,
                        size=level.size,
                        sequence=diff.final_update_id,
                        ts_event=ts,
                        ts_init=ts,
                    )
                )
        return out

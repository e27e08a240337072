"""A local order book kept in step with a venue: REST snapshot plus buffered diff events.

The algorithm is Binance Spot's ("How to manage a local order book correctly"):

1. Buffer the diff events; note the first event's ``U``.
2. Get a snapshot. If its ``lastUpdateId`` is below that ``U``, get it again.
3. Drop the buffered events with ``u <= lastUpdateId``.
4. Apply the rest, and every event after them. An event whose ``u`` is not above the book's
   update id is old: ignore it. If an event's ``U`` is above the book's id + 1, updates were
   missed: discard the book and start again from 1. A quantity of 0 removes the level.

:class:`OrderBookSync` does exactly that and no I/O: it is fed parsed events and snapshots and
says what to do next. While it has no valid book (before the first snapshot, after a gap),
every read raises :class:`~tradeforge.connectors.errors.BookInvalid`, so nobody reads a stale
book. :func:`run_order_book_sync` drives it from an async stream of events and a snapshot
fetcher. :func:`book_checksum` gives a CRC32 of the top levels, to compare with another book.

Prices and sizes are exact :class:`~decimal.Decimal` values. :class:`DepthDiff` and
:class:`DepthSnapshot` decode straight from Binance's JSON with ``msgspec``;
:func:`parse_depth_diff` and :func:`parse_depth_snapshot` do it at the edge, where anything the
venue sends that is not a valid event or snapshot becomes
:class:`~tradeforge.connectors.errors.MalformedResponse`.
"""

from __future__ import annotations

import enum
import zlib
from collections import deque
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable
from decimal import Decimal
from typing import Any

import msgspec

from tradeforge.connectors.errors import BookInvalid, MalformedResponse
from tradeforge.domain.errors import InvalidValue

__all__ = [
    "BookLevel",
    "DepthDiff",
    "DepthSnapshot",
    "OrderBookSync",
    "SyncResult",
    "SyncState",
    "book_checksum",
    "parse_depth_diff",
    "parse_depth_snapshot",
    "run_order_book_sync",
]

BookLevel = tuple[Decimal, Decimal]
"""A price level: (price, quantity)."""

_ZERO = Decimal(0)
# No price or size has 30 digits before or after the point; past that a number is an attack or a
# bug (and 1E+999999 would make exact arithmetic fail and a checksum string gigabytes long).
_MAX_DIGITS = 30


def _sane(value: Decimal) -> bool:
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and exponent >= -_MAX_DIGITS and value.adjusted() < _MAX_DIGITS


def _check_levels(side: str, levels: Iterable[BookLevel], *, allow_zero: bool) -> None:
    for price, qty in levels:
        # is_finite first: ordering a NaN raises decimal.InvalidOperation.
        if not price.is_finite() or not price > 0 or not _sane(price):
            raise InvalidValue(f"{side} price must be a positive finite decimal, got {price!r}")
        if not qty.is_finite() or not (qty > 0 or (allow_zero and qty == 0)) or not _sane(qty):
            raise InvalidValue(f"{side} quantity at {price} is invalid: {qty!r}")


class DepthDiff(msgspec.Struct, frozen=True, kw_only=True):
    """A diff event: the levels that changed in updates ``first_update_id..final_update_id``.

    Quantities are absolute (the level's size after the event); 0 removes the level.
    """

    first_update_id: int = msgspec.field(name="U")
    final_update_id: int = msgspec.field(name="u")
    bids: tuple[BookLevel, ...] = msgspec.field(name="b", default=())
    asks: tuple[BookLevel, ...] = msgspec.field(name="a", default=())

    def __post_init__(self) -> None:
        if self.first_update_id < 0:
            raise InvalidValue(f"depth diff U must not be negative, got {self.first_update_id}")
        if self.first_update_id > self.final_update_id:
            raise InvalidValue(
                f"depth diff U={self.first_update_id} is above u={self.final_update_id}"
            )
        _check_levels("bid", self.bids, allow_zero=True)
        _check_levels("ask", self.asks, allow_zero=True)


class DepthSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """A REST snapshot of the book as of update ``last_update_id``."""

    last_update_id: int = msgspec.field(name="lastUpdateId")
    bids: tuple[BookLevel, ...] = ()
    asks: tuple[BookLevel, ...] = ()

    def __post_init__(self) -> None:
        if self.last_update_id < 0:
            raise InvalidValue(
                f"depth snapshot lastUpdateId must not be negative, got {self.last_update_id}"
            )
        _check_levels("bid", self.bids, allow_zero=True)
        _check_levels("ask", self.asks, allow_zero=True)


_decode_diff = msgspec.json.Decoder(DepthDiff)
_decode_snapshot = msgspec.json.Decoder(DepthSnapshot)
# msgspec reports invalid UTF-8 inside a string as UnicodeDecodeError, and recurses into nested
# arrays: a hostile payload nested thousands deep exhausts the stack.
_PARSE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, RecursionError)


def parse_depth_diff(raw: bytes | str) -> DepthDiff:
    """A Binance ``depthUpdate`` message (JSON text) as a :class:`DepthDiff`.

    Raises :class:`~tradeforge.connectors.errors.MalformedResponse` for anything else: bad
    JSON, missing or mistyped fields, ``U`` above ``u``, non-positive, non-finite or absurd
    prices, negative sizes.
    """
    try:
        return _decode_diff.decode(raw)
    except _PARSE_ERRORS as exc:
        raise MalformedResponse(f"malformed depth update: {exc}") from exc


def parse_depth_snapshot(data: Any) -> DepthSnapshot:
    """A REST depth answer as a :class:`DepthSnapshot`: JSON text, or the object decoded from it.

    ``{"lastUpdateId": 1027024, "bids": [["4.00", "431.00"]], "asks": []}``; anything that is
    not a valid snapshot raises :class:`~tradeforge.connectors.errors.MalformedResponse`.
    """
    try:
        if isinstance(data, bytes | str):
            return _decode_snapshot.decode(data)
        return msgspec.convert(data, DepthSnapshot)
    except _PARSE_ERRORS as exc:
        raise MalformedResponse(f"malformed depth snapshot: {exc}") from exc


class SyncState(enum.Enum):
    """Whether the book may be read."""

    AWAITING_SNAPSHOT = "awaiting_snapshot"  # buffering diffs; no valid book
    LIVE = "live"  # the book is valid as of ``last_update_id``


class SyncResult(enum.Enum):
    """What an event or snapshot did, and what the caller should do next."""

    BUFFERED = "buffered"  # kept until a snapshot comes; fetch one if not already doing so
    APPLIED = "applied"  # the book changed
    IGNORED = "ignored"  # an old event (u <= book id)
    GAP = "gap"  # updates were missed: the book was discarded; fetch a new snapshot
    STALE_SNAPSHOT = "stale_snapshot"  # older than the first buffered event: fetch again
    SYNCED = "synced"  # the snapshot and the buffered events make a live book


def book_checksum(bids: Iterable[BookLevel], asks: Iterable[BookLevel], depth: int = 10) -> int:
    """CRC32 of the top ``depth`` levels, as ``bid1p:bid1q:ask1p:ask1q:bid2p:...``.

    ``bids`` must be best (highest) first and ``asks`` best (lowest) first. Decimals are written
    without exponent or trailing zeros, so ``Decimal("1.50")`` and ``Decimal("1.5")`` agree.
    """
    top_bids, top_asks = list(bids)[:depth], list(asks)[:depth]
    parts: list[str] = []
    for i in range(max(len(top_bids), len(top_asks))):
        for side in (top_bids, top_asks):
            if i < len(side):
                parts.extend((_canonical(side[i][0]), _canonical(side[i][1])))
    return zlib.crc32(":".join(parts).encode("ascii"))


def _canonical(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


class OrderBookSync:
    """One instrument's local book, synchronised from a snapshot and diff events.

    ``max_buffer`` bounds the events kept while awaiting a snapshot; past it the oldest are
    dropped (the next snapshot must then be newer, which the ``U`` check enforces).

    ``stuck_after`` consecutive old events (``u`` not above the book's id) while live mean the
    book's id ran ahead of the stream: one forged or corrupt event with a far-future ``u`` would
    otherwise freeze the book for good, every real event ignored. The book is then discarded as
    for a gap (GAP, with that event buffered first).
    """

    def __init__(self, symbol: str, *, max_buffer: int = 10_000, stuck_after: int = 100) -> None:
        if max_buffer < 1:
            raise InvalidValue(f"max_buffer must be >= 1, got {max_buffer!r}")
        if stuck_after < 1:
            raise InvalidValue(f"stuck_after must be >= 1, got {stuck_after!r}")
        self.symbol = symbol
        self._stuck_after = stuck_after
        self._ignored = 0
        self.gaps_detected = 0
        self.stale_snapshots = 0
        self._buffer: deque[DepthDiff] = deque(maxlen=max_buffer)
        self._bids: dict[Decimal, Decimal] = {}
        self._asks: dict[Decimal, Decimal] = {}
        self._last_update_id = -1
        self._state = SyncState.AWAITING_SNAPSHOT
        self._why_invalid = "no snapshot yet"

    @property
    def state(self) -> SyncState:
        """:attr:`SyncState.LIVE` when the book may be read."""
        return self._state

    @property
    def buffered(self) -> int:
        """Events buffered while awaiting a snapshot."""
        return len(self._buffer)

    # ------------------------------------------------------------------ feeding
    def on_diff(self, diff: DepthDiff) -> SyncResult:
        """Take the next diff event from the stream, in stream order."""
        if self._state is SyncState.AWAITING_SNAPSHOT:
            self._buffer.append(diff)
            return SyncResult.BUFFERED
        if diff.final_update_id <= self._last_update_id:
            self._ignored += 1
            if self._ignored < self._stuck_after:
                return SyncResult.IGNORED
            self.gaps_detected += 1
            self._invalidate(
                f"stuck: {self._ignored} events in a row older than book id {self._last_update_id}"
            )
            self._buffer.append(diff)
            return SyncResult.GAP
        self._ignored = 0
        if diff.first_update_id > self._last_update_id + 1:
            self.gaps_detected += 1
            self._invalidate(
                f"gap: event U={diff.first_update_id} after book id {self._last_update_id}"
            )
            self._buffer.append(diff)  # the first event of the next synchronisation
            return SyncResult.GAP
        self._apply(diff)
        return SyncResult.APPLIED

    def on_snapshot(self, snapshot: DepthSnapshot) -> SyncResult:
        """Take a REST snapshot fetched after the first buffered event arrived.

        Returns STALE_SNAPSHOT (fetch another) when it is older than the first buffered
        event, GAP when the buffered events after it are not contiguous (fetch another),
        SYNCED when the book is live. A snapshot while the book is live is applied the same
        way, replacing the book.
        """
        if self._state is SyncState.LIVE:
            self._invalidate("replaced by a new snapshot")
        if self._buffer and snapshot.last_update_id < self._buffer[0].first_update_id:
            self.stale_snapshots += 1
            return SyncResult.STALE_SNAPSHOT
        self._bids = {price: qty for price, qty in snapshot.bids if qty != _ZERO}
        self._asks = {price: qty for price, qty in snapshot.asks if qty != _ZERO}
        self._last_update_id = snapshot.last_update_id
        self._state = SyncState.LIVE
        pending = list(self._buffer)
        self._buffer.clear()
        for i, diff in enumerate(pending):
            if diff.final_update_id <= self._last_update_id:
                continue  # older than the snapshot: dropped (not a sign of a stuck book)
            if self.on_diff(diff) is SyncResult.GAP:
                self._buffer.extend(pending[i + 1 :])  # after the gap event, now buffered first
                return SyncResult.GAP
        return SyncResult.SYNCED

    def invalidate(self, reason: str) -> None:
        """Discard the book (e.g. the stream disconnected); reads raise until the next sync."""
        self._invalidate(reason)
        self._buffer.clear()

    # ------------------------------------------------------------------ reading
    @property
    def last_update_id(self) -> int:
        """The update id the book is valid as of."""
        self._require_live()
        return self._last_update_id

    def bids(self, depth: int | None = None) -> list[BookLevel]:
        """Bid levels, best (highest price) first; all of them when ``depth`` is None."""
        self._require_live()
        return sorted(self._bids.items(), reverse=True)[:depth]

    def asks(self, depth: int | None = None) -> list[BookLevel]:
        """Ask levels, best (lowest price) first; all of them when ``depth`` is None."""
        self._require_live()
        return sorted(self._asks.items())[:depth]

    def best_bid(self) -> BookLevel | None:
        """The highest bid, or None when there are no bids."""
        self._require_live()
        return max(self._bids.items(), default=None)

    def best_ask(self) -> BookLevel | None:
        """The lowest ask, or None when there are no asks."""
        self._require_live()
        return min(self._asks.items(), default=None)

    def checksum(self, depth: int = 10) -> int:
        """:func:`book_checksum` of this book's top ``depth`` levels."""
        return book_checksum(self.bids(depth), self.asks(depth), depth)

    # ------------------------------------------------------------------ private
    def _apply(self, diff: DepthDiff) -> None:
        for book, levels in ((self._bids, diff.bids), (self._asks, diff.asks)):
            for price, qty in levels:
                if qty == _ZERO:
                    book.pop(price, None)
                else:
                    book[price] = qty
        self._last_update_id = diff.final_update_id

    def _invalidate(self, reason: str) -> None:
        self._ignored = 0
        self._state = SyncState.AWAITING_SNAPSHOT
        self._why_invalid = reason
        self._bids, self._asks = {}, {}
        self._last_update_id = -1

    def _require_live(self) -> None:
        if self._state is not SyncState.LIVE:
            raise BookInvalid(self.symbol, self._why_invalid)


async def run_order_book_sync(
    sync: OrderBookSync,
    events: AsyncIterable[DepthDiff],
    fetch_snapshot: Callable[[], Awaitable[DepthSnapshot]],
    *,
    on_change: Callable[[OrderBookSync, SyncResult], None] | None = None,
    max_snapshot_attempts: int = 3,
) -> None:
    """Keep ``sync`` in step with ``events`` until the stream ends.

    Whenever the book is not live and an event has been buffered, a snapshot is fetched,
    again while it is stale or leaves a gap, up to ``max_snapshot_attempts`` times per event
    (then the next event tries again). The stream keeps queueing events in the meantime;
    they are taken in order afterwards. ``on_change`` is called after every event or snapshot
    with what it did. Errors of ``fetch_snapshot`` propagate (wrap it in a retrying read).
    """
    if max_snapshot_attempts < 1:
        raise InvalidValue(f"max_snapshot_attempts must be >= 1, got {max_snapshot_attempts!r}")
    async for diff in events:
        result = sync.on_diff(diff)
        if on_change is not None:
            on_change(sync, result)
        attempts = 0
        while sync.state is SyncState.AWAITING_SNAPSHOT and attempts < max_snapshot_attempts:
            attempts += 1
            result = sync.on_snapshot(await fetch_snapshot())
            if on_change is not None:
                on_change(sync, result)

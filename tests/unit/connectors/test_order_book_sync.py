"""The local order book: Binance's snapshot + diff algorithm, gaps (CON-8), stale snapshots."""

from __future__ import annotations

import asyncio
import random
import zlib
from collections.abc import AsyncIterator
from decimal import Decimal

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeforge.connectors import (
    BookInvalid,
    DepthDiff,
    DepthSnapshot,
    OrderBookSync,
    SyncResult,
    SyncState,
    book_checksum,
    run_order_book_sync,
)
from tradeforge.domain.errors import InvalidValue, TemporaryError

D = Decimal


def diff(
    first: int, last: int, bids: dict[str, str] | None = None, asks: dict[str, str] | None = None
) -> DepthDiff:
    return DepthDiff(
        first_update_id=first,
        final_update_id=last,
        bids=tuple((D(p), D(q)) for p, q in (bids or {}).items()),
        asks=tuple((D(p), D(q)) for p, q in (asks or {}).items()),
    )


def snapshot(last: int, bids: dict[str, str], asks: dict[str, str]) -> DepthSnapshot:
    return DepthSnapshot(
        last_update_id=last,
        bids=tuple((D(p), D(q)) for p, q in bids.items()),
        asks=tuple((D(p), D(q)) for p, q in asks.items()),
    )


class VenueBook:
    """The venue's book: every update id changes one level; events group several updates."""

    def __init__(self, rng: random.Random, *, levels: int = 20) -> None:
        self.rng = rng
        self.update_id = 1_000
        self.bids = {self._price(-i): self._qty() for i in range(1, levels + 1)}
        self.asks = {self._price(i): self._qty() for i in range(1, levels + 1)}
        self.history: dict[int, tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]] = {}
        self.history[self.update_id] = (dict(self.bids), dict(self.asks))

    def _price(self, ticks: int) -> Decimal:
        return D("100.00") + D("0.01") * ticks

    def _qty(self) -> Decimal:
        return D(self.rng.randint(1, 5_000)) / 1_000

    def event(self, updates: int) -> DepthDiff:
        first = self.update_id + 1
        changed: dict[str, dict[Decimal, Decimal]] = {"bids": {}, "asks": {}}
        for _ in range(updates):
            self.update_id += 1
            side = self.rng.choice(("bids", "asks"))
            book = self.bids if side == "bids" else self.asks
            ticks = self.rng.randint(1, 30)
            price = self._price(-ticks if side == "bids" else ticks)
            qty = D(0) if self.rng.random() < 0.3 else self._qty()
            if qty:
                book[price] = qty
            else:
                book.pop(price, None)
            changed[side][price] = qty
        self.history[self.update_id] = (dict(self.bids), dict(self.asks))
        return DepthDiff(
            first_update_id=first,
            final_update_id=self.update_id,
            bids=tuple(changed["bids"].items()),
            asks=tuple(changed["asks"].items()),
        )

    def snapshot(self, as_of: int | None = None) -> DepthSnapshot:
        update_id = self.update_id if as_of is None else as_of
        bids, asks = self.history[update_id]
        return DepthSnapshot(
            last_update_id=update_id, bids=tuple(bids.items()), asks=tuple(asks.items())
        )

    def checksum(self, as_of: int, depth: int = 10) -> int:
        bids, asks = self.history[as_of]
        return book_checksum(sorted(bids.items(), reverse=True), sorted(asks.items()), depth)


def same_book(sync: OrderBookSync, venue: VenueBook) -> bool:
    bids, asks = venue.history[sync.last_update_id]
    return sync.bids() == sorted(bids.items(), reverse=True) and sync.asks() == sorted(asks.items())


# ------------------------------------------------------------------------- the steps
def test_binance_steps_buffer_drop_apply_and_remove_zero_levels() -> None:
    sync = OrderBookSync("BTCUSDT")

    results = [
        sync.on_diff(diff(101, 103, bids={"99": "1"})),  # u <= lastUpdateId: dropped
        sync.on_diff(diff(104, 106, bids={"98": "2"}, asks={"101": "0"})),  # overlaps 105
        sync.on_diff(diff(107, 107, asks={"102": "7"})),
    ]
    synced = sync.on_snapshot(snapshot(105, {"99": "5", "98": "1"}, {"101": "3", "102": "4"}))

    assert results == [SyncResult.BUFFERED] * 3
    assert synced is SyncResult.SYNCED
    assert sync.state is SyncState.LIVE
    assert sync.last_update_id == 107
    assert sync.bids() == [(D(99), D(5)), (D(98), D(2))]
    assert sync.asks() == [(D(102), D(7))]  # 101 removed by its 0 quantity
    assert sync.best_bid() == (D(99), D(5))
    assert sync.best_ask() == (D(102), D(7))


def test_an_old_event_is_ignored_once_live() -> None:
    sync = OrderBookSync("BTCUSDT")
    sync.on_diff(diff(11, 12))
    sync.on_snapshot(snapshot(12, {"99": "1"}, {"101": "1"}))

    result = sync.on_diff(diff(10, 12, bids={"99": "9"}))

    assert result is SyncResult.IGNORED
    assert sync.bids() == [(D(99), D(1))]


def test_a_snapshot_older_than_the_first_buffered_event_is_refused() -> None:
    sync = OrderBookSync("BTCUSDT")
    sync.on_diff(diff(51, 53, bids={"99": "1"}))

    result = sync.on_snapshot(snapshot(50, {"99": "3"}, {}))

    assert result is SyncResult.STALE_SNAPSHOT
    assert sync.stale_snapshots == 1
    assert sync.buffered == 1  # still waiting, events kept
    with pytest.raises(BookInvalid):
        sync.bids()
    assert sync.on_snapshot(snapshot(52, {"99": "3"}, {})) is SyncResult.SYNCED
    assert sync.bids() == [(D(99), D(1))]


def test_a_gap_discards_the_book_and_every_read_raises_until_resynced() -> None:
    sync = OrderBookSync("BTCUSDT")
    sync.on_diff(diff(11, 12))
    sync.on_snapshot(snapshot(12, {"99": "1"}, {"101": "1"}))

    result = sync.on_diff(diff(14, 15, bids={"99": "2"}))  # 13 is missing

    assert result is SyncResult.GAP
    assert sync.gaps_detected == 1
    assert sync.state is SyncState.AWAITING_SNAPSHOT
    assert sync.buffered == 1  # the gap event starts the next synchronisation
    reads = [
        sync.bids,
        sync.asks,
        sync.best_bid,
        sync.best_ask,
        sync.checksum,
        lambda: sync.last_update_id,
    ]
    for read in reads:
        with pytest.raises(BookInvalid, match="gap: event U=14 after book id 12"):
            read()
    assert issubclass(BookInvalid, TemporaryError)
    assert sync.on_snapshot(snapshot(13, {"99": "1"}, {})) is SyncResult.STALE_SNAPSHOT
    assert sync.on_snapshot(snapshot(15, {"99": "2"}, {})) is SyncResult.SYNCED
    assert sync.bids() == [(D(99), D(2))]


def test_a_gap_inside_the_buffer_is_found_when_the_snapshot_is_applied() -> None:
    sync = OrderBookSync("BTCUSDT")
    for event in (diff(10, 11), diff(12, 13), diff(16, 17), diff(18, 18)):
        sync.on_diff(event)

    result = sync.on_snapshot(snapshot(12, {"99": "1"}, {}))

    assert result is SyncResult.GAP
    assert sync.buffered == 2  # 16..17 and 18 wait for a snapshot at or after 16
    assert sync.on_snapshot(snapshot(16, {"99": "4"}, {})) is SyncResult.SYNCED
    assert sync.last_update_id == 18


def test_an_empty_buffer_takes_the_snapshot_as_is() -> None:
    sync = OrderBookSync("BTCUSDT")

    assert sync.on_snapshot(snapshot(7, {"99": "1"}, {"100": "0"})) is SyncResult.SYNCED
    assert sync.asks() == []  # a zero level in a snapshot is no level
    assert sync.on_diff(diff(9, 9)) is SyncResult.GAP


def test_invalidate_discards_the_book_and_the_buffer() -> None:
    sync = OrderBookSync("BTCUSDT")
    sync.on_snapshot(snapshot(7, {"99": "1"}, {}))

    sync.invalidate("stream disconnected")

    assert (sync.state, sync.buffered) == (SyncState.AWAITING_SNAPSHOT, 0)
    with pytest.raises(BookInvalid, match="stream disconnected"):
        sync.best_bid()


def test_a_full_buffer_drops_its_oldest_events() -> None:
    sync = OrderBookSync("BTCUSDT", max_buffer=3)
    for n in range(10):
        sync.on_diff(diff(n, n))

    assert sync.buffered == 3
    assert sync.on_snapshot(snapshot(6, {}, {})) is SyncResult.STALE_SNAPSHOT  # first U is 7


def test_a_binance_depth_update_decodes_straight_into_a_diff() -> None:
    raw = (
        b'{"e":"depthUpdate","E":1672515782136,"s":"BNBBTC","U":157,"u":160,'
        b'"b":[["0.0024","10"]],"a":[["0.0026","100"],["0.0027","0.00000000"]]}'
    )

    event = msgspec.json.decode(raw, type=DepthDiff)
    snap = msgspec.json.decode(
        b'{"lastUpdateId":1027024,"bids":[["4.00000000","431.00000000"]],"asks":[]}',
        type=DepthSnapshot,
    )

    assert (event.first_update_id, event.final_update_id) == (157, 160)
    assert event.bids == ((D("0.0024"), D("10")),)
    assert event.asks[1] == (D("0.0027"), D(0))
    assert snap.last_update_id == 1027024
    assert snap.bids == ((D("4.00000000"), D("431.00000000")),)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"U":5,"u":4,"b":[],"a":[]}',
        b'{"U":1,"u":2,"b":[["-1","1"]],"a":[]}',
        b'{"U":1,"u":2,"b":[["1","-1"]],"a":[]}',
        b'{"U":1,"u":2,"b":[["NaN","1"]],"a":[]}',
        b'{"U":1,"u":2,"b":[["1","Infinity"]],"a":[]}',
        b'{"U":1,"u":2,"b":[["abc","1"]],"a":[]}',
        b'{"U":"1","u":2}',
        b'{"u":2}',
    ],
)
def test_malformed_venue_data_is_a_typed_error(raw: bytes) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(raw, type=DepthDiff)


def test_a_diff_with_u_below_big_u_is_refused_at_construction() -> None:
    with pytest.raises(InvalidValue, match="U=5 is above u=4"):
        diff(5, 4)


# ----------------------------------------------------------------------------- checksum
def test_checksum_is_crc32_of_interleaved_top_levels_in_canonical_decimal_form() -> None:
    bids = [(D("100.50"), D("1.000")), (D("100.40"), D("2"))]
    asks = [(D("1E+2"), D("0.5")), (D("101"), D("3.10"))]

    value = book_checksum(bids, asks, depth=2)

    assert value == zlib.crc32(b"100.5:1:100:0.5:100.4:2:101:3.1")
    assert book_checksum(bids, asks, depth=1) == zlib.crc32(b"100.5:1:100:0.5")
    assert book_checksum(bids, asks[:1], depth=2) == zlib.crc32(b"100.5:1:100:0.5:100.4:2")


# -------------------------------------------------------------- property: equals the venue
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_a_book_built_from_a_snapshot_and_diffs_equals_the_venues(data: st.DataObject) -> None:
    venue = VenueBook(random.Random(data.draw(st.integers(0, 2**32), label="seed")))
    events = [venue.event(data.draw(st.integers(1, 6))) for _ in range(60)]
    joined = data.draw(st.integers(0, 30), label="first event we receive")
    fetched = data.draw(st.integers(joined, 59), label="event after which the snapshot is taken")
    buffered = data.draw(st.integers(joined, 59), label="events buffered before it arrives")
    sync = OrderBookSync("BTCUSDT")

    for event in events[joined : buffered + 1]:
        assert sync.on_diff(event) is SyncResult.BUFFERED
    assert sync.on_snapshot(venue.snapshot(events[fetched].final_update_id)) is SyncResult.SYNCED
    for event in events[buffered + 1 :]:
        assert sync.on_diff(event) in (SyncResult.APPLIED, SyncResult.IGNORED)

    assert sync.last_update_id == venue.update_id
    assert same_book(sync, venue)
    assert sync.checksum() == venue.checksum(venue.update_id)


# ---------------------------------------------------------------------- driven by a stream
async def stream(venue: VenueBook, count: int, skip: set[int]) -> AsyncIterator[DepthDiff]:
    for n in range(count):
        event = venue.event(venue.rng.randint(1, 4))
        if n not in skip:
            yield event
        await asyncio.sleep(0)


def test_con8_a_hundred_skipped_update_ids_are_all_detected_on_the_next_event() -> None:
    rng = random.Random(8)
    venue = VenueBook(rng)
    skip = set(rng.sample(range(10, 2_990, 2), 100))  # never two in a row
    sync = OrderBookSync("BTCUSDT")
    results: list[SyncResult] = []
    good_reads, refused_reads, stale_reads = 0, 0, 0

    def strategy_reads(book: OrderBookSync, result: SyncResult) -> None:
        nonlocal good_reads, refused_reads, stale_reads
        results.append(result)
        try:
            top = book.checksum()
            as_of = book.last_update_id
        except BookInvalid:
            refused_reads += 1
            return
        good_reads += 1
        stale_reads += top != venue.checksum(as_of)

    async def fetch() -> DepthSnapshot:
        return venue.snapshot()

    asyncio.run(
        run_order_book_sync(sync, stream(venue, 3_000, skip), fetch, on_change=strategy_reads)
    )

    event_results = [r for r in results if r not in (SyncResult.SYNCED, SyncResult.STALE_SNAPSHOT)]
    gap_positions = [n for n, r in enumerate(event_results) if r is SyncResult.GAP]
    delivered = [n for n in range(3_000) if n not in skip]
    first_after_skip = sorted(delivered.index(n + 1) for n in skip)
    assert sync.gaps_detected == 100
    assert gap_positions == first_after_skip  # each on the very next event
    assert stale_reads == 0
    assert refused_reads >= 100  # the strategy was told, not served the broken book
    assert good_reads > 2_000
    assert same_book(sync, venue)


def test_con9_a_stale_snapshot_is_fetched_again() -> None:
    venue = VenueBook(random.Random(9))
    sync = OrderBookSync("BTCUSDT")
    answers: list[int] = []
    reads_before_sync: list[bool] = []

    async def fetch() -> DepthSnapshot:
        # The first answer is from before the stream began; the second is current.
        as_of = 1_000 if not answers else venue.update_id
        answers.append(as_of)
        return venue.snapshot(as_of)

    def check(book: OrderBookSync, result: SyncResult) -> None:
        if result is SyncResult.STALE_SNAPSHOT:
            try:
                book.bids()
                reads_before_sync.append(True)
            except BookInvalid:
                reads_before_sync.append(False)

    asyncio.run(run_order_book_sync(sync, stream(venue, 200, set()), fetch, on_change=check))

    assert answers[0] == 1_000
    assert len(answers) == 2
    assert sync.stale_snapshots == 1
    assert reads_before_sync == [False]
    assert same_book(sync, venue)


def test_a_snapshot_that_stays_stale_is_tried_again_on_later_events() -> None:
    venue = VenueBook(random.Random(3))
    sync = OrderBookSync("BTCUSDT")
    fetches = 0

    async def fetch() -> DepthSnapshot:
        nonlocal fetches
        fetches += 1
        return venue.snapshot(1_000 if fetches <= 4 else None)  # stale four times

    asyncio.run(run_order_book_sync(sync, stream(venue, 20, set()), fetch, max_snapshot_attempts=3))

    assert fetches == 5  # three on the first event, two on the second
    assert sync.stale_snapshots == 4
    assert same_book(sync, venue)

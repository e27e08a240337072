"""Our ``CcxtVenueClient`` against the fault-injecting simulated exchange (a real process).

The port's scenarios in domain types; bad input mapped into the domain taxonomy with no order
left behind; and the resilience figures of RELIABILITY.md section 3 that a single process can
show: OMS-5 / CON-5 (no blind write retries, the filled-id trap), CON-2 (429 storm), CON-6
(circuit breaker), CON-7/8/9 (book reconnects, gaps and stale snapshots), CON-11 (clock skew).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from tests.kit.sim_exchange import RunningExchange, run, venue_client

from tradeforge.connectors import CircuitOpen
from tradeforge.connectors.errors import AuthFailed, ClockSkew
from tradeforge.connectors.order_book_sync import SyncState, book_checksum
from tradeforge.domain import (
    ClientOrderId,
    FillReport,
    InstrumentId,
    InsufficientFunds,
    InvalidOrder,
    OrderBookSnapshot,
    OrderSide,
    OrderSpec,
    OrderStatus,
    OrderType,
    Price,
    Quantity,
    StrategyId,
    TemporaryError,
    Timeframe,
    TimeInForce,
    UnknownInstrument,
    UnknownOrder,
    Venue,
)

pytestmark = pytest.mark.integration

BTC = InstrumentId("BTC/USDT", Venue("SIM"))
STRATEGY = StrategyId("test")


def spec(
    coid: str,
    side: OrderSide = OrderSide.BUY,
    qty: str = "0.01",
    price: str | None = None,
    order_type: OrderType | None = None,
    **extra: Any,
) -> OrderSpec:
    kind = order_type or (OrderType.LIMIT if price else OrderType.MARKET)
    return OrderSpec(
        client_order_id=ClientOrderId(coid),
        strategy_id=STRATEGY,
        instrument_id=BTC,
        side=side,
        order_type=kind,
        quantity=Quantity(qty),
        price=Price(price) if price else None,
        time_in_force=extra.pop("time_in_force", TimeInForce.GTC),
        **extra,
    )


@pytest.fixture(scope="module")
def server(exchange_factory: Callable[..., RunningExchange]) -> RunningExchange:
    return exchange_factory("--instruments", "BTC/USDT", "--events-per-second", "300")


def server_orders(server: RunningExchange, account: dict[str, str]) -> list[dict[str, Any]]:
    """The account's orders as the venue holds them (a signed raw request, no CCXT)."""
    from tradeforge.connectors.sim_exchange import sign

    query = f"symbol=BTCUSDT&timestamp={int(time.time() * 1000)}"
    query += "&signature=" + sign(account["api_secret"], query)
    answer = httpx.get(
        server.base + "/api/v3/allOrders?" + query, headers={"X-MBX-APIKEY": account["api_key"]}
    )
    answer.raise_for_status()
    orders: list[dict[str, Any]] = answer.json()
    return orders


def best_bid(server: RunningExchange) -> Decimal:
    depth = httpx.get(server.base + "/api/v3/depth", params={"symbol": "BTCUSDT"}).json()
    return Decimal(depth["bids"][0][0])


def test_port_scenarios_in_domain_types(server: RunningExchange) -> None:
    account = server.add_account(USDT="100000", BTC="1")

    async def go() -> None:
        client = venue_client(server, account)
        try:
            await client.connect()
            (inst,) = await client.instruments()
            assert inst.id == BTC
            assert str(inst.tick_size) == "0.01"
            assert str(inst.lot_size) == "0.00001"
            assert inst.min_notional is not None
            assert inst.min_notional.amount == 5
            totals = {b.total.currency.code: b.total.amount for b in await client.balances()}
            assert totals == {"USDT": Decimal(100000), "BTC": Decimal(1)}
            filled = await client.submit(spec("m-1", time_in_force=TimeInForce.IOC))
            assert filled.status is OrderStatus.FILLED
            assert filled.filled_qty == Quantity("0.01")
            resting_px = str((best_bid(server) * Decimal("0.9")).quantize(Decimal("0.01")))
            resting = await client.submit(spec("l-1", price=resting_px))
            assert resting.status is OrderStatus.ACCEPTED
            assert [o.client_order_id.value for o in await client.open_orders(BTC)] == ["l-1"]
            status = await client.order_status(BTC, ClientOrderId("l-1"))
            assert status is not None
            assert status.price == Price(resting_px)
            canceled = await client.cancel(BTC, ClientOrderId("l-1"))
            assert canceled.status is OrderStatus.CANCELED
            assert canceled.client_order_id.value == "l-1"
            assert await client.order_status(BTC, ClientOrderId("never-sent")) is None
            (fill,) = await client.fills(BTC)
            assert fill.client_order_id.value == "m-1"
            assert fill.last_qty == Quantity("0.01")
            balances = {b.total.currency.code: b.total.amount for b in await client.balances()}
            cost = fill.last_px.as_decimal() * fill.last_qty.as_decimal()
            assert balances["BTC"] == Decimal("1.01")
            assert balances["USDT"] == Decimal(100000) - cost - fill.commission.amount
        finally:
            await client.close()

    run(go())


def test_bad_input_maps_to_domain_errors_and_leaves_no_order(server: RunningExchange) -> None:
    account = server.add_account(USDT="1000")

    async def go() -> None:
        client = venue_client(server, account)
        try:
            await client.connect()
            px = str(best_bid(server))
            with pytest.raises(UnknownInstrument):
                await client.submit(
                    OrderSpec(
                        client_order_id=ClientOrderId("x-0"), strategy_id=STRATEGY,
                        instrument_id=InstrumentId("DOGE/USDT", Venue("SIM")),
                        side=OrderSide.BUY, order_type=OrderType.MARKET, quantity=Quantity("1"),
                    )
                )  # fmt: skip
            with pytest.raises(InvalidOrder, match=r"not a multiple of .* tick size 0\.01"):
                await client.submit(spec("x-1", qty="0.001", price=px + "5"))
            with pytest.raises(InvalidOrder, match="NOTIONAL"):
                await client.submit(spec("x-2", qty="0.0001", price=px))
            with pytest.raises(InsufficientFunds):
                await client.submit(spec("x-3", qty="1", price=px))
            with pytest.raises(UnknownOrder):
                await client.cancel(BTC, ClientOrderId("x-3"))
            assert await client.open_orders(BTC) == []
        finally:
            await client.close()
        assert server_orders(server, account) == []
        wrong = venue_client(server, {"api_key": account["api_key"], "api_secret": "0" * 64})
        try:
            await wrong.connect()
            with pytest.raises(AuthFailed):
                await wrong.balances()
        finally:
            await wrong.close()

    run(go())


def test_lost_answer_is_settled_by_lookup_never_by_resend(server: RunningExchange) -> None:
    """OMS-5 and CON-5: the venue executes, the answer is lost; exactly one order exists."""
    account = server.add_account(USDT="100000", BTC="1")

    async def go() -> None:
        client = venue_client(server, account)
        try:
            await client.connect()
            before = server.admin("GET", "/admin/faults")["requests"]
            server.admin(
                "POST", "/admin/faults",
                {"kind": "drop_response", "count": 1, "path": "/api/v3/order", "method": "POST"},
            )  # fmt: skip
            report = await client.submit(spec("trap-1", time_in_force=TimeInForce.IOC))
            assert report.status is OrderStatus.FILLED
            assert report.client_order_id.value == "trap-1"
            after = server.admin("GET", "/admin/faults")["requests"]
            posts = after.get("POST /api/v3/order", 0) - before.get("POST /api/v3/order", 0)
            gets = after.get("GET /api/v3/order", 0) - before.get("GET /api/v3/order", 0)
            assert posts == 1  # never re-sent
            assert gets >= 1  # looked up by client order id before deciding
            # CON-5 at scale: 60 submits, a third of the answers lost.
            server.admin(
                "POST", "/admin/faults",
                {"kind": "drop_response", "count": -1, "probability": 0.33,
                 "path": "/api/v3/order", "method": "POST"},
            )  # fmt: skip
            low = str((best_bid(server) * Decimal("0.8")).quantize(Decimal("0.01")))
            for i in range(60):
                got = await client.submit(spec(f"many-{i}", qty="0.001", price=low))
                assert got.client_order_id.value == f"many-{i}"
        finally:
            server.admin("DELETE", "/admin/faults")
            await client.close()
        ids = [o["clientOrderId"] for o in server_orders(server, account)]
        assert len(ids) == len(set(ids)) == 61  # 0 duplicates, none lost
        assert server.admin("GET", "/admin/faults")["fired"]["drop_response"] > 10

    run(go())


def test_rate_limit_storm_waits_for_retry_after(server: RunningExchange) -> None:
    """CON-2: a 429 with Retry-After 3 s: no request before it has passed, no ban."""

    async def go() -> None:
        client = venue_client(server, None)
        try:
            await client.connect()
            server.admin("POST", "/admin/faults", {"kind": "rate_limit", "count": 1})
            started = time.monotonic()
            depth = await client._depth_snapshot(await _inst(client))
            waited = time.monotonic() - started
            assert depth.bids
            assert 3.0 <= waited < 4.5
            limits = server.admin("GET", "/admin/faults")["limits"]["127.0.0.1"]
            assert limits["early"] == 1  # only the request that met the fault
            assert limits["refused_418"] == 0
        finally:
            await client.close()

    run(go())


async def _inst(client: Any) -> Any:
    return (await client.instruments())[0]


def test_circuit_breaker_opens_after_five_failures(server: RunningExchange) -> None:
    """CON-6: after 5 consecutive failures calls fail fast without reaching the venue."""

    async def go() -> None:
        registry = CollectorRegistry()
        client = venue_client(server, None, breaker_cooldown=2.0, registry=registry)
        try:
            await client.connect()
            client.retry = _no_retry(client)
            server.admin("POST", "/admin/faults", {"kind": "http_5xx", "count": -1,
                                                   "path": "/api/v3/depth"})  # fmt: skip
            inst = await _inst(client)
            for _ in range(5):
                with pytest.raises(TemporaryError):
                    await client._depth_snapshot(inst)
            reached = server.admin("GET", "/admin/faults")["fired"]["http_5xx"]
            for _ in range(20):
                with pytest.raises(CircuitOpen):
                    await client._depth_snapshot(inst)
            assert server.admin("GET", "/admin/faults")["fired"]["http_5xx"] == reached
            gauge = registry.get_sample_value(
                "tradeforge_connector_circuit_state", {"venue": "SIM"}
            )
            assert gauge == 1.0
            server.admin("DELETE", "/admin/faults")
            await asyncio.sleep(2.1)
            assert (await client._depth_snapshot(inst)).bids  # the probe closes it
            gauge = registry.get_sample_value(
                "tradeforge_connector_circuit_state", {"venue": "SIM"}
            )
            assert gauge == 0.0
        finally:
            server.admin("DELETE", "/admin/faults")
            await client.close()

    run(go())


def _no_retry(client: Any) -> Any:
    from tradeforge.connectors.resilience import FullJitter, RetryBudget, RetryPolicy

    return RetryPolicy(
        backoff=FullJitter(base=0.01, cap=0.01),
        budget=RetryBudget(monotonic=time.monotonic),
        sleep=asyncio.sleep,
        max_attempts=1,
    )


def test_book_survives_gaps_stale_snapshots_and_drops(
    exchange_factory: Callable[..., RunningExchange],
) -> None:
    """CON-7/8/9: gaps and dropped connections, one after another; each gap detected and
    resynced, each drop reconnected (p99 < 2 s), a stale snapshot fetched again; after every
    recovery the book equals the server's exactly (checked at the same update id with the
    market paused). `TF_BOOK_CYCLES=200` gives the long version (100 drops, 100 gaps)."""
    cycles = int(os.environ.get("TF_BOOK_CYCLES", "4"))
    server = exchange_factory("--instruments", "BTC/USDT", "--events-per-second", "1000")

    async def equal_to_server(stream: Any, book: Any) -> bool:
        last_id = server.pause()["BTCUSDT"]
        try:
            async with asyncio.timeout(10):
                while book.sync.state is not SyncState.LIVE or book.sync.last_update_id != last_id:
                    await anext(stream)
            theirs = httpx.get(
                server.base + "/api/v3/depth", params={"symbol": "BTCUSDT", "limit": 5000}
            ).json()
            bids = [(Decimal(p), Decimal(q)) for p, q in theirs["bids"]]
            asks = [(Decimal(p), Decimal(q)) for p, q in theirs["asks"]]
            return (
                book.sync.bids() == bids
                and book.sync.asks() == asks
                and book.sync.checksum() == book_checksum(bids, asks)
            )
        finally:
            server.pause(False)

    async def go() -> None:
        client = venue_client(server, None)
        try:
            await client.connect()
            stream = client.book(BTC)
            assert isinstance(await anext(stream), OrderBookSnapshot)
            book = client.book_streams[BTC]
            server.admin("POST", "/admin/faults", {"kind": "stale_snapshot", "count": 1})
            reconnects: list[float] = []
            samples: list[bool] = []
            for cycle in range(cycles):
                kind = "skip_depth" if cycle % 2 == 0 else "drop_ws"
                started = time.monotonic()
                server.admin("POST", "/admin/faults", {"kind": kind, "count": 1})
                async with asyncio.timeout(30):
                    while not isinstance(await anext(stream), OrderBookSnapshot):
                        pass
                if kind == "drop_ws":
                    reconnects.append(time.monotonic() - started)
                samples.append(await equal_to_server(stream, book))
            assert book.stats.gaps == (cycles + 1) // 2
            assert book.stats.reconnects == cycles // 2
            assert book.stats.stale_snapshots == 1
            assert all(samples), f"{samples.count(False)} of {len(samples)} books differed"
            reconnects.sort()
            assert reconnects[int(0.99 * (len(reconnects) - 1))] < 2.0, reconnects
            await stream.aclose()
        finally:
            await client.close()

    run(go())


def test_clock_skew_is_resynced_or_reported_not_retried(server: RunningExchange) -> None:
    """CON-11: a 3 s offset is absorbed after syncing with /time; beyond recvWindow the caller
    gets ClockSkew at once (one request, no retry loop)."""
    account = server.add_account(USDT="10")

    async def go() -> None:
        client = venue_client(server, account)
        try:
            await client.connect()
            client.rest.options["timeDifference"] = -3_000  # we run 3 s ahead of the venue
            with pytest.raises(ClockSkew):
                await client.balances()
            await client.sync_time()
            assert abs(client.rest.options["timeDifference"]) < 1_000
            for _ in range(5):
                assert await client.balances()
            client.rest.options["timeDifference"] = 70_000
            before = server.admin("GET", "/admin/faults")["requests"]["GET /api/v3/account"]
            with pytest.raises(ClockSkew):
                await client.balances()
            after = server.admin("GET", "/admin/faults")["requests"]["GET /api/v3/account"]
            assert after - before == 1
        finally:
            await client.close()

    run(go())


def test_streams_in_domain_types(server: RunningExchange) -> None:
    """Trades, quotes, bars and the account's own order reports and fills as domain types."""
    account = server.add_account(USDT="100000")

    async def go() -> None:
        client = venue_client(server, account)
        try:
            await client.connect()
            async with asyncio.timeout(10):
                trade = await anext(client.trades(BTC))
                quote = await anext(client.quotes(BTC))
            assert trade.instrument_id == BTC
            assert trade.size > Quantity("0")
            assert quote.bid_price < quote.ask_price
            updates = client.order_updates()
            first = asyncio.ensure_future(anext(updates))
            await asyncio.sleep(0.5)  # the user-data subscription is in place
            placed = await client.submit(spec("stream-1", time_in_force=TimeInForce.IOC))
            seen: list[Any] = [await asyncio.wait_for(first, 10)]
            async with asyncio.timeout(10):
                while not any(isinstance(u, FillReport) for u in seen):
                    seen.append(await anext(updates))
            fill = next(u for u in seen if isinstance(u, FillReport))
            assert fill.client_order_id.value == "stream-1"
            assert fill.venue_order_id == placed.venue_order_id
            # An IOC takes what the random market's book holds within its limit: all of the
            # 0.01, or part of it when the touch is thinner.
            assert Quantity("0") < fill.last_qty <= Quantity("0.01")
            await updates.aclose()
        finally:
            await client.close()

    run(go())


def test_bars_close_once_a_new_one_starts(server: RunningExchange) -> None:
    """A bar is yielded when the next one has started: each exactly once, in order."""

    async def go() -> None:
        client = venue_client(server, None)
        try:
            await client.connect()
            bars = client.bars(BTC, Timeframe.from_str("1m"))
            # The first closed 1-minute bar needs the minute to roll over: at most ~60 s.
            async with asyncio.timeout(75):
                bar = await anext(bars)
            assert bar.instrument_id == BTC
            assert bar.low <= bar.open <= bar.high
            assert bar.low <= bar.close <= bar.high
            assert bar.ts_event % 60_000_000_000 == 0
            await bars.aclose()
        finally:
            await client.close()

    run(go())

"""OMS-3 (accept-then-timeout) and OMS-4 (visibility lag) of RELIABILITY.md section 1: the
trading node, in process, trades through the CCXT venue client against the simulated exchange
(a real process) while the exchange loses its answers or hides new orders.

- OMS-3: every submit is taken by the venue and its answer replaced by 503 -1007 ("execution
  status unknown"). Pass: 0 duplicate orders at the venue, 100 % of the orders resolved within
  the in-flight threshold + retries (the node's defaults, 5 s + 5 x 2 s: <= 15 s), 0 orders
  resolved REJECTED that exist at the venue.
- OMS-4: the venue answers "Order does not exist." for ``LAG`` seconds after taking an order
  (Binance's lag), and the submit answers are lost. Pass: 0 false rejections; every order is
  adopted once it shows, and the journal then equals the venue.

Each runs with the venue's user stream (how a live node learns most things) and without it (so
the lookups by client order id alone must settle every order). ``make test`` sends 50 orders
(OMS-3, 20 a second) and 10 orders against a 6 s lag (OMS-4); ``TF_OMS_LONG=1`` sends 1,000
(5 a second: Binance's request weight per minute) and 30 against Binance's 30 s.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.integration.node.venue_checks import Venue, journal_vs_venue
from tests.kit.sim_exchange import RunningExchange, venue_client

from tradeforge.bus import LiveClock
from tradeforge.domain import (
    ClientOrderId,
    InstrumentId,
    OrderAccepted,
    OrderEvent,
    OrderStatus,
    OrderSubmitted,
    Timeframe,
    TimeInForce,
)
from tradeforge.domain import Venue as VenueName
from tradeforge.domain.money import KNOWN_CURRENCIES
from tradeforge.engine import TradingNode
from tradeforge.execution import OrderUpdate
from tradeforge.store import Database, SqlOrderJournal, sqlite_url
from tradeforge.strategy import Strategy

LONG = os.environ.get("TF_OMS_LONG") == "1"
pytestmark = [pytest.mark.integration, pytest.mark.timeout(3600 if LONG else 120)]
IID = InstrumentId("BTC/USDT", VenueName("SIM"))
START = {"USDT": Decimal(1_000_000), "BTC": Decimal(10)}
OMS3_ORDERS = 1_000 if LONG else 50
OMS4_ORDERS = 30 if LONG else 10
# Orders a second: each costs the client 5-45 of Binance's request weight (the submit, its
# lookup, the fills of a MARKET or IOC), 6,000 a minute per IP, which the client respects.
RATE = 5.0 if LONG else 20.0
OMS4_LAG = 30.0 if LONG else 6.0
THRESHOLD = 15.0  # the node's in-flight defaults: 5 s, then 5 lookups 2 s apart


class Recorder(Strategy):
    """Keeps, per order, when it was sent and when it left SUBMITTED; cancels each order once
    accepted, so resting orders do not pile up (the node's periodic reconciliation looks up
    every open order: 1,000 of them would spend most of Binance's request weight)."""

    name = "recorder"

    def on_start(self) -> None:
        self.sent: dict[ClientOrderId, float] = {}
        self.settled: dict[ClientOrderId, float] = {}

    def on_order(self, event: OrderEvent) -> None:
        if not isinstance(event, OrderSubmitted):
            self.settled.setdefault(event.client_order_id, time.monotonic())
        if isinstance(event, OrderAccepted):
            self.ctx.cancel(event.client_order_id)


class WithoutUserStream:
    """A venue client whose own-order stream stays silent: only lookups tell the node."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    async def order_updates(self) -> AsyncIterator[OrderUpdate]:
        await asyncio.Event().wait()  # never set: nothing ever comes
        return
        yield


@pytest.fixture(scope="module")
def server(exchange_factory: Callable[..., RunningExchange]) -> RunningExchange:
    flags = ["--instruments", "BTC/USDT", "--events-per-second", "50"]
    return exchange_factory(*flags, "--orders-per-10s", "100000", "--weight-limit", "100000000")


@pytest.fixture
def clean_faults(server: RunningExchange) -> Iterator[None]:
    server.admin("DELETE", "/admin/faults")
    yield
    server.admin("DELETE", "/admin/faults")


async def trade(
    server: RunningExchange,
    account: dict[str, str],
    db_path: Path,
    *,
    orders: int,
    stream: bool,
    inflight: tuple[float, float, int],
    settle_within: float,
    burst: int = 1,
    breaker: tuple[int, float] = (5, 30.0),
    lookups: tuple[int, float] = (5, 1.0),
) -> tuple[TradingNode, Recorder, list[ClientOrderId]]:
    """Start a node, send ``orders`` orders (``burst`` at a time, ``RATE`` a second; every 10th a
    MARKET, every 10th an IOC, the rest LIMIT GTC resting 20 % below), wait until none is in
    flight, stop it."""
    client = venue_client(server, account, breaker_threshold=breaker[0],
                          breaker_cooldown=breaker[1], lookup_attempts=lookups[0],
                          lookup_interval=lookups[1])  # fmt: skip
    venue = client if stream else WithoutUserStream(client)
    database = Database(sqlite_url(db_path))
    database.upgrade()
    strategy = Recorder(strategy_id="recorder-1", instruments=[IID])
    timeout, interval, retries = inflight
    node = TradingNode(
        clock=LiveClock(), venues={IID.venue: venue}, strategies=[strategy],
        journal=SqlOrderJournal(database), timeframe=Timeframe.from_str("1s"),
        base_currency=KNOWN_CURRENCIES["USDT"], inflight_timeout=timeout,
        inflight_interval=interval, inflight_retries=retries,
    )  # fmt: skip
    await node.start()
    sent: list[ClientOrderId] = []
    try:
        async with asyncio.timeout(30):
            while node.last_price(IID) is None:
                await asyncio.sleep(0.02)
        inst = node.instruments[IID]
        qty = inst.make_qty(Decimal("0.001"))
        for k in range(orders):
            last = node.last_price(IID)
            assert last is not None
            below = inst.make_price(last.as_decimal() * Decimal("0.8"))
            above = inst.make_price(last.as_decimal() * Decimal("1.05"))
            if k % 10 == 3:
                cid = strategy.buy(qty)
            elif k % 10 == 7:
                cid = strategy.buy(qty, price=above, time_in_force=TimeInForce.IOC)
            else:
                cid = strategy.buy(qty, price=below)
            strategy.sent[cid] = time.monotonic()
            sent.append(cid)
            if k % burst == burst - 1:
                await asyncio.sleep(burst / RATE)
        deadline = time.monotonic() + settle_within
        while time.monotonic() < deadline:
            if not in_flight(node, sent):
                break
            await asyncio.sleep(0.1)
    finally:
        await node.stop()
        database.dispose()
    return node, strategy, sent


def in_flight(node: TradingNode, sent: list[ClientOrderId]) -> list[ClientOrderId]:
    return [c for c in sent if (o := node.oms.get(c)) is None or o.status is OrderStatus.SUBMITTED]


def rejected(node: TradingNode, sent: list[ClientOrderId]) -> set[str]:
    """The orders the node resolved REJECTED (also those resolved as it stopped)."""
    return {c.value for c in sent if (o := node.oms.get(c)) and o.status is OrderStatus.REJECTED}


def faults(server: RunningExchange) -> dict[str, Any]:
    answer: dict[str, Any] = server.admin("GET", "/admin/faults")
    return answer


@pytest.mark.parametrize("stream", [True, False], ids=["user-stream", "lookups-only"])
@pytest.mark.usefixtures("clean_faults")
def test_oms3_accept_then_timeout(server: RunningExchange, tmp_path: Path, stream: bool) -> None:
    account = server.add_account(**{k: str(v) for k, v in START.items()})
    server.admin("POST", "/admin/faults", {"kind": "drop_response", "count": OMS3_ORDERS,
                                           "path": "/api/v3/order", "method": "POST"})  # fmt: skip
    dropped = faults(server)["fired"]["drop_response"]
    # Every answer lost trips the client's circuit breaker once submits overlap (they do at
    # 1,000): it would refuse submits and lookups for its cool-down. That is the next test's
    # subject; here it is set out of the way, so each of the orders is taken and its answer lost.
    run = trade(server, account, tmp_path / "journal.sqlite", orders=OMS3_ORDERS, stream=stream,
                inflight=(5.0, 2.0, 5), settle_within=THRESHOLD + 5,
                breaker=(10**9, 30.0))  # fmt: skip
    node, strategy, sent = asyncio.run(run)
    venue = Venue(server, account)
    at_venue = [o["clientOrderId"] for o in venue.all_orders()]
    assert len(at_venue) == len(set(at_venue)), "0 duplicates"
    lost = faults(server)["fired"]["drop_response"] - dropped
    assert lost == len(at_venue) >= 0.99 * OMS3_ORDERS, "the venue took them, answers all lost"
    refused = rejected(node, sent)  # the few the venue refused outright (a MARKET, no book)
    assert refused | set(at_venue) == {c.value for c in sent}
    assert refused.isdisjoint(at_venue), "0 rejected that exist at the venue"
    late = {c: strategy.settled.get(c, float("inf")) - strategy.sent[c] for c in sent}
    assert max(late.values()) <= THRESHOLD, sorted(late.items(), key=lambda kv: -kv[1])[:5]
    assert journal_vs_venue(venue, sqlite_url(tmp_path / "journal.sqlite"), START) == []


@pytest.mark.parametrize("stream", [True, False], ids=["user-stream", "lookups-only"])
@pytest.mark.usefixtures("clean_faults")
def test_oms4_visibility_lag(server: RunningExchange, tmp_path: Path, stream: bool) -> None:
    account = server.add_account(**{k: str(v) for k, v in START.items()})
    server.admin("POST", "/admin/faults", {"kind": "hide_orders", "seconds": OMS4_LAG})
    server.admin("POST", "/admin/faults", {"kind": "drop_response", "count": OMS4_ORDERS,
                                           "path": "/api/v3/order", "method": "POST"})  # fmt: skip
    hidden = faults(server)["fired"]["hide_orders"]
    # The lookups must outlast the lag: the client's own (5 over 4 s), then the node's.
    timeout, interval = OMS4_LAG / 3, 1.0 if not LONG else 3.0
    retries = int(OMS4_LAG / interval) + 3
    run = trade(server, account, tmp_path / "journal.sqlite", orders=OMS4_ORDERS, stream=stream,
                inflight=(timeout, interval, retries),
                settle_within=4 + timeout + interval * retries + 5)  # fmt: skip
    node, strategy, sent = asyncio.run(run)
    assert rejected(node, sent) == set(), "0 false rejections"
    assert in_flight(node, sent) == []
    if not stream:  # the lag was met and outlasted
        assert faults(server)["fired"]["hide_orders"] - hidden >= OMS4_ORDERS
        late = [strategy.settled[c] - strategy.sent[c] for c in sent]
        assert min(late) >= OMS4_LAG - 0.5, "adopted only once the venue showed the order"
    server.admin("DELETE", "/admin/faults")  # the checks below see every order
    venue = Venue(server, account)
    assert journal_vs_venue(venue, sqlite_url(tmp_path / "journal.sqlite"), START) == []


@pytest.mark.usefixtures("clean_faults")
def test_oms3_bursts_trip_the_breaker_without_false_rejections(
    server: RunningExchange, tmp_path: Path
) -> None:
    """Bursts of 10 lost answers open the client's circuit breaker (5 failures in a row): its
    lookups are refused until the cool-down ends, and so are the next submits, which never
    reach the venue. A refusal is no answer: no order the venue took is resolved REJECTED, none
    stays in flight, none is duplicated; only the orders the venue never saw are rejected."""
    account = server.add_account(**{k: str(v) for k, v in START.items()})
    server.admin("POST", "/admin/faults", {"kind": "drop_response", "count": OMS3_ORDERS,
                                           "path": "/api/v3/order", "method": "POST"})  # fmt: skip
    cooldown = 4.0  # longer than the client's lookups and the node's in-flight checks together
    run = trade(server, account, tmp_path / "journal.sqlite", orders=OMS3_ORDERS, stream=False,
                inflight=(0.5, 0.5, 3), settle_within=THRESHOLD + 2 * cooldown, burst=10,
                breaker=(5, cooldown), lookups=(2, 0.5))  # fmt: skip
    node, _, sent = asyncio.run(run)
    venue = Venue(server, account)
    at_venue = [o["clientOrderId"] for o in venue.all_orders()]
    assert len(at_venue) == len(set(at_venue)), "0 duplicates"
    assert in_flight(node, sent) == []
    refused = rejected(node, sent)
    assert refused.isdisjoint(at_venue), "0 orders resolved REJECTED that exist at the venue"
    assert refused | set(at_venue) == {c.value for c in sent}
    assert refused, "the breaker refused some submits (else this tests nothing new)"
    # Orders may stay open: cancels (on accept, and on stop) fail while the breaker is open.
    journal = sqlite_url(tmp_path / "journal.sqlite")
    assert journal_vs_venue(venue, journal, START, open_ok=True) == []

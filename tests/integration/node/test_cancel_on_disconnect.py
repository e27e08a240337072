"""R15 cancel-on-disconnect over a real socket: the trading node (in process) trades through
``CcxtVenueClient`` with the simulated exchange (a process) behind a Toxiproxy-style proxy
(``tests/kit/toxiproxy.py``), which cuts the link for longer than the grace period ``N``.

- ``answers-lost``: the proxy holds everything the exchange sends (requests still arrive): the
  heartbeat fails, and after ``N`` the node's cancels reach the exchange. Pass (RELIABILITY.md
  R15): our open orders are cancelled at the exchange within **N + 2 s** of the cut.
- ``cut-both-ways``: nothing passes either way, so no cancel can arrive until the link is back.
  Pass: the orders open at the disconnect are cancelled within 2 s of the link's return (plus the
  client's circuit-breaker cool-down, which the heartbeats tripped).

Both: from ``N`` on, a new order is refused (``VENUE_DISCONNECTED``) and the disconnect is an
event; after the return the venue is reconciled, new orders are taken again, and the journal
equals the exchange exactly. The measured times are printed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from tests.integration.node.venue_checks import Venue, journal_vs_venue
from tests.kit.sim_exchange import RunningExchange, venue_client
from tests.kit.toxiproxy import Timeout, ToxiProxy
from tests.unit.engine.hand_market import Recorder

from tradeforge.bus import LiveClock
from tradeforge.domain import (
    ClientOrderId,
    DenyReason,
    InstrumentId,
    OrderDenied,
    OrderStatus,
    Timeframe,
)
from tradeforge.domain import Venue as VenueName
from tradeforge.domain.money import KNOWN_CURRENCIES
from tradeforge.engine import TradingNode
from tradeforge.engine.venue_health import DisconnectPolicy
from tradeforge.store import Database, SqlOrderJournal, sqlite_url

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
IID = InstrumentId("BTC/USDT", VenueName("SIM"))
START = {"USDT": Decimal(1_000_000)}
GRACE = 2.0
POLICY = DisconnectPolicy(grace_s=GRACE, heartbeat_every_s=0.25, heartbeat_timeout_s=1.0)
COOLDOWN = 0.5  # the client's circuit breaker: the heartbeats open it during the cut
CUT = 5.0  # seconds the link stays cut (longer than the grace)


@pytest.fixture(scope="module")
def server(exchange_factory: Callable[..., RunningExchange]) -> RunningExchange:
    return exchange_factory("--instruments", "BTC/USDT", "--events-per-second", "50",
                            "--orders-per-10s", "100000")  # fmt: skip


@pytest.fixture
def proxy(server: RunningExchange) -> Iterator[ToxiProxy]:
    with ToxiProxy(server.port) as running:
        yield running


def open_at(venue: Venue) -> set[str]:
    """Client order ids open at the exchange, read directly (not through the proxy)."""
    return {o["clientOrderId"] for o in venue.get("/api/v3/openOrders", symbol="BTCUSDT")}


async def until(condition: Callable[[], object], within: float) -> float:
    start = time.monotonic()
    async with asyncio.timeout(within):
        while not condition():
            await asyncio.sleep(0.05)
    return time.monotonic() - start


@pytest.mark.parametrize("stream", ["downstream", "both"], ids=["answers-lost", "cut-both-ways"])
def test_the_node_cancels_and_blocks_when_the_link_is_cut(
    server: RunningExchange, proxy: ToxiProxy, tmp_path: Path, stream: str
) -> None:
    account = server.add_account(**{k: str(v) for k, v in START.items()})
    venue = Venue(server, account)
    url = sqlite_url(tmp_path / "journal.sqlite")
    through_proxy = SimpleNamespace(base=proxy.base, ws=proxy.ws)
    client = venue_client(through_proxy, account, timeout_ms=1000, breaker_cooldown=COOLDOWN,  # type: ignore[arg-type]
                          lookup_attempts=2, lookup_interval=0.2)  # fmt: skip

    async def go() -> None:
        database = Database(url)
        database.upgrade()
        strategy = Recorder(strategy_id="recorder-1", instruments=[IID])
        node = TradingNode(
            clock=LiveClock(), venues={IID.venue: client}, strategies=[strategy],
            journal=SqlOrderJournal(database), timeframe=Timeframe.from_str("1s"),
            base_currency=KNOWN_CURRENCIES["USDT"], disconnect=POLICY,
            inflight_timeout=1.0, inflight_interval=0.5, inflight_retries=3,
        )  # fmt: skip
        await node.start()
        try:
            await until(lambda: node.last_price(IID) is not None, 30)
            inst, last = node.instruments[IID], node.last_price(IID)
            assert last is not None

            def bid(fraction: str) -> ClientOrderId:
                price = inst.make_price(last.as_decimal() * Decimal(fraction))
                return strategy.buy(inst.make_qty(Decimal("0.001")), price=price)

            resting = {bid("0.8").value, bid("0.79").value, bid("0.78").value}
            await until(lambda: open_at(venue) == resting, 10)

            proxy.add(Timeout(0.0, stream=stream))
            cut = time.monotonic()
            blocked = await until(lambda: node.monitor.events, GRACE + 5)
            print(f"\n[{stream}] blocked {blocked:.2f} s after the cut (grace {GRACE} s)")
            assert GRACE <= blocked <= GRACE + POLICY.heartbeat_timeout_s + 0.5
            event = node.monitor.events[0]
            assert (event.state, event.open_orders) == ("disconnected", 3)
            refused = bid("0.77")
            await until(lambda: any(isinstance(e, OrderDenied) for e in strategy.events), 1)
            denial = next(e for e in strategy.events if isinstance(e, OrderDenied))
            assert (denial.client_order_id, denial.reason) == (
                refused,
                DenyReason.VENUE_DISCONNECTED,
            )
            if stream == "downstream":  # requests still arrive: the cancels land
                await until(
                    lambda: not open_at(venue), max(0.0, GRACE + 2 - (time.monotonic() - cut))
                )
                cancelled = time.monotonic() - cut
                print(f"[{stream}] open orders cancelled {cancelled:.2f} s after the cut")
                assert cancelled <= GRACE + 2  # R15: within N + 2 s
            else:
                assert open_at(venue) == resting  # nothing can reach the exchange
            await asyncio.sleep(max(0.0, CUT - (time.monotonic() - cut)))

            proxy.clear()
            back = time.monotonic()
            gone = await until(lambda: not open_at(venue), 2 + COOLDOWN + POLICY.heartbeat_every_s)
            print(f"[{stream}] none open at the exchange {gone:.2f} s after the link's return")
            await until(lambda: len(node.monitor.events) == 2, 10)
            print(f"[{stream}] unblocked {time.monotonic() - back:.2f} s after the link's return")
            assert node.monitor.events[1].state == "reconnected"
            for cid in resting:
                order = node.oms.get(ClientOrderId(cid))
                assert order is not None
                assert order.status is OrderStatus.CANCELED
            taken = bid("0.8")
            await until(lambda: (o := node.oms.get(taken)) is not None and o.is_open, 10)
        finally:
            await node.stop()
            database.dispose()

    asyncio.run(go())
    assert journal_vs_venue(venue, url, START) == []

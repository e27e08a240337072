"""OMS-6, duplicate fills (RELIABILITY.md section 1), at scale: the trading node on the
in-process simulated venue, whose own-order stream delivers every report and fill twice and,
after every 50 updates, "reconnects" and replays the last 100. Pass: the position equals the sum
of the venue's unique trade ids, 0 overfills, and the journal holds each trade id once.

``make test`` trades until 1,000 fills; ``TF_OMS_LONG=1`` until 10,000. (The property test of
OMS-6, on shuffled, duplicated and dropped fills, is ``test_oms_fill_delivery.py``.)
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections import Counter, deque
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tradeforge.backtest import spot_pair
from tradeforge.bus import LiveClock
from tradeforge.connectors import SimVenueClient
from tradeforge.connectors.sim_exchange.random_market import RandomMarket
from tradeforge.domain import (
    FillReport,
    InstrumentId,
    Money,
    OrderFilled,
    Timeframe,
    TradeTick,
    Venue,
)
from tradeforge.domain.money import KNOWN_CURRENCIES
from tradeforge.engine import TradingNode
from tradeforge.execution import OrderUpdate
from tradeforge.store import Database, SqlOrderJournal, sqlite_url
from tradeforge.strategy import Strategy

LONG = os.environ.get("TF_OMS_LONG") == "1"
pytestmark = pytest.mark.timeout(3600 if LONG else 120)
FILLS = 10_000 if LONG else 1_000
IID = InstrumentId("BTC/USDT", Venue("SIM"))
USDT = KNOWN_CURRENCIES["USDT"]
BTC = KNOWN_CURRENCIES["BTC"]


class Echo:
    """A venue client whose own-order stream repeats itself: every update twice, and the last
    ``replay`` updates again after every ``every`` (as a stream replays on reconnecting)."""

    def __init__(self, client: SimVenueClient, *, every: int = 50, replay: int = 100) -> None:
        self._client = client
        self._every = every
        self._replay = replay
        self.delivered: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def order_updates(self) -> AsyncIterator[OrderUpdate]:
        return self._echo(self._client.order_updates())  # subscribed now, read later

    async def _echo(self, updates: AsyncIterator[OrderUpdate]) -> AsyncIterator[OrderUpdate]:
        recent: deque[OrderUpdate] = deque(maxlen=self._replay)
        async for update in updates:
            recent.append(update)
            for item in (update, update):
                self._count(item)
                yield item
            self.delivered["from the venue"] += 1
            if self.delivered["from the venue"] % self._every == 0:  # a reconnect
                for item in list(recent):
                    self._count(item)
                    yield item

    def _count(self, item: OrderUpdate) -> None:
        self.delivered["updates"] += 1
        if isinstance(item, FillReport):
            self.delivered[item.trade_id.value] += 1


class Walker(Strategy):
    """On every trade, while fewer than ``target`` fills: a market order big enough to walk a
    few levels of the book, buying and selling in turn."""

    name = "walker"

    def on_start(self) -> None:
        self.fills: list[OrderFilled] = []
        self.target = FILLS
        self._n = 0
        self._waiting = False

    def on_trade(self, trade: TradeTick) -> None:
        if self._waiting or len(self.fills) >= self.target:
            return
        self._n += 1
        self._waiting = True
        qty = self.ctx.instrument(self.instrument_id).make_qty(Decimal("0.4"))
        if self._n % 2:
            self.buy(qty)
        else:
            self.sell(qty)

    def on_order(self, event: object) -> None:
        if getattr(event, "client_order_id", None) is not None and not self.ctx.open_orders():
            self._waiting = False

    def on_fill(self, fill: OrderFilled) -> None:
        self.fills.append(fill)


@pytest.fixture
def fast_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory for the journal on tmpfs when there is one (the test is about duplicates,
    not fsync: SQLite still runs with synchronous=FULL)."""
    shm = Path("/dev/shm")
    if not shm.is_dir():
        yield tmp_path
        return
    with tempfile.TemporaryDirectory(dir=shm) as where:
        yield Path(where)


def test_fills_delivered_twice_and_replayed_are_booked_once(fast_dir: Path) -> None:
    async def go() -> None:
        clock = LiveClock()
        inst = spot_pair(IID, price_precision=2, size_precision=5, fee=Decimal("0.001"))
        market = RandomMarket(inst, seed=11, start_price=Decimal(30000), events_per_second=2000)
        sim = SimVenueClient(
            instruments=[inst], balances=[Money("100000000", USDT), Money("1000", BTC)],
            clock=clock, feeds=[market], feed_interval_ns=5_000_000,
        )  # fmt: skip
        venue = Echo(sim)
        db = Database(sqlite_url(fast_dir / "journal.sqlite"))
        db.upgrade()
        journal = SqlOrderJournal(db)
        strategy = Walker(instruments=[IID])
        node = TradingNode(
            clock=clock, venues={IID.venue: venue}, strategies=[strategy], journal=journal,
            timeframe=Timeframe.from_str("1s"), base_currency=USDT,
        )  # fmt: skip
        await node.start()
        try:
            async with asyncio.timeout(300 if LONG else 60):
                while len(strategy.fills) < FILLS:
                    await asyncio.sleep(0.05)
        finally:
            await node.stop()
        venue_fills = await sim.fills(IID)
        trade_ids = [f.trade_id.value for f in venue_fills]
        assert len(trade_ids) == len(set(trade_ids)) >= FILLS
        repeated = [t for t in trade_ids if venue.delivered[t] >= 2]
        assert len(repeated) == len(trade_ids), "every fill reached the node at least twice"
        booked = journal.fills()
        assert sorted(f["trade_id"] for f in booked) == sorted(trade_ids), "each trade id once"
        assert sorted(f.trade_id.value for f in strategy.fills) == sorted(trade_ids)
        signed = sum(
            (f.last_qty.as_decimal() * (1 if f.side.value == "BUY" else -1) for f in venue_fills),
            Decimal(0),
        )
        position = node.position(strategy.id, IID)
        assert position is not None
        assert position.signed_qty == signed
        by_order: dict[str, Decimal] = {}
        for f in venue_fills:
            key = f.client_order_id.value
            by_order[key] = by_order.get(key, Decimal(0)) + f.last_qty.as_decimal()
        for order in node.oms:  # 0 overfills, and each order as filled as at the venue
            assert order.filled_qty <= order.quantity
            assert order.filled_qty.as_decimal() == by_order.get(order.client_order_id.value, 0)
        db.dispose()

    asyncio.run(go())

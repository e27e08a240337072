"""OMS-6's property test (RELIABILITY.md section 1, after the Nautilus proptest): the venue fills
an order in parts; its fills reach the trading node shuffled, repeated and some never, with or
without the order's report in between, and the node then reconciles (as after a reconnect).
Pass, for every example: the order's filled quantity is exactly the venue's, its notional and
average price are exact (Decimal, no tolerance), each trade id is journaled once, the position
is the venue's, and rebuilding the OMS from the journal gives the same order.

``make test`` runs 200 examples; ``TF_OMS_LONG=1`` runs 1,000.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.engine.journals import Journals
from tests.unit.engine.scripted_venue import ScriptedVenue

from tradeforge.backtest import spot_pair
from tradeforge.bus import LiveClock
from tradeforge.domain import (
    InstrumentId,
    OrderInitialized,
    OrderSide,
    OrderStatus,
    Timeframe,
    Venue,
)
from tradeforge.domain.money import KNOWN_CURRENCIES
from tradeforge.engine import TradingNode
from tradeforge.store import SqlOrderJournal
from tradeforge.strategy import Strategy
from tradeforge.trading import OrderManager

LONG = os.environ.get("TF_OMS_LONG") == "1"
EXAMPLES = 1_000 if LONG else 200
pytestmark = pytest.mark.timeout(3600 if LONG else 120)
IID = InstrumentId("BTC/USDT", Venue("SIM"))
INST = spot_pair(IID, price_precision=2, size_precision=3, fee=Decimal(0))
LOT, TICK = Decimal("0.001"), Decimal("0.01")


class Quiet(Strategy):
    """Trades only when the test tells it to."""

    name = "quiet"


@dataclass(frozen=True)
class Scenario:
    side: OrderSide
    lots: int  # the order's quantity, in lots
    parts: tuple[int, ...]  # the venue's fills, in lots
    prices: tuple[int, ...]  # and their prices, in ticks
    delivery: tuple[int, ...]  # which fills reach the node, in order (repeats, gaps)
    report_after: frozenset[int]  # positions in the delivery followed by the order's report


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    lots = draw(st.integers(1, 10_000))
    filled = draw(st.integers(1, lots))
    k = draw(st.integers(1, min(12, filled)))
    cuts: list[int] = []
    if k > 1:
        cuts = sorted(draw(st.sets(st.integers(1, filled - 1), min_size=k - 1, max_size=k - 1)))
    parts = tuple(b - a for a, b in zip([0, *cuts], [*cuts, filled], strict=True))
    prices = tuple(draw(st.lists(st.integers(1, 10**8), min_size=k, max_size=k)))
    delivery = tuple(draw(st.lists(st.integers(0, k - 1), max_size=3 * k)))
    reports = draw(st.sets(st.integers(0, len(delivery))) | st.just(set()))
    side = draw(st.sampled_from(OrderSide))
    return Scenario(side, lots, parts, prices, delivery, frozenset(reports))


@pytest.fixture(scope="module")
def journals() -> Iterator[Journals]:
    made = Journals()
    yield made
    made.close()


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_fills_shuffled_repeated_and_dropped_end_exactly_at_the_venue(
    journals: Journals, scenario: Scenario
) -> None:
    journal = journals.new()
    try:
        asyncio.run(check(journal, scenario))
    finally:
        journals.discard(journal)


async def check(journal: SqlOrderJournal, s: Scenario) -> None:
    venue = ScriptedVenue(INST)
    strategy = Quiet(instruments=[IID])
    node = TradingNode(
        clock=LiveClock(), venues={IID.venue: venue}, strategies=[strategy],
        journal=journal, timeframe=Timeframe.from_str("1s"),
        base_currency=KNOWN_CURRENCIES["USDT"], inflight_timeout=0, inflight_interval=0,
        reconcile_every_s=0,
    )  # fmt: skip
    await node.start()
    try:
        qty = INST.make_qty(s.lots * LOT)
        buy = s.side is OrderSide.BUY
        cid = (strategy.buy if buy else strategy.sell)(qty, price=INST.make_price(TICK))
        await venue.drained()
        fills = [venue.fill(cid, n * LOT, p * TICK) for n, p in zip(s.parts, s.prices, strict=True)]
        for position, index in enumerate(s.delivery):
            if position in s.report_after:
                venue.push(venue.report(venue.orders[cid]))
            venue.push(fills[index])
        await venue.drained()
        await node.reconcile()  # what the node does after a reconnect
        await venue.drained()
        order = node.oms.get(cid)
        assert order is not None
        filled = sum(n * LOT for n in s.parts)
        notional = sum(n * LOT * p * TICK for n, p in zip(s.parts, s.prices, strict=True))
        assert order.filled_qty.as_decimal() == filled
        assert order.filled_notional == notional
        assert order.avg_px == notional / filled
        done = filled == s.lots * LOT
        assert order.status is (OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED)
        booked = journal.fills()
        assert sorted(f["trade_id"] for f in booked) == sorted(f.trade_id.value for f in fills)
        position = node.position(strategy.id, IID)
        assert position is not None
        assert position.signed_qty == (filled if buy else -filled)
        replayed = OrderManager()
        for event in journal.events():
            if isinstance(event, OrderInitialized):
                replayed.create(event.spec, event.ts_event)
            else:
                replayed.apply(event)
        again = replayed.get(cid)
        assert again is not None
        assert (again.status, again.filled_qty, again.filled_notional) == (
            order.status, order.filled_qty, order.filled_notional,
        )  # fmt: skip
    finally:
        await node.stop()

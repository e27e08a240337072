"""R15 cancel-on-disconnect and the order stream's resubscription, on the simulated venue in
process behind a link the test cuts (``hand_market.Flaky``). The same over a real socket to
the exchange process, cut by a proxy, is ``tests/integration/node/test_cancel_on_disconnect.py``.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from pathlib import Path

import pytest
from tests.unit.engine.hand_market import IID, INSTRUMENT, Flaky, HandMarket, settle

from tradeforge.domain import ClientOrderId, DenyReason, OrderDenied, OrderStatus
from tradeforge.engine import TradingNode
from tradeforge.engine.venue_health import DisconnectPolicy

QTY = INSTRUMENT.make_qty(Decimal("0.01"))
POLICY = DisconnectPolicy(grace_s=0.3, heartbeat_every_s=0.05, heartbeat_timeout_s=0.1)


def bid(market: HandMarket, price: str) -> ClientOrderId:
    return market.strategy.buy(QTY, price=INSTRUMENT.make_price(Decimal(price)))


def status(node: TradingNode, cid: ClientOrderId) -> OrderStatus | None:
    order = node.oms.get(cid)
    return order.status if order is not None else None


async def until(condition: object, within: float = 3.0) -> float:
    """Wait until ``condition()`` holds; how long it took."""
    start = time.monotonic()
    async with asyncio.timeout(within):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.01)
    return time.monotonic() - start


def test_an_order_stream_that_breaks_is_subscribed_again_and_the_gap_reconciled(
    tmp_path: Path,
) -> None:
    async def go() -> None:
        market = HandMarket(tmp_path, flaky=True)
        link: Flaky = market.client
        node = market.new_node()
        await node.start()
        try:
            await market.trade("30000")
            cid = bid(market, "29000")
            await settle()
            order = node.oms.get(cid)
            assert order is not None
            assert order.status is OrderStatus.ACCEPTED
            link.break_streams()
            await market.trade("28990")  # fills while the node's stream is down
            assert order.status is OrderStatus.ACCEPTED  # the node did not see it
            await until(lambda: order.status is OrderStatus.FILLED)
            assert link.subscriptions == 2
            fills = node.journal.fills(cid.value)
            assert len(fills) == 1
            # The new subscription carries what happens next.
            second = bid(market, "28000")
            await settle()
            await market.trade("27990")
            await until(lambda: status(node, second) is OrderStatus.FILLED, 1.0)
        finally:
            await node.stop()

    asyncio.run(go())


def test_a_venue_down_past_the_grace_is_blocked_and_its_orders_cancelled_once_back(
    tmp_path: Path,
) -> None:
    async def go() -> None:
        market = HandMarket(tmp_path, flaky=True)
        link: Flaky = market.client
        node = market.new_node(disconnect=POLICY)
        topics: list[object] = []
        node.bus.subscribe("events.venues.>", lambda topic, message: topics.append(message))
        await node.start()
        try:
            await market.trade("30000")
            resting = [bid(market, "29000"), bid(market, "28900")]
            await settle()
            assert all(status(node, c) is OrderStatus.ACCEPTED for c in resting)

            link.down = True
            cut = time.monotonic()
            await until(lambda: node.monitor.events)
            blocked_after = time.monotonic() - cut
            assert POLICY.grace_s is not None
            assert POLICY.grace_s <= blocked_after <= POLICY.grace_s + 0.3
            (event,) = node.monitor.events
            assert (event.state, event.venue, event.open_orders) == ("disconnected", "SIM", 2)
            assert topics == [event]
            refused = bid(market, "28800")
            await settle()
            denial = next(e for e in market.strategy.events if isinstance(e, OrderDenied))
            assert denial.client_order_id == refused
            assert denial.reason is DenyReason.VENUE_DISCONNECTED
            assert len(await market.venue.open_orders(IID)) == 2  # the cancels could not pass

            link.down = False
            back = await until(lambda: len(node.monitor.events) == 2)
            assert back <= 0.5
            reconnected = node.monitor.events[1]
            assert (reconnected.state, reconnected.open_orders) == ("reconnected", 2)
            assert await market.venue.open_orders(IID) == []
            assert all(status(node, c) is OrderStatus.CANCELED for c in resting)
            taken = bid(market, "28700")
            await settle()
            assert status(node, taken) is OrderStatus.ACCEPTED
        finally:
            await node.stop()

    asyncio.run(go())


def test_a_blip_shorter_than_the_grace_changes_nothing(tmp_path: Path) -> None:
    async def go() -> None:
        market = HandMarket(tmp_path, flaky=True)
        link: Flaky = market.client
        node = market.new_node(disconnect=POLICY)
        await node.start()
        try:
            await market.trade("30000")
            cid = bid(market, "29000")
            await settle()
            link.down = True
            await asyncio.sleep(0.15)
            link.down = False
            await asyncio.sleep(0.4)
            assert node.monitor.events == []
            assert status(node, cid) is OrderStatus.ACCEPTED
            assert link.pings > 5
        finally:
            await node.stop()

    asyncio.run(go())


def test_off_by_default(tmp_path: Path) -> None:
    async def go() -> None:
        market = HandMarket(tmp_path, flaky=True)
        link: Flaky = market.client
        node = market.new_node()
        await node.start()
        try:
            link.down = True
            await asyncio.sleep(0.2)
            assert link.pings == 0
            assert node.monitor.blocked(IID.venue) is None
        finally:
            link.down = False
            await node.stop()

    asyncio.run(go())


def test_a_bad_policy_is_refused_with_its_key() -> None:
    with pytest.raises(ValueError, match=r"disconnect\.heartbeat_every_s must be > 0"):
        DisconnectPolicy(grace_s=1.0, heartbeat_every_s=0)

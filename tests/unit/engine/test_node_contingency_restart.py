"""Contingent groups the node links itself (a venue without native OCO) survive a crash: the
restarted node rebuilds them from the journal. Held children stay held while their entry is
open and go out when it fills; an OCO pair still cancels its other leg; an entry that filled,
or ended partly filled, while the node was down releases its exits after the reconciliation
(resized to the fill). The crash: the first node's tasks and timers end, nothing is cancelled
or saved; a second node starts on the same journal and the same simulated venue."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from tests.unit.engine.hand_market import IID, INSTRUMENT, HandMarket, settle

from tradeforge.domain import ClientOrderId, OrderList, OrderSide, OrderStatus
from tradeforge.engine import TradingNode
from tradeforge.trading.contingency import resized_id

QTY = Decimal("0.01")
NO_OCO = {"oco_orders": False}


def bracket(market: HandMarket) -> OrderList:
    return market.strategy.ctx.orders.bracket(
        IID, OrderSide.BUY, INSTRUMENT.make_qty(QTY),
        stop_loss=INSTRUMENT.make_price(Decimal(29000)),
        take_profit=INSTRUMENT.make_price(Decimal(31000)),
        entry_price=INSTRUMENT.make_price(Decimal(29900)),
    )  # fmt: skip


def status(node: TradingNode, cid: ClientOrderId) -> OrderStatus:
    order = node.oms.get(cid)
    assert order is not None, cid
    return order.status


async def crash(market: HandMarket) -> None:
    node = market.node
    assert node is not None
    for task in list(node._tasks):
        task.cancel()
    for name in market.clock.timer_names():
        market.clock.cancel_timer(name)
    await settle()


async def submitted(market: HandMarket, group: OrderList) -> None:
    await market.trade("30000")
    market.strategy.ctx.submit_list(group)
    await settle()  # the node sends what goes now


async def at_venue(market: HandMarket) -> set[ClientOrderId]:
    return {r.client_order_id for r in await market.venue.open_orders(IID)}


def test_held_exits_stay_held_across_a_restart_and_go_out_linked_when_the_entry_fills(
    tmp_path: Path,
) -> None:
    async def go() -> None:
        market = HandMarket(tmp_path, btc=str(QTY), limit=NO_OCO)  # each exit locks QTY
        await market.new_node().start()
        group = bracket(market)
        entry, stop_loss, take_profit = (s.client_order_id for s in group.orders)
        await submitted(market, group)
        assert await at_venue(market) == {entry}
        await crash(market)

        node = market.new_node()
        await node.start()
        try:
            # Held, not resolved as "never sent".
            assert status(node, stop_loss) is OrderStatus.INITIALIZED
            assert status(node, take_profit) is OrderStatus.INITIALIZED
            assert node.contingency.held(stop_loss)
            assert node.contingency.held(take_profit)
            assert status(node, entry) is OrderStatus.ACCEPTED
            await market.trade("29899")  # the entry fills
            assert status(node, entry) is OrderStatus.FILLED
            assert await at_venue(market) == {stop_loss, take_profit}
            assert not node.contingency.is_native(stop_loss)
            await market.trade("31000.01")  # through the take-profit
            await asyncio.sleep(0.05)
            assert status(node, take_profit) is OrderStatus.FILLED
            assert status(node, stop_loss) is OrderStatus.CANCELED  # the node's cancel
            assert await at_venue(market) == set()
            await market.trade("28000")
            assert status(node, stop_loss) is OrderStatus.CANCELED
        finally:
            await node.stop()

    asyncio.run(go())


def test_a_local_oco_pair_still_cancels_its_other_leg_after_a_restart(tmp_path: Path) -> None:
    async def go() -> None:
        market = HandMarket(tmp_path, btc=str(2 * QTY), limit=NO_OCO)
        await market.new_node().start()
        group = market.strategy.ctx.orders.oco(
            IID, OrderSide.SELL, INSTRUMENT.make_qty(QTY),
            limit_price=INSTRUMENT.make_price(Decimal(31000)),
            stop_trigger=INSTRUMENT.make_price(Decimal(29000)),
        )  # fmt: skip
        limit, stop = (s.client_order_id for s in group.orders)
        await submitted(market, group)
        assert await at_venue(market) == {limit, stop}
        await crash(market)

        node = market.new_node()
        await node.start()
        try:
            assert node.contingency.group_of(limit).keys() == {limit, stop}
            await market.trade("31000.01")  # the limit leg fills
            await asyncio.sleep(0.05)
            assert status(node, limit) is OrderStatus.FILLED
            assert status(node, stop) is OrderStatus.CANCELED
            await market.trade("28000")  # would have filled the stop: no double fill
            assert status(node, stop) is OrderStatus.CANCELED
            assert await market.btc() == (QTY, Decimal(0))
            assert [f.client_order_id for f in market.strategy.fills] == [limit]
        finally:
            await node.stop()

    asyncio.run(go())


def test_an_entry_filled_while_the_node_was_down_releases_its_exits_after_the_restart(
    tmp_path: Path,
) -> None:
    async def go() -> None:
        market = HandMarket(tmp_path, btc=str(QTY), limit=NO_OCO)
        await market.new_node().start()
        group = bracket(market)
        entry, stop_loss, take_profit = (s.client_order_id for s in group.orders)
        await submitted(market, group)
        await crash(market)
        await market.trade("29899")  # the entry fills at the venue; nobody listens
        assert await at_venue(market) == set()

        node = market.new_node()
        report = await node.start()
        try:
            await settle()
            assert entry.value in report.adopted
            assert status(node, entry) is OrderStatus.FILLED  # from the reconciliation
            assert await at_venue(market) == {stop_loss, take_profit}
            assert status(node, stop_loss) is OrderStatus.ACCEPTED
            await market.trade("28999")  # through the stop-loss
            await asyncio.sleep(0.05)
            assert status(node, stop_loss) is OrderStatus.FILLED
            assert status(node, take_profit) is OrderStatus.CANCELED
            position = node.position(market.strategy.id, IID)
            assert position is not None
            assert position.is_flat
        finally:
            await node.stop()

    asyncio.run(go())


def test_an_entry_partly_filled_then_cancelled_while_down_releases_exits_for_the_fill(
    tmp_path: Path,
) -> None:
    async def go() -> None:
        market = HandMarket(tmp_path, btc=str(QTY), limit=NO_OCO)
        await market.new_node().start()
        group = bracket(market)
        entry, stop_loss, take_profit = (s.client_order_id for s in group.orders)
        await submitted(market, group)
        await crash(market)
        await market.trade("29899", size="0.00437")  # part of the entry fills
        await market.venue.cancel(IID, entry)  # and the rest is cancelled at the venue
        assert await at_venue(market) == set()

        node = market.new_node()
        await node.start()
        try:
            await settle()
            parent = node.oms.get(entry)
            assert parent is not None
            assert parent.status is OrderStatus.CANCELED
            assert parent.filled_qty.as_decimal() == Decimal("0.00437")
            # The held exits are replaced by exits for the filled quantity.
            assert status(node, stop_loss) is OrderStatus.CANCELED
            assert status(node, take_profit) is OrderStatus.CANCELED
            resized = {resized_id(stop_loss), resized_id(take_profit)}
            assert await at_venue(market) == resized
            for cid in resized:
                order = node.oms.get(cid)
                assert order is not None
                assert order.quantity.as_decimal() == Decimal("0.00437")
            await market.trade("31000.01")  # through the take-profit
            await asyncio.sleep(0.05)
            assert status(node, resized_id(take_profit)) is OrderStatus.FILLED
            assert status(node, resized_id(stop_loss)) is OrderStatus.CANCELED
            position = node.position(market.strategy.id, IID)
            assert position is not None
            assert position.is_flat
        finally:
            await node.stop()

    asyncio.run(go())

"""A bracket's exits as one native OCO list (the venue links them, locking the base once), and
the node's own linking as the fallback for a venue without OCO. The venue is the simulated
venue in process (``SimVenueClient``), moved trade by trade (``hand_market``)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from tests.unit.engine.hand_market import IID, INSTRUMENT, HandMarket, settle

from tradeforge.domain import DenyReason, OrderDenied, OrderList, OrderSide, OrderStatus
from tradeforge.trading import RiskConfig, RiskEngine

QTY = Decimal("0.01")


def bracket(market: HandMarket) -> OrderList:
    return market.strategy.ctx.orders.bracket(
        IID, OrderSide.BUY, INSTRUMENT.make_qty(QTY),
        stop_loss=INSTRUMENT.make_price(Decimal(29000)),
        take_profit=INSTRUMENT.make_price(Decimal(31000)),
    )  # fmt: skip


def test_a_brackets_exits_go_as_one_native_oco_that_locks_the_base_once(tmp_path: Path) -> None:
    async def go() -> None:
        market = HandMarket(tmp_path)  # USDT only: two separate sells could not both lock
        node = market.new_node()
        await node.start()
        try:
            await market.trade("30000")
            group = bracket(market)
            market.strategy.ctx.submit_list(group)
            await settle()  # the node sends it
            await market.trade("30000")  # the market entry fills here
            entry, stop_loss, take_profit = (node.oms.get(s.client_order_id) for s in group.orders)
            assert entry is not None
            assert stop_loss is not None
            assert take_profit is not None
            assert entry.status is OrderStatus.FILLED
            assert stop_loss.status is OrderStatus.ACCEPTED
            assert take_profit.status is OrderStatus.ACCEPTED
            at_venue = {r.client_order_id for r in await market.venue.open_orders(IID)}
            assert at_venue == {stop_loss.client_order_id, take_profit.client_order_id}
            held, locked = await market.btc()
            assert held == locked == QTY  # one lock for the pair, not two
            assert node.contingency.is_native(stop_loss.client_order_id)

            await market.trade("31000.01")  # through the take-profit
            assert take_profit.status is OrderStatus.FILLED
            # The venue expired the stop-loss itself: the node asked for no cancel.
            assert stop_loss.status is OrderStatus.CANCELED
            report = await market.venue.order_status(IID, stop_loss.client_order_id)
            assert report is not None
            assert "OCO" in report.reason
            assert await market.venue.open_orders(IID) == []
            assert await market.btc() == (Decimal(0), Decimal(0))
            position = node.position(market.strategy.id, IID)
            assert position is not None
            assert position.is_flat
        finally:
            await node.stop()

    asyncio.run(go())


def test_an_oco_leg_refused_by_risk_refuses_the_pair(tmp_path: Path) -> None:
    async def go() -> None:
        market = HandMarket(tmp_path, btc="1")
        # The limit leg is 3.3 % above the last trade: outside a 2 % collar on the passive side.
        config = RiskConfig(collar_pct=Decimal(50), collar_passive_pct=Decimal(2))
        node = market.new_node(risk=RiskEngine(config, clock=market.clock, track=True))
        await node.start()
        try:
            await market.trade("30000")
            group = market.strategy.ctx.orders.oco(
                IID, OrderSide.SELL, INSTRUMENT.make_qty(QTY),
                limit_price=INSTRUMENT.make_price(Decimal(31000)),
                stop_trigger=INSTRUMENT.make_price(Decimal(29000)),
            )  # fmt: skip
            market.strategy.ctx.submit_list(group)
            await settle()  # the node sends it
            await market.trade("30000")
            denied = [e for e in market.strategy.events if isinstance(e, OrderDenied)]
            assert {e.client_order_id for e in denied} == {s.client_order_id for s in group.orders}
            assert {e.reason for e in denied} == {DenyReason.PRICE_COLLAR}
            assert any("sibling" in e.message for e in denied)
            assert await market.venue.open_orders(IID) == []
            assert await market.btc() == (Decimal(1), Decimal(0))
        finally:
            await node.stop()

    asyncio.run(go())


def test_without_native_oco_the_node_links_the_exits_itself(tmp_path: Path) -> None:
    async def go() -> None:
        # Two separate sells: each locks the base it would sell, so the account needs the
        # position's quantity once more (docs/trading-node.md, "Contingent orders").
        market = HandMarket(tmp_path, btc=str(QTY), limit={"oco_orders": False})
        node = market.new_node()
        await node.start()
        try:
            await market.trade("30000")
            group = bracket(market)
            market.strategy.ctx.submit_list(group)
            await settle()  # the node sends it
            await market.trade("30000")
            _, stop_loss, take_profit = (node.oms.get(s.client_order_id) for s in group.orders)
            assert stop_loss is not None
            assert take_profit is not None
            assert not node.contingency.is_native(stop_loss.client_order_id)
            assert await market.btc() == (2 * QTY, 2 * QTY)  # each exit locks it
            await market.trade("31000.01")
            await asyncio.sleep(0.05)
            assert take_profit.status is OrderStatus.FILLED
            assert stop_loss.status is OrderStatus.CANCELED  # the node's cancel
            report = await market.venue.order_status(IID, stop_loss.client_order_id)
            assert report is not None
            assert "OCO" not in report.reason
        finally:
            await node.stop()

    asyncio.run(go())


def test_without_native_oco_and_without_the_spare_base_the_second_exit_is_refused(
    tmp_path: Path,
) -> None:
    async def go() -> None:
        market = HandMarket(tmp_path, limit={"oco_orders": False})
        node = market.new_node()
        await node.start()
        try:
            await market.trade("30000")
            group = bracket(market)
            market.strategy.ctx.submit_list(group)
            await settle()  # the node sends it
            await market.trade("30000")
            exits = [node.oms.get(s.client_order_id) for s in group.orders[1:]]
            statuses = sorted(str(o.status) for o in exits if o is not None)
            assert statuses == ["CANCELED", "REJECTED"]  # refused, then its sibling cancelled
        finally:
            await node.stop()

    asyncio.run(go())

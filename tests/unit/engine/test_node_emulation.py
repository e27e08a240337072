"""Stop, stop-limit, trailing-stop and limit-if-touched orders held by the node for a venue
whose capabilities exclude them: the simulated venue in process behind ``Limited`` (its
capabilities say no stops, no trailing stops, no if-touched orders), moved trade by trade.
The venue must never see the held order before its trigger, and must see the released one as
a MARKET or LIMIT order under the same client order id."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from tests.unit.engine.hand_market import IID, INSTRUMENT, HandMarket, settle

from tradeforge.domain import (
    ClientOrderId,
    OrderSide,
    OrderSpec,
    OrderStatus,
    OrderType,
    TrailingOffsetType,
)
from tradeforge.engine import TradingNode

NO_STOPS = {"stop_orders": False, "trailing_stop_orders": False, "if_touched_orders": False}
QTY = INSTRUMENT.make_qty(Decimal("0.01"))


def px(value: str) -> object:
    return INSTRUMENT.make_price(Decimal(value))


def send(market: HandMarket, spec: OrderSpec) -> ClientOrderId:
    market.strategy.ctx.submit(spec)
    return spec.client_order_id


def status(node: TradingNode, cid: ClientOrderId) -> OrderStatus | None:
    order = node.oms.get(cid)
    return order.status if order is not None else None


async def at_venue(market: HandMarket, cid: ClientOrderId) -> OrderType | None:
    report = await market.venue.order_status(IID, cid)
    return report.order_type if report is not None else None


def test_a_stop_market_is_held_until_its_trigger_then_sent_as_a_market_order(
    tmp_path: Path,
) -> None:
    async def go() -> None:
        market = HandMarket(tmp_path, btc="1", limit=NO_STOPS)
        node = market.new_node()
        await node.start()
        try:
            await market.trade("30000")
            orders = market.strategy.ctx.orders
            cid = send(market, orders.stop_market(IID, OrderSide.SELL, QTY, px("29500")))  # type: ignore[arg-type]
            await settle()
            assert node.is_emulated(cid)
            assert status(node, cid) is OrderStatus.INITIALIZED
            assert await at_venue(market, cid) is None
            assert any(
                e.fields.get("emulated") == "True" for e in node.logs.lines(market.strategy.id)
            )
            await market.trade("29600")  # above the trigger: nothing
            assert await at_venue(market, cid) is None
            await market.trade("29500")  # at the trigger: released
            assert not node.is_emulated(cid)
            assert await at_venue(market, cid) is OrderType.MARKET
            await market.trade("29480")  # the market order fills at the next trade
            assert status(node, cid) is OrderStatus.FILLED
            (fill,) = market.strategy.fills
            assert fill.last_px.as_decimal() == Decimal(29480)
        finally:
            await node.stop()

    asyncio.run(go())


def test_stop_limit_and_limit_if_touched_trigger_on_their_own_sides_as_limit_orders(
    tmp_path: Path,
) -> None:
    async def go() -> None:
        market = HandMarket(tmp_path, limit=NO_STOPS)
        node = market.new_node()
        await node.start()
        try:
            await market.trade("30000")
            orders = market.strategy.ctx.orders
            # A buy stop triggers on the way up, a buy if-touched on the way down.
            stop = send(
                market, orders.stop_limit(IID, OrderSide.BUY, QTY, px("30600"), px("30500"))
            )  # type: ignore[arg-type]
            touch = send(
                market, orders.limit_if_touched(IID, OrderSide.BUY, QTY, px("29400"), px("29500"))
            )  # type: ignore[arg-type]
            await settle()
            assert node.emulator.armed == [stop, touch]
            await market.trade("30400")
            await market.trade("29600")
            assert node.emulator.armed == [stop, touch]
            await market.trade("29500")
            assert node.emulator.armed == [stop]
            assert await at_venue(market, touch) is OrderType.LIMIT
            report = await market.venue.order_status(IID, touch)
            assert report is not None
            assert report.price == px("29400")
            assert status(node, touch) is OrderStatus.ACCEPTED
            await market.trade("30500")
            assert node.emulator.armed == []
            assert await at_venue(market, stop) is OrderType.LIMIT
        finally:
            await node.stop()

    asyncio.run(go())


def test_a_trailing_stop_follows_the_best_price_and_survives_a_restart(tmp_path: Path) -> None:
    async def go() -> None:
        market = HandMarket(tmp_path, btc="1", limit=NO_STOPS)
        node = market.new_node(cancel_on_stop=False)
        await node.start()
        orders = market.strategy.ctx.orders
        spec = orders.trailing_stop(
            IID, OrderSide.SELL, QTY, Decimal(1), TrailingOffsetType.PERCENT
        )
        cid = send(market, spec)
        await settle()
        await market.trade("30000")
        await market.trade("30500")  # the best so far: the stop trails 1 % under it
        assert node.emulator.stop_level(cid) == Decimal("30195.00")
        await market.trade("30300")
        await market.trade("30200")
        assert node.is_emulated(cid)
        await node.stop()  # no cancel on stop: the order stays with the node's journal

        market = HandMarket(tmp_path, btc="1", limit=NO_STOPS)  # same journal, fresh venue
        again = market.new_node()
        await again.start()
        try:
            assert again.is_emulated(cid)  # armed again from the journal, not cancelled
            assert again.emulator.stop_level(cid) == Decimal("30195.00")
            await market.trade("30196")
            assert again.is_emulated(cid)
            await market.trade("30190")
            assert await at_venue(market, cid) is OrderType.MARKET
            await market.trade("30180")
            assert status(again, cid) is OrderStatus.FILLED
        finally:
            await again.stop()

    asyncio.run(go())


def test_an_emulated_order_is_cancelled_in_the_node_and_never_reaches_the_venue(
    tmp_path: Path,
) -> None:
    async def go() -> None:
        market = HandMarket(tmp_path, btc="1", limit=NO_STOPS)
        node = market.new_node()
        await node.start()
        try:
            await market.trade("30000")
            orders = market.strategy.ctx.orders
            cid = send(market, orders.stop_market(IID, OrderSide.SELL, QTY, px("29500")))  # type: ignore[arg-type]
            await settle()
            market.strategy.ctx.cancel(cid)
            await settle()
            assert status(node, cid) is OrderStatus.CANCELED
            await market.trade("29000")
            assert await at_venue(market, cid) is None
            assert market.strategy.fills == []
        finally:
            await node.stop()

    asyncio.run(go())


def test_a_venue_with_stops_gets_them_directly(tmp_path: Path) -> None:
    async def go() -> None:
        market = HandMarket(tmp_path, btc="1")
        node = market.new_node()
        await node.start()
        try:
            await market.trade("30000")
            orders = market.strategy.ctx.orders
            cid = send(market, orders.stop_market(IID, OrderSide.SELL, QTY, px("29500")))  # type: ignore[arg-type]
            await settle()
            assert not node.is_emulated(cid)
            assert await at_venue(market, cid) is OrderType.STOP_MARKET
        finally:
            await node.stop()

    asyncio.run(go())

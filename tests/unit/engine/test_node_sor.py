"""Smart order routing in a paper node: one parent split across two simulated venues' books
(kept by the node), one limit child per venue through the normal order path, the decision
logged with the books it was made on."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from tests.unit.engine.algo_market import AlgoMarket, book, settle
from tests.unit.engine.journals import Journals

from tradeforge.domain import InvalidValue, OrderSide, OrderType, Price, Quantity, TimeInForce
from tradeforge.execution import AlgoOrder, ExecutionState, RouteParams


def test_one_order_split_across_two_venues_by_price_net_of_fees() -> None:
    async def go() -> None:
        journals = Journals()
        market = AlgoMarket(journals.new(), venues=("SIMA", "SIMB"), fees=("0.001", "0.001"))
        a, b = market.instruments
        node = market.new_node()
        # A: 0.5 at 30000 then dear; B: 1 at 30010. Buying 1.2: A's 0.5, then B's 0.7.
        market.set_book(book(a, [("29990", "5")], [("30000", "0.5"), ("30100", "10")]))
        market.set_book(book(b, [("29995", "5")], [("30010", "1"), ("30200", "10")]))
        await node.start()
        await settle()
        ctx = market.strategy.ctx
        parent = ctx.submit_algo(
            AlgoOrder(instrument_id=a.id, side=OrderSide.BUY, quantity=Quantity("1.20000"),
                      params=RouteParams())
        )  # fmt: skip
        await settle()
        children = market.strategy.children(parent)
        specs = {node.oms.get(c.client_order_id).instrument_id: node.oms.get(c.client_order_id)  # type: ignore[union-attr]
                 for c in children}  # fmt: skip
        assert set(specs) == {a.id, b.id}
        for iid, qty, price in ((a.id, "0.5", "30000"), (b.id, "0.7", "30010")):
            order = specs[iid]
            assert order.quantity.as_decimal() == Decimal(qty)
            assert order.order_type is OrderType.LIMIT
            assert order.time_in_force is TimeInForce.IOC
            assert order.price == Price(Decimal(price))
        # Each child went to its own venue, and filled there.
        for inst in (a, b):
            fills = await market.venues[inst.id.venue].fills(inst.id)
            assert [f.client_order_id for f in fills] == [specs[inst.id].client_order_id]
        report = ctx.algo(parent)
        assert report is not None
        assert report.state is ExecutionState.DONE
        assert report.filled == Quantity("1.20000")
        assert report.notional == Decimal("0.5") * 30000 + Decimal("0.7") * 30010
        # The decision, with both books it was made on, is kept and logged.
        decision = node.algos.decision(parent)
        assert decision is not None
        assert [str(v.instrument_id) for v in decision.venues] == [str(a.id), str(b.id)]
        assert decision.venues[1].top[0].price == Price(Decimal("30010.00"))
        logged = [line for line in node.logs.lines(market.strategy.id) if "routed" in line.message]
        assert len(logged) == 1
        assert logged[0].fields["shares"] == "SIMA 0.50000@30000.00, SIMB 0.70000@30010.00"
        assert logged[0].fields["books"] == (
            "SIMA#1 0.50000@30000.00 10.00000@30100.00; SIMB#1 1.00000@30010.00 10.00000@30200.00"
        )
        await node.stop()
        journals.close()

    asyncio.run(go())


def test_routing_without_books_is_refused_clearly() -> None:
    async def go() -> None:
        journals = Journals()
        market = AlgoMarket(journals.new(), venues=("SIMA", "SIMB"))
        node = market.new_node()
        node.books = None  # the node keeps no books
        await node.start()
        await settle()
        with pytest.raises(InvalidValue, match="no book to route"):
            market.strategy.ctx.submit_algo(
                AlgoOrder(instrument_id=market.iid, side=OrderSide.SELL,
                          quantity=Quantity("1.00000"), params=RouteParams())
            )  # fmt: skip
        await node.stop()
        journals.close()

    asyncio.run(go())

"""Parent orders in a paper node (``engine.algo_runner``): TWAP, VWAP, POV and iceberg run on
the node's replay clock, every child through risk, the journal, the OMS and the simulated
venue; schedule times, exact quantities, the report's figures against the fills, cancel, the
kill switch, risk refusals and a restart."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.engine.algo_market import SECOND, T0, AlgoMarket, book, settle
from tests.unit.engine.journals import Journals

from tradeforge.domain import (
    ClientOrderId,
    InvalidValue,
    OrderSide,
    OrderStatus,
    Quantity,
)
from tradeforge.execution import (
    AlgoOrder,
    AlgoParams,
    ChildStyle,
    ExecutionReport,
    ExecutionState,
    IcebergParams,
    PovParams,
    TwapParams,
    VolumeProfile,
    VwapParams,
)
from tradeforge.trading import GLOBAL, RiskConfig, RiskEngine

HOUR = 3_600 * SECOND


@pytest.fixture(scope="module")
def journals() -> Iterator[Journals]:
    made = Journals()
    yield made
    made.close()


@pytest.fixture
def market(journals: Journals) -> AlgoMarket:
    return AlgoMarket(journals.new())


async def running(market: AlgoMarket, **options: object) -> AlgoMarket:
    node = market.new_node(**options)
    market.set_book(book(market.inst, [("29990", "100")], [("30010", "100")]))
    await node.start()
    await settle()
    return market


def submit(market: AlgoMarket, qty: str, params: AlgoParams, **fields: object) -> ClientOrderId:
    order = AlgoOrder(
        instrument_id=market.iid, side=OrderSide.BUY,
        quantity=market.inst.make_qty(Decimal(qty)), params=params, **fields,  # type: ignore[arg-type]
    )  # fmt: skip
    return market.strategy.ctx.submit_algo(order)


def check_report(market: AlgoMarket, parent: ClientOrderId) -> ExecutionReport:
    """The report's figures recomputed from the fills the strategy saw."""
    report = market.strategy.ctx.algo(parent)
    assert report is not None
    fills = market.strategy.child_fills(parent)
    filled = sum((f.last_qty.as_decimal() for f in fills), Decimal(0))
    notional = sum((f.last_qty.as_decimal() * f.last_px.as_decimal() for f in fills), Decimal(0))
    assert report.filled.as_decimal() == filled
    assert report.notional == notional
    assert report.remaining.as_decimal() == report.quantity.as_decimal() - filled
    if filled:
        avg = Fraction(notional) / Fraction(filled)
        assert report.avg_price is not None
        assert close(Fraction(report.avg_price), avg)
        arrival = report.arrival_price
        assert arrival is not None
        expected = (avg - Fraction(arrival.as_decimal())) / Fraction(arrival.as_decimal()) * 10_000
        assert report.slippage_bps is not None
        assert close(Fraction(report.slippage_bps), expected)
    return report


def close(got: Fraction, exact: Fraction) -> bool:
    """Equal to 55 significant digits (the report divides at 60)."""
    return abs(got - exact) <= abs(exact) / 10**55


def test_twap_slices_on_the_clock_sum_exactly_and_report_the_fills(market: AlgoMarket) -> None:
    async def go() -> None:
        await running(market)
        node = market.node
        assert node is not None
        seen: list[object] = []
        node.bus.subscribe("events.algos.recorder-1", lambda topic, msg: seen.append(msg))
        parent = submit(
            market, "1.00003", TwapParams(start_ns=T0, end_ns=T0 + 60 * SECOND, slices=6)
        )
        await market.advance(90 * SECOND)
        children = market.strategy.children(parent)
        # One child per slice, sent at each slice start (the replay clock is exact).
        assert [c.ts_event - T0 for c in children] == [k * 10 * SECOND for k in range(6)]
        sizes = [node.oms.get(c.client_order_id).quantity for c in children]  # type: ignore[union-attr]
        assert sizes == [Quantity("0.16667")] * 5 + [Quantity("0.16668")]  # remainder last
        assert sum(q.as_decimal() for q in sizes) == Decimal("1.00003")
        report = check_report(market, parent)
        assert report.state is ExecutionState.DONE
        assert report.filled == Quantity("1.00003")
        assert report.arrival_price is not None
        assert report.arrival_price.as_decimal() == Decimal(30000)  # the book's mid at submit
        assert report.avg_price == Decimal(30010)
        assert report.slippage_bps is not None
        assert close(Fraction(report.slippage_bps), Fraction(10, 3))
        # Every fill and the end reached the strategy and the bus.
        assert market.strategy.reports[-1].state is ExecutionState.DONE
        await node.stop()
        assert any(isinstance(m, ExecutionReport) and m.state is ExecutionState.DONE
                   for m in seen)  # fmt: skip
        # The journal holds every child as an order of the strategy.
        journaled = {f["client_order_id"] for f in market.journal.fills()}
        assert journaled == {c.client_order_id.value for c in children}

    asyncio.run(go())


def test_vwap_slices_follow_the_volume_profile(market: AlgoMarket) -> None:
    async def go() -> None:
        await running(market)
        # T0 is 22:13:20 UTC: hour 22 expects 1, hour 23 expects 3, the others nothing.
        weights = [Decimal(0)] * 24
        weights[22], weights[23] = Decimal(1), Decimal(3)
        profile = VolumeProfile(bucket_ns=HOUR, weights=tuple(weights), days=20)
        parent = submit(
            market, "1.36", VwapParams(start_ns=T0, end_ns=T0 + 2 * HOUR, slices=2, profile=profile)
        )
        await market.advance(3 * HOUR)
        node = market.node
        assert node is not None
        children = market.strategy.children(parent)
        assert [c.ts_event - T0 for c in children] == [0, HOUR]
        # Slice 1 covers 2,800 s of hour 22 and 800 s of hour 23 (1*2800 + 3*800 = 5200),
        # slice 2 2,800 s of hour 23 (8400): 1.36 * 5200 / 13600 = 0.52, the rest 0.84.
        sizes = [node.oms.get(c.client_order_id).quantity for c in children]  # type: ignore[union-attr]
        assert sizes == [Quantity("0.52000"), Quantity("0.84000")]
        assert check_report(market, parent).state is ExecutionState.DONE
        await node.stop()

    asyncio.run(go())


def test_pov_follows_the_printed_volume(market: AlgoMarket) -> None:
    async def go() -> None:
        await running(market)
        parent = submit(market, "1", PovParams(rate=Decimal("0.25")))
        assert market.strategy.children(parent) == []  # no volume yet, nothing sent
        volume = Decimal(0)
        for k in range(6):
            await market.trade("30005", "0.4")
            # The simulated venue fills a market child on its next book update.
            market.set_book(book(market.inst, [("29990", "100")], [("30010", "100")], k + 2))
            await settle()
            volume += Decimal("0.4")
            report = check_report(market, parent)
            # Never ahead of its share of the volume (each shortfall is above one lot).
            assert report.filled.as_decimal() == Decimal("0.25") * volume
        await market.trade("30005", "2")  # 0.25 * 4.4 > 1: only what is left
        market.set_book(book(market.inst, [("29990", "100")], [("30010", "100")], 9))
        await settle()
        report = check_report(market, parent)
        assert report.state is ExecutionState.DONE
        node = market.node
        assert node is not None
        sizes = [node.oms.get(c.client_order_id).quantity.as_decimal()  # type: ignore[union-attr]
                 for c in market.strategy.children(parent)]  # fmt: skip
        assert sizes == [Decimal("0.1")] * 6 + [Decimal("0.4")]
        await node.stop()

    asyncio.run(go())


def test_iceberg_shows_one_piece_at_a_time(market: AlgoMarket) -> None:
    async def go() -> None:
        await running(market)
        node = market.node
        assert node is not None
        price = market.inst.make_price(Decimal(30000))
        parent = submit(market, "1", IcebergParams(display_qty=Quantity("0.3")), limit_price=price)
        for _ in range(4):
            open_children = [
                o for o in node.oms.open_orders(market.strategy.id) if o.client_order_id.value
                .startswith(parent.value)
            ]  # fmt: skip
            assert len(open_children) == 1  # one piece shown at a time
            assert open_children[0].price == price
            await market.advance(SECOND)
            await market.trade("29999", "5")  # trades through the piece: it fills
        children = market.strategy.children(parent)
        sizes = [node.oms.get(c.client_order_id).quantity for c in children]  # type: ignore[union-attr]
        assert sizes == [Quantity("0.3")] * 3 + [Quantity("0.1")]
        report = check_report(market, parent)
        assert report.state is ExecutionState.DONE
        assert report.filled == Quantity("1")
        await node.stop()

    asyncio.run(go())


def test_cancel_midway_cancels_the_open_child_and_stops_the_schedule(market: AlgoMarket) -> None:
    async def go() -> None:
        await running(market)
        node = market.node
        assert node is not None
        # Resting 50 ticks under the touch: nothing fills.
        params = TwapParams(start_ns=T0, end_ns=T0 + 60 * SECOND, slices=6,
                            style=ChildStyle.LIMIT, offset_ticks=-50)  # fmt: skip
        parent = submit(market, "0.6", params)
        await market.advance(15 * SECOND)
        children = market.strategy.children(parent)
        assert len(children) == 2  # slice 2's child replaced slice 1's
        assert market.strategy.ctx.cancel_algo(parent)
        await settle()
        report = check_report(market, parent)
        assert report.state is ExecutionState.CANCELED
        assert report.filled.is_zero()
        assert all(node.oms.get(c.client_order_id).status is OrderStatus.CANCELED  # type: ignore[union-attr]
                   for c in children)  # fmt: skip
        assert await market.venues[market.iid.venue].open_orders() == []
        await market.advance(60 * SECOND)
        assert len(market.strategy.children(parent)) == 2  # nothing after the cancel
        assert not market.strategy.ctx.cancel_algo(parent)  # not running any more
        await node.stop()

    asyncio.run(go())


def test_kill_switch_stops_the_parent(market: AlgoMarket) -> None:
    async def go() -> None:
        await running(market)
        node = market.node
        assert node is not None
        parent = submit(market, "0.6", TwapParams(start_ns=T0, end_ns=T0 + 60 * SECOND, slices=6))
        await market.advance(15 * SECOND)
        assert len(market.strategy.children(parent)) == 2
        await node.kill(GLOBAL, by="operator", reason="test")
        await settle()
        report = check_report(market, parent)
        assert report.state is ExecutionState.CANCELED
        assert "kill switch" in report.reason
        assert report.filled == Quantity("0.2")
        await market.advance(60 * SECOND)
        assert len(market.strategy.children(parent)) == 2
        assert market.journal.denials() == []  # stopped, not refused child by child
        await node.stop()

    asyncio.run(go())


def test_children_refused_by_risk_fail_the_parent(market: AlgoMarket) -> None:
    async def go() -> None:
        await running(market, risk=RiskEngine(RiskConfig(max_order_quantity=Decimal("0.05"))))
        node = market.node
        assert node is not None
        params = TwapParams(start_ns=T0, end_ns=T0 + 40 * SECOND, slices=4)
        parent = submit(market, "0.4", params)
        await market.advance(60 * SECOND)
        report = check_report(market, parent)
        assert report.state is ExecutionState.FAILED
        assert len(market.journal.denials()) == 3  # each child went through pre-trade risk
        await node.stop()

    asyncio.run(go())


def test_a_parent_running_at_a_crash_is_stopped_after_the_restart(market: AlgoMarket) -> None:
    async def go() -> None:
        await running(market)
        first = market.node
        assert first is not None
        params = TwapParams(start_ns=T0, end_ns=T0 + 60 * SECOND, slices=3,
                            style=ChildStyle.LIMIT, offset_ticks=-50)  # fmt: skip
        parent = submit(market, "0.3", params)
        await settle()
        (child,) = market.strategy.children(parent)
        # The crash: the node's tasks and timers end, nothing is cancelled or saved.
        for task in list(first._tasks):
            task.cancel()
        for name in market.clock.timer_names():
            market.clock.cancel_timer(name)
        await settle()
        venue = market.venues[market.iid.venue]
        assert [r.client_order_id for r in await venue.open_orders()] == [child.client_order_id]
        second = market.new_node()
        await second.start()
        await settle()
        assert await venue.open_orders() == []  # the child was settled, then cancelled
        report = market.strategy.ctx.algo(parent)
        assert report is not None
        assert report.state is ExecutionState.CANCELED
        assert "restart" in report.reason
        assert report.children == 1
        assert second.algos.running == []
        await market.advance(60 * SECOND)  # not resumed: no new child
        assert second.oms.get(ClientOrderId(f"{parent.value}-c2")) is None
        await second.stop()

    asyncio.run(go())


def test_a_parent_id_is_used_once(market: AlgoMarket) -> None:
    async def go() -> None:
        await running(market)
        params = TwapParams(start_ns=T0, end_ns=T0 + 60 * SECOND, slices=6)
        submit(market, "0.1", params, client_order_id=ClientOrderId("P-1"))
        with pytest.raises(InvalidValue, match="already used"):
            submit(market, "0.1", params, client_order_id=ClientOrderId("P-1"))
        assert market.node is not None
        await market.node.stop()

    asyncio.run(go())


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    precision=st.integers(0, 6),
    lots=st.integers(1, 10**6),
    slices=st.integers(1, 12),
)
def test_children_sum_exactly_to_the_parent_end_to_end(
    journals: Journals, precision: int, lots: int, slices: int
) -> None:
    async def go() -> None:
        market = AlgoMarket(journals.new(), size_precision=precision, usdt="1000000000000")
        node = market.new_node()
        depth = "10000000"
        market.set_book(book(market.inst, [("29990", depth)], [("30010", depth)]))
        await node.start()
        await settle()
        qty = Quantity(Decimal(lots).scaleb(-precision))
        parent = submit(market, str(qty), TwapParams(start_ns=T0, end_ns=T0 + 60 * SECOND,
                                                      slices=slices))  # fmt: skip
        await market.advance(70 * SECOND)
        children = market.strategy.children(parent)
        sizes = [node.oms.get(c.client_order_id).quantity.as_decimal()  # type: ignore[union-attr]
                 for c in children]  # fmt: skip
        assert sum(sizes, Decimal(0)) == qty.as_decimal()
        lot = market.inst.lot_size.as_decimal()
        assert all(size > 0 and size % lot == 0 for size in sizes)
        report = check_report(market, parent)
        assert report.state is ExecutionState.DONE
        assert report.filled.as_decimal() == qty.as_decimal()
        await node.stop()
        journals.discard(market.journal)

    asyncio.run(go())

"""Limit orders: a resting limit fills at its price as maker when the bar reaches it, at the open
when the market gaps through it, and never at a worse price than its limit; a limit that is
marketable when it arrives takes liquidity at the next open."""

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.kit.stubs import BTCUSDT
from tests.kit.venue import (
    MAKER,
    TAKER,
    Accepted,
    D,
    Filled,
    make_engine,
    order_factory,
)

from tradeforge.backtest import FillModel, SlippageModel
from tradeforge.domain import OrderSide, Price, Quantity

BUY, SELL = OrderSide.BUY, OrderSide.SELL
ONE = Quantity("1.000")


def test_a_buy_limit_fills_at_its_price_as_maker_when_the_low_reaches_it() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("97.50")), tape.now)

    tape.bar("100.00", "100.50", "96.00", "98.00")

    assert listener.calls == [Accepted("O-1"), Filled("O-1", D("1.000"), D("97.50"), MAKER)]
    assert not engine.has_orders


def test_a_sell_limit_fills_at_its_price_as_maker_when_the_high_reaches_it() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.limit(BTCUSDT, SELL, ONE, Price("102.25")), tape.now)

    tape.bar("100.00", "103.00", "99.00", "101.00")

    assert listener.fills() == [Filled("O-1", D("1.000"), D("102.25"), MAKER)]


def test_a_low_that_only_touches_the_limit_fills_it() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("97.50")), tape.now)

    tape.bar("100.00", "100.50", "97.50", "98.00")

    assert listener.fills() == [Filled("O-1", D("1.000"), D("97.50"), MAKER)]


def test_a_bar_that_stops_one_tick_short_leaves_the_limit_working() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("97.50")), tape.now)

    tape.bar("100.00", "100.50", "97.51", "98.00")

    assert listener.fills() == []
    assert engine.has_orders


def test_a_gap_through_a_resting_buy_limit_fills_at_the_open() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("97.50")), tape.now)

    gap = tape.bar("96.00", "99.00", "95.00", "98.00")

    assert listener.fills() == [Filled("O-1", D("1.000"), D("96.00"), MAKER)]
    assert listener.fills()[0].ts == gap.ts_open


def test_a_gap_through_a_resting_sell_limit_fills_at_the_open() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.limit(BTCUSDT, SELL, ONE, Price("102.00")), tape.now)

    tape.bar("104.00", "105.00", "103.00", "104.50")

    assert listener.fills() == [Filled("O-1", D("1.000"), D("104.00"), MAKER)]


def test_a_marketable_limit_fills_at_the_next_open_as_taker_when_the_open_is_good_enough() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("101.00")), tape.now)
    waiting = list(listener.calls)

    nxt = tape.bar("100.50", "102.00", "100.00", "101.50")

    assert waiting == [Accepted("O-1")]
    assert listener.fills() == [Filled("O-1", D("1.000"), D("100.50"), TAKER)]
    assert listener.fills()[0].ts == nxt.ts_open


def test_a_marketable_limit_fills_at_the_open_when_the_open_equals_the_limit() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.limit(BTCUSDT, SELL, ONE, Price("99.00")), tape.now)

    tape.bar("99.00", "99.50", "98.00", "98.50")

    assert listener.fills() == [Filled("O-1", D("1.000"), D("99.00"), TAKER)]


def test_a_marketable_limit_rests_when_the_open_is_worse_and_then_fills_as_maker() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("101.00")), tape.now)

    # opens above the limit, then falls back through it on O->H->L->C
    tape.bar("102.00", "103.00", "100.00", "100.50")

    assert listener.fills() == [Filled("O-1", D("1.000"), D("101.00"), MAKER)]


def test_a_marketable_limit_that_the_next_bar_never_reaches_keeps_resting() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("101.00")), tape.now)

    tape.bar("102.00", "103.00", "101.01", "102.50")
    tape.bar("101.00", "101.50", "100.00", "100.50")  # a later open at the limit

    assert listener.fills() == [Filled("O-1", D("1.000"), D("101.00"), MAKER)]


def test_with_fill_at_close_a_marketable_limit_takes_the_last_close_at_once() -> None:
    engine, listener, tape = make_engine(fill_model=FillModel(fill_at="close"))
    orders = order_factory()
    tape.flat("100.00")

    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("101.00")), tape.now)

    assert listener.calls == [Accepted("O-1"), Filled("O-1", D("1.000"), D("100.00"), TAKER)]


def test_with_fill_at_close_a_limit_that_is_not_marketable_rests() -> None:
    engine, listener, tape = make_engine(fill_model=FillModel(fill_at="close"))
    orders = order_factory()
    tape.flat("100.00")

    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("99.99")), tape.now)
    tape.bar("100.00", "100.00", "99.00", "99.50")

    assert listener.calls == [Accepted("O-1"), Filled("O-1", D("1.000"), D("99.99"), MAKER)]


def test_a_limit_submitted_before_any_data_fills_at_a_better_first_open() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()

    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("101.00")), tape.now)
    tape.bar("100.00", "100.00", "99.00", "99.50")

    assert listener.fills() == [Filled("O-1", D("1.000"), D("100.00"), MAKER)]


def test_a_limit_fills_partially_up_to_the_bar_volume_share_and_finishes_later() -> None:
    engine, listener, tape = make_engine(fill_model=FillModel(max_volume_fraction=D("0.1")))
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.limit(BTCUSDT, BUY, Quantity("1.500"), Price("99.00")), tape.now)

    tape.bar("100.00", "100.00", "98.00", "99.00", volume="10")  # takes 1.000
    tape.bar("99.00", "99.00", "98.50", "98.50", volume="10")  # opens at the limit

    assert listener.fills() == [
        Filled("O-1", D("1.000"), D("99.00"), MAKER),
        Filled("O-1", D("0.500"), D("99.00"), MAKER),
    ]
    assert not engine.has_orders


def test_slippage_never_pushes_a_limit_fill_past_its_limit() -> None:
    slipping = FillModel(slippage=SlippageModel(fixed_ticks=1))
    engine, listener, tape = make_engine(fill_model=slipping)
    orders = order_factory()
    tape.flat("99.00")
    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("100.00")), tape.now)

    tape.bar("100.00", "101.00", "99.00", "100.00")

    # expected: 100.00 (the open, which is the limit); actual: 100.01
    assert [fill.price for fill in listener.fills()] == [D("100.00")]


# property: a limit order never fills at a worse price than its limit


@dataclass(frozen=True)
class _Bar:
    o: str
    h: str
    low: str
    c: str
    volume: str


@dataclass(frozen=True)
class _Order:
    side: OrderSide
    price: str
    lots: int


def _px(ticks: int) -> str:
    return str(D(ticks).scaleb(-2))


@st.composite
def _bars(draw: st.DrawFn) -> _Bar:
    points = draw(st.lists(st.integers(9_500, 10_500), min_size=4, max_size=4))
    volume = draw(st.integers(1, 50))
    return _Bar(_px(points[0]), _px(max(points)), _px(min(points)), _px(points[3]), str(volume))


_orders = st.builds(
    _Order,
    side=st.sampled_from([BUY, SELL]),
    price=st.integers(9_400, 10_600).map(_px),
    lots=st.integers(1, 3_000),
)


@settings(max_examples=150, deadline=None)
@given(
    steps=st.lists(st.tuples(st.lists(_orders, max_size=3), _bars()), min_size=1, max_size=8),
    fill_at=st.sampled_from(["open", "close"]),
    fraction=st.sampled_from([None, D("0.1"), D("0.5")]),
)
def test_a_limit_order_never_fills_at_a_worse_price_than_its_limit(
    steps: list[tuple[list[_Order], _Bar]], fill_at: str, fraction: D | None
) -> None:
    model = FillModel(fill_at=fill_at, max_volume_fraction=fraction)  # type: ignore[arg-type]
    engine, listener, tape = make_engine(fill_model=model)
    orders = order_factory()
    limits: dict[str, tuple[OrderSide, D, D]] = {}
    tape.flat("100.00")

    for new_orders, the_bar in steps:
        for order in new_orders:
            qty = Quantity(D(order.lots).scaleb(-3))
            spec = orders.limit(BTCUSDT, order.side, qty, Price(order.price))
            limits[spec.client_order_id.value] = (order.side, D(order.price), qty.as_decimal())
            engine.submit(spec, tape.now)
        tape.bar(the_bar.o, the_bar.h, the_bar.low, the_bar.c, volume=the_bar.volume)

    for fill in listener.fills():
        side, limit, _ = limits[fill.order_id]
        assert fill.price <= limit if side is BUY else fill.price >= limit
        assert fill.qty > 0
    for order_id, (_, _, quantity) in limits.items():
        assert listener.filled_qty(order_id) <= quantity

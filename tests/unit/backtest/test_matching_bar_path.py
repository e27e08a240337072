"""The bar path of the matching engine: orders waiting for a bar fill at its open; inside the bar
the price runs O->L->H->C when it closed at or above its open, else O->H->L->C, and orders act in
the order the market reaches them, at a third, two thirds and the end of the bar."""

from tests.kit.stubs import BTCUSDT
from tests.kit.venue import (
    MAKER,
    MINUTE,
    T0,
    TAKER,
    Accepted,
    Canceled,
    D,
    Filled,
    Triggered,
    make_engine,
    order_factory,
)

from tradeforge.backtest import FillModel
from tradeforge.domain import ClientOrderId, OrderSide, Price, Quantity

BUY, SELL = OrderSide.BUY, OrderSide.SELL
ONE = Quantity("1.000")
THIRD = MINUTE // 3


# market orders


def test_a_market_order_between_bars_waits_for_the_next_open() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.bar("100.00", "101.00", "99.00", "100.50")

    engine.submit(orders.market(BTCUSDT, BUY, ONE), tape.now)
    waiting = list(listener.calls)
    nxt = tape.bar("101.00", "103.00", "100.00", "102.00")

    assert waiting == [Accepted("O-1")]
    assert listener.calls == [Accepted("O-1"), Filled("O-1", D("1.000"), D("101.00"), TAKER)]
    assert listener.calls[-1].ts == nxt.ts_open
    assert not engine.has_orders


def test_a_sell_market_order_also_fills_at_the_next_open() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.bar("100.00", "101.00", "99.00", "100.50")

    engine.submit(orders.market(BTCUSDT, SELL, ONE), tape.now)
    tape.bar("99.00", "99.50", "97.00", "98.00")

    assert listener.fills() == [Filled("O-1", D("1.000"), D("99.00"), TAKER)]


def test_a_market_order_before_any_data_fills_at_the_first_open() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()

    engine.submit(orders.market(BTCUSDT, BUY, ONE), T0)
    tape.bar("100.00", "101.00", "99.00", "100.50")

    assert listener.calls == [Accepted("O-1"), Filled("O-1", D("1.000"), D("100.00"), TAKER)]


def test_with_fill_at_close_a_market_order_fills_at_once_at_the_last_close() -> None:
    engine, listener, tape = make_engine(fill_model=FillModel(fill_at="close"))
    orders = order_factory()
    tape.bar("100.00", "101.00", "99.00", "100.50")

    engine.submit(orders.market(BTCUSDT, BUY, ONE), tape.now)

    assert listener.calls == [Accepted("O-1"), Filled("O-1", D("1.000"), D("100.50"), TAKER)]
    assert listener.calls[-1].ts == tape.now
    assert not engine.has_orders


def test_with_fill_at_close_a_market_order_before_any_data_waits_for_the_first_open() -> None:
    engine, listener, tape = make_engine(fill_model=FillModel(fill_at="close"))
    orders = order_factory()

    engine.submit(orders.market(BTCUSDT, BUY, ONE), T0)
    waiting = list(listener.calls)
    tape.bar("100.00", "101.00", "99.00", "100.50")

    assert waiting == [Accepted("O-1")]
    assert listener.fills() == [Filled("O-1", D("1.000"), D("100.00"), TAKER)]


def test_the_last_price_is_the_close_of_the_last_bar_even_with_no_orders() -> None:
    engine, _, tape = make_engine()

    before = engine.last_price
    tape.bar("100.00", "101.00", "99.00", "100.50")
    after_one = engine.last_price
    tape.bar("100.50", "102.00", "100.00", "101.25")

    assert (before, after_one, engine.last_price) == (None, D("100.50"), D("101.25"))


# which of two resting orders the bar reaches first


def test_a_bullish_bar_goes_to_its_low_first() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("95.00")), tape.now)
    engine.submit(orders.limit(BTCUSDT, SELL, ONE, Price("105.00")), tape.now)
    listener.clear()

    the_bar = tape.bar("100.00", "106.00", "94.00", "103.00")  # close >= open: O->L->H->C

    assert listener.calls == [
        Filled("O-1", D("1.000"), D("95.00"), MAKER),
        Filled("O-2", D("1.000"), D("105.00"), MAKER),
    ]
    assert [call.ts for call in listener.calls] == [
        the_bar.ts_open + THIRD,
        the_bar.ts_open + 2 * THIRD,
    ]


def test_a_bearish_bar_goes_to_its_high_first() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("95.00")), tape.now)
    engine.submit(orders.limit(BTCUSDT, SELL, ONE, Price("105.00")), tape.now)
    listener.clear()

    the_bar = tape.bar("100.00", "106.00", "94.00", "97.00")  # close < open: O->H->L->C

    assert listener.calls == [
        Filled("O-2", D("1.000"), D("105.00"), MAKER),
        Filled("O-1", D("1.000"), D("95.00"), MAKER),
    ]
    assert [call.ts for call in listener.calls] == [
        the_bar.ts_open + THIRD,
        the_bar.ts_open + 2 * THIRD,
    ]


def test_a_bar_closing_at_its_open_counts_as_bullish() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.limit(BTCUSDT, SELL, ONE, Price("105.00")), tape.now)
    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("95.00")), tape.now)
    listener.clear()

    tape.bar("100.00", "106.00", "94.00", "100.00")

    assert [fill.order_id for fill in listener.fills()] == ["O-2", "O-1"]


def test_an_order_reached_on_the_last_leg_acts_at_the_close_time() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.trailing_stop(BTCUSDT, SELL, ONE, D("2.00")), tape.now)
    listener.clear()

    # bullish O->L->H->C: 100 -> 99 -> 110 -> 104; the stop trails up to 108 on L->H and is
    # crossed on H->C
    the_bar = tape.bar("100.00", "110.00", "99.00", "104.00")

    assert listener.calls == [Triggered("O-1"), Filled("O-1", D("1.000"), D("108.00"), TAKER)]
    assert {call.ts for call in listener.calls} == {the_bar.ts_event}


def test_orders_on_one_leg_act_in_the_order_the_price_reaches_them() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    for price in ("104.00", "102.00", "103.00"):
        engine.submit(orders.limit(BTCUSDT, SELL, ONE, Price(price)), tape.now)
    listener.clear()

    tape.bar("100.00", "105.00", "100.00", "105.00")

    assert [(fill.order_id, fill.price) for fill in listener.fills()] == [
        ("O-2", D("102.00")),
        ("O-3", D("103.00")),
        ("O-1", D("104.00")),
    ]


def test_a_bar_that_does_not_reach_an_order_leaves_it_working() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("95.00")), tape.now)
    listener.clear()

    tape.bar("100.00", "104.00", "95.01", "96.00")

    assert listener.calls == []
    order = engine.get(ClientOrderId("O-1"))
    assert order is not None
    assert order.leaves == D("1.000")


def test_a_bracket_stop_is_reached_before_its_target_on_a_bullish_bar() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    entry, stop, target = orders.bracket(
        BTCUSDT, BUY, ONE, stop_loss=Price("95.00"), take_profit=Price("105.00")
    ).orders
    engine.submit(entry, tape.now)
    engine.submit(stop, tape.now, held=True)
    engine.submit(target, tape.now, held=True)
    tape.flat("100.00")  # the entry fills at this open
    listener.clear()

    tape.bar("100.00", "106.00", "94.00", "103.00")

    sl, tp = stop.client_order_id.value, target.client_order_id.value
    assert listener.calls == [
        Triggered(sl),
        Filled(sl, D("1.000"), D("95.00"), TAKER),
        Canceled(tp, "OCO sibling filled"),
    ]


def test_a_bracket_target_is_reached_before_its_stop_on_a_bearish_bar() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    entry, stop, target = orders.bracket(
        BTCUSDT, BUY, ONE, stop_loss=Price("95.00"), take_profit=Price("105.00")
    ).orders
    engine.submit(entry, tape.now)
    engine.submit(stop, tape.now, held=True)
    engine.submit(target, tape.now, held=True)
    tape.flat("100.00")
    listener.clear()

    tape.bar("100.00", "106.00", "94.00", "97.00")

    sl, tp = stop.client_order_id.value, target.client_order_id.value
    assert listener.calls == [
        Filled(tp, D("1.000"), D("105.00"), MAKER),
        Canceled(sl, "OCO sibling filled"),
    ]

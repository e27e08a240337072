"""Price-time priority: at one price, orders fill in arrival order when the bar's volume share
only covers some of them; a new price or a larger size sends an order to the back."""

from tests.kit.stubs import BTCUSDT
from tests.kit.venue import MAKER, D, Filled, Tape, make_engine, order_factory

from tradeforge.backtest import FillModel, MatchingEngine
from tradeforge.domain import ClientOrderId, OrderFactory, OrderSide, Price, Quantity

BUY = OrderSide.BUY
ONE = Quantity("1.000")
# 10 % of a 10-lot bar: room for exactly one of the orders
ROOM_FOR_ONE = FillModel(max_volume_fraction=D("0.1"))


def two_bids_at_95(engine: MatchingEngine, orders: OrderFactory, tape: Tape) -> None:
    tape.flat("100.00")
    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("95.00")), tape.now)
    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("95.00")), tape.now)


def test_two_buy_limits_at_one_price_fill_in_arrival_order() -> None:
    engine, listener, tape = make_engine(fill_model=ROOM_FOR_ONE)
    orders = order_factory()
    two_bids_at_95(engine, orders, tape)

    tape.bar("100.00", "100.00", "94.00", "96.00", volume="10")
    first = listener.fills()
    tape.bar("96.00", "96.00", "95.00", "95.50", volume="10")

    assert first == [Filled("O-1", D("1.000"), D("95.00"), MAKER)]
    assert listener.fills()[1:] == [Filled("O-2", D("1.000"), D("95.00"), MAKER)]


def test_the_volume_share_is_spent_across_one_bar() -> None:
    engine, listener, tape = make_engine(fill_model=FillModel(max_volume_fraction=D("0.15")))
    orders = order_factory()
    two_bids_at_95(engine, orders, tape)

    tape.bar("100.00", "100.00", "94.00", "96.00", volume="10")  # 1.500 for both

    assert listener.fills() == [
        Filled("O-1", D("1.000"), D("95.00"), MAKER),
        Filled("O-2", D("0.500"), D("95.00"), MAKER),
    ]


def test_the_volume_share_is_rounded_down_to_the_lot() -> None:
    engine, listener, tape = make_engine(fill_model=FillModel(max_volume_fraction=D("0.3333")))
    orders = order_factory()
    two_bids_at_95(engine, orders, tape)

    tape.bar("100.00", "100.00", "94.00", "96.00", volume="1")  # 0.3333 -> 0.333

    assert listener.fills() == [Filled("O-1", D("0.333"), D("95.00"), MAKER)]


def test_a_better_price_fills_before_an_earlier_order() -> None:
    engine, listener, tape = make_engine(fill_model=ROOM_FOR_ONE)
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("95.00")), tape.now)
    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("96.00")), tape.now)

    tape.bar("100.00", "100.00", "94.00", "96.00", volume="10")

    assert listener.fills() == [Filled("O-2", D("1.000"), D("96.00"), MAKER)]


def test_a_smaller_size_keeps_time_priority() -> None:
    engine, listener, tape = make_engine(fill_model=ROOM_FOR_ONE)
    orders = order_factory()
    two_bids_at_95(engine, orders, tape)

    engine.modify(ClientOrderId("O-1"), tape.now, quantity=Quantity("0.500"))
    tape.bar("100.00", "100.00", "94.00", "96.00", volume="10")

    assert listener.fills() == [
        Filled("O-1", D("0.500"), D("95.00"), MAKER),
        Filled("O-2", D("0.500"), D("95.00"), MAKER),
    ]


def test_a_new_price_loses_time_priority() -> None:
    engine, listener, tape = make_engine(fill_model=ROOM_FOR_ONE)
    orders = order_factory()
    two_bids_at_95(engine, orders, tape)

    engine.modify(ClientOrderId("O-1"), tape.now, price=Price("94.99"))
    engine.modify(ClientOrderId("O-1"), tape.now, price=Price("95.00"))
    tape.bar("100.00", "100.00", "94.00", "96.00", volume="10")

    assert listener.fills() == [Filled("O-2", D("1.000"), D("95.00"), MAKER)]


def test_a_larger_size_loses_time_priority() -> None:
    engine, listener, tape = make_engine(fill_model=ROOM_FOR_ONE)
    orders = order_factory()
    two_bids_at_95(engine, orders, tape)

    engine.modify(ClientOrderId("O-1"), tape.now, quantity=Quantity("1.001"))
    tape.bar("100.00", "100.00", "94.00", "96.00", volume="10")

    assert listener.fills() == [Filled("O-2", D("1.000"), D("95.00"), MAKER)]


def test_modifying_to_the_same_price_keeps_time_priority() -> None:
    engine, listener, tape = make_engine(fill_model=ROOM_FOR_ONE)
    orders = order_factory()
    two_bids_at_95(engine, orders, tape)

    engine.modify(ClientOrderId("O-1"), tape.now, price=Price("95.00"))
    tape.bar("100.00", "100.00", "94.00", "96.00", volume="10")

    assert listener.fills() == [Filled("O-1", D("1.000"), D("95.00"), MAKER)]


def test_working_orders_are_listed_in_priority_order() -> None:
    engine, _, tape = make_engine()
    orders = order_factory()
    two_bids_at_95(engine, orders, tape)

    engine.modify(ClientOrderId("O-1"), tape.now, price=Price("94.00"))

    assert [order.id.value for order in engine.orders()] == ["O-2", "O-1"]

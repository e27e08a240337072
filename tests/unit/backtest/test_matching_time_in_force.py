"""Time in force: IOC fills what it can and cancels the rest, FOK fills all or nothing, GTD
expires at its time and DAY at the next UTC midnight, both before the open of a later bar."""

from tests.kit.stubs import BTCUSDT
from tests.kit.venue import (
    MAKER,
    MINUTE,
    T0,
    TAKER,
    Accepted,
    Canceled,
    D,
    Expired,
    Filled,
    Triggered,
    make_engine,
    order_factory,
)

from tradeforge.backtest import FillModel
from tradeforge.domain import ClientOrderId, OrderSide, Price, Quantity, TimeInForce

BUY, SELL = OrderSide.BUY, OrderSide.SELL
IOC, FOK, GTD, DAY = TimeInForce.IOC, TimeInForce.FOK, TimeInForce.GTD, TimeInForce.DAY
ONE = Quantity("1.000")
DAY_NS = 86_400 * 10**9
TENTH = FillModel(max_volume_fraction=D("0.1"))


# IOC


def test_a_partially_filled_ioc_cancels_its_remainder() -> None:
    engine, listener, tape = make_engine(fill_model=TENTH)
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.market(BTCUSDT, BUY, Quantity("5.000"), time_in_force=IOC), tape.now)

    the_bar = tape.bar("100.50", "101.00", "100.00", "100.50", volume="20")  # 10 %: 2.000

    assert listener.calls == [
        Accepted("O-1"),
        Filled("O-1", D("2.000"), D("100.50"), TAKER),
        Canceled("O-1", "IOC remainder"),
    ]
    assert {call.ts for call in listener.calls[1:]} == {the_bar.ts_open}
    assert not engine.has_orders


def test_a_marketable_ioc_limit_fills_in_part_at_the_open_and_cancels_the_rest() -> None:
    engine, listener, tape = make_engine(fill_model=TENTH)
    orders = order_factory()
    tape.flat("100.00")
    spec = orders.limit(BTCUSDT, SELL, Quantity("3.000"), Price("99.00"), time_in_force=IOC)
    engine.submit(spec, tape.now)

    tape.bar("99.50", "99.50", "95.00", "96.00", volume="15")

    assert listener.calls == [
        Accepted("O-1"),
        Filled("O-1", D("1.500"), D("99.50"), TAKER),
        Canceled("O-1", "IOC remainder"),
    ]


def test_an_ioc_limit_the_open_does_not_reach_is_canceled_without_resting() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    spec = orders.limit(BTCUSDT, BUY, ONE, Price("99.00"), time_in_force=IOC)
    engine.submit(spec, tape.now)

    # the bar later trades at 99, but an IOC order does not rest
    tape.bar("100.00", "101.00", "98.00", "100.50")

    assert listener.calls == [Accepted("O-1"), Canceled("O-1", "not filled at open")]


def test_with_fill_at_close_an_ioc_fills_at_once() -> None:
    engine, listener, tape = make_engine(fill_model=FillModel(fill_at="close"))
    orders = order_factory()
    tape.flat("100.00")

    engine.submit(orders.market(BTCUSDT, BUY, ONE, time_in_force=IOC), tape.now)

    assert listener.calls == [Accepted("O-1"), Filled("O-1", D("1.000"), D("100.00"), TAKER)]
    assert not engine.has_orders


def test_with_fill_at_close_an_ioc_limit_that_is_not_marketable_is_canceled_at_once() -> None:
    engine, listener, tape = make_engine(fill_model=FillModel(fill_at="close"))
    orders = order_factory()
    tape.flat("100.00")

    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("99.00"), time_in_force=IOC), tape.now)

    assert listener.calls == [Accepted("O-1"), Canceled("O-1", "not filled at once")]


def test_an_ioc_stop_triggered_by_a_gap_fills_what_the_bar_allows_and_cancels_the_rest() -> None:
    engine, listener, tape = make_engine(fill_model=TENTH)
    orders = order_factory()
    tape.flat("100.00")
    spec = orders.stop_market(BTCUSDT, SELL, Quantity("2.000"), Price("95.00"), time_in_force=IOC)
    engine.submit(spec, tape.now)

    tape.bar("94.00", "94.50", "93.00", "93.50", volume="10")

    assert listener.calls == [
        Accepted("O-1"),
        Triggered("O-1"),
        Filled("O-1", D("1.000"), D("94.00"), TAKER),
        Canceled("O-1", "IOC remainder"),
    ]


def test_an_ioc_stop_keeps_waiting_for_its_trigger() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(
        orders.stop_market(BTCUSDT, SELL, ONE, Price("90.00"), time_in_force=IOC), tape.now
    )

    tape.bar("100.00", "101.00", "99.00", "100.00")

    assert listener.calls == [Accepted("O-1")]


def test_an_ioc_limit_filled_at_a_gapping_open_is_a_taker() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("99.00"), time_in_force=IOC), tape.now)

    tape.bar("98.00", "99.00", "97.00", "98.00")

    assert listener.fills() == [Filled("O-1", D("1.000"), D("98.00"), TAKER)]


# FOK


def test_a_fok_that_cannot_fill_in_full_is_canceled_with_no_fill() -> None:
    engine, listener, tape = make_engine(fill_model=TENTH)
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.market(BTCUSDT, BUY, Quantity("5.000"), time_in_force=FOK), tape.now)

    tape.bar("100.50", "101.00", "100.00", "100.50", volume="20")

    assert listener.calls == [Accepted("O-1"), Canceled("O-1", "FOK not fillable in full")]
    assert not engine.has_orders


def test_a_fok_that_fits_the_bar_fills_in_full() -> None:
    engine, listener, tape = make_engine(fill_model=TENTH)
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.market(BTCUSDT, BUY, Quantity("2.000"), time_in_force=FOK), tape.now)

    tape.bar("100.50", "101.00", "100.00", "100.50", volume="20")

    assert listener.calls == [Accepted("O-1"), Filled("O-1", D("2.000"), D("100.50"), TAKER)]


def test_a_fok_limit_the_open_does_not_reach_is_canceled() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("99.00"), time_in_force=FOK), tape.now)

    tape.bar("100.00", "100.00", "98.00", "99.00")

    assert listener.calls == [Accepted("O-1"), Canceled("O-1", "not filled at open")]


def test_with_fill_at_close_the_volume_cap_still_applies() -> None:
    model = FillModel(fill_at="close", max_volume_fraction=D("0.1"))
    engine, listener, tape = make_engine(fill_model=model)
    orders = order_factory()
    tape.flat("100.00", volume="10")  # the venue lets an order take 1.000 of this bar

    engine.submit(orders.market(BTCUSDT, BUY, Quantity("5.000"), time_in_force=FOK), tape.now)

    assert listener.fills() == []


# GTD and DAY


def test_a_gtd_order_works_until_its_time() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    expire = tape.now + 2 * MINUTE
    spec = orders.limit(
        BTCUSDT, SELL, ONE, Price("105.00"), time_in_force=GTD, expire_time_ns=expire
    )
    engine.submit(spec, tape.now)

    tape.bar("100.00", "105.00", "99.00", "104.00")

    assert listener.fills() == [Filled("O-1", D("1.000"), D("105.00"), MAKER)]


def test_a_gtd_order_expires_before_the_open_of_a_later_bar() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    expire = tape.now + 90 * 10**9  # halfway through the second bar from now
    spec = orders.limit(
        BTCUSDT, SELL, ONE, Price("105.00"), time_in_force=GTD, expire_time_ns=expire
    )
    engine.submit(spec, tape.now)

    tape.bar("100.00", "101.00", "99.00", "100.00")
    tape.bar("100.00", "101.00", "99.00", "100.00")
    third = tape.bar("100.00", "106.00", "99.00", "105.00")  # would have filled

    assert listener.calls == [Accepted("O-1"), Expired("O-1")]
    assert listener.calls[-1].ts == expire  # reported at its expire time
    assert expire < third.ts_open
    assert not engine.has_orders


def test_a_gtd_order_expiring_at_a_bar_open_does_not_trade_in_that_bar() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    spec = orders.limit(
        BTCUSDT, BUY, ONE, Price("99.00"), time_in_force=GTD, expire_time_ns=tape.now + MINUTE
    )
    engine.submit(spec, tape.now)

    tape.flat("100.00")
    tape.bar("98.00", "99.00", "97.00", "98.00")

    assert listener.calls == [Accepted("O-1"), Expired("O-1")]


def test_a_gtd_order_never_fills_after_its_expire_time() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    expire = tape.now + 30 * 10**9  # halfway through the next bar
    spec = orders.limit(
        BTCUSDT, SELL, ONE, Price("105.00"), time_in_force=GTD, expire_time_ns=expire
    )
    engine.submit(spec, tape.now)

    # O->L->H->C: 105 is reached at two thirds of the bar (40 s), after the order expired
    tape.bar("100.00", "106.00", "99.00", "104.00")

    assert all(fill.ts <= expire for fill in listener.fills())


def test_a_day_order_expires_at_the_next_utc_midnight() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.skip_to(T0 + DAY_NS - 2 * MINUTE)
    tape.flat("100.00")  # closes 23:59 UTC
    engine.submit(orders.limit(BTCUSDT, SELL, ONE, Price("105.00"), time_in_force=DAY), tape.now)
    working = engine.get(ClientOrderId("O-1"))

    tape.bar("100.00", "104.00", "99.00", "100.00")  # 23:59 - 00:00
    midnight = tape.bar("100.00", "106.00", "99.00", "105.00")  # 00:00 - 00:01

    assert working is not None
    assert working.expire_ns == T0 + DAY_NS
    assert listener.calls == [Accepted("O-1"), Expired("O-1")]
    assert listener.calls[-1].ts == midnight.ts_open == T0 + DAY_NS


def test_a_day_order_trades_during_its_day() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.limit(BTCUSDT, SELL, ONE, Price("105.00"), time_in_force=DAY), tape.now)

    tape.skip_to(T0 + DAY_NS - MINUTE)
    tape.bar("100.00", "105.00", "99.00", "104.00")  # the day's last minute

    assert listener.fills() == [Filled("O-1", D("1.000"), D("105.00"), MAKER)]

"""What the matching engine refuses (with a reason code), and how it cancels and modifies."""

import msgspec
import pytest
from tests.kit.stubs import BTCUSDT, USDT, btcusdt
from tests.kit.venue import (
    MAKER,
    TAKER,
    Accepted,
    Canceled,
    CancelRejected,
    D,
    Filled,
    ModifyRejected,
    Rejected,
    Updated,
    make_engine,
    order_factory,
)

from tradeforge.backtest import FillModel
from tradeforge.domain import (
    ClientOrderId,
    InstrumentId,
    Money,
    OrderSide,
    Price,
    Quantity,
    RejectReason,
    TimeInForce,
)

BUY, SELL = OrderSide.BUY, OrderSide.SELL
ONE = Quantity("1.000")
R = RejectReason


# rejections on submit


def test_a_price_off_the_tick_is_rejected() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")

    result = engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("99.995")), tape.now)

    assert result is None
    assert listener.calls == [Rejected("O-1", R.PRICE_OFF_TICK)]
    assert not engine.has_orders


def test_a_trigger_off_the_tick_is_rejected() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")

    engine.submit(orders.stop_market(BTCUSDT, SELL, ONE, Price("95.001")), tape.now)

    assert listener.calls == [Rejected("O-1", R.PRICE_OFF_TICK)]


def test_a_quantity_off_the_lot_is_rejected() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")

    engine.submit(orders.market(BTCUSDT, BUY, Quantity("1.0005")), tape.now)

    assert listener.calls == [Rejected("O-1", R.QUANTITY_OFF_LOT)]


def test_a_quantity_below_the_minimum_is_rejected() -> None:
    engine, listener, tape = make_engine(btcusdt(min_quantity=Quantity("0.010")))
    orders = order_factory()
    tape.flat("100.00")

    engine.submit(orders.market(BTCUSDT, BUY, Quantity("0.009")), tape.now)
    engine.submit(orders.market(BTCUSDT, BUY, Quantity("0.010")), tape.now)

    assert listener.calls == [Rejected("O-1", R.BELOW_MIN_QUANTITY), Accepted("O-2")]


def test_a_quantity_above_the_maximum_is_rejected() -> None:
    engine, listener, tape = make_engine(btcusdt(max_quantity=Quantity("10.000")))
    orders = order_factory()
    tape.flat("100.00")

    engine.submit(orders.market(BTCUSDT, BUY, Quantity("10.001")), tape.now)

    assert listener.calls == [Rejected("O-1", R.ABOVE_MAX_QUANTITY)]


def test_a_limit_below_the_minimum_notional_is_rejected() -> None:
    engine, listener, tape = make_engine(btcusdt(min_notional=Money("10", USDT)))
    orders = order_factory()
    tape.flat("100.00")

    engine.submit(orders.limit(BTCUSDT, BUY, Quantity("0.099"), Price("100.00")), tape.now)
    engine.submit(orders.limit(BTCUSDT, BUY, Quantity("0.100"), Price("100.00")), tape.now)

    assert listener.calls == [Rejected("O-1", R.BELOW_MIN_NOTIONAL), Accepted("O-2")]


def test_a_market_order_below_the_minimum_notional_at_the_last_price_is_rejected() -> None:
    engine, listener, tape = make_engine(btcusdt(min_notional=Money("10", USDT)))
    orders = order_factory()
    tape.flat("50.00")

    engine.submit(orders.market(BTCUSDT, BUY, Quantity("0.150")), tape.now)  # 7.50 USDT

    assert listener.calls == [Rejected("O-1", R.BELOW_MIN_NOTIONAL)]


def test_a_duplicate_client_order_id_is_rejected_while_the_first_is_open() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    first = orders.limit(BTCUSDT, BUY, ONE, Price("99.00"))
    engine.submit(first, tape.now)

    again = engine.submit(msgspec.structs.replace(first, price=Price("98.00")), tape.now)

    assert again is None
    assert listener.calls == [Accepted("O-1"), Rejected("O-1", R.DUPLICATE_CLIENT_ORDER_ID)]
    working = engine.get(first.client_order_id)
    assert working is not None
    assert working.price == D("99.00")


def test_a_client_order_id_can_be_used_again_once_the_first_order_is_done() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    first = orders.market(BTCUSDT, BUY, ONE)
    engine.submit(first, tape.now)
    tape.flat("100.00")

    engine.submit(first, tape.now)

    assert listener.calls[-1] == Accepted("O-1")


def test_a_post_only_order_that_would_cross_the_last_price_is_rejected() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")

    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("100.00"), post_only=True), tape.now)
    engine.submit(orders.limit(BTCUSDT, SELL, ONE, Price("100.00"), post_only=True), tape.now)
    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("99.99"), post_only=True), tape.now)
    engine.submit(orders.limit(BTCUSDT, SELL, ONE, Price("100.01"), post_only=True), tape.now)

    assert listener.calls == [
        Rejected("O-1", R.POST_ONLY_WOULD_CROSS),
        Rejected("O-2", R.POST_ONLY_WOULD_CROSS),
        Accepted("O-3"),
        Accepted("O-4"),
    ]


def test_a_post_only_order_that_would_cross_the_quote_is_rejected() -> None:
    engine, listener, _ = make_engine()
    orders = order_factory()
    engine.on_quote(Price("99.00"), Price("101.00"), ONE, ONE, 1)

    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("101.00"), post_only=True), 2)
    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("100.99"), post_only=True), 2)

    assert listener.calls == [Rejected("O-1", R.POST_ONLY_WOULD_CROSS), Accepted("O-2")]


def test_a_gtd_order_with_an_expire_time_not_in_the_future_is_rejected() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    gtd = TimeInForce.GTD

    engine.submit(
        orders.limit(BTCUSDT, BUY, ONE, Price("99.00"), time_in_force=gtd, expire_time_ns=tape.now),
        tape.now,
    )
    engine.submit(
        orders.limit(
            BTCUSDT, BUY, ONE, Price("99.00"), time_in_force=gtd, expire_time_ns=tape.now + 1
        ),
        tape.now,
    )

    assert listener.calls == [Rejected("O-1", R.OTHER), Accepted("O-2")]


def test_an_order_for_another_instrument_is_rejected() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")

    engine.submit(orders.market(InstrumentId.from_str("ETH/USDT.BINANCE"), BUY, ONE), tape.now)

    assert listener.calls == [Rejected("O-1", R.UNKNOWN_INSTRUMENT)]


def test_venue_order_ids_count_up_from_the_prefix() -> None:
    engine, _, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")

    first = engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("99.00")), tape.now)
    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("99.995")), tape.now)  # rejected
    second = engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("98.00")), tape.now)

    assert first is not None
    assert second is not None
    assert (first.venue_order_id.value, second.venue_order_id.value) == ("V-1", "V-2")


# cancel


def test_cancel_ends_a_working_order() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    spec = orders.limit(BTCUSDT, BUY, ONE, Price("99.00"))
    engine.submit(spec, tape.now)

    engine.cancel(spec.client_order_id, tape.now)
    tape.bar("100.00", "100.00", "98.00", "99.00")

    assert listener.calls == [Accepted("O-1"), Canceled("O-1", "canceled")]
    assert not engine.has_orders


def test_cancel_of_an_unknown_order_is_rejected() -> None:
    engine, listener, tape = make_engine()
    tape.flat("100.00")

    engine.cancel(ClientOrderId("NOPE"), tape.now)

    assert listener.calls == [CancelRejected("NOPE", R.UNKNOWN_ORDER)]


def test_cancel_of_a_filled_order_is_rejected_as_unknown() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    spec = orders.market(BTCUSDT, BUY, ONE)
    engine.submit(spec, tape.now)
    tape.flat("100.00")

    engine.cancel(spec.client_order_id, tape.now)

    assert listener.calls[-1] == CancelRejected("O-1", R.UNKNOWN_ORDER)


# modify


def test_modify_changes_price_and_quantity_and_reports_the_update() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    spec = orders.limit(BTCUSDT, BUY, ONE, Price("98.00"))
    engine.submit(spec, tape.now)

    engine.modify(spec.client_order_id, tape.now, quantity=Quantity("2.000"), price=Price("97.00"))
    tape.bar("100.00", "100.00", "97.50", "98.00")  # would have filled the old price
    tape.bar("98.00", "98.00", "96.00", "97.00")

    assert listener.calls == [
        Accepted("O-1"),
        Updated("O-1", D("2.000"), D("97.00"), None),
        Filled("O-1", D("2.000"), D("97.00"), MAKER),
    ]


def test_modify_a_stop_trigger() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    spec = orders.stop_market(BTCUSDT, SELL, ONE, Price("95.00"))
    engine.submit(spec, tape.now)

    engine.modify(spec.client_order_id, tape.now, trigger_price=Price("98.00"))
    tape.bar("100.00", "100.00", "97.00", "97.50")

    assert listener.calls[1] == Updated("O-1", D("1.000"), None, D("98.00"))
    assert listener.fills() == [Filled("O-1", D("1.000"), D("98.00"), TAKER)]


def test_modify_to_a_marketable_price_fills_at_the_next_open_as_taker() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    spec = orders.limit(BTCUSDT, BUY, ONE, Price("98.00"))
    engine.submit(spec, tape.now)

    engine.modify(spec.client_order_id, tape.now, price=Price("101.00"))
    tape.bar("100.50", "101.00", "100.00", "100.50")

    assert listener.fills() == [Filled("O-1", D("1.000"), D("100.50"), TAKER)]


def test_modify_of_an_unknown_order_is_rejected() -> None:
    engine, listener, tape = make_engine()
    tape.flat("100.00")

    engine.modify(ClientOrderId("NOPE"), tape.now, price=Price("99.00"))

    assert listener.calls == [ModifyRejected("NOPE", R.UNKNOWN_ORDER)]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"price": Price("98.005")}, R.PRICE_OFF_TICK),
        ({"trigger_price": Price("97.00")}, R.PRICE_OFF_TICK),  # a limit has no trigger
        ({"quantity": Quantity("1.0005")}, R.QUANTITY_OFF_LOT),
        ({"quantity": Quantity("0.400")}, R.QUANTITY_OFF_LOT),  # not above the filled 0.400
    ],
)
def test_a_modify_that_does_not_fit_the_order_is_rejected_and_changes_nothing(
    change: dict[str, object], reason: RejectReason
) -> None:
    engine, listener, tape = make_engine(fill_model=FillModel(max_volume_fraction=D("0.1")))
    orders = order_factory()
    tape.flat("100.00")
    spec = orders.limit(BTCUSDT, BUY, ONE, Price("98.00"))
    engine.submit(spec, tape.now)
    tape.bar("100.00", "100.00", "98.00", "99.00", volume="4")  # fills 0.400
    listener.clear()

    engine.modify(spec.client_order_id, tape.now, **change)  # type: ignore[arg-type]

    assert listener.calls == [ModifyRejected("O-1", reason)]
    working = engine.get(spec.client_order_id)
    assert working is not None
    assert (working.price, working.quantity, working.trigger) == (D("98.00"), D("1.000"), None)


def test_a_market_order_cannot_be_given_a_price() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    spec = orders.market(BTCUSDT, BUY, ONE)
    engine.submit(spec, tape.now)

    engine.modify(spec.client_order_id, tape.now, price=Price("99.00"))

    # questionable: the reason code says "off tick" for an order without any limit price
    assert listener.calls[-1] == ModifyRejected("O-1", R.PRICE_OFF_TICK)


def test_a_post_only_order_modified_to_cross_is_rejected() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    spec = orders.limit(BTCUSDT, BUY, ONE, Price("99.00"), post_only=True)
    engine.submit(spec, tape.now)

    engine.modify(spec.client_order_id, tape.now, price=Price("101.00"))
    tape.flat("100.00")

    assert listener.calls[1:] == [ModifyRejected("O-1", R.POST_ONLY_WOULD_CROSS)]

from decimal import Decimal

import pytest
from tests.kit.stubs import BTCUSDT, STRATEGY

from tradeforge.domain import (
    ClientOrderId,
    ClientOrderIdGenerator,
    ContingencyType,
    InvalidValue,
    OrderFactory,
    OrderListId,
    OrderSide,
    OrderType,
    Price,
    Quantity,
    TimeInForce,
    TrailingOffsetType,
)

BUY, SELL = OrderSide.BUY, OrderSide.SELL
ONE = Quantity("1.000")


def factory(prefix: str = "P") -> OrderFactory:
    return OrderFactory(STRATEGY, ClientOrderIdGenerator(prefix))


# ids


def test_generator_makes_prefix_dash_counter() -> None:
    ids = ClientOrderIdGenerator("S1")

    made = [ids.next_id(), ids.next_id()]

    assert made == [ClientOrderId("S1-1"), ClientOrderId("S1-2")]
    assert ids.count == 2


def test_list_ids_share_the_counter_so_they_never_repeat_an_order_id() -> None:
    ids = ClientOrderIdGenerator("S1")

    assert ids.next_id() == ClientOrderId("S1-1")
    assert ids.next_list_id() == OrderListId("S1-L2")
    assert ids.next_id() == ClientOrderId("S1-3")


def test_generator_may_resume_from_a_later_counter() -> None:
    assert ClientOrderIdGenerator("S1", start=41).next_id() == ClientOrderId("S1-41")


@pytest.mark.parametrize("prefix", ["", "a b", "x" * 25, "café"])
def test_bad_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(InvalidValue, match="client order id prefix must be 1-24 ASCII"):
        ClientOrderIdGenerator(prefix)


def test_counter_below_one_is_refused() -> None:
    with pytest.raises(InvalidValue, match="counter must start at 1 or more, got 0"):
        ClientOrderIdGenerator("P", start=0)


def test_longest_prefix_still_makes_ids_within_36_characters() -> None:
    ids = ClientOrderIdGenerator("x" * 24, start=10**10)

    assert len(ids.next_id().value) == 36


def test_factory_numbers_orders_in_the_order_they_are_made() -> None:
    make = factory()

    first = make.market(BTCUSDT, BUY, ONE)
    second = make.limit(BTCUSDT, SELL, ONE, Price("100.00"))

    assert first.client_order_id == ClientOrderId("P-1")
    assert second.client_order_id == ClientOrderId("P-2")
    assert first.strategy_id == STRATEGY


# single orders


def test_market_order() -> None:
    spec = factory().market(BTCUSDT, BUY, ONE, time_in_force=TimeInForce.IOC, tags=("entry",))

    assert spec.order_type is OrderType.MARKET
    assert spec.price is None
    assert spec.time_in_force is TimeInForce.IOC
    assert spec.tags == ("entry",)


def test_limit_order_with_iceberg_and_expiry() -> None:
    spec = factory().limit(
        BTCUSDT,
        SELL,
        ONE,
        Price("101.00"),
        time_in_force=TimeInForce.GTD,
        expire_time_ns=5,
        display_qty=Quantity("0.100"),
        post_only=True,
    )

    assert spec.order_type is OrderType.LIMIT
    assert spec.price == Price("101.00")
    assert spec.expire_time_ns == 5
    assert spec.display_qty == Quantity("0.1")
    assert spec.post_only


def test_stop_market_stop_limit_and_limit_if_touched() -> None:
    make = factory()

    stop = make.stop_market(BTCUSDT, SELL, ONE, Price("95.00"), reduce_only=True)
    stop_limit = make.stop_limit(BTCUSDT, SELL, ONE, Price("94.50"), Price("95.00"))
    touched = make.limit_if_touched(BTCUSDT, SELL, ONE, Price("110.00"), Price("109.50"))

    assert (stop.order_type, stop.trigger_price, stop.reduce_only) == (
        OrderType.STOP_MARKET,
        Price("95.00"),
        True,
    )
    assert (stop_limit.price, stop_limit.trigger_price) == (Price("94.50"), Price("95.00"))
    assert touched.order_type is OrderType.LIMIT_IF_TOUCHED


def test_trailing_stop_uses_the_activation_price_as_trigger() -> None:
    spec = factory().trailing_stop(
        BTCUSDT,
        SELL,
        ONE,
        Decimal("1.5"),
        TrailingOffsetType.PERCENT,
        activation_price=Price("105.00"),
    )

    assert spec.order_type is OrderType.TRAILING_STOP
    assert spec.trailing_offset == Decimal("1.5")
    assert spec.trailing_offset_type is TrailingOffsetType.PERCENT
    assert spec.trigger_price == Price("105.00")


def test_factory_refuses_what_the_spec_refuses() -> None:
    with pytest.raises(InvalidValue, match="post_only cannot be combined with IOC"):
        factory().limit(
            BTCUSDT, BUY, ONE, Price("1.00"), post_only=True, time_in_force=TimeInForce.IOC
        )


# oco


def test_oco_is_a_limit_and_a_stop_on_one_side_canceling_each_other() -> None:
    oco = factory().oco(
        BTCUSDT, SELL, ONE, limit_price=Price("110.00"), stop_trigger=Price("95.00")
    )

    limit, stop = oco.orders
    assert oco.order_list_id == OrderListId("P-L1")
    assert (limit.client_order_id, stop.client_order_id) == (
        ClientOrderId("P-2"),
        ClientOrderId("P-3"),
    )
    assert (limit.order_type, stop.order_type) == (OrderType.LIMIT, OrderType.STOP_MARKET)
    assert limit.side is stop.side is SELL
    assert limit.price == Price("110.00")
    assert stop.trigger_price == Price("95.00")
    assert limit.contingency_type is stop.contingency_type is ContingencyType.OCO
    assert limit.linked_order_ids == (stop.client_order_id,)
    assert stop.linked_order_ids == (limit.client_order_id,)
    assert limit.order_list_id == stop.order_list_id == oco.order_list_id


def test_oco_with_a_stop_limit_price_uses_a_stop_limit() -> None:
    oco = factory().oco(
        BTCUSDT,
        SELL,
        ONE,
        limit_price=Price("110.00"),
        stop_trigger=Price("95.00"),
        stop_limit_price=Price("94.00"),
        reduce_only=True,
    )

    stop = oco.orders[1]
    assert stop.order_type is OrderType.STOP_LIMIT
    assert stop.price == Price("94.00")
    assert all(spec.reduce_only for spec in oco.orders)


# bracket


@pytest.mark.parametrize(
    ("side", "stop_loss", "take_profit", "entry_price"),
    [
        (BUY, Price("95.00"), Price("110.00"), None),
        (BUY, Price("95.00"), Price("110.00"), Price("100.00")),
        (SELL, Price("105.00"), Price("90.00"), None),
        (SELL, Price("105.00"), Price("90.00"), Price("100.00")),
    ],
)
def test_bracket_is_an_entry_triggering_an_oco_pair_of_exits(
    side: OrderSide, stop_loss: Price, take_profit: Price, entry_price: Price | None
) -> None:
    bracket = factory().bracket(
        BTCUSDT, side, ONE, stop_loss=stop_loss, take_profit=take_profit, entry_price=entry_price
    )

    entry, sl, tp = bracket.orders
    assert bracket.order_list_id == OrderListId("P-L1")
    assert [spec.client_order_id.value for spec in bracket.orders] == ["P-2", "P-3", "P-4"]
    assert bracket.first is entry
    # entry: market or limit, OTO to both exits
    assert entry.side is side
    assert entry.order_type is (OrderType.MARKET if entry_price is None else OrderType.LIMIT)
    assert entry.price == entry_price
    assert entry.contingency_type is ContingencyType.OTO
    assert entry.linked_order_ids == (sl.client_order_id, tp.client_order_id)
    assert not entry.reduce_only
    # exits: opposite side, reduce-only, children of the entry, OCO to each other
    assert sl.order_type is OrderType.STOP_MARKET
    assert sl.trigger_price == stop_loss
    assert tp.order_type is OrderType.LIMIT
    assert tp.price == take_profit
    for exit_spec, other in ((sl, tp), (tp, sl)):
        assert exit_spec.side is side.opposite
        assert exit_spec.reduce_only
        assert exit_spec.quantity == ONE
        assert exit_spec.parent_order_id == entry.client_order_id
        assert exit_spec.contingency_type is ContingencyType.OCO
        assert exit_spec.linked_order_ids == (other.client_order_id,)
        assert exit_spec.order_list_id == bracket.order_list_id


@pytest.mark.parametrize(
    ("side", "stop_loss", "take_profit"),
    [
        (BUY, Price("110.00"), Price("95.00")),
        (BUY, Price("100.00"), Price("100.00")),
        (SELL, Price("90.00"), Price("105.00")),
    ],
)
def test_bracket_with_stop_on_the_winning_side_is_refused(
    side: OrderSide, stop_loss: Price, take_profit: Price
) -> None:
    with pytest.raises(InvalidValue, match=f"bracket {side}: stop_loss {stop_loss} must be on"):
        factory().bracket(BTCUSDT, side, ONE, stop_loss=stop_loss, take_profit=take_profit)


@pytest.mark.parametrize("entry", ["94.00", "95.00", "110.00", "120.00"])
def test_bracket_entry_outside_stop_and_target_is_refused(entry: str) -> None:
    with pytest.raises(InvalidValue, match=f"entry_price {entry} must lie between"):
        factory().bracket(
            BTCUSDT,
            BUY,
            ONE,
            stop_loss=Price("95.00"),
            take_profit=Price("110.00"),
            entry_price=Price(entry),
        )


def test_refused_bracket_uses_no_ids() -> None:
    ids = ClientOrderIdGenerator("P")
    make = OrderFactory(STRATEGY, ids)

    with pytest.raises(InvalidValue):
        make.bracket(BTCUSDT, BUY, ONE, stop_loss=Price("2.00"), take_profit=Price("1.00"))

    assert ids.count == 0

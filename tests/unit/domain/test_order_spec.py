import re
from decimal import Decimal
from typing import Any

import pytest
from tests.kit.stubs import order_spec

from tradeforge.domain import (
    ClientOrderId,
    ContingencyType,
    InstrumentId,
    InvalidValue,
    OrderList,
    OrderListId,
    OrderSide,
    OrderSpec,
    OrderType,
    Price,
    Quantity,
    TimeInForce,
    TrailingOffsetType,
)

LIST_ID = OrderListId("L-1")
O1, O2, O3 = ClientOrderId("O-1"), ClientOrderId("O-2"), ClientOrderId("O-3")

LIMIT = OrderType.LIMIT
MARKET = OrderType.MARKET
STOP_MARKET = OrderType.STOP_MARKET
STOP_LIMIT = OrderType.STOP_LIMIT
TRAILING_STOP = OrderType.TRAILING_STOP
LIMIT_IF_TOUCHED = OrderType.LIMIT_IF_TOUCHED


def refused_with(order_type: OrderType, field: str, problem: str) -> str:
    """The pattern of a refusal: order id and type, then the field and what is wrong."""
    return "^" + re.escape(f"order O-1 ({order_type}): {field} {problem}")


# valid shapes


@pytest.mark.parametrize("order_type", list(OrderType))
def test_each_order_type_with_the_prices_it_needs_is_valid(order_type: OrderType) -> None:
    spec = order_spec(order_type)

    assert spec.order_type is order_type
    assert spec.is_buy


def test_trailing_stop_may_name_an_activation_price_as_trigger() -> None:
    spec = order_spec(TRAILING_STOP, trigger_price=Price("105.00"))

    assert spec.trigger_price == Price("105.00")


def test_trailing_stop_in_percent_just_below_100_is_valid() -> None:
    spec = order_spec(
        TRAILING_STOP,
        trailing_offset=Decimal("99.9"),
        trailing_offset_type=TrailingOffsetType.PERCENT,
    )

    assert spec.trailing_offset == Decimal("99.9")


def test_iceberg_limit_with_display_quantity_up_to_the_quantity_is_valid() -> None:
    assert order_spec(display_qty=Quantity("1.000")).display_qty == Quantity("1")


def test_gtd_with_expiry_and_post_only_gtc_limit_are_valid() -> None:
    assert order_spec(time_in_force=TimeInForce.GTD, expire_time_ns=1).expire_time_ns == 1
    assert order_spec(post_only=True).post_only


def test_spec_is_frozen() -> None:
    spec = order_spec()

    with pytest.raises(AttributeError):
        spec.quantity = Quantity("2")  # type: ignore[misc]


def test_sell_spec_is_not_a_buy() -> None:
    assert not order_spec(side=OrderSide.SELL).is_buy


# one test per rule; each message names the order, its type and the field


def test_zero_quantity_is_refused_naming_quantity() -> None:
    with pytest.raises(InvalidValue, match=refused_with(LIMIT, "quantity", "must be positive")):
        order_spec(quantity=Quantity("0.000"))


def test_display_quantity_on_a_market_order_is_refused_naming_display_qty() -> None:
    with pytest.raises(
        InvalidValue,
        match=refused_with(MARKET, "display_qty", "is only for orders with a limit price"),
    ):
        order_spec(MARKET, display_qty=Quantity("0.1"))


@pytest.mark.parametrize("display", ["0", "1.001"])
def test_display_quantity_outside_zero_to_quantity_is_refused_naming_display_qty(
    display: str,
) -> None:
    with pytest.raises(
        InvalidValue, match=refused_with(LIMIT, "display_qty", "must be in (0, quantity=1.000]")
    ):
        order_spec(display_qty=Quantity(display))


@pytest.mark.parametrize("order_type", [LIMIT, STOP_LIMIT, LIMIT_IF_TOUCHED])
def test_limit_order_without_price_is_refused_naming_price(order_type: OrderType) -> None:
    with pytest.raises(InvalidValue, match=refused_with(order_type, "price", "is required")):
        order_spec(order_type, price=None)


@pytest.mark.parametrize("order_type", [MARKET, STOP_MARKET, TRAILING_STOP])
def test_order_without_a_limit_refuses_a_price_naming_price(order_type: OrderType) -> None:
    with pytest.raises(
        InvalidValue, match=refused_with(order_type, "price", "must not be set, got 100.00")
    ):
        order_spec(order_type, price=Price("100.00"))


@pytest.mark.parametrize("order_type", [STOP_MARKET, STOP_LIMIT, LIMIT_IF_TOUCHED])
def test_triggered_order_without_trigger_price_is_refused_naming_trigger_price(
    order_type: OrderType,
) -> None:
    with pytest.raises(
        InvalidValue, match=refused_with(order_type, "trigger_price", "is required")
    ):
        order_spec(order_type, trigger_price=None)


@pytest.mark.parametrize("order_type", [MARKET, LIMIT])
def test_order_without_trigger_refuses_a_trigger_price_naming_trigger_price(
    order_type: OrderType,
) -> None:
    with pytest.raises(
        InvalidValue, match=refused_with(order_type, "trigger_price", "must not be set")
    ):
        order_spec(order_type, trigger_price=Price("99.00"))


@pytest.mark.parametrize("missing", [{"trailing_offset": None}, {"trailing_offset_type": None}])
def test_trailing_stop_without_offset_or_offset_type_is_refused_naming_trailing_offset(
    missing: dict[str, Any],
) -> None:
    with pytest.raises(
        InvalidValue,
        match=refused_with(
            TRAILING_STOP, "trailing_offset", "and trailing_offset_type are required"
        ),
    ):
        order_spec(TRAILING_STOP, **missing)


@pytest.mark.parametrize("offset", ["0", "-1", "NaN", "Infinity"])
def test_trailing_offset_that_is_not_positive_and_finite_is_refused(offset: str) -> None:
    with pytest.raises(
        InvalidValue, match=refused_with(TRAILING_STOP, "trailing_offset", "must be positive")
    ):
        order_spec(TRAILING_STOP, trailing_offset=Decimal(offset))


def test_trailing_offset_of_100_percent_is_refused_naming_trailing_offset() -> None:
    with pytest.raises(
        InvalidValue,
        match=refused_with(TRAILING_STOP, "trailing_offset", "must be below 100 percent"),
    ):
        order_spec(
            TRAILING_STOP,
            trailing_offset=Decimal("100"),
            trailing_offset_type=TrailingOffsetType.PERCENT,
        )


def test_trailing_offset_of_100_as_an_amount_is_valid() -> None:
    spec = order_spec(TRAILING_STOP, trailing_offset=Decimal("100"))

    assert spec.trailing_offset_type is TrailingOffsetType.AMOUNT


@pytest.mark.parametrize(
    "extra",
    [
        {"trailing_offset": Decimal("1")},
        {"trailing_offset_type": TrailingOffsetType.AMOUNT},
    ],
)
def test_trailing_fields_on_another_order_type_are_refused_naming_trailing_offset(
    extra: dict[str, Any],
) -> None:
    with pytest.raises(
        InvalidValue,
        match=refused_with(STOP_MARKET, "trailing_offset", "is only for TRAILING_STOP orders"),
    ):
        order_spec(STOP_MARKET, **extra)


@pytest.mark.parametrize("tif", [TimeInForce.DAY, TimeInForce.GTD])
def test_market_order_lasting_a_day_or_until_a_date_is_refused_naming_time_in_force(
    tif: TimeInForce,
) -> None:
    with pytest.raises(
        InvalidValue,
        match=refused_with(MARKET, "time_in_force", f"must be GTC, IOC or FOK, got {tif}"),
    ):
        order_spec(MARKET, time_in_force=tif, expire_time_ns=1)


@pytest.mark.parametrize("tif", [TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK])
def test_market_order_may_be_gtc_ioc_or_fok(tif: TimeInForce) -> None:
    assert order_spec(MARKET, time_in_force=tif).time_in_force is tif


def test_gtd_without_expiry_is_refused_naming_expire_time_ns() -> None:
    with pytest.raises(
        InvalidValue, match=refused_with(LIMIT, "expire_time_ns", "is required for GTD")
    ):
        order_spec(time_in_force=TimeInForce.GTD)


def test_expiry_without_gtd_is_refused_naming_expire_time_ns() -> None:
    with pytest.raises(
        InvalidValue,
        match=refused_with(LIMIT, "expire_time_ns", "is only for GTD, time_in_force is GTC"),
    ):
        order_spec(expire_time_ns=1)


@pytest.mark.parametrize("expire", [0, -1])
def test_expiry_at_or_before_the_epoch_is_refused_naming_expire_time_ns(expire: int) -> None:
    with pytest.raises(
        InvalidValue, match=refused_with(LIMIT, "expire_time_ns", "must be positive")
    ):
        order_spec(time_in_force=TimeInForce.GTD, expire_time_ns=expire)


@pytest.mark.parametrize("order_type", [MARKET, STOP_MARKET, TRAILING_STOP])
def test_post_only_without_a_limit_price_is_refused_naming_post_only(
    order_type: OrderType,
) -> None:
    with pytest.raises(
        InvalidValue,
        match=refused_with(order_type, "post_only", "is only for orders with a limit price"),
    ):
        order_spec(order_type, post_only=True)


@pytest.mark.parametrize("tif", [TimeInForce.IOC, TimeInForce.FOK])
def test_post_only_that_must_fill_at_once_is_refused_naming_post_only(tif: TimeInForce) -> None:
    with pytest.raises(
        InvalidValue, match=refused_with(LIMIT, "post_only", f"cannot be combined with {tif}")
    ):
        order_spec(post_only=True, time_in_force=tif)


def test_links_without_a_contingency_type_are_refused_naming_linked_order_ids() -> None:
    with pytest.raises(
        InvalidValue, match=refused_with(LIMIT, "linked_order_ids", "need a contingency_type")
    ):
        order_spec(linked_order_ids=(O2,))


@pytest.mark.parametrize("contingency", [ContingencyType.OCO, ContingencyType.OTO])
def test_contingency_without_a_list_is_refused_naming_order_list_id(
    contingency: ContingencyType,
) -> None:
    with pytest.raises(
        InvalidValue,
        match=refused_with(LIMIT, "order_list_id", f"is required for {contingency}"),
    ):
        order_spec(contingency_type=contingency, linked_order_ids=(O2,))


def test_contingency_without_links_is_refused_naming_linked_order_ids() -> None:
    with pytest.raises(
        InvalidValue, match=refused_with(LIMIT, "linked_order_ids", "are required for OTO")
    ):
        order_spec(contingency_type=ContingencyType.OTO, order_list_id=LIST_ID)


def test_order_linking_to_itself_is_refused_naming_linked_order_ids() -> None:
    with pytest.raises(
        InvalidValue,
        match=refused_with(LIMIT, "linked_order_ids", "must not contain the order itself"),
    ):
        order_spec(
            contingency_type=ContingencyType.OCO, order_list_id=LIST_ID, linked_order_ids=(O1,)
        )


def test_order_that_is_its_own_parent_is_refused_naming_parent_order_id() -> None:
    with pytest.raises(
        InvalidValue, match=refused_with(LIMIT, "parent_order_id", "must not be the order itself")
    ):
        order_spec(parent_order_id=O1)


# OrderList


def member(
    client_order_id: ClientOrderId,
    contingency: ContingencyType,
    links: tuple[ClientOrderId, ...],
    **overrides: Any,
) -> OrderSpec:
    fields: dict[str, Any] = {
        "client_order_id": client_order_id,
        "contingency_type": contingency,
        "order_list_id": LIST_ID,
        "linked_order_ids": links,
    }
    return order_spec(**(fields | overrides))


OCO = ContingencyType.OCO
OTO = ContingencyType.OTO
NONE = ContingencyType.NONE


def test_mutual_oco_pair_is_a_valid_list() -> None:
    orders = (member(O1, OCO, (O2,)), member(O2, OCO, (O1,)))

    order_list = OrderList(order_list_id=LIST_ID, orders=orders)

    assert order_list.first is orders[0]
    assert order_list.instrument_id == InstrumentId.from_str("BTC/USDT.BINANCE")


def test_oto_parent_with_children_naming_it_is_a_valid_list() -> None:
    parent = member(O1, OTO, (O2, O3))
    children = (
        member(O2, OCO, (O3,), parent_order_id=O1),
        member(O3, OCO, (O2,), parent_order_id=O1),
    )

    assert len(OrderList(order_list_id=LIST_ID, orders=(parent, *children)).orders) == 3


def test_list_of_one_order_is_refused() -> None:
    with pytest.raises(InvalidValue, match="order list L-1: needs at least 2 orders, got 1"):
        OrderList(order_list_id=LIST_ID, orders=(member(O1, OCO, (O2,)),))


def test_list_with_duplicate_client_order_ids_is_refused() -> None:
    with pytest.raises(InvalidValue, match="client_order_ids must be unique"):
        OrderList(order_list_id=LIST_ID, orders=(member(O1, OCO, (O2,)), member(O1, OCO, (O2,))))


def test_list_spanning_two_instruments_is_refused() -> None:
    foreign = member(O2, OCO, (O1,), instrument_id=InstrumentId.from_str("ETH/USDT.BINANCE"))

    with pytest.raises(InvalidValue, match=r"all orders must be for BTC/USDT\.BINANCE"):
        OrderList(order_list_id=LIST_ID, orders=(member(O1, OCO, (O2,)), foreign))


def test_member_of_another_list_is_refused() -> None:
    stray = member(O2, OCO, (O1,), order_list_id=OrderListId("L-2"))

    with pytest.raises(InvalidValue, match="order O-2 has order_list_id L-2"):
        OrderList(order_list_id=LIST_ID, orders=(member(O1, OCO, (O2,)), stray))


def test_link_to_an_order_outside_the_list_is_refused() -> None:
    with pytest.raises(InvalidValue, match="order O-1 links to O-3, not in the list"):
        OrderList(order_list_id=LIST_ID, orders=(member(O1, OCO, (O3,)), member(O2, OCO, (O1,))))


def test_oco_that_is_not_mutual_is_refused() -> None:
    orders = (member(O1, OCO, (O2, O3)), member(O2, OCO, (O1,)), member(O3, OCO, (O2,)))

    with pytest.raises(InvalidValue, match="OCO link O-1 -> O-3 is not mutual"):
        OrderList(order_list_id=LIST_ID, orders=orders)


def test_oco_linking_to_an_order_without_contingency_is_refused() -> None:
    plain = member(O2, NONE, (), order_list_id=LIST_ID)

    with pytest.raises(InvalidValue, match="OCO order O-1 links to non-OCO"):
        OrderList(order_list_id=LIST_ID, orders=(member(O1, OCO, (O2,)), plain))


def test_oto_child_that_does_not_name_its_parent_is_refused() -> None:
    orphan = member(O2, NONE, ())

    with pytest.raises(InvalidValue, match="child O-2 must name O-1 as parent"):
        OrderList(order_list_id=LIST_ID, orders=(member(O1, OTO, (O2,)), orphan))


def test_child_naming_a_parent_outside_the_list_is_refused() -> None:
    orders = (member(O1, OCO, (O2,), parent_order_id=O3), member(O2, OCO, (O1,)))

    with pytest.raises(InvalidValue, match="O-3"):
        OrderList(order_list_id=LIST_ID, orders=orders)


def test_child_naming_a_parent_that_does_not_link_it_is_refused() -> None:
    orders = (member(O1, OCO, (O2,)), member(O2, OCO, (O1,), parent_order_id=O1))

    with pytest.raises(InvalidValue, match="parent"):
        OrderList(order_list_id=LIST_ID, orders=orders)

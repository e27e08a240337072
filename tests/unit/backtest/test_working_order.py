"""``WorkingOrder``: the price level at which an order acts when the market rises or falls, and
how a trailing stop's trigger follows the market."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.kit.stubs import BTCUSDT, order_spec

from tradeforge.backtest.working_order import WorkingOrder
from tradeforge.domain import (
    ClientOrderId,
    ContingencyType,
    OrderListId,
    OrderSide,
    OrderSpec,
    OrderType,
    Price,
    Quantity,
    TimeInForce,
    TrailingOffsetType,
    VenueOrderId,
)

D = Decimal
BUY, SELL = OrderSide.BUY, OrderSide.SELL
TICK = D("0.01")


def working(spec: OrderSpec, *, expire_ns: int | None = None) -> WorkingOrder:
    return WorkingOrder(spec, VenueOrderId("V-1"), 1, expire_ns)


def trailing(
    side: OrderSide, offset: str, kind: TrailingOffsetType = TrailingOffsetType.AMOUNT
) -> WorkingOrder:
    return working(
        order_spec(
            OrderType.TRAILING_STOP,
            side=side,
            trailing_offset=D(offset),
            trailing_offset_type=kind,
        )
    )


def test_a_new_order_has_nothing_filled_and_carries_its_spec() -> None:
    spec = order_spec(OrderType.LIMIT, quantity=Quantity("2.500"), price=Price("99.50"))

    order = working(spec, expire_ns=123)

    assert order.id == spec.client_order_id
    assert order.venue_order_id == VenueOrderId("V-1")
    assert (order.quantity, order.filled, order.leaves) == (D("2.500"), D(0), D("2.500"))
    assert (order.price, order.trigger, order.expire_ns) == (D("99.50"), None, 123)
    assert order.time_in_force is TimeInForce.GTC
    assert not order.held
    assert not order.marketable_on_arrival


def test_leaves_is_quantity_minus_filled() -> None:
    order = working(order_spec(OrderType.LIMIT, quantity=Quantity("2.500")))

    order.filled = D("0.700")

    assert order.leaves == D("1.800")


@pytest.mark.parametrize(
    ("order_type", "triggered", "is_market", "is_resting_limit"),
    [
        (OrderType.MARKET, True, True, False),
        (OrderType.LIMIT, True, False, True),
        (OrderType.STOP_MARKET, False, False, False),
        (OrderType.STOP_LIMIT, False, False, False),
        (OrderType.TRAILING_STOP, False, False, False),
        (OrderType.LIMIT_IF_TOUCHED, False, False, False),
    ],
)
def test_orders_with_a_trigger_start_untriggered(
    order_type: OrderType, triggered: bool, is_market: bool, is_resting_limit: bool
) -> None:
    order = working(order_spec(order_type))

    assert (order.triggered, order.is_market, order.is_resting_limit) == (
        triggered,
        is_market,
        is_resting_limit,
    )


@pytest.mark.parametrize(
    ("order_type", "is_market", "is_resting_limit"),
    [
        (OrderType.STOP_MARKET, True, False),
        (OrderType.TRAILING_STOP, True, False),
        (OrderType.STOP_LIMIT, False, True),
        (OrderType.LIMIT_IF_TOUCHED, False, True),
    ],
)
def test_a_triggered_stop_becomes_a_market_or_a_limit_order(
    order_type: OrderType, is_market: bool, is_resting_limit: bool
) -> None:
    order = working(order_spec(order_type))

    order.triggered = True

    assert (order.is_market, order.is_resting_limit) == (is_market, is_resting_limit)


# level(up): where the order acts when the market rises (up=True) or falls (up=False)


@pytest.mark.parametrize(
    ("order_type", "side", "up_level", "down_level"),
    [
        # a buy limit is hit by a falling market, a sell limit by a rising one
        (OrderType.LIMIT, BUY, None, D("100.00")),
        (OrderType.LIMIT, SELL, D("100.00"), None),
        # stops wait for the market to move through the trigger against the position
        (OrderType.STOP_MARKET, BUY, D("101.00"), None),
        (OrderType.STOP_MARKET, SELL, None, D("101.00")),
        (OrderType.STOP_LIMIT, BUY, D("101.00"), None),
        (OrderType.STOP_LIMIT, SELL, None, D("101.00")),
        # if-touched orders wait for a move in their favour
        (OrderType.LIMIT_IF_TOUCHED, BUY, None, D("101.00")),
        (OrderType.LIMIT_IF_TOUCHED, SELL, D("101.00"), None),
        # a market order never waits at a level
        (OrderType.MARKET, BUY, None, None),
    ],
)
def test_level_is_where_the_market_reaches_the_order(
    order_type: OrderType, side: OrderSide, up_level: Decimal | None, down_level: Decimal | None
) -> None:
    order = working(order_spec(order_type, side=side))

    assert (order.level(up=True), order.level(up=False)) == (up_level, down_level)


@pytest.mark.parametrize(
    ("order_type", "side", "up_level", "down_level"),
    [
        (OrderType.STOP_LIMIT, BUY, None, D("100.00")),
        (OrderType.STOP_LIMIT, SELL, D("100.00"), None),
        (OrderType.LIMIT_IF_TOUCHED, BUY, None, D("100.00")),
        (OrderType.STOP_MARKET, BUY, None, None),
    ],
)
def test_a_triggered_order_acts_at_its_limit_or_at_no_level(
    order_type: OrderType, side: OrderSide, up_level: Decimal | None, down_level: Decimal | None
) -> None:
    order = working(order_spec(order_type, side=side))

    order.triggered = True

    assert (order.level(up=True), order.level(up=False)) == (up_level, down_level)


@pytest.mark.parametrize("order_type", list(OrderType))
def test_a_held_order_acts_at_no_level(order_type: OrderType) -> None:
    order = working(order_spec(order_type))

    order.held = True

    assert (order.level(up=True), order.level(up=False)) == (None, None)


def test_is_oco_follows_the_contingency_type() -> None:
    oco = order_spec(
        OrderType.LIMIT,
        contingency_type=ContingencyType.OCO,
        order_list_id=OrderListId("L-1"),
        linked_order_ids=(ClientOrderId("O-2"),),
    )
    oto = order_spec(
        OrderType.LIMIT,
        contingency_type=ContingencyType.OTO,
        order_list_id=OrderListId("L-1"),
        linked_order_ids=(ClientOrderId("O-2"),),
    )

    assert working(oco).is_oco
    assert not working(oto).is_oco
    assert not working(order_spec()).is_oco


# trailing stops


def test_a_sell_trailing_stop_by_amount_sits_the_offset_below_its_reference() -> None:
    order = trailing(SELL, "2.50")

    order.trail(D("100.00"), TICK)

    assert (order.trail_ref, order.trigger) == (D("100.00"), D("97.50"))


def test_a_buy_trailing_stop_by_amount_sits_the_offset_above_its_reference() -> None:
    order = trailing(BUY, "2.50")

    order.trail(D("100.00"), TICK)

    assert (order.trail_ref, order.trigger) == (D("100.00"), D("102.50"))


def test_a_sell_trailing_stop_follows_only_a_rising_market() -> None:
    order = trailing(SELL, "2.00")
    order.trail(D("100.00"), TICK)

    order.trail(D("99.00"), TICK)
    after_dip = order.trigger
    order.trail(D("104.00"), TICK)
    after_rise = order.trigger
    order.trail(D("103.00"), TICK)

    assert (after_dip, after_rise, order.trigger) == (D("98.00"), D("102.00"), D("102.00"))
    assert order.trail_ref == D("104.00")


def test_a_buy_trailing_stop_follows_only_a_falling_market() -> None:
    order = trailing(BUY, "2.00")
    order.trail(D("100.00"), TICK)

    order.trail(D("101.00"), TICK)
    order.trail(D("96.00"), TICK)
    order.trail(D("97.00"), TICK)

    assert (order.trail_ref, order.trigger) == (D("96.00"), D("98.00"))


def test_without_an_activation_price_the_first_price_starts_the_trail() -> None:
    order = trailing(SELL, "2.00")
    assert (order.trail_ref, order.trigger) == (None, None)

    order.trail(D("150.00"), TICK)

    assert (order.trail_ref, order.trigger) == (D("150.00"), D("148.00"))


def test_percent_offsets_round_away_from_the_market_to_the_tick() -> None:
    sell = trailing(SELL, "1", TrailingOffsetType.PERCENT)
    buy = trailing(BUY, "1", TrailingOffsetType.PERCENT)

    sell.trail(D("101.37"), TICK)  # 101.37 - 1.0137 = 100.3563 -> down to 100.35
    buy.trail(D("101.37"), TICK)  # 101.37 + 1.0137 = 102.3837 -> up to 102.39

    assert (sell.trigger, buy.trigger) == (D("100.35"), D("102.39"))


def test_percent_offset_is_taken_from_the_new_reference() -> None:
    order = trailing(SELL, "1.5", TrailingOffsetType.PERCENT)
    order.trail(D("100.00"), TICK)
    first = order.trigger

    order.trail(D("110.00"), TICK)

    assert (first, order.trigger) == (D("98.50"), D("108.35"))


@settings(max_examples=200, deadline=None)
@given(
    side=st.sampled_from([BUY, SELL]),
    kind=st.sampled_from(list(TrailingOffsetType)),
    offset_ticks=st.integers(min_value=1, max_value=5_000),
    path=st.lists(st.integers(min_value=1, max_value=1_000_000), min_size=1, max_size=20),
)
def test_a_trailing_trigger_is_on_tick_and_on_the_safe_side_of_the_best_price(
    side: OrderSide, kind: TrailingOffsetType, offset_ticks: int, path: list[int]
) -> None:
    offset = D(offset_ticks) * TICK if kind is TrailingOffsetType.AMOUNT else D(offset_ticks) / 100
    order = working(
        order_spec(
            OrderType.TRAILING_STOP,
            side=side,
            instrument_id=BTCUSDT,
            trailing_offset=offset,
            trailing_offset_type=kind,
        )
    )
    prices = [D(p) * TICK for p in path]

    order.trail(prices[0], TICK)
    for price in prices[1:]:
        order.trail(price, TICK)

    best = max(prices) if side is SELL else min(prices)
    assert order.trail_ref == best
    assert order.trigger is not None
    assert order.trigger % TICK == 0
    assert order.trigger < best if side is SELL else order.trigger > best


def test_repr_names_side_leaves_and_state() -> None:
    order = working(order_spec(OrderType.STOP_LIMIT, side=SELL, quantity=Quantity("1.000")))

    assert repr(order) == (
        "WorkingOrder(O-1, SELL 1.000/1.000 STOP_LIMIT px=100.00 trg=101.00 "
        "triggered=False held=False)"
    )

import re
from typing import Any

import msgspec
import pytest
from tests.kit.stubs import BTCUSDT, STRATEGY, TS, order_spec

from tradeforge.domain import (
    CancelAllOrders,
    CancelOrder,
    ClientOrderId,
    ClientOrderIdGenerator,
    InvalidValue,
    ModifyOrder,
    OrderFactory,
    OrderList,
    OrderSide,
    Price,
    Quantity,
    QueryOrder,
    StrategyId,
    SubmitOrder,
    SubmitOrderList,
)

OTHER = StrategyId("someone_else-9")
TIMES: dict[str, Any] = {"ts_event": TS, "ts_init": TS + 1}


def test_submit_order_carries_the_spec_of_its_strategy() -> None:
    spec = order_spec()

    command = SubmitOrder(strategy_id=STRATEGY, spec=spec, **TIMES)

    assert command.spec is spec
    assert command.account_id is None


def test_submit_order_with_a_spec_from_another_strategy_is_refused() -> None:
    with pytest.raises(
        InvalidValue,
        match=re.escape("spec.strategy_id ema_cross-001 is not the command's strategy_id"),
    ):
        SubmitOrder(strategy_id=OTHER, spec=order_spec(), **TIMES)


def bracket(strategy_id: StrategyId) -> OrderList:
    return OrderFactory(strategy_id, ClientOrderIdGenerator("B")).bracket(
        BTCUSDT,
        OrderSide.BUY,
        Quantity("1.000"),
        stop_loss=Price("90.00"),
        take_profit=Price("110.00"),
    )


def test_submit_order_list_of_its_own_strategy() -> None:
    command = SubmitOrderList(strategy_id=STRATEGY, order_list=bracket(STRATEGY), **TIMES)

    assert len(command.order_list.orders) == 3


def test_submit_order_list_with_an_order_of_another_strategy_is_refused() -> None:
    with pytest.raises(InvalidValue, match="order B-2 belongs to ema_cross-001, not someone"):
        SubmitOrderList(strategy_id=OTHER, order_list=bracket(STRATEGY), **TIMES)


def modify(**changes: Any) -> ModifyOrder:
    return ModifyOrder(
        strategy_id=STRATEGY,
        instrument_id=BTCUSDT,
        client_order_id=ClientOrderId("O-1"),
        **TIMES,
        **changes,
    )


@pytest.mark.parametrize(
    "change",
    [
        {"quantity": Quantity("2")},
        {"price": Price("99.00")},
        {"trigger_price": Price("98.00")},
    ],
)
def test_modify_order_changes_at_least_one_thing(change: dict[str, Any]) -> None:
    command = modify(**change)

    fields = msgspec.structs.asdict(command)
    assert {name: fields[name] for name in change} == change
    assert sum(fields[name] is not None for name in ("quantity", "price", "trigger_price")) == 1


def test_modify_order_with_nothing_to_change_is_refused() -> None:
    with pytest.raises(InvalidValue, match="ModifyOrder O-1: give quantity, price or trigger"):
        modify()


def test_modify_order_to_zero_quantity_is_refused() -> None:
    with pytest.raises(InvalidValue, match="ModifyOrder O-1: quantity must be positive"):
        modify(quantity=Quantity("0.000"))


def test_cancel_query_and_cancel_all_name_their_targets() -> None:
    cancel = CancelOrder(
        strategy_id=STRATEGY, instrument_id=BTCUSDT, client_order_id=ClientOrderId("O-1"), **TIMES
    )
    query = QueryOrder(
        strategy_id=STRATEGY, instrument_id=BTCUSDT, client_order_id=ClientOrderId("O-1"), **TIMES
    )
    cancel_all = CancelAllOrders(
        strategy_id=STRATEGY, instrument_id=BTCUSDT, side=OrderSide.SELL, **TIMES
    )

    assert cancel.client_order_id == query.client_order_id
    assert cancel_all.side is OrderSide.SELL
    assert CancelAllOrders(strategy_id=STRATEGY, instrument_id=BTCUSDT, **TIMES).side is None


def test_commands_are_frozen_and_keyword_only() -> None:
    command = SubmitOrder(strategy_id=STRATEGY, spec=order_spec(), **TIMES)

    with pytest.raises(AttributeError):
        command.strategy_id = OTHER  # type: ignore[misc]
    with pytest.raises(TypeError):
        SubmitOrder(STRATEGY, order_spec(), TS, TS)  # type: ignore[call-arg,arg-type]


def test_commands_are_tagged_with_their_class_name() -> None:
    assert SubmitOrder.__struct_config__.tag == "SubmitOrder"
    assert SubmitOrder.__struct_config__.tag_field == "type"

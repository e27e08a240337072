"""Contingent groups managed by the node: OTO children wait for their parent, OCO members
cancel each other, a partly filled parent releases its children for what it filled."""

from __future__ import annotations

from tradeforge.backtest import spot_pair
from tradeforge.domain import (
    AccountId,
    ClientOrderId,
    ClientOrderIdGenerator,
    InstrumentId,
    LiquiditySide,
    Money,
    OrderAccepted,
    OrderCanceled,
    OrderFactory,
    OrderFilled,
    OrderSide,
    OrderSpec,
    OrderSubmitted,
    Price,
    Quantity,
    StrategyId,
    TradeId,
    VenueOrderId,
)
from tradeforge.domain.money import KNOWN_CURRENCIES
from tradeforge.trading import OrderManager
from tradeforge.trading.contingency import ContingencyManager, resized_id

IID = InstrumentId("BTC/USDT", "SIM")
INST = spot_pair(IID, price_precision=2, size_precision=3)
USDT = KNOWN_CURRENCIES["USDT"]


def factory() -> OrderFactory:
    return OrderFactory(StrategyId("s"), ClientOrderIdGenerator("T"))


def fill(spec: OrderSpec, qty: str, n: int = 0) -> OrderFilled:
    return OrderFilled(
        **spec.ids(), account_id=AccountId("A-1"), venue_order_id=VenueOrderId("v"),
        trade_id=TradeId(f"t-{spec.client_order_id}-{n}"), order_side=spec.side,
        order_type=spec.order_type, last_qty=Quantity(qty), last_px=Price("100.00"),
        commission=Money("0", USDT), liquidity_side=LiquiditySide.TAKER, ts_event=1, ts_init=1,
    )  # fmt: skip


def bracket() -> tuple[ContingencyManager, OrderSpec, OrderSpec, OrderSpec]:
    group = factory().bracket(
        IID, OrderSide.BUY, Quantity("1.000"), stop_loss=Price("90.00"),
        take_profit=Price("110.00"),
    )  # fmt: skip
    manager = ContingencyManager({IID: INST}.get)
    entry, sl, tp = group.orders
    assert manager.register(group) == [entry]
    assert manager.held(sl.client_order_id)
    assert manager.held(tp.client_order_id)
    return manager, entry, sl, tp


def test_children_wait_for_the_whole_entry_then_one_exit_cancels_the_other() -> None:
    manager, entry, sl, tp = bracket()
    assert manager.on_event(fill(entry, "0.400", 0)) == []  # partly filled: still waiting
    released = manager.on_event(fill(entry, "0.600", 1))
    assert [a.spec.client_order_id for a in released if a.spec] == [
        sl.client_order_id,
        tp.client_order_id,
    ]
    actions = manager.on_event(fill(tp, "0.500"))
    assert [a.cancel for a in actions] == [sl.client_order_id]
    assert manager.on_event(fill(tp, "0.500", 1)) == []  # nothing more to do


def test_a_parent_ending_partly_filled_releases_children_for_what_filled() -> None:
    manager, entry, sl, tp = bracket()
    manager.on_event(fill(entry, "0.250"))
    end = OrderCanceled(**entry.ids(), reason="user", ts_event=2, ts_init=2)
    released = [a for a in manager.on_event(end) if a.spec is not None]
    assert [a.replaces for a in released] == [sl.client_order_id, tp.client_order_id]
    assert {a.spec.quantity for a in released if a.spec} == {Quantity("0.250")}
    new_sl, new_tp = (a.spec for a in released if a.spec)
    # The resized exits still cancel each other (either one: each links the other's new id).
    assert new_sl.linked_order_ids == (new_tp.client_order_id,)
    assert new_tp.linked_order_ids == (new_sl.client_order_id,)
    assert [a.cancel for a in manager.on_event(fill(new_tp, "0.250"))] == [new_sl.client_order_id]


def test_a_parent_ending_unfilled_drops_its_children() -> None:
    manager, entry, sl, _tp = bracket()
    end = OrderCanceled(**entry.ids(), reason="user", ts_event=2, ts_init=2)
    assert manager.on_event(end) == []
    assert manager.on_event(fill(sl, "1.000")) == []  # never sent, never acted on


def test_oco_pair_cancels_the_other_on_a_fill_or_an_end() -> None:
    group = factory().oco(
        IID, OrderSide.SELL, Quantity("2.000"), limit_price=Price("120.00"),
        stop_trigger=Price("80.00"),
    )  # fmt: skip
    manager = ContingencyManager({IID: INST}.get)
    limit, stop = group.orders
    assert manager.register(group) == [limit, stop]
    end = OrderCanceled(**stop.ids(), reason="venue", ts_event=3, ts_init=3)
    assert [a.cancel for a in manager.on_event(end)] == [limit.client_order_id]
    assert manager.on_event(fill(limit, "2.000")) == []  # already being cancelled: no repeat


def journaled(*specs: OrderSpec, working: tuple[OrderSpec, ...] = ()) -> OrderManager:
    """An OMS as a restart rebuilds it: ``specs`` journaled, ``working`` accepted at the venue."""
    oms = OrderManager()
    for spec in specs:
        oms.create(spec, 1)
    for spec in working:
        oms.apply(OrderSubmitted(**spec.ids(), account_id=AccountId("A-1"), ts_event=2, ts_init=2))
        oms.apply(OrderAccepted(**spec.ids(), account_id=AccountId("A-1"),
                                venue_order_id=VenueOrderId(f"v-{spec.client_order_id}"),
                                ts_event=3, ts_init=3))  # fmt: skip
    return oms


def test_restored_children_stay_held_while_the_entry_is_open_then_go_out_on_its_fill() -> None:
    _, entry, sl, tp = bracket()
    restarted = ContingencyManager({IID: INST}.get)
    assert restarted.restore(journaled(entry, sl, tp, working=(entry,))) == []
    assert restarted.held(sl.client_order_id)
    assert restarted.held(tp.client_order_id)
    released = restarted.on_event(fill(entry, "1.000"))
    assert [a.spec.client_order_id for a in released if a.spec] == [
        sl.client_order_id,
        tp.client_order_id,
    ]
    assert [a.cancel for a in restarted.on_event(fill(sl, "1.000"))] == [tp.client_order_id]


def test_restored_children_of_an_entry_that_ended_partly_filled_are_resized_once() -> None:
    _, entry, sl, tp = bracket()
    oms = journaled(entry, sl, tp, working=(entry,))
    oms.apply(fill(entry, "0.250"))
    oms.apply(OrderCanceled(**entry.ids(), reason="venue", ts_event=4, ts_init=4))
    restarted = ContingencyManager({IID: INST}.get)
    released = restarted.restore(oms)
    assert [a.replaces for a in released] == [sl.client_order_id, tp.client_order_id]
    assert {a.spec.quantity for a in released if a.spec} == {Quantity("0.250")}
    # A crash after the resized exits were journaled, before the held ones were cancelled:
    # the next restart sends the resized exits as they are, linked to each other.
    for action in released:
        assert action.spec is not None
        oms.create(action.spec, 5)
    again = ContingencyManager({IID: INST}.get)
    sent = again.restore(oms)
    new_sl, new_tp = resized_id(sl.client_order_id), resized_id(tp.client_order_id)
    assert [(a.spec.client_order_id, a.replaces) for a in sent if a.spec] == [
        (new_sl, None),
        (new_tp, None),
    ]
    assert not again.held(sl.client_order_id)
    new_tp_spec = again.group_of(new_tp)[new_tp]
    assert [a.cancel for a in again.on_event(fill(new_tp_spec, "0.250"))] == [new_sl]


def test_restored_native_pairs_stay_native_and_local_pairs_link_again() -> None:
    group = factory().oco(
        IID, OrderSide.SELL, Quantity("2.000"), limit_price=Price("120.00"),
        stop_trigger=Price("80.00"),
    )  # fmt: skip
    limit, stop = group.orders
    before = ContingencyManager({IID: INST}.get)
    before.register(group)
    before.mark_native((limit.client_order_id, stop.client_order_id))
    saved = before.dump()
    assert saved == {"native": sorted([limit.client_order_id.value, stop.client_order_id.value])}
    oms = journaled(limit, stop, working=(limit, stop))
    native = ContingencyManager({IID: INST}.get)
    assert native.restore(oms, saved=saved) == []
    assert native.is_native(limit.client_order_id)
    assert native.on_event(fill(limit, "2.000")) == []  # the venue expires the stop itself
    local = ContingencyManager({IID: INST}.get)
    assert local.restore(oms) == []
    assert [a.cancel for a in local.on_event(fill(limit, "2.000"))] == [stop.client_order_id]
    assert local.group_of(ClientOrderId("unknown")) == {}

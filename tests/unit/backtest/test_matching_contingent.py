"""Contingent orders in the matching engine: an OCO fill cancels the other leg; a bracket's
stop-loss and take-profit stay idle until the entry fills, never both fill, and shrink together
on a partial fill; canceling an unfilled entry cancels its children."""

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.kit.stubs import BTCUSDT
from tests.kit.venue import (
    MAKER,
    TAKER,
    Canceled,
    D,
    Filled,
    Triggered,
    Updated,
    make_engine,
    order_factory,
)

from tradeforge.backtest import FillModel, MatchingEngine
from tradeforge.domain import ClientOrderId, OrderFactory, OrderSide, Price, Quantity, RejectReason

BUY, SELL = OrderSide.BUY, OrderSide.SELL
ONE = Quantity("1.000")


@dataclass(frozen=True)
class Bracket:
    entry: str
    stop: str
    target: str


def submit_bracket(
    engine: MatchingEngine,
    orders: OrderFactory,
    ts: int,
    *,
    side: OrderSide = BUY,
    quantity: Quantity = ONE,
    stop_loss: str = "95.00",
    take_profit: str = "105.00",
    entry_price: str | None = None,
) -> Bracket:
    """Submit a bracket as the venue does: the entry normally, its children held."""
    entry, stop, target = orders.bracket(
        BTCUSDT,
        side,
        quantity,
        stop_loss=Price(stop_loss),
        take_profit=Price(take_profit),
        entry_price=Price(entry_price) if entry_price is not None else None,
    ).orders
    engine.submit(entry, ts)
    engine.submit(stop, ts, held=True)
    engine.submit(target, ts, held=True)
    return Bracket(
        entry.client_order_id.value, stop.client_order_id.value, target.client_order_id.value
    )


# OCO


def test_an_oco_fill_cancels_the_other_leg() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    limit, stop = orders.oco(
        BTCUSDT, SELL, ONE, limit_price=Price("105.00"), stop_trigger=Price("95.00")
    ).orders
    engine.submit(limit, tape.now)
    engine.submit(stop, tape.now)
    listener.clear()

    tape.bar("100.00", "106.00", "94.00", "103.00")  # O->L->H->C: the stop is reached first

    assert listener.calls == [
        Triggered("O-3"),
        Filled("O-3", D("1.000"), D("95.00"), TAKER),
        Canceled("O-2", "OCO sibling filled"),
    ]
    assert not engine.has_orders


def test_a_partial_oco_fill_cancels_the_other_leg_at_once() -> None:
    engine, listener, tape = make_engine(fill_model=FillModel(max_volume_fraction=D("0.1")))
    orders = order_factory()
    tape.flat("100.00")
    limit, stop = orders.oco(
        BTCUSDT, SELL, ONE, limit_price=Price("105.00"), stop_trigger=Price("95.00")
    ).orders
    engine.submit(limit, tape.now)
    engine.submit(stop, tape.now)
    listener.clear()

    tape.bar("100.00", "106.00", "99.00", "101.00", volume="4")

    assert listener.calls == [
        Filled("O-2", D("0.400"), D("105.00"), MAKER),
        Canceled("O-3", "OCO sibling filled"),
    ]
    assert [order.id.value for order in engine.orders()] == ["O-2"]


def test_canceling_one_oco_leg_cancels_the_other() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    limit, stop = orders.oco(
        BTCUSDT, SELL, ONE, limit_price=Price("105.00"), stop_trigger=Price("95.00")
    ).orders
    engine.submit(limit, tape.now)
    engine.submit(stop, tape.now)
    listener.clear()

    engine.cancel(limit.client_order_id, tape.now)

    assert listener.calls == [
        Canceled("O-2", "canceled"),
        Canceled("O-3", "OCO sibling canceled"),
    ]


def test_a_refused_fill_cancels_the_oco_leg_and_its_sibling() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    limit, stop = orders.oco(
        BTCUSDT, SELL, ONE, limit_price=Price("105.00"), stop_trigger=Price("95.00")
    ).orders
    engine.submit(limit, tape.now)
    engine.submit(stop, tape.now)
    listener.refuse_fills("O-2", RejectReason.INSUFFICIENT_BALANCE)
    listener.clear()

    tape.bar("100.00", "106.00", "99.00", "101.00")

    assert listener.calls == [
        Canceled("O-2", "fill refused: INSUFFICIENT_BALANCE"),
        Canceled("O-3", "OCO sibling canceled"),
    ]


# brackets


def test_bracket_children_stay_idle_until_the_entry_fills() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    ids = submit_bracket(engine, orders, tape.now, entry_price="96.00", stop_loss="90.00")
    listener.clear()

    # reaches the target (105) and stays above the entry (96): nothing may happen
    tape.bar("100.00", "106.00", "97.00", "101.00")
    idle = list(listener.calls)
    tape.bar("101.00", "101.00", "95.00", "96.00")  # O->H->L->C: the entry fills at 96
    entry_bar = list(listener.calls)
    tape.bar("96.00", "106.00", "96.00", "105.00")  # now the target works

    assert idle == []
    assert entry_bar == [Filled(ids.entry, D("1.000"), D("96.00"), MAKER)]
    assert listener.calls[1:] == [
        Filled(ids.target, D("1.000"), D("105.00"), MAKER),
        Canceled(ids.stop, "OCO sibling filled"),
    ]


def test_a_market_entry_gapping_through_the_stop_stops_out_at_the_same_open() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    ids = submit_bracket(engine, orders, tape.now, stop_loss="90.00", take_profit="110.00")
    listener.clear()

    gap = tape.bar("85.00", "86.00", "84.00", "85.00")

    assert listener.calls == [
        Filled(ids.entry, D("1.000"), D("85.00"), TAKER),
        Triggered(ids.stop),
        Filled(ids.stop, D("1.000"), D("85.00"), TAKER),
        Canceled(ids.target, "OCO sibling filled"),
    ]
    assert {call.ts for call in listener.calls} == {gap.ts_open}


def test_an_entry_filled_inside_a_bar_releases_children_that_continue_along_the_path() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    ids = submit_bracket(engine, orders, tape.now, entry_price="96.00", stop_loss="95.00")
    listener.clear()

    tape.bar("100.00", "101.00", "94.00", "95.50")  # O->H->L->C: 96 fills, then 95 stops out

    assert listener.calls == [
        Filled(ids.entry, D("1.000"), D("96.00"), MAKER),
        Triggered(ids.stop),
        Filled(ids.stop, D("1.000"), D("95.00"), TAKER),
        Canceled(ids.target, "OCO sibling filled"),
    ]


def test_a_take_profit_released_inside_a_bar_only_fills_where_the_path_goes_next() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    ids = submit_bracket(
        engine, orders, tape.now, entry_price="96.00", stop_loss="90.00", take_profit="98.00"
    )
    listener.clear()

    tape.bar("100.00", "101.00", "95.00", "96.00")  # O->H->L->C: entry at 96 on 101 -> 95

    assert listener.calls == [Filled(ids.entry, D("1.000"), D("96.00"), MAKER)]


def test_a_partial_fill_of_one_bracket_exit_cancels_the_other() -> None:
    engine, listener, tape = make_engine(fill_model=FillModel(max_volume_fraction=D("0.1")))
    orders = order_factory()
    tape.flat("100.00")
    ids = submit_bracket(engine, orders, tape.now)
    tape.flat("100.00", volume="100")  # the entry fills in full at this open
    listener.clear()

    tape.bar("100.00", "100.00", "94.00", "94.50", volume="4")  # the stop gets 0.400

    assert listener.calls == [
        Triggered(ids.stop),
        Filled(ids.stop, D("0.400"), D("95.00"), TAKER),
        Canceled(ids.target, "OCO sibling filled"),
    ]
    stop = engine.get(ClientOrderId(ids.stop))
    assert stop is not None
    assert stop.leaves == D("0.600")
    assert engine.get(ClientOrderId(ids.target)) is None


def test_a_triggered_stop_exit_keeps_filling_after_the_target_is_canceled() -> None:
    engine, listener, tape = make_engine(fill_model=FillModel(max_volume_fraction=D("0.1")))
    orders = order_factory()
    tape.flat("100.00")
    ids = submit_bracket(engine, orders, tape.now)
    tape.flat("100.00", volume="100")

    tape.bar("100.00", "100.00", "94.00", "94.50", volume="4")  # stop: 0.400 at 95
    tape.bar("100.00", "106.00", "99.00", "105.00", volume="4")  # 0.400 more at the open
    tape.bar("101.00", "101.00", "100.00", "100.50", volume="4")  # the last 0.200

    assert listener.calls[-1] == Filled(ids.stop, D("0.200"), D("101.00"), TAKER)
    assert listener.filled_qty(ids.stop) == D("1.000")
    assert listener.fills(ids.target) == []
    assert not engine.has_orders


def test_under_a_volume_cap_a_bracket_stop_and_target_still_never_both_fill() -> None:
    engine, listener, tape = make_engine(fill_model=FillModel(max_volume_fraction=D("0.1")))
    orders = order_factory()
    tape.flat("100.00")
    ids = submit_bracket(engine, orders, tape.now)
    tape.flat("100.00", volume="100")  # the entry fills in full

    tape.bar("100.00", "106.00", "99.00", "105.00", volume="4")  # the target gets 0.400
    tape.bar("100.00", "100.00", "94.00", "94.50", volume="100")  # the stop is reached

    assert not (listener.fills(ids.stop) and listener.fills(ids.target))


def test_canceling_an_unfilled_entry_cancels_its_children() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    ids = submit_bracket(engine, orders, tape.now, entry_price="96.00", stop_loss="90.00")
    listener.clear()

    engine.cancel(ClientOrderId(ids.entry), tape.now)

    assert listener.calls == [
        Canceled(ids.entry, "canceled"),
        Canceled(ids.stop, "parent order did not fill"),
        Canceled(ids.target, "parent order did not fill"),
    ]
    assert not engine.has_orders


def test_a_partly_filled_entry_canceled_releases_children_for_the_filled_quantity() -> None:
    engine, listener, tape = make_engine(fill_model=FillModel(max_volume_fraction=D("0.1")))
    orders = order_factory()
    tape.flat("100.00")
    ids = submit_bracket(engine, orders, tape.now, entry_price="96.00", stop_loss="90.00")
    tape.bar("100.00", "100.00", "96.00", "97.00", volume="3")  # the entry gets 0.300
    listener.clear()

    engine.cancel(ClientOrderId(ids.entry), tape.now)

    assert listener.calls == [
        Canceled(ids.entry, "canceled"),
        Updated(ids.stop, D("0.300"), None, D("90.00")),
        Updated(ids.target, D("0.300"), D("105.00"), None),
    ]
    assert [(o.id.value, o.held, o.leaves) for o in engine.orders()] == [
        (ids.stop, False, D("0.300")),
        (ids.target, False, D("0.300")),
    ]


def test_a_refused_entry_fill_cancels_the_entry_and_its_children() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    ids = submit_bracket(engine, orders, tape.now)
    listener.refuse_fills(ids.entry)
    listener.clear()

    tape.flat("100.00")

    assert listener.calls == [
        Canceled(ids.entry, "fill refused: INSUFFICIENT_BALANCE"),
        Canceled(ids.stop, "parent order did not fill"),
        Canceled(ids.target, "parent order did not fill"),
    ]


def test_a_sell_bracket_stops_out_above_and_takes_profit_below() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    ids = submit_bracket(
        engine, orders, tape.now, side=SELL, stop_loss="105.00", take_profit="95.00"
    )
    tape.flat("100.00")
    listener.clear()

    tape.bar("100.00", "106.00", "94.00", "97.00")  # bearish: the high (stop) first

    assert listener.calls == [
        Triggered(ids.stop),
        Filled(ids.stop, D("1.000"), D("105.00"), TAKER),
        Canceled(ids.target, "OCO sibling filled"),
    ]


# property: a bracket's stop and target never both fill


@st.composite
def _bar_points(draw: st.DrawFn) -> tuple[str, str, str, str, str]:
    points = draw(st.lists(st.integers(8_500, 11_500), min_size=4, max_size=4))
    volume = draw(st.integers(1, 40))

    def px(ticks: int) -> str:
        return str(D(ticks).scaleb(-2))

    return px(points[0]), px(max(points)), px(min(points)), px(points[3]), str(volume)


@settings(max_examples=150, deadline=None)
@given(
    bars=st.lists(_bar_points(), min_size=1, max_size=8),
    entry_ticks=st.one_of(st.none(), st.integers(9_600, 10_400)),
    side=st.sampled_from([BUY, SELL]),
)
def test_a_bracket_orders_stop_and_target_never_both_fill(
    bars: list[tuple[str, str, str, str, str]], entry_ticks: int | None, side: OrderSide
) -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    low, high = "95.00", "105.00"
    ids = submit_bracket(
        engine,
        orders,
        tape.now,
        side=side,
        stop_loss=low if side is BUY else high,
        take_profit=high if side is BUY else low,
        entry_price=str(D(entry_ticks).scaleb(-2)) if entry_ticks is not None else None,
    )

    for o, h, lo, c, volume in bars:
        tape.bar(o, h, lo, c, volume=volume)

    assert not (listener.fills(ids.stop) and listener.fills(ids.target))
    exits = listener.filled_qty(ids.stop) + listener.filled_qty(ids.target)
    assert exits <= listener.filled_qty(ids.entry)


@settings(max_examples=150, deadline=None)
@given(bars=st.lists(_bar_points(), min_size=1, max_size=8), side=st.sampled_from([BUY, SELL]))
def test_bracket_exits_with_a_volume_cap_never_exceed_the_entry(
    bars: list[tuple[str, str, str, str, str]], side: OrderSide
) -> None:
    engine, listener, tape = make_engine(fill_model=FillModel(max_volume_fraction=D("0.05")))
    orders = order_factory()
    tape.flat("100.00")
    low, high = "95.00", "105.00"
    ids = submit_bracket(
        engine,
        orders,
        tape.now,
        side=side,
        stop_loss=low if side is BUY else high,
        take_profit=high if side is BUY else low,
    )

    for o, h, lo, c, volume in bars:
        tape.bar(o, h, lo, c, volume=volume)

    exits = listener.filled_qty(ids.stop) + listener.filled_qty(ids.target)
    assert exits <= listener.filled_qty(ids.entry)

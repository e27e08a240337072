# mypy narrows order.status after each assert, though apply() changes it between them:
# mypy: disable-error-code="comparison-overlap,unreachable"
import contextlib
import gc
import re
from decimal import Decimal

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.kit.stubs import (
    ACCOUNT,
    USDT,
    accepted,
    cancel_rejected,
    canceled,
    denied,
    expired,
    filled,
    initialized,
    modify_rejected,
    order,
    order_spec,
    pending_cancel,
    pending_update,
    rejected,
    submitted,
    triggered,
    updated,
)

from tradeforge import _native as native
from tradeforge.domain import (
    KNOWN_CURRENCIES,
    ClientOrderId,
    InvalidTransition,
    InvalidValue,
    Money,
    Order,
    OrderEvent,
    OrderFilled,
    OrderSide,
    OrderStatus,
    OrderType,
    Price,
    Quantity,
    TradeId,
    VenueOrderId,
)

S = OrderStatus
BNB = KNOWN_CURRENCIES["BNB"]
SPEC = order_spec()  # LIMIT BUY 1.000 BTC/USDT @ 100.00
STOP = order_spec(OrderType.STOP_MARKET, client_order_id=ClientOrderId("O-1"))


def snapshot(target: Order) -> dict[str, object]:
    """Everything an event may change, to check that a refused event changed nothing."""
    return {
        "status": target.status,
        "quantity": target.quantity,
        "price": target.price,
        "trigger_price": target.trigger_price,
        "filled_qty": target.filled_qty,
        "leaves_qty": target.leaves_qty,
        "filled_notional": target.filled_notional,
        "fees": dict(target.fees),
        "events": len(target.events),
        "account_id": target.account_id,
        "venue_order_id": target.venue_order_id,
        "ts_last": target.ts_last,
        "is_open": target.is_open,
        "is_inflight": target.is_inflight,
    }


# a new order


def test_new_order_repeats_its_spec_and_has_nothing_filled() -> None:
    new = order(SPEC)

    assert new.status is S.INITIALIZED
    assert new.client_order_id == SPEC.client_order_id
    assert new.strategy_id == SPEC.strategy_id
    assert new.instrument_id == SPEC.instrument_id
    assert new.side is OrderSide.BUY
    assert new.order_type is OrderType.LIMIT
    assert new.time_in_force is SPEC.time_in_force
    assert new.quantity == Quantity("1.000")
    assert new.price == Price("100.00")
    assert new.filled_qty == Quantity("0")
    assert str(new.filled_qty) == "0.000"
    assert new.leaves_qty == Quantity("1.000")
    assert new.avg_px is None
    assert new.filled_notional == 0
    assert new.fees == {}
    assert new.events == (initialized(SPEC),)
    assert not new.is_open
    assert not new.is_inflight
    assert not new.is_closed


def test_a_kept_order_gives_the_cyclic_collector_nothing_to_walk() -> None:
    # The order manager keeps thousands of closed orders: anything of theirs the collector
    # tracks is walked at every young collection and promoted, and a long backtest's promotions
    # then set off full collections of the whole process.
    working = order(SPEC, submitted(SPEC, ts=1), accepted(SPEC, ts=2))
    working.apply(filled(SPEC, "1.000", "100.00", trade_id="T-1", ts=3))
    gc.collect()

    held = [working.events, working._trade_ids, working.fees]
    if native.status() == "compiled (mypyc)":  # its value types and ids are never tracked
        held.append(working)
        assert [gc.is_tracked(x) for x in held] == [False] * len(held)
    else:  # interpreted, ids and money are tracked objects: only the history is left alone
        assert not gc.is_tracked(working.events)
    assert working.events == (
        initialized(SPEC),
        submitted(SPEC, ts=1),
        accepted(SPEC, ts=2),
        filled(SPEC, "1.000", "100.00", trade_id="T-1", ts=3),
    )


# happy paths


def test_submitted_accepted_partially_filled_filled_with_exact_totals() -> None:
    working = order(SPEC, submitted(SPEC, ts=1), accepted(SPEC, ts=2))

    working.apply(
        filled(SPEC, "0.250", "100.00", trade_id="T-1", commission=Money("0.01", USDT), ts=3)
    )
    assert working.status is S.PARTIALLY_FILLED
    working.apply(
        filled(SPEC, "0.250", "101.00", trade_id="T-2", commission=Money("0.00002", BNB), ts=4)
    )
    assert working.status is S.PARTIALLY_FILLED
    working.apply(
        filled(SPEC, "0.500", "99.00", trade_id="T-3", commission=Money("0.0198", USDT), ts=5)
    )

    assert working.status is S.FILLED
    assert working.filled_qty == Quantity("1.000")
    assert working.leaves_qty == Quantity("0")
    # 0.25 x 100 + 0.25 x 101 + 0.5 x 99 = 25 + 25.25 + 49.5
    assert working.filled_notional == Decimal("99.75")
    assert working.avg_px == Decimal("99.75")
    assert working.fees == {USDT: Money("0.0298", USDT), BNB: Money("0.00002", BNB)}
    assert working.has_trade(TradeId("T-2"))
    assert not working.has_trade(TradeId("T-9"))
    assert working.account_id == ACCOUNT
    assert working.venue_order_id == VenueOrderId("V-1")
    assert len(working.events) == 6
    assert working.ts_last == 5
    assert working.is_closed


def test_average_price_is_exact_to_28_digits() -> None:
    working = order(SPEC, submitted(SPEC), accepted(SPEC))

    working.apply(filled(SPEC, "0.001", "100.00", trade_id="T-1"))
    working.apply(filled(SPEC, "0.002", "100.01", trade_id="T-2"))

    # (0.1 + 0.20002) / 0.003 = 100.00666...
    assert working.avg_px == Decimal("0.30002") / Decimal("0.003")
    assert working.leaves_qty == Quantity("0.997")


def test_accepted_order_records_the_account_and_venue_order_id() -> None:
    working = order(SPEC, submitted(SPEC), accepted(SPEC, venue_order_id="V-77"))

    assert working.status is S.ACCEPTED
    assert working.account_id == ACCOUNT
    assert working.venue_order_id == VenueOrderId("V-77")


def test_fills_may_arrive_before_the_acknowledgement() -> None:
    working = order(SPEC, submitted(SPEC))

    working.apply(filled(SPEC, "0.400", "100.00", trade_id="T-1"))
    assert working.status is S.PARTIALLY_FILLED
    working.apply(filled(SPEC, "0.600", "100.00", trade_id="T-2"))

    assert working.status is S.FILLED
    assert working.venue_order_id == VenueOrderId("V-1")


def test_one_fill_for_everything_goes_straight_to_filled() -> None:
    done = order(SPEC, submitted(SPEC), accepted(SPEC), filled(SPEC, "1.000", "99.99"))

    assert done.status is S.FILLED
    assert done.avg_px == Decimal("99.99")


@pytest.mark.parametrize(
    ("overtaking", "status"),
    [(filled(SPEC, "0.500", "100.00"), S.PARTIALLY_FILLED), (triggered(SPEC), S.TRIGGERED)],
)
def test_late_acknowledgement_after_a_fill_or_trigger_keeps_the_status(
    overtaking: OrderEvent, status: OrderStatus
) -> None:
    working = order(SPEC, submitted(SPEC), overtaking)

    working.apply(accepted(SPEC, venue_order_id="V-9"))

    assert working.status is status
    assert working.venue_order_id == VenueOrderId("V-9")


def test_stop_order_triggers_then_fills() -> None:
    stop = order(STOP, submitted(STOP), accepted(STOP), triggered(STOP))
    assert stop.status is S.TRIGGERED
    assert stop.is_open

    stop.apply(filled(STOP, "1.000", "101.50"))

    assert stop.status is S.FILLED


# refused fills leave the order unchanged


def partly_filled() -> Order:
    return order(SPEC, submitted(SPEC), accepted(SPEC), filled(SPEC, "0.400", "100.00"))


def test_fill_with_a_repeated_trade_id_is_refused_and_changes_nothing() -> None:
    working = partly_filled()
    before = snapshot(working)

    with pytest.raises(InvalidTransition, match="duplicate fill, trade_id T-1"):
        working.apply(filled(SPEC, "0.100", "100.00", trade_id="T-1"))

    assert snapshot(working) == before


def test_overfill_is_refused_and_changes_nothing() -> None:
    working = partly_filled()
    before = snapshot(working)

    with pytest.raises(
        InvalidValue, match=re.escape("overfill, last_qty 0.700 exceeds leaves_qty 0.600")
    ):
        working.apply(filled(SPEC, "0.700", "100.00", trade_id="T-2"))

    assert snapshot(working) == before
    assert working.status is S.PARTIALLY_FILLED
    assert working.filled_qty == Quantity("0.4")
    assert len(working.events) == 4


def test_fill_on_the_wrong_side_is_refused_and_changes_nothing() -> None:
    working = partly_filled()
    before = snapshot(working)

    with pytest.raises(InvalidValue, match="fill side SELL but order is BUY"):
        working.apply(filled(SPEC, "0.100", "100.00", trade_id="T-2", side=OrderSide.SELL))

    assert snapshot(working) == before


def test_fill_of_zero_is_refused() -> None:
    working = partly_filled()
    before = snapshot(working)

    with pytest.raises(InvalidValue, match="fill last_qty must be positive"):
        working.apply(filled(SPEC, "0.000", "100.00", trade_id="T-2"))

    assert snapshot(working) == before


def test_fill_of_an_order_that_was_never_sent_is_refused() -> None:
    fresh = order(SPEC)
    before = snapshot(fresh)

    with pytest.raises(InvalidTransition, match="INITIALIZED -> PARTIALLY_FILLED"):
        fresh.apply(filled(SPEC, "0.100", "100.00"))

    assert snapshot(fresh) == before


def test_event_for_another_order_is_refused_and_changes_nothing() -> None:
    working = partly_filled()
    other = order_spec(client_order_id=ClientOrderId("O-2"))
    before = snapshot(working)

    with pytest.raises(InvalidValue, match=r"event for order O-2 \(.*\) applied to order O-1"):
        working.apply(canceled(other))

    assert snapshot(working) == before


def test_a_second_initialization_is_refused() -> None:
    working = order(SPEC)

    with pytest.raises(InvalidTransition, match="already initialized"):
        working.apply(initialized(SPEC))


# cancel and modify in flight


def test_pending_cancel_then_cancel_rejected_returns_to_accepted() -> None:
    working = order(SPEC, submitted(SPEC), accepted(SPEC), pending_cancel(SPEC))
    assert working.status is S.PENDING_CANCEL
    assert working.is_inflight

    working.apply(cancel_rejected(SPEC))

    assert working.status is S.ACCEPTED
    assert not working.is_inflight


def test_partial_fill_while_cancel_pending_returns_to_partially_filled_when_rejected() -> None:
    working = order(SPEC, submitted(SPEC), accepted(SPEC), pending_cancel(SPEC))

    working.apply(filled(SPEC, "0.300", "100.00"))
    assert working.status is S.PENDING_CANCEL
    assert working.filled_qty == Quantity("0.300")
    working.apply(cancel_rejected(SPEC))

    assert working.status is S.PARTIALLY_FILLED


def test_pending_cancel_from_partially_filled_returns_there_when_rejected() -> None:
    working = partly_filled()

    working.apply(pending_cancel(SPEC))
    working.apply(cancel_rejected(SPEC))

    assert working.status is S.PARTIALLY_FILLED


def test_pending_cancel_then_canceled_closes_the_order() -> None:
    working = order(SPEC, submitted(SPEC), accepted(SPEC), pending_cancel(SPEC))

    working.apply(canceled(SPEC))

    assert working.status is S.CANCELED
    assert working.is_closed


def test_fill_completing_the_order_while_cancel_pending_fills_it() -> None:
    working = order(SPEC, submitted(SPEC), accepted(SPEC), pending_cancel(SPEC))

    working.apply(filled(SPEC, "1.000", "100.00"))

    assert working.status is S.FILLED


def test_trigger_while_cancel_pending_is_remembered_for_a_rejected_cancel() -> None:
    stop = order(STOP, submitted(STOP), accepted(STOP), pending_cancel(STOP))

    stop.apply(triggered(STOP))
    assert stop.status is S.PENDING_CANCEL
    stop.apply(cancel_rejected(STOP))

    assert stop.status is S.TRIGGERED


def test_cancel_rejected_when_no_cancel_is_pending_changes_only_the_history() -> None:
    working = order(SPEC, submitted(SPEC), accepted(SPEC))

    working.apply(cancel_rejected(SPEC))

    assert working.status is S.ACCEPTED
    assert len(working.events) == 4


def test_pending_update_then_updated_changes_price_and_quantity_and_returns() -> None:
    working = order(SPEC, submitted(SPEC), accepted(SPEC), pending_update(SPEC))
    assert working.status is S.PENDING_UPDATE

    working.apply(updated(SPEC, quantity=Quantity("2.000"), price=Price("99.50")))

    assert working.status is S.ACCEPTED
    assert working.quantity == Quantity("2.000")
    assert working.price == Price("99.50")
    assert working.leaves_qty == Quantity("2.000")
    assert working.spec.quantity == Quantity("1.000")


def test_update_of_a_partly_filled_order_returns_to_partially_filled() -> None:
    working = partly_filled()

    working.apply(pending_update(SPEC))
    working.apply(updated(SPEC, quantity=Quantity("0.800")))

    assert working.status is S.PARTIALLY_FILLED
    assert working.leaves_qty == Quantity("0.400")
    assert working.price == Price("100.00")


def test_update_of_the_trigger_price() -> None:
    stop = order(STOP, submitted(STOP), accepted(STOP), pending_update(STOP))

    stop.apply(updated(STOP, quantity=Quantity("1.000"), trigger_price=Price("102.00")))

    assert stop.trigger_price == Price("102.00")
    assert stop.status is S.ACCEPTED


def test_pending_update_then_modify_rejected_returns_unchanged() -> None:
    working = order(SPEC, submitted(SPEC), accepted(SPEC), pending_update(SPEC))

    working.apply(modify_rejected(SPEC))

    assert working.status is S.ACCEPTED
    assert working.price == Price("100.00")
    assert working.quantity == Quantity("1.000")


def test_updated_quantity_below_the_filled_quantity_is_refused_and_changes_nothing() -> None:
    working = partly_filled()
    working.apply(pending_update(SPEC))
    before = snapshot(working)

    with pytest.raises(
        InvalidValue, match=re.escape("updated quantity 0.300 is below the filled quantity 0.400")
    ):
        working.apply(updated(SPEC, quantity=Quantity("0.300")))

    assert snapshot(working) == before


def test_updated_quantity_equal_to_the_filled_quantity_fills_the_order() -> None:
    working = partly_filled()
    working.apply(pending_update(SPEC))

    working.apply(updated(SPEC, quantity=Quantity("0.400")))

    assert working.status is S.FILLED
    assert working.leaves_qty.is_zero()


@pytest.mark.parametrize(
    ("pending", "answer"),
    [(pending_cancel(SPEC), cancel_rejected(SPEC)), (pending_update(SPEC), modify_rejected(SPEC))],
)
def test_change_rejected_before_the_acknowledgement_leaves_the_order_submitted(
    pending: OrderEvent, answer: OrderEvent
) -> None:
    working = order(SPEC, submitted(SPEC), pending)

    working.apply(answer)

    assert working.status is S.SUBMITTED


# late fills and terminal states


@pytest.mark.parametrize(("closing", "status"), [(canceled, S.CANCELED), (expired, S.EXPIRED)])
def test_late_fill_completing_a_closed_order_makes_it_filled(
    closing: object, status: OrderStatus
) -> None:
    working = partly_filled()
    working.apply(closing(SPEC))  # type: ignore[operator]
    assert working.status is status

    working.apply(filled(SPEC, "0.600", "100.00", trade_id="T-2"))

    assert working.status is S.FILLED
    assert working.filled_qty == Quantity("1.000")


@pytest.mark.parametrize(("closing", "status"), [(canceled, S.CANCELED), (expired, S.EXPIRED)])
def test_late_partial_fill_is_booked_and_the_order_stays_closed(
    closing: object, status: OrderStatus
) -> None:
    working = partly_filled()
    working.apply(closing(SPEC))  # type: ignore[operator]

    working.apply(filled(SPEC, "0.100", "100.00", trade_id="T-2"))

    assert working.status is status
    assert working.filled_qty == Quantity("0.500")
    assert working.is_closed


@pytest.mark.parametrize(
    "after",
    [
        submitted(SPEC),
        accepted(SPEC),
        canceled(SPEC),
        triggered(SPEC),
        pending_cancel(SPEC),
        filled(SPEC, "0.100", "100.00"),
    ],
    ids=lambda event: type(event).__name__,
)
def test_denied_order_is_terminal(after: OrderEvent) -> None:
    refused = order(SPEC, denied(SPEC))
    assert refused.is_closed

    with pytest.raises(InvalidTransition, match="DENIED -> "):
        refused.apply(after)

    assert refused.status is S.DENIED


@pytest.mark.parametrize(
    "after",
    [accepted(SPEC), canceled(SPEC), expired(SPEC), filled(SPEC, "1.000", "100.00")],
    ids=lambda event: type(event).__name__,
)
def test_rejected_order_is_terminal(after: OrderEvent) -> None:
    refused = order(SPEC, submitted(SPEC), rejected(SPEC))

    with pytest.raises(InvalidTransition, match="REJECTED -> "):
        refused.apply(after)

    assert refused.status is S.REJECTED


def test_filled_order_refuses_a_cancel() -> None:
    done = order(SPEC, submitted(SPEC), filled(SPEC, "1.000", "100.00"))

    with pytest.raises(InvalidTransition, match="FILLED -> CANCELED"):
        done.apply(canceled(SPEC))


@pytest.mark.parametrize(
    "closing",
    [
        (submitted(SPEC), filled(SPEC, "1.000", "100.00")),
        (submitted(SPEC), rejected(SPEC)),
        (submitted(SPEC), accepted(SPEC), canceled(SPEC)),
        (denied(SPEC),),
    ],
    ids=["filled", "rejected", "canceled", "denied"],
)
def test_update_of_a_closed_order_is_refused_and_changes_nothing(
    closing: tuple[OrderEvent, ...],
) -> None:
    closed = order(SPEC, *closing)
    before = snapshot(closed)

    with pytest.raises(InvalidTransition):
        closed.apply(updated(SPEC, quantity=Quantity("2.000"), price=Price("90.00")))

    assert snapshot(closed) == before


def test_update_to_zero_of_an_unfilled_order_never_reports_it_filled() -> None:
    working = order(SPEC, submitted(SPEC), accepted(SPEC))

    with contextlib.suppress(InvalidValue, InvalidTransition):
        working.apply(updated(SPEC, quantity=Quantity("0.000")))

    assert working.status is not S.FILLED


# status flags


@pytest.mark.parametrize(
    ("events", "is_open", "is_inflight", "is_closed"),
    [
        ((), False, False, False),
        ((submitted(SPEC),), False, True, False),
        ((submitted(SPEC), accepted(SPEC)), True, False, False),
        ((submitted(SPEC), accepted(SPEC), pending_update(SPEC)), True, True, False),
        ((submitted(SPEC), accepted(SPEC), pending_cancel(SPEC)), True, True, False),
        ((submitted(SPEC), filled(SPEC, "0.5", "100")), True, False, False),
        ((submitted(SPEC), accepted(SPEC), triggered(SPEC)), True, False, False),
        ((submitted(SPEC), filled(SPEC, "1", "100")), False, False, True),
        ((submitted(SPEC), accepted(SPEC), canceled(SPEC)), False, False, True),
        ((submitted(SPEC), accepted(SPEC), expired(SPEC)), False, False, True),
        ((submitted(SPEC), rejected(SPEC)), False, False, True),
        ((denied(SPEC),), False, False, True),
    ],
    ids=[
        "initialized",
        "submitted",
        "accepted",
        "pending_update",
        "pending_cancel",
        "partially_filled",
        "triggered",
        "filled",
        "canceled",
        "expired",
        "rejected",
        "denied",
    ],
)
def test_open_inflight_and_closed_flags(
    events: tuple[OrderEvent, ...], is_open: bool, is_inflight: bool, is_closed: bool
) -> None:
    subject = order(SPEC, *events)

    assert (subject.is_open, subject.is_inflight, subject.is_closed) == (
        is_open,
        is_inflight,
        is_closed,
    )


def test_repr_names_the_order_and_its_state() -> None:
    assert repr(partly_filled()) == (
        "Order(O-1, BUY 1.000 BTC/USDT.BINANCE LIMIT, PARTIALLY_FILLED, filled=0.400)"
    )


# random sequences of events


def _fill(quantity: str, trade: int, side: OrderSide) -> OrderEvent:
    return filled(SPEC, quantity, "100.00", trade_id=f"T-{trade}", side=side)


_fills = st.builds(
    _fill,
    st.sampled_from(["0.100", "0.250", "0.500", "0.600", "1.000", "1.200"]),
    st.integers(min_value=1, max_value=6),
    st.sampled_from([OrderSide.BUY, OrderSide.BUY, OrderSide.BUY, OrderSide.SELL]),
)
_updates = st.builds(
    lambda quantity: updated(SPEC, quantity=Quantity(quantity), price=Price("99.00")),
    st.sampled_from(["0.300", "0.500", "1.000", "1.500"]),
)
_changes = st.sampled_from(
    [
        submitted(SPEC),
        accepted(SPEC),
        rejected(SPEC),
        denied(SPEC),
        pending_update(SPEC),
        pending_cancel(SPEC),
        modify_rejected(SPEC),
        cancel_rejected(SPEC),
        triggered(SPEC),
        canceled(SPEC),
        expired(SPEC),
        msgspec.structs.replace(canceled(SPEC), client_order_id=ClientOrderId("O-2")),
    ]
)
_events = st.one_of(_changes, _fills, _fills, _updates)
# Most random events are refused by a fresh order; starting some sequences from a sent or working
# order reaches the deeper states more often.
_starts = st.sampled_from([(), (submitted(SPEC),), (submitted(SPEC), accepted(SPEC))])
_sequences = st.builds(lambda start, rest: [*start, *rest], _starts, st.lists(_events, max_size=25))


@settings(deadline=None, max_examples=300)
@given(events=_sequences)
def test_random_event_sequences_keep_the_order_consistent(events: list[OrderEvent]) -> None:
    subject = order(SPEC)
    applied_fills = Decimal(0)

    for event in events:
        before = snapshot(subject)
        try:
            subject.apply(event)
        except (InvalidTransition, InvalidValue):
            assert snapshot(subject) == before
        else:
            assert len(subject.events) == before["events"] + 1  # type: ignore[operator]
            if isinstance(event, OrderFilled):
                applied_fills += event.last_qty.as_decimal()
            was = before["status"]
            if was in (S.DENIED, S.REJECTED, S.FILLED):
                assert subject.status is was
            if was in (S.CANCELED, S.EXPIRED):
                assert subject.status in (was, S.FILLED)

        assert subject.filled_qty + subject.leaves_qty == subject.quantity
        assert subject.filled_qty <= subject.quantity
        assert subject.filled_qty == applied_fills

"""TWAP on a replay clock: evenly spaced children, quantity conserved, remainders carried,
final sweep, pause, cancel and rejections."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from tests.kit.stubs import filled
from tests.unit.execution.harness import (
    MINUTE,
    T0,
    FakeVenue,
    book,
    fill_none,
    instrument,
    parent,
)

from tradeforge.bus import ReplayClock
from tradeforge.domain import (
    InvalidOrder,
    OrderSide,
    OrderSpec,
    OrderType,
    Price,
    Quantity,
    TimeInForce,
)
from tradeforge.execution import (
    ChildStyle,
    ExecutionReport,
    ExecutionState,
    ParentOrder,
    Twap,
    TwapParams,
)


def twap(
    clock: ReplayClock,
    venue: FakeVenue,
    the_parent: ParentOrder,
    *,
    slices: int = 5,
    minutes: int = 10,
    **params: object,
) -> Twap:
    algo = Twap(
        the_parent,
        TwapParams(start_ns=T0, end_ns=T0 + minutes * MINUTE, slices=slices, **params),  # type: ignore[arg-type]
        clock=clock,
        submit_child=venue.submit,
        cancel_child=venue.cancel,
    )
    venue.bind(algo)
    return algo


def test_children_are_sent_at_evenly_spaced_times_in_equal_slices() -> None:
    clock = ReplayClock(T0)
    venue = FakeVenue(clock)
    algo = twap(clock, venue, parent(instrument(), "1.000"))

    algo.start()
    clock.advance_to(T0 + 10 * MINUTE)

    assert venue.times() == [T0 + k * 2 * MINUTE for k in range(5)]
    assert venue.quantities() == [Decimal("0.200")] * 5
    assert algo.state is ExecutionState.DONE
    assert algo.filled == Quantity("1.000")
    assert [str(spec.client_order_id) for _, spec in venue.sent] == [
        f"P-1-c{k}" for k in range(1, 6)
    ]
    assert all(spec.order_type is OrderType.MARKET for _, spec in venue.sent)
    assert all(spec.time_in_force is TimeInForce.IOC for _, spec in venue.sent)
    assert venue.last().tags == ("parent=P-1", "algo=TWAP")


def test_remainder_goes_to_the_last_child() -> None:
    clock = ReplayClock(T0)
    venue = FakeVenue(clock)
    algo = twap(clock, venue, parent(instrument(lot="1"), "11"), slices=3, minutes=3)

    algo.start()
    clock.advance_to(T0 + 3 * MINUTE)

    assert venue.quantities() == [Decimal(3), Decimal(4), Decimal(4)]
    assert [qty for _, qty in algo.schedule] == [Quantity("3"), Quantity("4"), Quantity("4")]


@settings(max_examples=60, deadline=None)
@given(
    lot=st.sampled_from(["1", "0.5", "0.1", "0.01", "0.001"]),
    total_lots=st.integers(1, 5_000),
    min_lots=st.integers(1, 30),
    slices=st.integers(1, 30),
)
def test_children_sum_exactly_to_the_parent(
    lot: str, total_lots: int, min_lots: int, slices: int
) -> None:
    assume(total_lots >= min_lots)
    step = Decimal(lot)
    inst = instrument(lot=lot, min_qty=str(step * min_lots))
    clock = ReplayClock(T0)
    venue = FakeVenue(clock)
    algo = twap(clock, venue, parent(inst, Quantity(step * total_lots)), slices=slices, minutes=60)

    algo.start()
    clock.advance_to(T0 + 60 * MINUTE)

    sizes = venue.quantities()
    assert sum(sizes) == step * total_lots
    assert all(size % step == 0 and size >= step * min_lots for size in sizes)
    assert len(sizes) <= slices
    assert algo.state is ExecutionState.DONE
    assert algo.report().is_complete


@settings(max_examples=60, deadline=None)
@given(
    total_lots=st.integers(1, 2_000),
    slices=st.integers(1, 12),
    fractions=st.lists(st.sampled_from([0, 1, 2, 3, 4]), min_size=40, max_size=40),
)
def test_partial_fills_never_commit_more_than_the_parent_and_the_sweep_finishes_it(
    total_lots: int, slices: int, fractions: list[int]
) -> None:
    # Resting children fill 0-100 % when sent; the rest is canceled at the next slice and
    # carried into the next child; the final sweep takes whatever is left.
    draws = iter(fractions)

    def quarter_fills(spec: OrderSpec) -> Decimal:
        if spec.order_type is OrderType.MARKET:
            return spec.quantity.as_decimal()
        share = next(draws, 4)
        return (spec.quantity.as_decimal() * share / 4).quantize(Decimal("0.001"), "ROUND_DOWN")

    inst = instrument()
    clock = ReplayClock(T0)
    venue = FakeVenue(clock, fill_now=quarter_fills)
    total = Decimal(total_lots) / 1000
    algo = twap(clock, venue, parent(inst, Quantity(total)), slices=slices, style=ChildStyle.LIMIT)
    algo.on_book(book(inst, "99.99", "100.01"))

    algo.start()
    clock.advance_to(T0 + 10 * MINUTE)

    assert venue.peak_commitment <= total
    assert algo.filled.as_decimal() == total
    assert algo.state is ExecutionState.DONE
    assert not venue.open


def test_unfilled_part_of_a_slice_is_carried_into_the_next_child() -> None:
    inst = instrument()
    clock = ReplayClock(T0)
    venue = FakeVenue(clock, fill_now=fill_none)
    algo = twap(
        clock,
        venue,
        parent(inst, "1.000"),
        style=ChildStyle.LIMIT,
        offset_ticks=1,
        final_sweep=False,
    )
    algo.on_book(book(inst, "99.99", "100.01"))

    algo.start()
    first = venue.last()
    venue.fill(first.client_order_id, "0.050")
    clock.advance_to(T0 + 2 * MINUTE)

    assert first.price == Price("100.00")  # the bid, one tick more aggressive
    assert venue.canceled == [first.client_order_id]
    assert venue.last().quantity == Quantity("0.350")  # 0.200 + the 0.150 not filled
    assert venue.last().order_type is OrderType.LIMIT
    assert venue.last().time_in_force is TimeInForce.GTC


def test_final_sweep_takes_what_is_left_at_the_end() -> None:
    inst = instrument()
    clock = ReplayClock(T0)
    venue = FakeVenue(clock, fill_now=fill_none)
    algo = twap(clock, venue, parent(inst, "1.000"), style=ChildStyle.LIMIT)
    algo.on_book(book(inst, "99.99", "100.01"))
    algo.start()
    clock.advance_to(T0 + 8 * MINUTE)
    venue.fill(venue.last().client_order_id, "0.100")

    venue.fill_now = lambda spec: spec.quantity.as_decimal()
    clock.advance_to(T0 + 10 * MINUTE)

    sweep = venue.last()
    assert venue.times()[-1] == T0 + 10 * MINUTE
    assert sweep.order_type is OrderType.MARKET
    assert sweep.time_in_force is TimeInForce.IOC
    assert sweep.quantity == Quantity("0.900")
    assert algo.state is ExecutionState.DONE
    assert algo.filled == Quantity("1.000")


def test_without_a_sweep_the_parent_ends_done_with_the_remainder_reported() -> None:
    inst = instrument()
    clock = ReplayClock(T0)
    venue = FakeVenue(clock, fill_now=fill_none)
    algo = twap(clock, venue, parent(inst, "1.000"), style=ChildStyle.LIMIT, final_sweep=False)
    algo.on_book(book(inst, "99.99", "100.01"))

    algo.start()
    clock.advance_to(T0 + 10 * MINUTE)

    report = algo.report()
    assert report.state is ExecutionState.DONE
    assert report.remaining == Quantity("1.000")
    assert not report.is_complete
    assert "unfilled" in report.reason
    assert not venue.open
    assert not clock.timer_names()


def test_market_style_with_a_parent_limit_sends_limit_ioc_at_the_limit() -> None:
    clock = ReplayClock(T0)
    venue = FakeVenue(clock)
    algo = twap(clock, venue, parent(instrument(), "1.000", limit="101.50"))

    algo.start()

    child = venue.last()
    assert child.order_type is OrderType.LIMIT
    assert child.time_in_force is TimeInForce.IOC
    assert child.price == Price("101.50")


def test_limit_children_never_go_beyond_the_parent_limit() -> None:
    inst = instrument()
    clock = ReplayClock(T0)
    venue = FakeVenue(clock, fill_now=fill_none)
    algo = twap(
        clock,
        venue,
        parent(inst, "1.000", side=OrderSide.SELL, limit="100.05"),
        style=ChildStyle.LIMIT,
        offset_ticks=10,
    )
    algo.on_book(book(inst, "99.99", "100.01"))

    algo.start()

    assert venue.last().price == Price("100.05")  # 100.01 - 10 ticks is through the limit


def test_pause_cancels_working_children_and_resume_catches_up() -> None:
    inst = instrument()
    clock = ReplayClock(T0)
    venue = FakeVenue(clock, fill_now=fill_none)
    algo = twap(clock, venue, parent(inst, "1.000"), style=ChildStyle.LIMIT)
    algo.on_book(book(inst, "99.99", "100.01"))
    algo.start()
    first = venue.last()

    algo.pause()
    clock.advance_to(T0 + 5 * MINUTE)

    assert algo.state is ExecutionState.PAUSED
    assert venue.canceled == [first.client_order_id]
    assert len(venue.sent) == 1  # nothing sent while paused

    algo.resume()

    assert algo.state is ExecutionState.RUNNING
    assert venue.last().quantity == Quantity("0.600")  # slices 1-3 are due by minute 5


def test_cancel_cancels_working_children_and_timers() -> None:
    inst = instrument()
    clock = ReplayClock(T0)
    venue = FakeVenue(clock, fill_now=fill_none)
    reports: list[ExecutionReport] = []
    algo = Twap(
        parent(inst, "1.000"),
        TwapParams(start_ns=T0, end_ns=T0 + 10 * MINUTE, slices=5, style=ChildStyle.LIMIT),
        clock=clock,
        submit_child=venue.submit,
        cancel_child=venue.cancel,
        on_report=reports.append,
    )
    venue.bind(algo)
    algo.on_book(book(inst, "99.99", "100.01"))
    algo.start()
    working = venue.last().client_order_id

    algo.cancel("user asked")
    clock.advance_to(T0 + 10 * MINUTE)

    assert venue.canceled == [working]
    assert len(venue.sent) == 1
    assert not clock.timer_names()
    assert algo.state is ExecutionState.CANCELED
    assert reports[-1].state is ExecutionState.CANCELED
    assert reports[-1].reason == "user asked"


def test_late_start_catches_up_missed_slices() -> None:
    clock = ReplayClock(T0 + 5 * MINUTE)
    venue = FakeVenue(clock)
    algo = twap(clock, venue, parent(instrument(), "1.000"))

    algo.start()

    assert venue.quantities() == [Decimal("0.600")]


def test_repeated_rejections_fail_the_parent() -> None:
    clock = ReplayClock(T0)
    venue = FakeVenue(clock, fill_now=fill_none)
    algo = twap(clock, venue, parent(instrument(), "1.000"), slices=10)
    algo.start()

    for minute in (0, 1, 2):
        clock.advance_to(T0 + minute * MINUTE)
        venue.reject(venue.last().client_order_id)

    assert algo.state is ExecutionState.FAILED
    assert "rejected" in algo.report().reason
    clock.advance_to(T0 + 10 * MINUTE)
    assert len(venue.sent) == 3


def test_a_parent_below_the_minimum_child_is_refused() -> None:
    with pytest.raises(InvalidOrder, match="min_quantity"):
        parent(instrument(lot="0.001", min_qty="0.010"), "0.005")


def test_start_twice_is_a_wiring_bug() -> None:
    clock = ReplayClock(T0)
    algo = twap(clock, FakeVenue(clock), parent(instrument(), "1.000"))
    algo.start()
    with pytest.raises(Exception, match="start"):
        algo.start()


def test_a_child_filled_in_full_has_ended_without_its_end_event() -> None:
    inst = instrument()
    clock = ReplayClock(T0)
    sent: list[OrderSpec] = []
    algo = Twap(
        parent(inst, "1.000"),
        TwapParams(start_ns=T0, end_ns=T0 + 10 * MINUTE, slices=5, style=ChildStyle.LIMIT),
        clock=clock,
        submit_child=sent.append,
        cancel_child=lambda _: None,
    )
    algo.on_book(book(inst, "99.99", "100.01"))
    algo.start()

    algo.on_fill(filled(sent[0], Quantity("0.200"), Price("99.99")))
    clock.advance_to(T0 + 2 * MINUTE)

    assert [spec.quantity for spec in sent] == [Quantity("0.200"), Quantity("0.200")]
    assert algo.working_children == [sent[1].client_order_id]


def test_a_submit_that_raises_leaves_nothing_working() -> None:
    clock = ReplayClock(T0)

    def broken(spec: OrderSpec) -> None:
        raise RuntimeError("wiring bug")

    algo = Twap(
        parent(instrument(), "1.000"),
        TwapParams(start_ns=T0, end_ns=T0 + 10 * MINUTE, slices=5),
        clock=clock,
        submit_child=broken,
        cancel_child=lambda _: None,
    )

    with pytest.raises(RuntimeError, match="wiring bug"):
        algo.start()

    assert algo.working_children == []
    assert algo.working == Quantity("0.000")

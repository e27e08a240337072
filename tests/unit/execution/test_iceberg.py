"""Iceberg: one visible child at a time, never above ``display_qty``, replenished when it ends."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from tests.unit.execution.harness import T0, FakeVenue, fill_none, instrument, parent

from tradeforge.bus import ReplayClock
from tradeforge.domain import InvalidOrder, OrderType, Price, Quantity, TimeInForce
from tradeforge.execution import ExecutionState, Iceberg, IcebergParams, ParentOrder


def iceberg(
    clock: ReplayClock, venue: FakeVenue, the_parent: ParentOrder, display: str, **kw: object
) -> Iceberg:
    algo = Iceberg(
        the_parent,
        IcebergParams(display_qty=Quantity(display), **kw),  # type: ignore[arg-type]
        clock=clock,
        submit_child=venue.submit,
        cancel_child=venue.cancel,
    )
    venue.bind(algo)
    return algo


def test_shows_the_display_and_replenishes_when_it_fills() -> None:
    clock = ReplayClock(T0)
    venue = FakeVenue(clock, fill_now=fill_none)
    algo = iceberg(clock, venue, parent(instrument(), "1.000", limit="100.00"), "0.300")

    algo.start()
    first = venue.last()
    venue.fill(first.client_order_id, "0.100")
    assert len(venue.sent) == 1  # partly filled: still the visible piece
    venue.fill(first.client_order_id)

    assert first.order_type is OrderType.LIMIT
    assert first.price == Price("100.00")
    assert first.time_in_force is TimeInForce.GTC
    assert venue.quantities() == [Decimal("0.300"), Decimal("0.300")]
    while venue.open:
        venue.fill(venue.last().client_order_id)
    assert venue.quantities() == [Decimal("0.300")] * 3 + [Decimal("0.100")]
    assert algo.state is ExecutionState.DONE


def test_a_piece_ended_by_the_venue_is_replaced_by_the_rest() -> None:
    clock = ReplayClock(T0)
    venue = FakeVenue(clock, fill_now=fill_none)
    algo = iceberg(clock, venue, parent(instrument(), "1.000"), "0.300", price=Price("99.50"))
    algo.start()
    venue.fill(venue.last().client_order_id, "0.100")

    venue.expire(venue.last().client_order_id)

    assert venue.quantities() == [Decimal("0.300"), Decimal("0.300")]
    assert venue.last().price == Price("99.50")
    assert algo.working == Quantity("0.300")
    assert algo.filled == Quantity("0.100")


def test_cancel_pulls_the_visible_piece() -> None:
    clock = ReplayClock(T0)
    venue = FakeVenue(clock, fill_now=fill_none)
    algo = iceberg(clock, venue, parent(instrument(), "1.000", limit="100.00"), "0.300")
    algo.start()

    algo.cancel()

    assert venue.canceled == [venue.last().client_order_id]
    assert algo.state is ExecutionState.CANCELED
    assert len(venue.sent) == 1


def test_pause_pulls_the_piece_and_resume_shows_the_rest() -> None:
    clock = ReplayClock(T0)
    venue = FakeVenue(clock, fill_now=fill_none)
    algo = iceberg(clock, venue, parent(instrument(), "1.000", limit="100.00"), "0.300")
    algo.start()
    venue.fill(venue.last().client_order_id, "0.200")

    algo.pause()
    algo.resume()

    assert venue.quantities() == [Decimal("0.300"), Decimal("0.300")]
    assert algo.filled == Quantity("0.200")


def test_needs_a_price_and_a_display_it_can_show() -> None:
    clock = ReplayClock(T0)
    venue = FakeVenue(clock)
    with pytest.raises(InvalidOrder, match="needs a price"):
        iceberg(clock, venue, parent(instrument(), "1.000"), "0.300")
    with pytest.raises(InvalidOrder, match="below the minimum"):
        iceberg(clock, venue, parent(instrument(min_qty="0.010"), "1.000", limit="1.00"), "0.005")
    with pytest.raises(InvalidOrder, match="beyond the limit"):
        iceberg(
            clock, venue, parent(instrument(), "1.000", limit="1.00"), "0.300", price=Price("2.00")
        )


def test_an_odd_final_piece_needs_the_venue_to_allow_it() -> None:
    clock = ReplayClock(T0)
    venue = FakeVenue(clock)
    inst = instrument(lot="0.1", min_qty="0.3")
    # 0.4 in pieces of 0.3-0.3: 0.3 then 0.1, and no cut keeps both at 0.3 or more.
    with pytest.raises(InvalidOrder, match="odd final"):
        iceberg(clock, venue, parent(inst, "0.4", limit="100.00"), "0.3")

    algo = iceberg(clock, venue, parent(inst, "0.4", limit="100.00", odd=True), "0.3")
    algo.start()
    assert venue.quantities() == [Decimal("0.3"), Decimal("0.1")]
    assert algo.state is ExecutionState.DONE


@settings(max_examples=80, deadline=None)
@given(
    lot=st.sampled_from(["1", "0.1", "0.001"]),
    total_lots=st.integers(1, 400),
    display_lots=st.integers(1, 40),
    min_lots=st.integers(1, 6),
    steps=st.lists(st.integers(0, 3), min_size=1, max_size=400),
)
def test_never_shows_more_than_the_display_and_fills_the_parent_exactly(
    lot: str, total_lots: int, display_lots: int, min_lots: int, steps: list[int]
) -> None:
    assume(display_lots >= 2 * min_lots and total_lots >= min_lots)
    step = Decimal(lot)
    inst = instrument(lot=lot, min_qty=str(step * min_lots))
    clock = ReplayClock(T0)
    venue = FakeVenue(clock, fill_now=fill_none)
    display = step * display_lots
    algo = iceberg(
        clock, venue, parent(inst, Quantity(step * total_lots), limit="100.00"), str(display)
    )
    algo.start()
    draws = iter(steps)
    while venue.open:
        assert len(venue.open) == 1
        (spec,) = venue.working()
        assert spec.quantity.as_decimal() <= display
        _, done = venue.open[spec.client_order_id]
        left = spec.quantity.as_decimal() - done
        # fill a lot, half (rounded to the lot) or all of what is left of the piece
        share = next(draws, 3)
        amount = {0: step, 1: (left / 2 // step) * step, 2: left, 3: left}[share] or left
        venue.fill(spec.client_order_id, min(amount, left))
    sizes = venue.quantities()
    assert sum(sizes) == step * total_lots
    assert all(size % step == 0 and step * min_lots <= size <= display for size in sizes)
    assert algo.state is ExecutionState.DONE
    assert algo.filled == Quantity(step * total_lots)

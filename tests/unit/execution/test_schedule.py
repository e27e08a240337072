"""The slicing math: children sum exactly to the parent, on the lot, never below the minimum."""

from __future__ import annotations

import itertools
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from tests.kit.stubs import USDT, btcusdt

from tradeforge.domain import InvalidValue, Money, Price, Quantity
from tradeforge.execution.algos import (
    iceberg_child,
    min_child_quantity,
    slice_times,
    split_even,
    split_iceberg,
    split_quantity,
)
from tradeforge.execution.algos.schedule import iceberg_tail_is_odd

LOTS = ["1", "5", "0.5", "0.25", "0.1", "0.01", "0.001", "0.00001"]


def q(value: str) -> Quantity:
    return Quantity(value)


def in_lots(count: int, lot: str) -> Quantity:
    return Quantity(Decimal(count) * Decimal(lot))


# examples of the rule


def test_even_split_rounds_cumulative_targets_down_and_puts_the_remainder_last() -> None:
    assert split_even(q("1.1"), 3, lot=q("0.1"), min_qty=q("0.1")) == (q("0.3"), q("0.4"), q("0.4"))
    assert split_even(q("10"), 3, lot=q("1"), min_qty=q("1")) == (q("3"), q("3"), q("4"))


def test_slices_below_the_minimum_merge_forward_and_a_last_tail_merges_back() -> None:
    # 5 lots over 10 slots is 0,1,0,1,... lots; with a minimum of 2 lots the single lots are
    # carried forward, and the one left after the last slot joins the last child sent.
    parts = split_even(q("0.5"), 10, lot=q("0.1"), min_qty=q("0.2"))
    assert [str(p) for p in parts] == [
        "0.0",
        "0.0",
        "0.0",
        "0.2",
        "0.0",
        "0.0",
        "0.0",
        "0.3",
        "0.0",
        "0.0",
    ]
    assert sum(p.as_decimal() for p in parts) == Decimal("0.5")


def test_weights_set_the_proportions() -> None:
    parts = split_quantity(q("10"), [Decimal(1), Decimal(3), 0, 6], lot=q("1"), min_qty=q("1"))
    assert parts == (q("1"), q("3"), q("0"), q("6"))


@pytest.mark.parametrize(
    ("total", "weights", "lot", "min_qty", "problem"),
    [
        ("1.05", [1, 1], "0.1", "0.1", "not a whole number of lots"),
        ("0.1", [1, 1], "0.1", "0.2", "below the minimum"),
        ("1", [], "1", "1", "must not be empty"),
        ("1", [0, 0], "1", "1", "must not all be zero"),
        ("1", [1, -1], "1", "1", "must not be negative"),
    ],
)
def test_refused_inputs_say_why(
    total: str, weights: list[int], lot: str, min_qty: str, problem: str
) -> None:
    with pytest.raises(InvalidValue, match=problem):
        split_quantity(q(total), weights, lot=q(lot), min_qty=q(min_qty))


# properties


@settings(max_examples=100, deadline=None)
@given(
    lot=st.sampled_from(LOTS),
    total_lots=st.integers(1, 100_000),
    min_lots=st.integers(1, 50),
    weights=st.lists(st.integers(0, 1_000), min_size=1, max_size=60),
)
def test_children_sum_to_the_parent_on_the_lot_and_never_below_the_minimum(
    lot: str, total_lots: int, min_lots: int, weights: list[int]
) -> None:
    assume(total_lots >= min_lots and any(weights))
    total, minimum = in_lots(total_lots, lot), in_lots(min_lots, lot)
    parts = split_quantity(total, [Decimal(w) for w in weights], lot=q(lot), min_qty=minimum)
    assert len(parts) == len(weights)
    assert sum((p.as_decimal() for p in parts), Decimal(0)) == total.as_decimal()
    for part in parts:
        assert part.as_decimal() % Decimal(lot) == 0
        assert part.is_zero() or part >= minimum


@settings(max_examples=100, deadline=None)
@given(
    lot=st.sampled_from(LOTS),
    total_lots=st.integers(1, 100_000),
    weights=st.lists(st.integers(0, 1_000), min_size=1, max_size=60),
)
def test_without_a_minimum_each_child_is_within_one_lot_of_its_exact_share(
    lot: str, total_lots: int, weights: list[int]
) -> None:
    assume(any(weights))
    parts = split_quantity(in_lots(total_lots, lot), weights, lot=q(lot), min_qty=q(lot))
    whole = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        share = Fraction(total_lots * weight, whole)
        assert abs(Fraction(part.as_decimal() / Decimal(lot)) - share) < 1


@given(start=st.integers(0, 10**18), span=st.integers(1, 10**15), slices=st.integers(1, 500))
def test_slice_times_are_evenly_spaced_to_the_nanosecond(
    start: int, span: int, slices: int
) -> None:
    assume(span >= slices)
    times = slice_times(start, start + span, slices)
    assert times[0] == start
    assert len(times) == slices
    gaps = {b - a for a, b in itertools.pairwise(times)}
    assert max(gaps, default=span // slices) - min(gaps, default=span // slices) <= 1
    assert times[-1] < start + span


# iceberg pieces


@settings(max_examples=100, deadline=None)
@given(
    lot=st.sampled_from(LOTS),
    total_lots=st.integers(1, 2_000),
    display_lots=st.integers(1, 60),
    min_lots=st.integers(1, 20),
)
def test_iceberg_pieces_never_show_more_than_the_display(
    lot: str, total_lots: int, display_lots: int, min_lots: int
) -> None:
    assume(display_lots >= min_lots and total_lots >= min_lots)
    total, display, minimum = (in_lots(n, lot) for n in (total_lots, display_lots, min_lots))
    pieces = split_iceberg(total, display, min_qty=minimum)
    assert sum((p.as_decimal() for p in pieces), Decimal(0)) == total.as_decimal()
    assert all(p <= display for p in pieces)
    assert all(p >= minimum for p in pieces[:-1])
    assert (pieces[-1] < minimum) == iceberg_tail_is_odd(total, display, minimum)
    if display_lots >= 2 * min_lots:
        assert pieces[-1] >= minimum  # an odd tail needs a display below twice the minimum


def test_iceberg_cuts_the_last_two_pieces_to_keep_both_above_the_minimum() -> None:
    # 1.2 with display 1.0 and minimum 0.3: 0.9 then 0.3, not 1.0 then 0.2.
    assert split_iceberg(q("1.2"), q("1.0"), min_qty=q("0.3")) == (q("0.9"), q("0.3"))
    assert iceberg_child(q("0.5"), q("1.0"), q("0.3")) == q("0.5")


def test_min_child_covers_min_notional_at_the_price() -> None:
    inst = btcusdt(min_notional=Money("10", USDT))
    assert min_child_quantity(inst) == q("0.001")  # no price: min_quantity
    assert min_child_quantity(inst, Price("30000.00")) == q("0.001")  # 10 / 30000 = 0.00033
    assert min_child_quantity(inst, Price("4000.00")) == q("0.003")  # 10 / 4000 = 0.0025

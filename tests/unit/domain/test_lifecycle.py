"""The lifecycle table, pinned pair by pair.

``EXPECTED`` is written out here by hand from the rules in lifecycle.py's comments, so changing a
row of the table must change this test too.
"""

import itertools

import pytest

from tradeforge.domain import (
    OPEN_STATUSES,
    TERMINAL_STATUSES,
    TRANSITIONS,
    InvalidTransition,
    OperatorError,
    OrderStatus,
    check_transition,
    is_allowed,
)

INITIALIZED = OrderStatus.INITIALIZED
DENIED = OrderStatus.DENIED
SUBMITTED = OrderStatus.SUBMITTED
ACCEPTED = OrderStatus.ACCEPTED
REJECTED = OrderStatus.REJECTED
PENDING_UPDATE = OrderStatus.PENDING_UPDATE
PENDING_CANCEL = OrderStatus.PENDING_CANCEL
PARTIALLY_FILLED = OrderStatus.PARTIALLY_FILLED
FILLED = OrderStatus.FILLED
CANCELED = OrderStatus.CANCELED
EXPIRED = OrderStatus.EXPIRED
TRIGGERED = OrderStatus.TRIGGERED

EXPECTED: set[tuple[OrderStatus, OrderStatus]] = {
    # not yet sent: denied by risk, sent, or a held order canceled / expired / released
    (INITIALIZED, DENIED),
    (INITIALIZED, SUBMITTED),
    (INITIALIZED, CANCELED),
    (INITIALIZED, EXPIRED),
    (INITIALIZED, TRIGGERED),
    # sent, not acknowledged: every venue answer may arrive first
    (SUBMITTED, ACCEPTED),
    (SUBMITTED, REJECTED),
    (SUBMITTED, PENDING_UPDATE),
    (SUBMITTED, PENDING_CANCEL),
    (SUBMITTED, CANCELED),
    (SUBMITTED, EXPIRED),
    (SUBMITTED, TRIGGERED),
    (SUBMITTED, PARTIALLY_FILLED),
    (SUBMITTED, FILLED),
    # working at the venue
    (ACCEPTED, REJECTED),
    (ACCEPTED, PENDING_UPDATE),
    (ACCEPTED, PENDING_CANCEL),
    (ACCEPTED, CANCELED),
    (ACCEPTED, EXPIRED),
    (ACCEPTED, TRIGGERED),
    (ACCEPTED, PARTIALLY_FILLED),
    (ACCEPTED, FILLED),
    # a released stop / if-touched order
    (TRIGGERED, REJECTED),
    (TRIGGERED, PENDING_UPDATE),
    (TRIGGERED, PENDING_CANCEL),
    (TRIGGERED, CANCELED),
    (TRIGGERED, EXPIRED),
    (TRIGGERED, PARTIALLY_FILLED),
    (TRIGGERED, FILLED),
    # modify in flight
    (PENDING_UPDATE, PENDING_UPDATE),
    (PENDING_UPDATE, SUBMITTED),
    (PENDING_UPDATE, ACCEPTED),
    (PENDING_UPDATE, TRIGGERED),
    (PENDING_UPDATE, PARTIALLY_FILLED),
    (PENDING_UPDATE, PENDING_CANCEL),
    (PENDING_UPDATE, CANCELED),
    (PENDING_UPDATE, EXPIRED),
    (PENDING_UPDATE, REJECTED),
    (PENDING_UPDATE, FILLED),
    # cancel in flight
    (PENDING_CANCEL, SUBMITTED),
    (PENDING_CANCEL, PENDING_CANCEL),
    (PENDING_CANCEL, ACCEPTED),
    (PENDING_CANCEL, TRIGGERED),
    (PENDING_CANCEL, PARTIALLY_FILLED),
    (PENDING_CANCEL, CANCELED),
    (PENDING_CANCEL, EXPIRED),
    (PENDING_CANCEL, FILLED),
    # partly filled
    (PARTIALLY_FILLED, PARTIALLY_FILLED),
    (PARTIALLY_FILLED, PENDING_UPDATE),
    (PARTIALLY_FILLED, PENDING_CANCEL),
    (PARTIALLY_FILLED, CANCELED),
    (PARTIALLY_FILLED, EXPIRED),
    (PARTIALLY_FILLED, FILLED),
    # late fills after a cancel or expiry
    (CANCELED, CANCELED),
    (CANCELED, FILLED),
    (EXPIRED, EXPIRED),
    (EXPIRED, FILLED),
}

ALL_PAIRS = list(itertools.product(OrderStatus, OrderStatus))
REFUSED = [pair for pair in ALL_PAIRS if pair not in EXPECTED]


def test_there_are_twelve_statuses_and_144_pairs() -> None:
    assert len(OrderStatus) == 12
    assert len(ALL_PAIRS) == 144
    assert len(EXPECTED) + len(REFUSED) == 144


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS, ids=str)
def test_is_allowed_matches_the_expected_table(current: OrderStatus, target: OrderStatus) -> None:
    assert is_allowed(current, target) is ((current, target) in EXPECTED)


@pytest.mark.parametrize(("current", "target"), sorted(EXPECTED), ids=str)
def test_check_transition_passes_every_allowed_pair(
    current: OrderStatus, target: OrderStatus
) -> None:
    check_transition(current, target)


@pytest.mark.parametrize(("current", "target"), REFUSED, ids=str)
def test_check_transition_refuses_every_other_pair_naming_both_states(
    current: OrderStatus, target: OrderStatus
) -> None:
    with pytest.raises(InvalidTransition) as refused:
        check_transition(current, target, subject="order O-7")

    assert str(refused.value) == (f"order O-7: {current} -> {target} is not an allowed transition")


def test_the_table_has_a_row_for_every_status() -> None:
    assert set(TRANSITIONS) == set(OrderStatus)


def test_the_table_cannot_be_changed_at_run_time() -> None:
    with pytest.raises(TypeError):
        TRANSITIONS[FILLED] = frozenset({ACCEPTED})  # type: ignore[index]


def test_terminal_statuses_have_no_exits_other_than_late_fills() -> None:
    for status in TERMINAL_STATUSES:
        exits = {target for target in OrderStatus if is_allowed(status, target)}

        assert exits <= {status, FILLED}, status


def test_only_canceled_and_expired_take_late_fills() -> None:
    late = {status for status in TERMINAL_STATUSES if TRANSITIONS[status]}

    assert late == {CANCELED, EXPIRED}
    assert TRANSITIONS[FILLED] == frozenset()
    assert TRANSITIONS[DENIED] == frozenset()
    assert TRANSITIONS[REJECTED] == frozenset()


def test_terminal_and_open_statuses() -> None:
    assert frozenset({DENIED, REJECTED, FILLED, CANCELED, EXPIRED}) == TERMINAL_STATUSES
    assert (
        frozenset({ACCEPTED, TRIGGERED, PENDING_UPDATE, PENDING_CANCEL, PARTIALLY_FILLED})
        == OPEN_STATUSES
    )
    assert not TERMINAL_STATUSES & OPEN_STATUSES


def test_nothing_leads_back_to_initialized() -> None:
    assert not any(is_allowed(status, INITIALIZED) for status in OrderStatus)


def test_invalid_transition_is_an_operator_error() -> None:
    assert issubclass(InvalidTransition, OperatorError)

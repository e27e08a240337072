"""The order lifecycle as one table of allowed ``(from, to)`` status changes.

Anything not in ``TRANSITIONS`` raises ``InvalidTransition``. Real-world oddities are ordinary
rows with a comment saying why. Terminal states are those with no way out except late fills.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from tradeforge.domain.enums import OrderStatus as S
from tradeforge.domain.errors import InvalidTransition

__all__ = ["OPEN_STATUSES", "TERMINAL_STATUSES", "TRANSITIONS", "check_transition", "is_allowed"]

_TABLE: Final[dict[S, frozenset[S]]] = {
    S.INITIALIZED: frozenset(
        {
            S.DENIED,  # refused by pre-trade checks
            S.SUBMITTED,
            S.CANCELED,  # a held contingent child canceled before it was ever sent
            S.EXPIRED,  # a held GTD order whose time passed before it was sent
            S.TRIGGERED,  # a locally emulated stop/if-touched order released on its trigger
        }
    ),
    S.SUBMITTED: frozenset(
        {
            S.ACCEPTED,
            S.REJECTED,
            S.PENDING_UPDATE,  # modify sent before the venue acknowledged the order
            S.PENDING_CANCEL,  # cancel sent before the venue acknowledged the order
            S.CANCELED,  # venues that cancel an unfillable IOC without acknowledging it first
            S.EXPIRED,  # Binance reports an unfilled IOC/FOK as EXPIRED, sometimes unacked
            S.TRIGGERED,  # the trigger report overtook the acknowledgement
            S.PARTIALLY_FILLED,  # fills often arrive before (or instead of) the acknowledgement
            S.FILLED,
        }
    ),
    S.ACCEPTED: frozenset(
        {
            S.REJECTED,  # some venues reject after acknowledging (post-only that would cross)
            S.PENDING_UPDATE,
            S.PENDING_CANCEL,
            S.CANCELED,
            S.EXPIRED,
            S.TRIGGERED,
            S.PARTIALLY_FILLED,
            S.FILLED,
        }
    ),
    S.TRIGGERED: frozenset(
        {
            S.REJECTED,  # the released limit order was refused (e.g. post-only would cross)
            S.PENDING_UPDATE,
            S.PENDING_CANCEL,
            S.CANCELED,
            S.EXPIRED,
            S.PARTIALLY_FILLED,
            S.FILLED,
        }
    ),
    S.PENDING_UPDATE: frozenset(
        {
            S.PENDING_UPDATE,  # a partial fill arrived while the modify was in flight
            S.SUBMITTED,  # modify refused before the venue acknowledged the order
            S.ACCEPTED,  # modify done or refused: back to where the order was
            S.TRIGGERED,
            S.PARTIALLY_FILLED,
            S.PENDING_CANCEL,  # a cancel sent while the modify was in flight
            S.CANCELED,
            S.EXPIRED,
            S.REJECTED,  # the venue dropped the order when the modify failed (e.g. Binance
            #              cancel-replace that cancelled but could not place the new order)
            S.FILLED,  # filled before the modify arrived
        }
    ),
    S.PENDING_CANCEL: frozenset(
        {
            S.PENDING_CANCEL,  # a partial fill arrived while the cancel was in flight
            S.SUBMITTED,  # cancel refused before the venue acknowledged the order
            S.ACCEPTED,  # cancel refused: back to where the order was
            S.TRIGGERED,
            S.PARTIALLY_FILLED,
            S.CANCELED,
            S.EXPIRED,  # expired before the cancel arrived
            S.FILLED,  # filled before the cancel arrived
        }
    ),
    S.PARTIALLY_FILLED: frozenset(
        {
            S.PARTIALLY_FILLED,  # another partial fill
            S.PENDING_UPDATE,
            S.PENDING_CANCEL,
            S.CANCELED,
            S.EXPIRED,
            S.FILLED,
        }
    ),
    S.FILLED: frozenset(),
    S.DENIED: frozenset(),
    S.REJECTED: frozenset(),
    # A fill that happened at the venue before the cancel or expiry, but is reported after it.
    # A late fill that completes the order makes it FILLED; a late partial fill is booked and the
    # order stays CANCELED / EXPIRED.
    S.CANCELED: frozenset({S.CANCELED, S.FILLED}),
    S.EXPIRED: frozenset({S.EXPIRED, S.FILLED}),
}

TRANSITIONS: Final[Mapping[S, frozenset[S]]] = MappingProxyType(_TABLE)

TERMINAL_STATUSES: Final = frozenset({S.DENIED, S.REJECTED, S.FILLED, S.CANCELED, S.EXPIRED})
OPEN_STATUSES: Final = frozenset(
    {S.ACCEPTED, S.TRIGGERED, S.PENDING_UPDATE, S.PENDING_CANCEL, S.PARTIALLY_FILLED}
)


def is_allowed(current: S, target: S) -> bool:
    """True when the table allows ``current -> target``."""
    return target in TRANSITIONS[current]


def check_transition(current: S, target: S, *, subject: str = "order") -> None:
    """Raise ``InvalidTransition`` naming both states unless the table allows the change."""
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(f"{subject}: {current} -> {target} is not an allowed transition")

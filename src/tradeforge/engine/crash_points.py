"""``CrashPoints``: the crash matrix's test hook in the node's order path (RELIABILITY.md OMS-1).

``TF_CRASH_AT=<point>:<n>`` ends the process (exit status 137, nothing flushed, as SIGKILL) the
n-th time it passes <point>:

  A  before the submit is journaled (OrderSubmitted)   D  fills received, not journaled
  B  journaled SUBMITTED, not yet sent                 E  cancel answered, not journaled
  C  accepted by the venue, the ack not journaled      F  event journaled, strategy not told

Unset, the hook is off: passing a point costs one test.
"""

from __future__ import annotations

import os
from typing import Any

from tradeforge.domain import (
    OrderAccepted,
    OrderCanceled,
    OrderEvent,
    OrderFilled,
    OrderSubmitted,
    TradeForgeError,
)

__all__ = ["CrashPoints"]

# The point passed just before an event of each type is journaled (any other type passes "-").
_BEFORE_JOURNAL: dict[type[OrderEvent], str] = {
    OrderSubmitted: "A", OrderAccepted: "C", OrderFilled: "D", OrderCanceled: "E",
}  # fmt: skip


class CrashPoints:
    """Where the process ends, from a ``TF_CRASH_AT`` value (module docstring); None or empty:
    nowhere. Raises ``TradeForgeError`` for a value that is not ``<point A-F>:<n>``."""

    def __init__(self, spec: str | None) -> None:
        self._plan = _crash_plan(spec)

    def reached(self, point: str) -> None:
        """The order path passes ``point``: the n-th pass of the planned point ends the process."""
        if self._plan is not None and self._plan[0] == point:
            self._plan[1] -= 1
            if self._plan[1] <= 0:
                os._exit(137)

    def before_journal(self, event: OrderEvent) -> None:
        """``event`` is about to be journaled: the point of its type is passed."""
        if self._plan is not None:
            self.reached(_BEFORE_JOURNAL.get(type(event), "-"))


def _crash_plan(spec: str | None) -> list[Any] | None:
    if not spec:
        return None
    point, _, count = spec.partition(":")
    if point not in "ABCDEF" or len(point) != 1 or not (count or "1").isdigit():
        raise TradeForgeError(f"TF_CRASH_AT={spec!r}: write <point A-F>:<n>, e.g. C:1")
    return [point, int(count or 1)]

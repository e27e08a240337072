"""``AuditEntry``: who changed what in pre-trade risk, when, and why.

Every operator action (kill switch, trading state, re-enabling a strategy, a limit change) and
every automatic one (a loss limit breached, a strategy disabled by the execution throttle) leaves
one entry. The engine keeps them until the node drains them into its store, and hands each to an
optional callback the moment it is made (so a breach alert reaches the bus at once).
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

__all__ = ["AuditCallback", "AuditEntry", "AuditLog", "RISK_ACTOR"]

RISK_ACTOR = "risk"  # the actor of automatic actions


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One audited risk action; ``details`` holds action-specific values as text."""

    ts_ns: int
    actor: str
    action: str
    scope: str
    reason: str
    details: dict[str, str] = msgspec.field(default_factory=dict)


AuditCallback = Callable[[AuditEntry], None]


class AuditLog:
    """Entries not yet drained, in the order they were made."""

    def __init__(self, callback: AuditCallback | None = None) -> None:
        self._pending: list[AuditEntry] = []
        self._callback = callback

    def record(self, entry: AuditEntry) -> AuditEntry:
        """Keep ``entry`` and hand it to the callback."""
        self._pending.append(entry)
        if self._callback is not None:
            self._callback(entry)
        return entry

    def pending(self) -> tuple[AuditEntry, ...]:
        """Entries not drained yet."""
        return tuple(self._pending)

    def drain(self) -> list[AuditEntry]:
        """The entries made since the last drain (the caller stores them)."""
        out, self._pending = self._pending, []
        return out

"""The kill switch (R13): for the node, an account or a strategy, one decision blocks every new
order from its activation time and lists the scope's open orders for the node to cancel.

It is state, not a flag in a process: it is saved with the rest of ``RiskState`` and comes back
on start-up, so a restart does not switch it off. Activating and releasing are audited.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from tradeforge.trading.audit import AuditEntry, AuditLog
from tradeforge.trading.exposure import ExposureLedger
from tradeforge.trading.risk_state import Activation, OpenOrderRef
from tradeforge.trading.scope import GLOBAL, Scope, ScopeKind
from tradeforge.trading.scope_registry import ScopeRegistry

__all__ = ["KillSwitch", "KillSwitchActivation"]


class KillSwitchActivation(msgspec.Struct, frozen=True, kw_only=True):
    """What activating did: since when orders are blocked, the audit entry, and the open
    orders of the scope the node must cancel now."""

    scope: Scope
    activation: Activation
    audit: AuditEntry
    to_cancel: tuple[OpenOrderRef, ...]


class KillSwitch:
    """Activate, release and query kill switches (use through ``RiskEngine.kill_switch``)."""

    def __init__(
        self,
        registry: ScopeRegistry,
        ledger: ExposureLedger,
        now: Callable[[], int],
        audit: AuditLog,
    ) -> None:
        self._registry = registry
        self._ledger = ledger
        self._now = now
        self._audit = audit

    def activate(self, scope: Scope = GLOBAL, *, by: str, reason: str) -> KillSwitchActivation:
        """Block new orders of ``scope`` from now; the open orders to cancel come back.

        Activating an active switch keeps its first activation time and lists the open orders
        again (for a node that must retry its cancels).
        """
        now = self._now()
        runtime = self._registry.get(scope)
        if runtime.kill is None:
            runtime.kill = Activation(ts_ns=now, by=by, reason=reason)
            self._registry.refresh()
        to_cancel = tuple(self.open_orders(scope))
        audit = self._audit.record(
            AuditEntry(
                ts_ns=now,
                actor=by,
                action="kill_switch.activate",
                scope=str(scope),
                reason=reason,
                details={
                    "active_since_ns": str(runtime.kill.ts_ns),
                    "open_orders": str(len(to_cancel)),
                },
            )
        )
        return KillSwitchActivation(
            scope=scope, activation=runtime.kill, audit=audit, to_cancel=to_cancel
        )

    def release(self, scope: Scope = GLOBAL, *, by: str, reason: str) -> AuditEntry:
        """Let ``scope`` trade again (other switches and states still apply)."""
        runtime = self._registry.get(scope)
        was = runtime.kill
        runtime.kill = None
        self._registry.refresh()
        return self._audit.record(
            AuditEntry(
                ts_ns=self._now(),
                actor=by,
                action="kill_switch.release",
                scope=str(scope),
                reason=reason,
                details={"was_active": str(was is not None)},
            )
        )

    def active(self, scope: Scope = GLOBAL) -> Activation | None:
        """The activation of ``scope``'s own switch, or None."""
        runtime = self._registry.find(scope)
        return None if runtime is None else runtime.kill

    def open_orders(self, scope: Scope = GLOBAL) -> list[OpenOrderRef]:
        """The open orders in ``scope`` (every open order for the global scope)."""
        if scope.kind is ScopeKind.GLOBAL:
            return [order.ref() for order in self._ledger]
        runtime = self._registry.find(scope)
        if runtime is None:
            return []
        return [order.ref() for order in self._ledger if runtime in order.runtimes]

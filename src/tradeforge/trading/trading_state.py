"""Trading states per scope (R12), and the scopes the execution throttle disabled (R8).

``ACTIVE`` lets every order through; ``REDUCING`` only orders that reduce the scope's exposure
(and modifies that do not add quantity); ``HALTED`` only cancels. An operator sets them; the
daily loss limit (R10) sets ``REDUCING`` by itself. A scope the execution throttle disabled stays
disabled until an operator re-enables it, restarts included (it is part of ``RiskState``).
Every change is audited.
"""

from __future__ import annotations

from collections.abc import Callable

from tradeforge.domain import DenyReason
from tradeforge.trading.audit import RISK_ACTOR, AuditEntry, AuditLog
from tradeforge.trading.risk_state import Activation, ScopeRuntime, TradingState
from tradeforge.trading.scope import GLOBAL, Scope
from tradeforge.trading.scope_registry import ScopeRegistry

__all__ = ["TradingStates"]

_CAUSE = {
    TradingState.ACTIVE: None,
    TradingState.REDUCING: DenyReason.REDUCE_ONLY_MODE,
    TradingState.HALTED: DenyReason.TRADING_HALTED,
}


class TradingStates:
    """Set and read trading states, re-enable disabled scopes (as ``RiskEngine.states``)."""

    def __init__(self, registry: ScopeRegistry, now: Callable[[], int], audit: AuditLog) -> None:
        self._registry = registry
        self._now = now
        self._audit = audit

    def get(self, scope: Scope = GLOBAL) -> TradingState:
        """The scope's own state (the state an order meets is the strictest of its scopes)."""
        runtime = self._registry.find(scope)
        return TradingState.ACTIVE if runtime is None else runtime.state

    def set(self, scope: Scope, state: TradingState, *, by: str, reason: str) -> AuditEntry:
        """Put ``scope`` in ``state`` from the next order on."""
        now = self._now()
        runtime = self._registry.get(scope)
        before = runtime.state
        self._put(runtime, state, Activation(ts_ns=now, by=by, reason=reason), _CAUSE[state])
        return self._audit.record(
            AuditEntry(
                ts_ns=now,
                actor=by,
                action="trading_state.set",
                scope=str(scope),
                reason=reason,
                details={"from": before.value, "to": state.value},
            )
        )

    def disabled(self, scope: Scope) -> Activation | None:
        """Why and since when the execution throttle disabled ``scope``, or None."""
        runtime = self._registry.find(scope)
        return None if runtime is None else runtime.disabled

    def enable(self, scope: Scope, *, by: str, reason: str) -> AuditEntry:
        """Re-enable a scope the execution throttle disabled (an operator's decision)."""
        runtime = self._registry.get(scope)
        was = runtime.disabled
        runtime.disabled = None
        self._registry.refresh()
        return self._audit.record(
            AuditEntry(
                ts_ns=self._now(),
                actor=by,
                action="execution_throttle.enable",
                scope=str(scope),
                reason=reason,
                details={"was_disabled": str(was is not None)},
            )
        )

    def disable(self, runtime: ScopeRuntime, ts_ns: int, fills: int, window_ms: int) -> AuditEntry:
        """The execution throttle tripped for ``runtime``'s scope (called by the engine)."""
        reason = f"{fills} executions within {window_ms} ms"
        runtime.disabled = Activation(ts_ns=ts_ns, by=RISK_ACTOR, reason=reason)
        self._registry.refresh()
        return self._audit.record(
            AuditEntry(
                ts_ns=ts_ns,
                actor=RISK_ACTOR,
                action="execution_throttle.disable",
                scope=str(runtime.scope),
                reason=reason,
                details={"fills": str(fills), "window_ms": str(window_ms)},
            )
        )

    def breach(self, runtime: ScopeRuntime, ts_ns: int, reason: str) -> AuditEntry | None:
        """A loss limit was breached: the scope goes REDUCING (unless stricter already)."""
        if runtime.state is not TradingState.ACTIVE:
            return None
        self._put(
            runtime,
            TradingState.REDUCING,
            Activation(ts_ns=ts_ns, by=RISK_ACTOR, reason=reason),
            DenyReason.DAILY_LOSS_LIMIT,
        )
        return self._audit.record(
            AuditEntry(
                ts_ns=ts_ns,
                actor=RISK_ACTOR,
                action="loss_limit.breach",
                scope=str(runtime.scope),
                reason=reason,
                details={"from": TradingState.ACTIVE.value, "to": TradingState.REDUCING.value},
            )
        )

    def _put(
        self,
        runtime: ScopeRuntime,
        state: TradingState,
        since: Activation,
        cause: DenyReason | None,
    ) -> None:
        runtime.state = state
        runtime.state_since = None if state is TradingState.ACTIVE else since
        runtime.state_cause = cause
        self._registry.refresh()

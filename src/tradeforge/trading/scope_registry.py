"""``ScopeRegistry``: the ``ScopeRuntime`` of every scope risk has seen, and their saved form."""

from __future__ import annotations

from collections.abc import Iterator

from tradeforge.trading.risk_state import RiskState, ScopeRuntime
from tradeforge.trading.scope import Scope

__all__ = ["ScopeRegistry"]


class ScopeRegistry:
    """Runtimes by scope; ``any_blocked`` tells the hot path whether any gate can refuse."""

    def __init__(self, execution_window_ns: int) -> None:
        self._runtimes: dict[Scope, ScopeRuntime] = {}
        self._window_ns = execution_window_ns
        self.any_blocked = False

    def get(self, scope: Scope) -> ScopeRuntime:
        """The runtime of ``scope`` (created on first use)."""
        runtime = self._runtimes.get(scope)
        if runtime is None:
            runtime = self._runtimes[scope] = ScopeRuntime(scope, self._window_ns)
        return runtime

    def find(self, scope: Scope) -> ScopeRuntime | None:
        """The runtime of ``scope`` if it exists."""
        return self._runtimes.get(scope)

    def __iter__(self) -> Iterator[ScopeRuntime]:
        return iter(self._runtimes.values())

    def set_execution_window(self, window_ns: int) -> None:
        """Fills count over ``window_ns`` from now on."""
        self._window_ns = window_ns
        for runtime in self._runtimes.values():
            runtime.fills.window_ns = window_ns

    def refresh(self) -> None:
        """Recompute ``any_blocked`` after a state, kill switch or throttle change."""
        self.any_blocked = any(runtime.blocked for runtime in self._runtimes.values())

    def export(self) -> RiskState:
        """The persistable state of every scope that has any."""
        records = [r for r in (rt.record() for rt in self._runtimes.values()) if r is not None]
        records.sort(key=lambda r: r.scope)
        return RiskState(scopes=records)

    def load(self, state: RiskState) -> None:
        """Take saved state back (scopes not in it keep what they have)."""
        for record in state.scopes:
            self.get(Scope.parse(record.scope)).load(record)
        self.refresh()

"""``Scope``: what a risk control, a trading state or a kill switch applies to.

Three levels: the whole node (``GLOBAL``), one account, one strategy. An order belongs to exactly
one scope of each level, and a control set at any of them applies to it. The string form
(``global``, ``account:BINANCE-main``, ``strategy:ema_cross-001``) is what state and audit
records store; ``Scope.parse`` reads it back.
"""

from __future__ import annotations

import enum

import msgspec

from tradeforge.domain import AccountId, InvalidValue, StrategyId

__all__ = ["GLOBAL", "Scope", "ScopeKind"]


class ScopeKind(enum.StrEnum):
    GLOBAL = "global"
    ACCOUNT = "account"
    STRATEGY = "strategy"


class Scope(msgspec.Struct, frozen=True, gc=False):
    """The node, one account (``id`` "" is the unnamed account) or one strategy."""

    kind: ScopeKind
    id: str = ""

    def __post_init__(self) -> None:
        if self.kind is ScopeKind.GLOBAL and self.id:
            raise InvalidValue(f"scope: the global scope has no id, got {self.id!r}")
        if self.kind is ScopeKind.STRATEGY and not self.id:
            raise InvalidValue("scope: a strategy scope needs a strategy id")

    @classmethod
    def account(cls, account_id: AccountId | str | None) -> Scope:
        """The scope of one account (None: the unnamed account of a single-account run)."""
        return cls(ScopeKind.ACCOUNT, "" if account_id is None else str(account_id))

    @classmethod
    def strategy(cls, strategy_id: StrategyId | str) -> Scope:
        """The scope of one strategy."""
        return cls(ScopeKind.STRATEGY, str(strategy_id))

    @classmethod
    def parse(cls, text: str) -> Scope:
        """Read the string form back (``global``, ``account:<id>``, ``strategy:<id>``)."""
        if text == ScopeKind.GLOBAL:
            return GLOBAL
        kind, colon, ident = text.partition(":")
        if not colon or kind not in (ScopeKind.ACCOUNT, ScopeKind.STRATEGY):
            raise InvalidValue(
                f"scope must be 'global', 'account:<id>' or 'strategy:<id>', got {text!r}"
            )
        return cls(ScopeKind(kind), ident)

    def __str__(self) -> str:
        if self.kind is ScopeKind.GLOBAL:
            return "global"
        return f"{self.kind.value}:{self.id}"


GLOBAL = Scope(ScopeKind.GLOBAL)

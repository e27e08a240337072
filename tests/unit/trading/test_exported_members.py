"""The public API of ``tradeforge.trading`` is pinned: adding or removing a name is a decision."""

from __future__ import annotations

import tradeforge.trading


def test_trading_public_api_is_pinned() -> None:
    assert sorted(tradeforge.trading.__all__) == sorted(
        [
            "GLOBAL",
            "Activation",
            "AuditEntry",
            "Denial",
            "Exposure",
            "KillSwitch",
            "KillSwitchActivation",
            "Limits",
            "OpenOrderRef",
            "OrderManager",
            "RiskConfig",
            "RiskEngine",
            "RiskState",
            "Scope",
            "ScopeKind",
            "ScopeRecord",
            "TradingState",
            "TradingStates",
            "ValuePoint",
            "Valuation",
            "ValuationStore",
            "value_portfolio",
        ]
    )
    for name in tradeforge.trading.__all__:
        assert getattr(tradeforge.trading, name) is not None

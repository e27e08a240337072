"""Trading service: the order manager and pre-trade risk (limits, states, kill switch)."""

from tradeforge.trading.audit import AuditEntry
from tradeforge.trading.kill_switch import KillSwitch, KillSwitchActivation
from tradeforge.trading.oms import OrderManager
from tradeforge.trading.risk_checks import Denial
from tradeforge.trading.risk_config import Limits, RiskConfig
from tradeforge.trading.risk_engine import RiskEngine
from tradeforge.trading.risk_state import (
    Activation,
    Exposure,
    OpenOrderRef,
    RiskState,
    ScopeRecord,
    TradingState,
)
from tradeforge.trading.scope import GLOBAL, Scope, ScopeKind
from tradeforge.trading.trading_state import TradingStates
from tradeforge.trading.valuation import Valuation, ValuationStore, ValuePoint, value_portfolio

__all__ = [
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

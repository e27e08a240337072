"""Trading service: the order manager and pre-trade risk."""

from tradeforge.trading.oms import OrderManager
from tradeforge.trading.risk import RiskConfig, RiskEngine

__all__ = ["OrderManager", "RiskConfig", "RiskEngine"]

"""Pre-trade risk, the names most callers need: ``RiskConfig`` and ``RiskEngine``.

The engine lives in ``risk_engine``, its configuration in ``risk_config``; this module keeps the
original import path working.
"""

from tradeforge.trading.risk_config import RiskConfig
from tradeforge.trading.risk_engine import RiskEngine

__all__ = ["RiskConfig", "RiskEngine"]

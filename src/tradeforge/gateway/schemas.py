"""The gateway's request and response bodies (the OpenAPI schema is built from these).

Each resource's bodies live in their own module (``order_schemas``, ``market_schemas``,
``portfolio_schemas``, ``risk_schemas``, ``backtest_schemas``, ``strategy_schemas``,
``system_schemas``); this module is where the routers import them from. Prices, quantities and
money are decimal strings, never JSON floats (``schema_base``), so nothing is rounded on the way
through.
"""

from __future__ import annotations

from tradeforge.gateway.backtest_schemas import (
    BacktestIn,
    BacktestJobOut,
    BacktestResultOut,
    BacktestTradeOut,
    BacktestTradePage,
    EquityOut,
)
from tradeforge.gateway.market_schemas import (
    BookLevelOut,
    BookOut,
    CandleOut,
    CandlesOut,
    InstrumentOut,
    TickerOut,
)
from tradeforge.gateway.order_schemas import FillOut, OrderIn, OrderModifyIn, OrderOut, OrderPage
from tradeforge.gateway.portfolio_schemas import PortfolioOut, PortfolioPointOut, PositionOut
from tradeforge.gateway.risk_schemas import (
    DenialOut,
    KillSwitchIn,
    KillSwitchOut,
    RiskLimitsIn,
    RiskLimitsOut,
)
from tradeforge.gateway.strategy_schemas import (
    InstrumentPerformanceOut,
    StrategyConfigureIn,
    StrategyErrorOut,
    StrategyEventOut,
    StrategyInfoOut,
    StrategyInstanceIn,
    StrategyInstanceOut,
    StrategyLogLineOut,
    StrategyOut,
    StrategyPerformanceOut,
)
from tradeforge.gateway.system_schemas import ReconciliationOut, VersionOut

__all__ = [
    "BacktestIn",
    "BacktestJobOut",
    "BacktestResultOut",
    "BacktestTradeOut",
    "BacktestTradePage",
    "BookLevelOut",
    "BookOut",
    "CandleOut",
    "CandlesOut",
    "DenialOut",
    "EquityOut",
    "FillOut",
    "InstrumentOut",
    "KillSwitchIn",
    "KillSwitchOut",
    "InstrumentPerformanceOut",
    "OrderIn",
    "OrderModifyIn",
    "OrderOut",
    "OrderPage",
    "PortfolioOut",
    "PortfolioPointOut",
    "PositionOut",
    "ReconciliationOut",
    "RiskLimitsIn",
    "RiskLimitsOut",
    "StrategyConfigureIn",
    "StrategyErrorOut",
    "StrategyEventOut",
    "StrategyInfoOut",
    "StrategyInstanceIn",
    "StrategyInstanceOut",
    "StrategyLogLineOut",
    "StrategyOut",
    "StrategyPerformanceOut",
    "TickerOut",
    "VersionOut",
]

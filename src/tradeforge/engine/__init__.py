"""Core engine: the trading node that wires data -> strategies -> risk -> OMS -> execution for
paper and live trading (the backtester is its replay twin in ``tradeforge.backtest``)."""

from tradeforge.engine.bar_recorder import BarRecorder
from tradeforge.engine.bars import TradeBarAggregator
from tradeforge.engine.books import OrderBooks
from tradeforge.engine.context import LiveContext
from tradeforge.engine.feeds import LiveBarFeed
from tradeforge.engine.node import ModifyRefusal, NodeReport, TradingNode
from tradeforge.engine.performance import (
    InstrumentPerformance,
    StrategyPerformance,
    strategy_performance,
)
from tradeforge.engine.portfolio import PortfolioRecorder
from tradeforge.engine.strategy_log import LogLine, StrategyLog, StrategyLogged

__all__ = [
    "BarRecorder",
    "InstrumentPerformance",
    "LiveBarFeed",
    "LiveContext",
    "LogLine",
    "ModifyRefusal",
    "NodeReport",
    "OrderBooks",
    "PortfolioRecorder",
    "StrategyLog",
    "StrategyLogged",
    "StrategyPerformance",
    "TradeBarAggregator",
    "TradingNode",
    "strategy_performance",
]

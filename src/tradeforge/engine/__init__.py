"""Core engine: the trading node that wires data -> strategies -> risk -> OMS -> execution for
paper and live trading (the backtester is its replay twin in ``tradeforge.backtest``)."""

from tradeforge.engine.bars import TradeBarAggregator
from tradeforge.engine.context import LiveContext
from tradeforge.engine.feeds import LiveBarFeed
from tradeforge.engine.node import NodeReport, TradingNode

__all__ = ["LiveBarFeed", "LiveContext", "NodeReport", "TradeBarAggregator", "TradingNode"]

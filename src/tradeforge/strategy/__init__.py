"""Strategy service: the ``Strategy`` base authors subclass, its parameters, indicators, context
and the registry of named strategies.

One import for authors::

    from tradeforge.strategy import Strategy, IntParam, FloatParam, DecimalParam, ChoiceParam
"""

from tradeforge.strategy.base import BarLike, Strategy
from tradeforge.strategy.context import StrategyContext
from tradeforge.strategy.indicators import Cursor, Indicator, RollingWindow
from tradeforge.strategy.params import ChoiceParam, DecimalParam, FloatParam, IntParam, Param
from tradeforge.strategy.registry import BUILTIN_STRATEGIES, StrategyRegistry

__all__ = [
    "BUILTIN_STRATEGIES",
    "BarLike",
    "ChoiceParam",
    "Cursor",
    "DecimalParam",
    "FloatParam",
    "Indicator",
    "IntParam",
    "Param",
    "RollingWindow",
    "Strategy",
    "StrategyContext",
    "StrategyRegistry",
]

"""What the gateway talks to: the services' public facades, never their internals or stores.

``GatewayServices`` is assembled by ``tradeforge.runtime`` (``tradeforge up``) and handed to
``create_app``. The orders placed over REST belong to the node's ``manual`` strategy, so they pass
the same pre-trade risk and journal as a strategy's. ``catalog`` (market history) and
``backtests`` (the job runner) are optional: without them their routes answer 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tradeforge.auth.service import AuthService
from tradeforge.backtest.jobs import BacktestJobs
from tradeforge.data import Catalog
from tradeforge.engine import TradingNode
from tradeforge.strategy import Strategy, StrategyRegistry

__all__ = ["GatewayServices", "ManualTrading"]


class ManualTrading(Strategy):
    """The strategy that owns orders placed by people and API clients (it trades by itself
    never)."""

    name = "manual"


@dataclass
class GatewayServices:
    """The facades the routers use."""

    node: TradingNode
    manual: ManualTrading
    auth: AuthService
    mode: str = "paper"
    catalog: Catalog | None = None
    backtests: BacktestJobs | None = None
    registry: StrategyRegistry = field(default_factory=StrategyRegistry)

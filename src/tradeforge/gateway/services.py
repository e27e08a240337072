"""What the gateway talks to: the services' public facades, never their internals or stores.

``GatewayServices`` is assembled by ``tradeforge.runtime`` (``tradeforge up``) and handed to
``create_app``. The orders placed over REST belong to the node's ``manual`` strategy, so they pass
the same pre-trade risk and journal as a strategy's.
"""

from __future__ import annotations

from dataclasses import dataclass

from tradeforge.auth.service import AuthService
from tradeforge.engine import TradingNode
from tradeforge.strategy import Strategy

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

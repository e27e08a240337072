"""The simulated exchange server (``tradeforge exchange serve``): the backtester's matching
engine behind a faithful subset of the Binance Spot v3 REST API and WebSocket streams."""

from tradeforge.connectors.sim_exchange.app import create_app
from tradeforge.connectors.sim_exchange.exchange import Account, Exchange
from tradeforge.connectors.sim_exchange.market import MarketFeed
from tradeforge.connectors.sim_exchange.run import build_server, serve_forever
from tradeforge.connectors.sim_exchange.server import ExchangeServer, ServerOptions
from tradeforge.connectors.sim_exchange.signing import sign
from tradeforge.connectors.sim_exchange.store import ExchangeStore

__all__ = [
    "Account",
    "Exchange",
    "ExchangeServer",
    "ExchangeStore",
    "MarketFeed",
    "ServerOptions",
    "build_server",
    "create_app",
    "serve_forever",
    "sign",
]

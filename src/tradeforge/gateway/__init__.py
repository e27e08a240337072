"""API gateway: ``create_app(services)``, one router per ``/api/v1`` resource, problem details."""

from tradeforge.gateway.app import create_app
from tradeforge.gateway.services import GatewayServices, ManualTrading

__all__ = ["GatewayServices", "ManualTrading", "create_app"]

"""``GET /api/v3/exchangeInfo``: the listed symbols with Binance's filters, and the rate limits."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tradeforge.connectors.sim_exchange.orders import fmt
from tradeforge.connectors.sim_exchange.server import ExchangeServer

__all__ = ["exchange_info_body"]


def exchange_info_body(server: ExchangeServer, params: dict[str, str]) -> dict[str, Any]:
    """The ``exchangeInfo`` answer of ``server``: every listed symbol, or ``params["symbol"]``."""
    ex = server.exchange
    chosen = list(ex.listed.values())
    if params.get("symbol"):
        chosen = [ex.symbol(params["symbol"])]
    symbols = []
    for listed in chosen:
        inst = listed.instrument
        min_notional = inst.min_notional.amount if inst.min_notional is not None else Decimal(0)
        symbols.append(
            {
                "symbol": listed.symbol,
                "status": "TRADING",
                "baseAsset": inst.base_currency.code,
                "baseAssetPrecision": 8,
                "quoteAsset": inst.quote_currency.code,
                "quotePrecision": 8,
                "quoteAssetPrecision": 8,
                "baseCommissionPrecision": 8,
                "quoteCommissionPrecision": 8,
                "orderTypes": [
                    "LIMIT",
                    "LIMIT_MAKER",
                    "MARKET",
                    "STOP_LOSS",
                    "STOP_LOSS_LIMIT",
                    "TAKE_PROFIT_LIMIT",
                ],
                "icebergAllowed": False,
                "ocoAllowed": True,
                "otoAllowed": False,
                "quoteOrderQtyMarketAllowed": True,
                "allowTrailingStop": False,
                "cancelReplaceAllowed": False,
                "isSpotTradingAllowed": True,
                "isMarginTradingAllowed": False,
                "filters": [
                    {
                        "filterType": "PRICE_FILTER",
                        "minPrice": fmt(inst.tick_size.as_decimal()),
                        "maxPrice": fmt(inst.tick_size.as_decimal() * 10**9),
                        "tickSize": fmt(inst.tick_size.as_decimal()),
                    },
                    {
                        "filterType": "LOT_SIZE",
                        "minQty": fmt(inst.min_quantity.as_decimal()),
                        "maxQty": fmt(
                            inst.max_quantity.as_decimal()
                            if inst.max_quantity is not None
                            else inst.lot_size.as_decimal() * 10**9
                        ),
                        "stepSize": fmt(inst.lot_size.as_decimal()),
                    },
                    {
                        "filterType": "NOTIONAL",
                        "minNotional": fmt(min_notional),
                        "applyMinToMarket": True,
                        "maxNotional": fmt(inst.tick_size.as_decimal() * 10**12),
                        "applyMaxToMarket": False,
                        "avgPriceMins": 0,
                    },
                ],
                "permissions": [],
                "permissionSets": [["SPOT"]],
                "defaultSelfTradePreventionMode": "NONE",
                "allowedSelfTradePreventionModes": ["NONE"],
            }
        )
    return {
        "timezone": "UTC",
        "serverTime": ex.now_ms(),
        "rateLimits": [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": server.limits.weight_per_minute,
            },
            {
                "rateLimitType": "ORDERS",
                "interval": "SECOND",
                "intervalNum": 10,
                "limit": server.limits.orders_per_10s,
            },
            {
                "rateLimitType": "ORDERS",
                "interval": "DAY",
                "intervalNum": 1,
                "limit": server.limits.orders_per_day,
            },
        ],
        "exchangeFilters": [],
        "symbols": symbols,
    }

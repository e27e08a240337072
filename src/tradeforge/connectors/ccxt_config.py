"""A CCXT venue account: its configuration, the clock its client reads, what the venue can do.

``make_exchange`` turns a :class:`CcxtVenueConfig` into a CCXT exchange object (async REST or
CCXT Pro) with CCXT's own rate limiter switched off; ``capabilities_of`` reads CCXT's ``has``
table, with our own overrides, as ``VenueCapabilities``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from tradeforge.domain import AccountId, UnknownInstrument, Venue
from tradeforge.execution import VenueCapabilities

__all__ = ["CcxtVenueConfig", "VenueClock", "capabilities_of", "make_exchange"]


class VenueClock(Protocol):
    """What the client needs of a clock: ``LiveClock`` has both."""

    def timestamp_ns(self) -> int: ...

    def monotonic(self) -> float: ...


@dataclass(frozen=True)
class CcxtVenueConfig:
    """One CCXT venue account.

    ``urls`` is merged into the CCXT class's ``urls`` (to point it at a testnet or at our
    simulated exchange); ``ws_url`` enables our own Binance-protocol book stream.
    """

    exchange_id: str
    venue: Venue
    api_key: str | None = None
    secret: str | None = None
    urls: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    ws_url: str | None = None
    timeout_ms: int = 10_000
    weight_limit: int = 6000
    breaker_threshold: int = 5
    breaker_cooldown: float = 30.0
    lookup_attempts: int = 5
    lookup_interval: float = 1.0
    account_id: AccountId | None = None


def capabilities_of(has: Mapping[str, Any], exchange_id: str) -> VenueCapabilities:
    """What a venue can do, from CCXT's ``has`` table and our own overrides."""

    def yes(key: str) -> bool:
        return bool(has.get(key))

    binance = exchange_id == "binance"
    return VenueCapabilities(
        modify_order=yes("editOrder") and not binance,  # spot edit = cancelReplace
        stop_orders=yes("createStopOrder") or yes("createStopLimitOrder"),
        if_touched_orders=binance,  # TAKE_PROFIT_LIMIT
        oco_orders=binance,  # orderList/oco, through CCXT's raw method
        post_only=yes("createPostOnlyOrder") or exchange_id == "binance",
        reduce_only=yes("createReduceOnlyOrder"),
        fetch_order_by_client_id=yes("fetchOrder"),
        watch_trades=yes("watchTrades"),
        watch_quotes=yes("watchBidsAsks") or yes("watchTicker"),
        watch_book=yes("watchOrderBook"),
        watch_bars=yes("watchOHLCV"),
        watch_orders=yes("watchOrders"),
    )


def make_exchange(module: Any, config: CcxtVenueConfig) -> Any:
    """The CCXT exchange class ``config.exchange_id`` of ``module`` (``ccxt.async_support`` or
    ``ccxt.pro``) for this account, with ``config.urls`` merged in (else ``UnknownInstrument``)."""
    params: dict[str, Any] = {
        "enableRateLimit": False,
        "timeout": config.timeout_ms,
        "options": dict(config.options),
    }
    if config.api_key:
        params |= {"apiKey": config.api_key, "secret": config.secret or ""}
    try:
        exchange = getattr(module, config.exchange_id)(params)
    except AttributeError:
        raise UnknownInstrument(f"CCXT has no exchange {config.exchange_id!r}") from None
    _deep_merge(exchange.urls, config.urls)
    return exchange


def _deep_merge(target: dict[str, Any], extra: Mapping[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _deep_merge(target[key], value)
        else:
            target[key] = value

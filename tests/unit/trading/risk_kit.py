"""Stubs for the pre-trade risk tests: a clock, instruments, order specs and their events."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.kit.stubs import ACCOUNT, STRATEGY, TS, USDT, btcusdt

from tradeforge.bus import ReplayClock
from tradeforge.domain import (
    ClientOrderId,
    CurrencyPair,
    InstrumentId,
    LiquiditySide,
    Money,
    OrderCanceled,
    OrderFilled,
    OrderSide,
    OrderSpec,
    OrderType,
    OrderUpdated,
    Price,
    Quantity,
    StrategyId,
    TradeId,
    VenueOrderId,
)
from tradeforge.trading import RiskConfig, RiskEngine

__all__ = [
    "ACCOUNT",
    "BTC",
    "BTCUSDT",
    "ETHUSDT",
    "MS",
    "SECOND",
    "STRATEGY",
    "TS",
    "USDT",
    "canceled",
    "engine",
    "eth",
    "fill",
    "spec",
    "updated",
]

MS = 1_000_000
SECOND = 1_000 * MS
BTCUSDT = btcusdt()
BTC = BTCUSDT.id
ETHUSDT = InstrumentId.from_str("ETH/USDT.KRAKEN")
_ids = iter(range(1, 10**9))


def eth(**overrides: Any) -> CurrencyPair:
    """Spot ETH/USDT on a second venue: tick 0.01, lot 0.01, no fees."""
    return btcusdt(
        **{
            "id": ETHUSDT,
            "raw_symbol": "ETHUSDT",
            "lot_size": Quantity("0.01"),
            "min_quantity": Quantity("0.01"),
            "maker_fee": Decimal(0),
            "taker_fee": Decimal(0),
        }
        | overrides
    )


def engine(
    config: RiskConfig | None = None,
    *,
    clock: ReplayClock | None = None,
    track: bool | None = True,
) -> tuple[RiskEngine, ReplayClock]:
    """An engine on a replay clock at ``TS`` (tracking unless told otherwise)."""
    the_clock = clock or ReplayClock(TS)
    return RiskEngine(config, clock=the_clock, track=track), the_clock


def spec(
    side: OrderSide = OrderSide.BUY,
    qty: str | Decimal = "1.000",
    price: str | Decimal | None = "100.00",
    *,
    cid: str | None = None,
    strategy: StrategyId = STRATEGY,
    instrument: InstrumentId = BTC,
    order_type: OrderType | None = None,
    trigger: str | None = None,
    tags: tuple[str, ...] = (),
) -> OrderSpec:
    """A limit order (market when ``price`` is None) with a fresh client order id."""
    kind = order_type or (OrderType.LIMIT if price is not None else OrderType.MARKET)
    return OrderSpec(
        client_order_id=ClientOrderId(cid or f"R-{next(_ids)}"),
        strategy_id=strategy,
        instrument_id=instrument,
        side=side,
        order_type=kind,
        quantity=Quantity(str(qty)),
        price=None if price is None else Price(str(price)),
        trigger_price=None if trigger is None else Price(trigger),
        tags=tags,
    )


def fill(
    order: OrderSpec,
    qty: str | Decimal,
    px: str | Decimal = "100.00",
    *,
    ts: int = TS,
    commission: Money | None = None,
) -> OrderFilled:
    """A fill of ``qty`` of ``order`` at ``px``."""
    return OrderFilled(
        **order.ids(),
        account_id=ACCOUNT,
        venue_order_id=VenueOrderId("V-1"),
        trade_id=TradeId(f"T-{next(_ids)}"),
        order_side=order.side,
        order_type=order.order_type,
        last_qty=Quantity(str(qty)),
        last_px=Price(str(px)),
        commission=commission or Money.zero(USDT),
        liquidity_side=LiquiditySide.TAKER,
        ts_event=ts,
        ts_init=ts,
    )


def canceled(order: OrderSpec, *, ts: int = TS) -> OrderCanceled:
    """The venue cancelled ``order``."""
    return OrderCanceled(**order.ids(), ts_event=ts, ts_init=ts)


def updated(order: OrderSpec, qty: str, price: str | None = None, *, ts: int = TS) -> OrderUpdated:
    """The venue applied a modify of ``order``."""
    return OrderUpdated(
        **order.ids(),
        quantity=Quantity(qty),
        price=None if price is None else Price(price),
        ts_event=ts,
        ts_init=ts,
    )

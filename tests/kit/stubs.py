"""Stub factories for domain objects: instruments, order specs, order events, fills, balances.

Each stub returns a valid object with plain defaults; pass a keyword to change what a test is
about. Quantities and prices given as ``str`` are exact, never floats.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tradeforge.domain import (
    KNOWN_CURRENCIES,
    AccountBalance,
    AccountId,
    ClientOrderId,
    CurrencyPair,
    DenyReason,
    Equity,
    FuturesContract,
    Instrument,
    InstrumentId,
    LiquiditySide,
    Money,
    Order,
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderModifyRejected,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderRejected,
    OrderSide,
    OrderSpec,
    OrderSubmitted,
    OrderTriggered,
    OrderType,
    OrderUpdated,
    PerpetualContract,
    PositionSide,
    Price,
    Quantity,
    RejectReason,
    StrategyId,
    TradeId,
    TrailingOffsetType,
    VenueOrderId,
)

__all__ = [
    "ACCOUNT",
    "BTC",
    "BTCUSDT",
    "EUR",
    "STRATEGY",
    "TS",
    "USD",
    "USDT",
    "accepted",
    "aapl",
    "balance",
    "btcusdt",
    "cancel_rejected",
    "canceled",
    "denied",
    "es_future",
    "expired",
    "filled",
    "initialized",
    "modify_rejected",
    "order",
    "order_spec",
    "pending_cancel",
    "pending_update",
    "rejected",
    "submitted",
    "trade",
    "triggered",
    "updated",
    "xbtusd_inverse",
]

TS = 1_700_000_000_000_000_000  # 2023-11-14T22:13:20Z in ns

USD = KNOWN_CURRENCIES["USD"]
EUR = KNOWN_CURRENCIES["EUR"]
USDT = KNOWN_CURRENCIES["USDT"]
BTC = KNOWN_CURRENCIES["BTC"]

STRATEGY = StrategyId("ema_cross-001")
ACCOUNT = AccountId("BINANCE-main")
BTCUSDT = InstrumentId.from_str("BTC/USDT.BINANCE")


# instruments


def btcusdt(**overrides: Any) -> CurrencyPair:
    """Spot BTC/USDT: tick 0.01, lot 0.001, maker 0.02 %, taker 0.04 %."""
    fields: dict[str, Any] = {
        "id": BTCUSDT,
        "raw_symbol": "BTCUSDT",
        "base_currency": BTC,
        "quote_currency": USDT,
        "settlement_currency": USDT,
        "tick_size": Price("0.01"),
        "lot_size": Quantity("0.001"),
        "min_quantity": Quantity("0.001"),
        "maker_fee": Decimal("0.0002"),
        "taker_fee": Decimal("0.0004"),
    }
    return CurrencyPair(**(fields | overrides))


def xbtusd_inverse(**overrides: Any) -> PerpetualContract:
    """BitMEX-style inverse perpetual: 1 USD contracts, tick 0.5, settled in BTC."""
    fields: dict[str, Any] = {
        "id": InstrumentId.from_str("XBTUSD.BITMEX"),
        "raw_symbol": "XBTUSD",
        "base_currency": BTC,
        "quote_currency": USD,
        "settlement_currency": BTC,
        "tick_size": Price("0.5"),
        "lot_size": Quantity("1"),
        "min_quantity": Quantity("1"),
        "is_inverse": True,
        "maker_fee": Decimal("-0.00025"),
        "taker_fee": Decimal("0.00075"),
    }
    return PerpetualContract(**(fields | overrides))


def aapl(**overrides: Any) -> Equity:
    """Apple shares on NASDAQ: tick 0.01, whole shares, no fees."""
    fields: dict[str, Any] = {
        "id": InstrumentId.from_str("AAPL.XNAS"),
        "raw_symbol": "AAPL",
        "quote_currency": USD,
        "settlement_currency": USD,
        "tick_size": Price("0.01"),
        "lot_size": Quantity("1"),
        "min_quantity": Quantity("1"),
        "isin": "US0378331005",
    }
    return Equity(**(fields | overrides))


def es_future(**overrides: Any) -> FuturesContract:
    """E-mini S&P 500 December future: tick 0.25, multiplier 50, USD."""
    fields: dict[str, Any] = {
        "id": InstrumentId.from_str("ESZ4.CME"),
        "raw_symbol": "ESZ4",
        "quote_currency": USD,
        "settlement_currency": USD,
        "tick_size": Price("0.25"),
        "lot_size": Quantity("1"),
        "min_quantity": Quantity("1"),
        "multiplier": Quantity("50"),
        "underlying": "ES",
        "activation_ns": TS,
        "expiration_ns": TS + 90 * 86_400 * 10**9,
    }
    return FuturesContract(**(fields | overrides))


# order specs


def order_spec(order_type: OrderType = OrderType.LIMIT, **overrides: Any) -> OrderSpec:
    """A valid spec of ``order_type`` (BUY 1.000 BTC/USDT, prices it needs filled in)."""
    fields: dict[str, Any] = {
        "client_order_id": ClientOrderId("O-1"),
        "strategy_id": STRATEGY,
        "instrument_id": BTCUSDT,
        "side": OrderSide.BUY,
        "order_type": order_type,
        "quantity": Quantity("1.000"),
    }
    if order_type.has_limit_price:
        fields["price"] = Price("100.00")
    if order_type.has_trigger and order_type is not OrderType.TRAILING_STOP:
        fields["trigger_price"] = Price("101.00")
    if order_type is OrderType.TRAILING_STOP:
        fields["trailing_offset"] = Decimal("1.00")
        fields["trailing_offset_type"] = TrailingOffsetType.AMOUNT
    return OrderSpec(**(fields | overrides))


# order events


def _keys(spec: OrderSpec, ts: int) -> dict[str, Any]:
    return {
        "client_order_id": spec.client_order_id,
        "strategy_id": spec.strategy_id,
        "instrument_id": spec.instrument_id,
        "ts_event": ts,
        "ts_init": ts,
    }


def initialized(spec: OrderSpec, *, ts: int = TS) -> OrderInitialized:
    return OrderInitialized.of(spec, ts)


def denied(spec: OrderSpec, *, ts: int = TS) -> OrderDenied:
    return OrderDenied(reason=DenyReason.MAX_ORDER_NOTIONAL, message="too big", **_keys(spec, ts))


def submitted(spec: OrderSpec, *, ts: int = TS) -> OrderSubmitted:
    return OrderSubmitted(account_id=ACCOUNT, **_keys(spec, ts))


def accepted(spec: OrderSpec, *, venue_order_id: str = "V-1", ts: int = TS) -> OrderAccepted:
    return OrderAccepted(
        account_id=ACCOUNT, venue_order_id=VenueOrderId(venue_order_id), **_keys(spec, ts)
    )


def rejected(spec: OrderSpec, *, ts: int = TS) -> OrderRejected:
    return OrderRejected(
        account_id=ACCOUNT,
        reason=RejectReason.POST_ONLY_WOULD_CROSS,
        message="would cross",
        **_keys(spec, ts),
    )


def pending_update(spec: OrderSpec, *, ts: int = TS) -> OrderPendingUpdate:
    return OrderPendingUpdate(**_keys(spec, ts))


def pending_cancel(spec: OrderSpec, *, ts: int = TS) -> OrderPendingCancel:
    return OrderPendingCancel(**_keys(spec, ts))


def modify_rejected(spec: OrderSpec, *, ts: int = TS) -> OrderModifyRejected:
    return OrderModifyRejected(reason=RejectReason.OTHER, message="no", **_keys(spec, ts))


def cancel_rejected(spec: OrderSpec, *, ts: int = TS) -> OrderCancelRejected:
    return OrderCancelRejected(reason=RejectReason.UNKNOWN_ORDER, message="no", **_keys(spec, ts))


def updated(
    spec: OrderSpec,
    *,
    quantity: Quantity,
    price: Price | None = None,
    trigger_price: Price | None = None,
    ts: int = TS,
) -> OrderUpdated:
    return OrderUpdated(
        quantity=quantity, price=price, trigger_price=trigger_price, **_keys(spec, ts)
    )


def triggered(spec: OrderSpec, *, ts: int = TS) -> OrderTriggered:
    return OrderTriggered(**_keys(spec, ts))


def canceled(spec: OrderSpec, *, ts: int = TS) -> OrderCanceled:
    return OrderCanceled(reason="user", **_keys(spec, ts))


def expired(spec: OrderSpec, *, ts: int = TS) -> OrderExpired:
    return OrderExpired(**_keys(spec, ts))


def filled(
    spec: OrderSpec,
    last_qty: str | Quantity,
    last_px: str | Price,
    *,
    trade_id: str = "T-1",
    commission: Money | None = None,
    side: OrderSide | None = None,
    liquidity_side: LiquiditySide = LiquiditySide.TAKER,
    ts: int = TS,
) -> OrderFilled:
    """A fill of ``spec`` (its side unless ``side`` is given), zero commission by default."""
    return OrderFilled(
        account_id=ACCOUNT,
        venue_order_id=VenueOrderId("V-1"),
        trade_id=TradeId(trade_id),
        order_side=side or spec.side,
        order_type=spec.order_type,
        last_qty=Quantity(last_qty) if isinstance(last_qty, str) else last_qty,
        last_px=Price(last_px) if isinstance(last_px, str) else last_px,
        commission=commission if commission is not None else Money.zero(USDT),
        liquidity_side=liquidity_side,
        **_keys(spec, ts),
    )


def order(spec: OrderSpec | None = None, *events: OrderEvent) -> Order:
    """An ``Order`` built from ``spec`` (default: a limit buy) with ``events`` applied."""
    the_spec = spec if spec is not None else order_spec()
    result = Order(initialized(the_spec))
    for event in events:
        result.apply(event)
    return result


# fills for positions


def trade(
    instrument: Instrument,
    side: OrderSide,
    quantity: str,
    price: str,
    *,
    trade_id: str = "T-1",
    commission: Money | None = None,
    position_side: PositionSide | None = None,
    strategy_id: StrategyId = STRATEGY,
    ts: int = TS,
) -> OrderFilled:
    """A fill of ``quantity`` at ``price`` on ``instrument``, on its lot and tick."""
    return OrderFilled(
        client_order_id=ClientOrderId(f"O-{trade_id}"),
        strategy_id=strategy_id,
        instrument_id=instrument.id,
        account_id=ACCOUNT,
        venue_order_id=VenueOrderId(f"V-{trade_id}"),
        trade_id=TradeId(trade_id),
        order_side=side,
        order_type=OrderType.MARKET,
        last_qty=instrument.make_qty(quantity),
        last_px=instrument.make_price(price),
        commission=(
            commission if commission is not None else Money.zero(instrument.settlement_currency)
        ),
        liquidity_side=LiquiditySide.TAKER,
        position_side=position_side,
        ts_event=ts,
        ts_init=ts,
    )


# balances


def balance(total: str, currency: str = "USDT", *, locked: str = "0") -> AccountBalance:
    """A balance of ``total`` with ``locked`` held and the rest free."""
    unit = KNOWN_CURRENCIES[currency]
    return AccountBalance.of(Money(total, unit), Money(locked, unit))

"""CCXT's unified structures (markets, orders, trades, tickers, candles) as domain types.

Numbers come from CCXT as floats or strings; each is turned into an exact value through its
string form and the instrument's precision, never by float arithmetic.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from tradeforge.domain import (
    KNOWN_CURRENCIES,
    AccountId,
    AggressorSide,
    Bar,
    ClientOrderId,
    Currency,
    CurrencyPair,
    FillReport,
    Instrument,
    InstrumentId,
    InvalidValue,
    LiquiditySide,
    Money,
    OrderSide,
    OrderStatus,
    OrderStatusReport,
    OrderType,
    Price,
    Quantity,
    QuoteTick,
    Timeframe,
    TimeInForce,
    TradeId,
    TradeTick,
    Venue,
    VenueOrderId,
)

__all__ = [
    "bar_from_ohlcv",
    "currency",
    "dec",
    "fill_from_trade",
    "instrument_from_market",
    "quote_from_ticker",
    "report_from_order",
    "trade_from_ccxt",
]

_STATUS = {
    "open": OrderStatus.ACCEPTED,
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "cancelled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
}
_TYPES = {
    "market": OrderType.MARKET,
    "limit": OrderType.LIMIT,
    "limit_maker": OrderType.LIMIT,
    "stop_loss": OrderType.STOP_MARKET,
    "stop_loss_limit": OrderType.STOP_LIMIT,
    "stop": OrderType.STOP_MARKET,
    "stop_limit": OrderType.STOP_LIMIT,
    "take_profit_limit": OrderType.LIMIT_IF_TOUCHED,
}
_TIF = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK,
        "PO": TimeInForce.GTC, "GTD": TimeInForce.GTD}  # fmt: skip


def dec(value: Any) -> Decimal | None:
    """A CCXT number as an exact decimal (through its text), or None."""
    if value is None or value == "":
        return None
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def currency(code: str) -> Currency:
    """A currency by code (known ones with their precision, others at 8 decimals)."""
    return KNOWN_CURRENCIES.get(code) or Currency(code, 8)


def _step(value: Any, what: str, symbol: str) -> Decimal:
    step = dec(value)
    if step is None or step <= 0:
        raise InvalidValue(f"market {symbol}: no {what} precision")
    # CCXT's TICK_SIZE mode gives a step (0.01); DECIMAL_PLACES mode gives a count (2).
    if step >= 1 and step == step.to_integral_value() and step < 20 and "." not in str(value):
        return Decimal(1).scaleb(-int(step))
    return step.normalize()


def instrument_from_market(market: dict[str, Any], venue: Venue) -> Instrument:
    """A CCXT spot market as a ``CurrencyPair`` at ``venue`` (ticks, lots, minimums, fees)."""
    symbol = market["symbol"]
    tick = _step(market["precision"].get("price"), "price", symbol)
    lot = _step(market["precision"].get("amount"), "amount", symbol)
    limits = market.get("limits") or {}
    min_qty = dec((limits.get("amount") or {}).get("min")) or lot
    max_qty = dec((limits.get("amount") or {}).get("max"))
    min_cost = dec((limits.get("cost") or {}).get("min"))
    quote = currency(market["quote"])
    lot_q = Quantity(lot)
    min_q = Quantity(max(lot, (min_qty / lot).to_integral_value() * lot))
    return CurrencyPair(
        id=InstrumentId(symbol, venue),
        raw_symbol=market["id"],
        base_currency=currency(market["base"]),
        quote_currency=quote,
        settlement_currency=quote,
        tick_size=Price(tick),
        lot_size=lot_q,
        min_quantity=min_q,
        max_quantity=Quantity((max_qty // lot) * lot)
        if max_qty and max_qty >= min_q.as_decimal()
        else None,
        min_notional=Money.rounded(min_cost, quote) if min_cost else None,
        maker_fee=dec(market.get("maker")) or Decimal(0),
        taker_fee=dec(market.get("taker")) or Decimal(0),
    )


def _ts_ns(ms: Any, default_ns: int) -> int:
    return int(ms) * 1_000_000 if ms is not None else default_ns


def report_from_order(
    order: dict[str, Any], inst: Instrument, account_id: AccountId, now_ns: int
) -> OrderStatusReport:
    """A CCXT order as the venue's ``OrderStatusReport``."""
    amount = dec(order.get("amount")) or Decimal(0)
    filled = dec(order.get("filled")) or Decimal(0)
    status = _STATUS.get(str(order.get("status")), OrderStatus.ACCEPTED)
    if status is OrderStatus.ACCEPTED and filled > 0:
        status = OrderStatus.PARTIALLY_FILLED
    if status is OrderStatus.FILLED and filled < amount:
        status = OrderStatus.CANCELED  # closed with a remainder: what CCXT calls it for IOC
    type_text = str(order.get("type") or "limit").lower()
    price, trigger = (
        dec(order.get("price")),
        dec(order.get("triggerPrice") or order.get("stopPrice")),
    )
    ts = _ts_ns(order.get("lastUpdateTimestamp") or order.get("timestamp"), now_ns)
    return OrderStatusReport(
        account_id=account_id,
        instrument_id=inst.id,
        client_order_id=ClientOrderId(str(order.get("clientOrderId") or order["id"])),
        venue_order_id=VenueOrderId(str(order["id"])),
        side=OrderSide.BUY if order.get("side") == "buy" else OrderSide.SELL,
        order_type=_TYPES.get(type_text, OrderType.LIMIT),
        status=status,
        quantity=inst.make_qty(amount) if amount > 0 else inst.min_quantity,
        filled_qty=Quantity.from_decimal(
            filled.quantize(inst.lot_size.as_decimal()), inst.size_precision
        ),
        time_in_force=_TIF.get(str(order.get("timeInForce") or "GTC").upper(), TimeInForce.GTC),
        price=inst.make_price(price) if price else None,
        trigger_price=inst.make_price(trigger) if trigger else None,
        avg_px=dec(order.get("average")),
        reason=str((order.get("info") or {}).get("status", ""))
        if status is OrderStatus.REJECTED
        else "",
        ts_event=ts,
        ts_init=now_ns,
    )


def fill_from_trade(
    trade: dict[str, Any], inst: Instrument, account_id: AccountId, now_ns: int,
    client_order_id: str | None = None,
) -> FillReport:  # fmt: skip
    """One of the account's CCXT trades (``fetch_my_trades`` / ``watch_my_trades``)."""
    fee = trade.get("fee") or {}
    fee_ccy = currency(str(fee.get("currency") or inst.quote_currency.code))
    fee_cost = dec(fee.get("cost")) or Decimal(0)
    info = trade.get("info") or {}
    coid = client_order_id or info.get("clientOrderId") or info.get("c") or str(trade.get("order"))
    return FillReport(
        account_id=account_id,
        instrument_id=inst.id,
        client_order_id=ClientOrderId(str(coid)),
        venue_order_id=VenueOrderId(str(trade.get("order"))),
        trade_id=TradeId(str(trade["id"])),
        side=OrderSide.BUY if trade.get("side") == "buy" else OrderSide.SELL,
        last_qty=inst.make_qty(dec(trade["amount"]) or Decimal(0)),
        last_px=inst.make_price(dec(trade["price"]) or Decimal(0)),
        commission=Money.rounded(fee_cost, fee_ccy),
        liquidity_side=LiquiditySide.MAKER
        if trade.get("takerOrMaker") == "maker"
        else LiquiditySide.TAKER,
        ts_event=_ts_ns(trade.get("timestamp"), now_ns),
        ts_init=now_ns,
    )


def trade_from_ccxt(trade: dict[str, Any], inst: Instrument, now_ns: int) -> TradeTick:
    """A public CCXT trade as a ``TradeTick``."""
    side = trade.get("side")
    return TradeTick(
        instrument_id=inst.id,
        price=inst.make_price(dec(trade["price"]) or Decimal(0)),
        size=inst.make_qty(dec(trade["amount"]) or Decimal(0)),
        aggressor_side=AggressorSide.BUYER if side == "buy" else (
            AggressorSide.SELLER if side == "sell" else AggressorSide.NONE
        ),
        trade_id=TradeId(str(trade.get("id") or trade.get("timestamp"))),
        ts_event=_ts_ns(trade.get("timestamp"), now_ns),
        ts_init=now_ns,
    )  # fmt: skip


def quote_from_ticker(ticker: dict[str, Any], inst: Instrument, now_ns: int) -> QuoteTick | None:
    """A CCXT ticker's best bid/ask as a ``QuoteTick`` (None while one side is missing)."""
    bid, ask = dec(ticker.get("bid")), dec(ticker.get("ask"))
    if bid is None or ask is None:
        return None
    return QuoteTick(
        instrument_id=inst.id,
        bid_price=inst.make_price(bid),
        ask_price=inst.make_price(ask),
        bid_size=inst.make_qty(dec(ticker.get("bidVolume")) or Decimal(0)),
        ask_size=inst.make_qty(dec(ticker.get("askVolume")) or Decimal(0)),
        ts_event=_ts_ns(ticker.get("timestamp"), now_ns),
        ts_init=now_ns,
    )


def bar_from_ohlcv(row: list[Any], inst: Instrument, timeframe: Timeframe, now_ns: int) -> Bar:
    """A CCXT candle ``[ms, o, h, l, c, v]`` as a ``Bar`` (``ts_event`` is the close)."""
    open_ns = int(row[0]) * 1_000_000
    return Bar(
        instrument_id=inst.id,
        timeframe=timeframe,
        open=inst.make_price(dec(row[1]) or Decimal(0)),
        high=inst.make_price(dec(row[2]) or Decimal(0)),
        low=inst.make_price(dec(row[3]) or Decimal(0)),
        close=inst.make_price(dec(row[4]) or Decimal(0)),
        volume=inst.make_qty(dec(row[5]) or Decimal(0)),
        ts_event=open_ns + timeframe.nanos,
        ts_init=now_ns,
    )

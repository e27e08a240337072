"""CCXT's unified structures (markets, orders, trades, tickers, candles) as domain types.

Numbers come from CCXT as floats or strings; each is turned into an exact value through its
string form and the instrument's precision, never by float arithmetic.

Everything here parses what a venue sent, so nothing is trusted: a structure that is not what
CCXT promises (a missing id, a price that is not a positive finite number, a side that is
neither buy nor sell, an off-tick price, a list where a dict belongs) raises
:class:`~tradeforge.connectors.errors.MalformedResponse` and never becomes a domain value. Optional
fields that are absent (``None`` or ``""``) keep their documented defaults.
"""

from __future__ import annotations

import functools
import reprlib
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, ParamSpec, TypeVar

from tradeforge.connectors.errors import MalformedResponse
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

P = ParamSpec("P")
R = TypeVar("R")

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
_SIDES = {"buy": OrderSide.BUY, "sell": OrderSide.SELL}
# A number with 30 digits before or after the point is no price, size or fee: it is an attack or
# a bug, and exact arithmetic on 1E+999999 fails.
_MAX_DIGITS = 30
_MAX_TS_MS = (2**63 - 1) // 1_000_000  # ts_event is int64 nanoseconds


class _Bounded(reprlib.Repr):
    # Venue data may be huge or nested thousands deep: plain repr recurses, and refuses an int
    # of more than 4,300 digits.
    def __init__(self) -> None:
        super().__init__()
        self.maxlevel, self.maxstring, self.maxother = 3, 60, 60

    def repr_int(self, x: int, level: int) -> str:
        return repr(x) if x.bit_length() <= 128 else f"<int of {x.bit_length()} bits>"


_show = _Bounded().repr


def _venue_data(what: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    # Wrong types and shapes surface as Python's own errors deep in a parser (a list has no
    # .get, a dict is no Decimal, a domain constructor refuses a value): all mean the venue sent
    # something we cannot use.
    def wrap(parse: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(parse)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return parse(*args, **kwargs)
            except MalformedResponse:
                raise
            except (LookupError, TypeError, AttributeError, ValueError, ArithmeticError) as exc:
                raise MalformedResponse(f"malformed {what}: {exc}") from exc

        return guarded

    return wrap


def dec(value: Any) -> Decimal | None:
    """A CCXT number as an exact decimal (through its text), or None when absent.

    ``None`` and ``""`` are absent. Anything else that is not a finite number of sane size
    (text, NaN, infinity, a bool, a list, 1E+999) raises ``MalformedResponse``.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise MalformedResponse(f"expected a number, got {type(value).__name__} {_show(value)}")
    try:
        # An int goes in whole: str() of one with 5,000 digits raises.
        result = Decimal(value) if isinstance(value, int) else Decimal(str(value))
    except InvalidOperation:
        raise MalformedResponse(f"expected a number, got {_show(value)}") from None
    exponent = result.as_tuple().exponent
    if not isinstance(exponent, int):  # NaN, sNaN, Infinity
        raise MalformedResponse(f"expected a finite number, got {_show(value)}")
    if result and (result.adjusted() >= _MAX_DIGITS or exponent < -_MAX_DIGITS):
        raise MalformedResponse(f"number out of range: {_show(value)}")
    return result


def _positive(value: Any, field: str) -> Decimal:
    number = dec(value)
    if number is None or number <= 0:
        raise MalformedResponse(f"{field} must be a positive number, got {_show(value)}")
    return number


def _text(value: Any, field: str) -> str:
    # CCXT gives ids and codes as text; a few venues give ids as integers.
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise MalformedResponse(f"{field} must be text, got {_show(value)}")
    return str(value)


def _optional_text(value: Any, field: str, default: str) -> str:
    return default if value is None or value == "" else _text(value, field)


def _side(value: Any, field: str = "side") -> OrderSide:
    side = _SIDES.get(value) if isinstance(value, str) else None
    if side is None:
        raise MalformedResponse(f"{field} must be 'buy' or 'sell', got {_show(value)}")
    return side


def currency(code: str) -> Currency:
    """A currency by code (known ones with their precision, others at 8 decimals)."""
    return KNOWN_CURRENCIES.get(code) or Currency(code, 8)


def _step(value: Any, what: str, symbol: str) -> Decimal:
    step = dec(value)
    if step is None or step <= 0:
        raise MalformedResponse(f"market {symbol}: no {what} precision")
    # CCXT's TICK_SIZE mode gives a step (0.01); DECIMAL_PLACES mode gives a count (2).
    if step >= 1 and step == step.to_integral_value() and step < 20 and "." not in str(value):
        return Decimal(1).scaleb(-int(step))
    return step.normalize()


def _fee(value: Any, field: str) -> Decimal:
    fee = dec(value) or Decimal(0)
    if not -1 < fee < 1:  # a rate: negative is a maker rebate, 1 would be the whole notional
        raise MalformedResponse(f"{field} fee rate must be between -1 and 1, got {_show(value)}")
    return fee


@_venue_data("CCXT market")
def instrument_from_market(market: dict[str, Any], venue: Venue) -> Instrument:
    """A CCXT spot market as a ``CurrencyPair`` at ``venue`` (ticks, lots, minimums, fees)."""
    symbol = _text(market["symbol"], "symbol")
    tick = _step(market["precision"].get("price"), "price", symbol)
    lot = _step(market["precision"].get("amount"), "amount", symbol)
    limits = market.get("limits") or {}
    min_qty = dec((limits.get("amount") or {}).get("min")) or lot
    max_qty = dec((limits.get("amount") or {}).get("max"))
    min_cost = dec((limits.get("cost") or {}).get("min"))
    quote = currency(_text(market["quote"], "quote"))
    lot_q = Quantity(lot)
    min_q = Quantity(max(lot, (min_qty / lot).to_integral_value() * lot))
    return CurrencyPair(
        id=InstrumentId(symbol, venue),
        raw_symbol=_text(market["id"], "id"),
        base_currency=currency(_text(market["base"], "base")),
        quote_currency=quote,
        settlement_currency=quote,
        tick_size=Price(tick),
        lot_size=lot_q,
        min_quantity=min_q,
        max_quantity=Quantity((max_qty // lot) * lot)
        if max_qty and max_qty >= min_q.as_decimal()
        else None,
        min_notional=_min_notional(min_cost, quote),
        maker_fee=_fee(market.get("maker"), "maker"),
        taker_fee=_fee(market.get("taker"), "taker"),
    )


def _min_notional(min_cost: Decimal | None, quote: Currency) -> Money | None:
    # Absent, not positive, or below the quote's precision: no minimum worth checking.
    money = Money.rounded(min_cost, quote) if min_cost else None
    return money if money is not None and money.amount > 0 else None


def _ts_ns(ms: Any, default_ns: int) -> int:
    if ms is None:
        return default_ns
    if isinstance(ms, bool) or not isinstance(ms, int | float) or not 0 <= ms <= _MAX_TS_MS:
        raise MalformedResponse(f"timestamp must be epoch milliseconds, got {_show(ms)}")
    return int(ms) * 1_000_000


@_venue_data("CCXT order")
def report_from_order(
    order: dict[str, Any], inst: Instrument, account_id: AccountId, now_ns: int
) -> OrderStatusReport:
    """A CCXT order as the venue's ``OrderStatusReport``."""
    amount = dec(order.get("amount")) or Decimal(0)
    filled = dec(order.get("filled")) or Decimal(0)
    if amount < 0 or filled < 0:
        raise MalformedResponse(f"order amount {amount} and filled {filled} must not be negative")
    raw_status = order.get("status")
    status = _STATUS.get(raw_status) if isinstance(raw_status, str) else None
    if status is None and raw_status is not None:
        raise MalformedResponse(f"unknown order status {_show(raw_status)}")
    status = status or OrderStatus.ACCEPTED
    if status is OrderStatus.ACCEPTED and filled > 0:
        status = OrderStatus.PARTIALLY_FILLED
    if status is OrderStatus.FILLED and filled < amount:
        status = OrderStatus.CANCELED  # closed with a remainder: what CCXT calls it for IOC
    type_text = _optional_text(order.get("type"), "type", "limit").lower()
    price, trigger = (
        dec(order.get("price")),
        dec(order.get("triggerPrice") or order.get("stopPrice")),
    )
    avg_px = dec(order.get("average"))
    for name, value in (("price", price), ("trigger price", trigger), ("average", avg_px)):
        if value is not None and value < 0:
            raise MalformedResponse(f"order {name} must not be negative, got {value}")
    ts = _ts_ns(order.get("lastUpdateTimestamp") or order.get("timestamp"), now_ns)
    venue_id = _text(order["id"], "order id")
    tif = _optional_text(order.get("timeInForce"), "timeInForce", "GTC").upper()
    quantity = inst.make_qty(amount) if amount > 0 else inst.min_quantity
    if filled > quantity.as_decimal():
        raise MalformedResponse(f"order filled {filled} is above its quantity {quantity}")
    reason = ""
    if status is OrderStatus.REJECTED:
        reason = _optional_text((order.get("info") or {}).get("status"), "info.status", "")
    return OrderStatusReport(
        account_id=account_id,
        instrument_id=inst.id,
        client_order_id=ClientOrderId(
            _optional_text(order.get("clientOrderId"), "clientOrderId", venue_id)
        ),
        venue_order_id=VenueOrderId(venue_id),
        side=_side(order.get("side")),
        order_type=_TYPES.get(type_text, OrderType.LIMIT),
        status=status,
        quantity=quantity,
        filled_qty=Quantity.from_decimal(
            filled.quantize(inst.lot_size.as_decimal()), inst.size_precision
        ),
        time_in_force=_TIF.get(tif, TimeInForce.GTC),
        price=inst.make_price(price) if price else None,
        trigger_price=inst.make_price(trigger) if trigger else None,
        avg_px=avg_px,
        reason=reason,
        ts_event=ts,
        ts_init=now_ns,
    )


@_venue_data("CCXT trade")
def fill_from_trade(
    trade: dict[str, Any], inst: Instrument, account_id: AccountId, now_ns: int,
    client_order_id: str | None = None,
) -> FillReport:  # fmt: skip
    """One of the account's CCXT trades (``fetch_my_trades`` / ``watch_my_trades``)."""
    fee = trade.get("fee") or {}
    fee_ccy = currency(
        _optional_text(fee.get("currency"), "fee currency", inst.quote_currency.code)
    )
    fee_cost = dec(fee.get("cost")) or Decimal(0)
    info = trade.get("info") or {}
    venue_id = _text(trade.get("order"), "order id")
    coid = client_order_id or _optional_text(
        info.get("clientOrderId") or info.get("c"), "clientOrderId", venue_id
    )
    maker = trade.get("takerOrMaker")
    if maker not in (None, "maker", "taker"):
        raise MalformedResponse(f"takerOrMaker must be 'maker' or 'taker', got {_show(maker)}")
    return FillReport(
        account_id=account_id,
        instrument_id=inst.id,
        client_order_id=ClientOrderId(coid),
        venue_order_id=VenueOrderId(venue_id),
        trade_id=TradeId(_text(trade["id"], "trade id")),
        side=_side(trade.get("side")),
        last_qty=inst.make_qty(_positive(trade["amount"], "amount")),
        last_px=inst.make_price(_positive(trade["price"], "price")),
        commission=Money.rounded(fee_cost, fee_ccy),
        liquidity_side=LiquiditySide.MAKER if maker == "maker" else LiquiditySide.TAKER,
        ts_event=_ts_ns(trade.get("timestamp"), now_ns),
        ts_init=now_ns,
    )


@_venue_data("CCXT public trade")
def trade_from_ccxt(trade: dict[str, Any], inst: Instrument, now_ns: int) -> TradeTick:
    """A public CCXT trade as a ``TradeTick``."""
    side = trade.get("side")
    aggressor = AggressorSide.NONE if side is None else (
        AggressorSide.BUYER if _side(side) is OrderSide.BUY else AggressorSide.SELLER
    )  # fmt: skip
    trade_id = trade.get("id")
    return TradeTick(
        instrument_id=inst.id,
        price=inst.make_price(_positive(trade["price"], "price")),
        size=inst.make_qty(_positive(trade["amount"], "amount")),
        aggressor_side=aggressor,
        trade_id=TradeId(
            _text(trade_id if trade_id not in (None, "") else trade.get("timestamp"), "trade id")
        ),
        ts_event=_ts_ns(trade.get("timestamp"), now_ns),
        ts_init=now_ns,
    )


@_venue_data("CCXT ticker")
def quote_from_ticker(ticker: dict[str, Any], inst: Instrument, now_ns: int) -> QuoteTick | None:
    """A CCXT ticker's best bid/ask as a ``QuoteTick`` (None while one side is missing)."""
    bid, ask = dec(ticker.get("bid")), dec(ticker.get("ask"))
    if bid is None or ask is None:
        return None
    return QuoteTick(
        instrument_id=inst.id,
        bid_price=inst.make_price(_positive(bid, "bid")),
        ask_price=inst.make_price(_positive(ask, "ask")),
        bid_size=inst.make_qty(dec(ticker.get("bidVolume")) or Decimal(0)),
        ask_size=inst.make_qty(dec(ticker.get("askVolume")) or Decimal(0)),
        ts_event=_ts_ns(ticker.get("timestamp"), now_ns),
        ts_init=now_ns,
    )


@_venue_data("CCXT candle")
def bar_from_ohlcv(row: list[Any], inst: Instrument, timeframe: Timeframe, now_ns: int) -> Bar:
    """A CCXT candle ``[ms, o, h, l, c, v]`` as a ``Bar`` (``ts_event`` is the close)."""
    if not isinstance(row, list | tuple) or len(row) < 6:
        raise MalformedResponse(
            f"a candle is [ms, open, high, low, close, volume], got {_show(row)}"
        )
    if row[0] is None:
        raise MalformedResponse("a candle needs its open time")
    open_ns = _ts_ns(row[0], 0)
    return Bar(
        instrument_id=inst.id,
        timeframe=timeframe,
        open=inst.make_price(_positive(row[1], "open")),
        high=inst.make_price(_positive(row[2], "high")),
        low=inst.make_price(_positive(row[3], "low")),
        close=inst.make_price(_positive(row[4], "close")),
        volume=inst.make_qty(dec(row[5]) or Decimal(0)),
        ts_event=open_ns + timeframe.nanos,
        ts_init=now_ns,
    )

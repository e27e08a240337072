"""The closed vocabularies of the domain. Values are upper-case strings, stable on the wire."""

from __future__ import annotations

import enum

__all__ = [
    "AccountType",
    "AggressorSide",
    "BookAction",
    "BookSide",
    "ContingencyType",
    "DenyReason",
    "InstrumentKind",
    "LiquiditySide",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "PositionMode",
    "PositionSide",
    "RejectReason",
    "TimeInForce",
    "TrailingOffsetType",
]


class OrderSide(enum.StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        """+1 for buy, -1 for sell."""
        return 1 if self is OrderSide.BUY else -1

    @property
    def opposite(self) -> OrderSide:
        """The other side."""
        return OrderSide.SELL if self is OrderSide.BUY else OrderSide.BUY


class OrderType(enum.StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP_MARKET = "STOP_MARKET"
    STOP_LIMIT = "STOP_LIMIT"
    TRAILING_STOP = "TRAILING_STOP"
    LIMIT_IF_TOUCHED = "LIMIT_IF_TOUCHED"

    @property
    def has_limit_price(self) -> bool:
        """True when the order rests (or would rest) at a limit price."""
        return self in (OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.LIMIT_IF_TOUCHED)

    @property
    def has_trigger(self) -> bool:
        """True when the order waits for a trigger price before it works."""
        return self in (
            OrderType.STOP_MARKET,
            OrderType.STOP_LIMIT,
            OrderType.TRAILING_STOP,
            OrderType.LIMIT_IF_TOUCHED,
        )


class TimeInForce(enum.StrEnum):
    GTC = "GTC"  # good till canceled
    IOC = "IOC"  # immediate or cancel: fill what can be filled now, cancel the rest
    FOK = "FOK"  # fill or kill: fill all now or nothing
    GTD = "GTD"  # good till date: expires at expire_time_ns
    DAY = "DAY"  # expires at the end of the venue's trading day


class TrailingOffsetType(enum.StrEnum):
    AMOUNT = "AMOUNT"  # offset in price units
    PERCENT = "PERCENT"  # offset in percent of the reference price


class ContingencyType(enum.StrEnum):
    NONE = "NONE"
    OCO = "OCO"  # one cancels the other(s)
    OTO = "OTO"  # one (the parent) triggers the other(s) once filled


class OrderStatus(enum.StrEnum):
    INITIALIZED = "INITIALIZED"
    DENIED = "DENIED"
    SUBMITTED = "SUBMITTED"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    PENDING_UPDATE = "PENDING_UPDATE"
    PENDING_CANCEL = "PENDING_CANCEL"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"
    TRIGGERED = "TRIGGERED"


class LiquiditySide(enum.StrEnum):
    MAKER = "MAKER"
    TAKER = "TAKER"


class AggressorSide(enum.StrEnum):
    BUYER = "BUYER"
    SELLER = "SELLER"
    NONE = "NONE"


class BookSide(enum.StrEnum):
    BID = "BID"
    ASK = "ASK"


class BookAction(enum.StrEnum):
    ADD = "ADD"
    UPDATE = "UPDATE"
    DELETE = "DELETE"
    CLEAR = "CLEAR"


class PositionSide(enum.StrEnum):
    FLAT = "FLAT"
    LONG = "LONG"
    SHORT = "SHORT"


class PositionMode(enum.StrEnum):
    NETTING = "NETTING"  # one position per instrument and strategy; a fill may flip it
    HEDGING = "HEDGING"  # a long and a short position per instrument and strategy


class AccountType(enum.StrEnum):
    CASH = "CASH"
    MARGIN = "MARGIN"


class InstrumentKind(enum.StrEnum):
    SPOT = "SPOT"
    PERPETUAL = "PERPETUAL"
    FUTURE = "FUTURE"
    EQUITY = "EQUITY"


class DenyReason(enum.StrEnum):
    """Why pre-trade checks refused an order before it reached a venue."""

    INVALID_ORDER = "INVALID_ORDER"
    UNKNOWN_INSTRUMENT = "UNKNOWN_INSTRUMENT"
    DUPLICATE_CLIENT_ORDER_ID = "DUPLICATE_CLIENT_ORDER_ID"
    MAX_ORDER_QUANTITY = "MAX_ORDER_QUANTITY"
    MAX_ORDER_NOTIONAL = "MAX_ORDER_NOTIONAL"
    PRICE_COLLAR = "PRICE_COLLAR"
    MAX_POSITION = "MAX_POSITION"
    MAX_OPEN_ORDERS = "MAX_OPEN_ORDERS"
    ORDER_RATE = "ORDER_RATE"
    DAILY_LOSS_LIMIT = "DAILY_LOSS_LIMIT"
    STRATEGY_BUDGET = "STRATEGY_BUDGET"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    RESTRICTED_INSTRUMENT = "RESTRICTED_INSTRUMENT"
    REDUCE_ONLY_MODE = "REDUCE_ONLY_MODE"
    KILL_SWITCH = "KILL_SWITCH"
    REFERENCE_STALE = "REFERENCE_STALE"  # no reference price, or one older than allowed
    PRICE_DRIFT = "PRICE_DRIFT"  # the collar over a period: prices walked too far too fast
    THROTTLED = "THROTTLED"  # message throttle: too many submits/modifies/cancels per window
    EXECUTION_THROTTLE = "EXECUTION_THROTTLE"  # disabled after repeated executions
    DUPLICATE_ORDER = "DUPLICATE_ORDER"  # same side/instrument/quantity/price moments ago
    TRADING_HALTED = "TRADING_HALTED"  # trading state HALTED for the account or strategy
    FAT_FINGER = "FAT_FINGER"  # soft block: needs an explicit confirmation
    SELF_TRADE = "SELF_TRADE"  # would trade against the same account's resting order (R14)
    VENUE_DISCONNECTED = "VENUE_DISCONNECTED"  # its venue unreachable past the grace (R15)


class RejectReason(enum.StrEnum):
    """Why a venue refused an order (or a modify or cancel of one)."""

    PRICE_OFF_TICK = "PRICE_OFF_TICK"
    QUANTITY_OFF_LOT = "QUANTITY_OFF_LOT"
    BELOW_MIN_QUANTITY = "BELOW_MIN_QUANTITY"
    ABOVE_MAX_QUANTITY = "ABOVE_MAX_QUANTITY"
    BELOW_MIN_NOTIONAL = "BELOW_MIN_NOTIONAL"
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
    POST_ONLY_WOULD_CROSS = "POST_ONLY_WOULD_CROSS"
    REDUCE_ONLY_WOULD_INCREASE = "REDUCE_ONLY_WOULD_INCREASE"
    FOK_NOT_FILLABLE = "FOK_NOT_FILLABLE"
    NO_LIQUIDITY = "NO_LIQUIDITY"
    DUPLICATE_CLIENT_ORDER_ID = "DUPLICATE_CLIENT_ORDER_ID"
    UNKNOWN_INSTRUMENT = "UNKNOWN_INSTRUMENT"
    UNKNOWN_ORDER = "UNKNOWN_ORDER"
    UNSUPPORTED = "UNSUPPORTED"
    MARKET_CLOSED = "MARKET_CLOSED"
    RATE_LIMITED = "RATE_LIMITED"
    OTHER = "OTHER"

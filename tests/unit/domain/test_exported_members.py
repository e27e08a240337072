"""The public API of ``tradeforge.domain`` is pinned: a change here is a deliberate change."""

import importlib
import inspect
import pkgutil

import tradeforge.domain
import tradeforge.domain.orders
from tradeforge.domain import MESSAGE_TYPES, Command, Message, OrderEvent

EXPECTED_DOMAIN_API = {
    # values, money, identifiers
    "Price",
    "Quantity",
    "Currency",
    "CurrencyKind",
    "KNOWN_CURRENCIES",
    "Money",
    "Identifier",
    "Symbol",
    "Venue",
    "InstrumentId",
    "ClientOrderId",
    "VenueOrderId",
    "StrategyId",
    "AccountId",
    "TradeId",
    "PositionId",
    "OrderListId",
    # enums
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
    # errors
    "TradeForgeError",
    "RetryableError",
    "TemporaryError",
    "RateLimited",
    "RequestError",
    "InvalidValue",
    "InvalidOrder",
    "InsufficientFunds",
    "UnknownInstrument",
    "UnknownOrder",
    "OperatorError",
    "ConfigurationError",
    "InvalidTransition",
    "StrategyError",
    # instruments
    "Instrument",
    "AnyInstrument",
    "CurrencyPair",
    "PerpetualContract",
    "FuturesContract",
    "Equity",
    # messages and market data
    "Message",
    "MESSAGE_TYPES",
    "Bar",
    "BookLevel",
    "OrderBookDelta",
    "OrderBookSnapshot",
    "QuoteTick",
    "Timeframe",
    "TradeTick",
    # orders
    "OrderSpec",
    "OrderList",
    "Order",
    "OrderFactory",
    "ClientOrderIdGenerator",
    "TRANSITIONS",
    "OPEN_STATUSES",
    "TERMINAL_STATUSES",
    "check_transition",
    "is_allowed",
    "OrderEvent",
    "OrderInitialized",
    "OrderDenied",
    "OrderSubmitted",
    "OrderAccepted",
    "OrderRejected",
    "OrderPendingUpdate",
    "OrderPendingCancel",
    "OrderModifyRejected",
    "OrderCancelRejected",
    "OrderUpdated",
    "OrderView",
    "OrderTriggered",
    "OrderCanceled",
    "OrderExpired",
    "OrderFilled",
    # commands
    "Command",
    "SubmitOrder",
    "SubmitOrderList",
    "ModifyOrder",
    "CancelOrder",
    "CancelAllOrders",
    "QueryOrder",
    # holdings
    "Position",
    "PositionBook",
    "PositionChanged",
    "FillReport",
    "OrderStatusReport",
    "Account",
    "CashAccount",
    "MarginAccount",
    "AccountBalance",
    "MarginBalance",
    "AccountStateChanged",
}

EXPECTED_ORDERS_API = {
    "OPEN_STATUSES",
    "TERMINAL_STATUSES",
    "TRANSITIONS",
    "ClientOrderIdGenerator",
    "Order",
    "OrderAccepted",
    "OrderCancelRejected",
    "OrderCanceled",
    "OrderDenied",
    "OrderEvent",
    "OrderExpired",
    "OrderFactory",
    "OrderFilled",
    "OrderInitialized",
    "OrderList",
    "OrderModifyRejected",
    "OrderPendingCancel",
    "OrderPendingUpdate",
    "OrderRejected",
    "OrderSpec",
    "OrderSubmitted",
    "OrderTriggered",
    "OrderUpdated",
    "OrderView",
    "check_transition",
    "is_allowed",
}

MESSAGE_BASES = {Message, OrderEvent, Command}


def test_domain_public_api_is_pinned() -> None:
    exported = tradeforge.domain.__all__

    assert len(exported) == len(set(exported)), "duplicates in __all__"
    assert set(exported) == EXPECTED_DOMAIN_API


def test_every_exported_name_is_importable() -> None:
    namespace: dict[str, object] = {}

    exec("from tradeforge.domain import *", namespace)

    assert namespace.keys() >= EXPECTED_DOMAIN_API


def test_orders_public_api_is_pinned_and_importable() -> None:
    assert set(tradeforge.domain.orders.__all__) == EXPECTED_ORDERS_API
    for name in EXPECTED_ORDERS_API:
        assert getattr(tradeforge.domain.orders, name) is getattr(tradeforge.domain, name)


def _domain_message_classes() -> set[type[Message]]:
    for module in pkgutil.walk_packages(tradeforge.domain.__path__, "tradeforge.domain."):
        importlib.import_module(module.name)
    found: set[type[Message]] = set()
    pending: list[type[Message]] = [Message]
    while pending:
        cls = pending.pop()
        if cls.__module__.startswith("tradeforge.domain") and cls not in found:
            found.add(cls)
            pending.extend(cls.__subclasses__())
    return found


def test_only_message_command_and_order_event_are_abstract_bases() -> None:
    classes = _domain_message_classes()

    bases = {cls for cls in classes if any(sub in classes for sub in cls.__subclasses__())}

    assert bases == MESSAGE_BASES


def test_every_concrete_domain_message_is_registered() -> None:
    concrete = _domain_message_classes() - MESSAGE_BASES

    assert concrete == set(MESSAGE_TYPES)
    assert len(MESSAGE_TYPES) == len(set(MESSAGE_TYPES))


def test_registered_messages_have_distinct_tags_named_for_the_class() -> None:
    tags = [cls.__struct_config__.tag for cls in MESSAGE_TYPES]

    assert tags == [cls.__name__ for cls in MESSAGE_TYPES]
    assert all(cls.__struct_config__.tag_field == "type" for cls in MESSAGE_TYPES)


def test_every_message_is_frozen_and_keyword_only_with_two_times() -> None:
    for cls in MESSAGE_TYPES:
        parameters = inspect.signature(cls).parameters.values()

        assert cls.__struct_config__.frozen, cls
        assert {"ts_event", "ts_init"} <= set(cls.__struct_fields__), cls
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters), cls

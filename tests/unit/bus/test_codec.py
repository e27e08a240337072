"""Every message type round-trips through JSON and MessagePack unchanged."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeforge.bus import TimeEvent
from tradeforge.bus.codec import DEFAULT_TYPES, Codec, DecodeError
from tradeforge.domain import (
    KNOWN_CURRENCIES,
    MESSAGE_TYPES,
    AccountBalance,
    AccountId,
    AccountStateChanged,
    AccountType,
    AggressorSide,
    Bar,
    BookAction,
    BookLevel,
    BookSide,
    CancelAllOrders,
    CancelOrder,
    ClientOrderId,
    ClientOrderIdGenerator,
    Currency,
    CurrencyPair,
    DenyReason,
    Equity,
    FillReport,
    FuturesContract,
    InstrumentId,
    LiquiditySide,
    MarginBalance,
    Message,
    ModifyOrder,
    Money,
    OrderAccepted,
    OrderBookDelta,
    OrderBookSnapshot,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderExpired,
    OrderFactory,
    OrderFilled,
    OrderInitialized,
    OrderModifyRejected,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderRejected,
    OrderSide,
    OrderSpec,
    OrderStatus,
    OrderStatusReport,
    OrderSubmitted,
    OrderTriggered,
    OrderType,
    OrderUpdated,
    PerpetualContract,
    PositionChanged,
    PositionId,
    PositionSide,
    Price,
    Quantity,
    QueryOrder,
    QuoteTick,
    RejectReason,
    StrategyId,
    SubmitOrder,
    SubmitOrderList,
    Timeframe,
    TradeId,
    TradeTick,
    TrailingOffsetType,
    VenueOrderId,
)

USDT = KNOWN_CURRENCIES["USDT"]
BTC = KNOWN_CURRENCIES["BTC"]
ODD = Currency("XYZ", 3)
IID = InstrumentId.from_str("BTC/USDT.SIM")
SID = StrategyId("s-1")
ACC = AccountId("SIM-main")
IDS = {"client_order_id": ClientOrderId("s-1-9"), "strategy_id": SID, "instrument_id": IID}


def _examples() -> dict[type[msgspec.Struct], msgspec.Struct]:
    factory = OrderFactory(SID, ClientOrderIdGenerator("s-1"))
    spec = factory.trailing_stop(
        IID, OrderSide.SELL, Quantity("0.5"), Decimal("1.5"), TrailingOffsetType.PERCENT
    )
    bracket = factory.bracket(
        IID, OrderSide.BUY, Quantity("1"), stop_loss=Price("90.5"), take_profit=Price("120")
    )
    ts = {"ts_event": 1_700_000_000_000_000_000, "ts_init": 1_700_000_000_000_000_001}
    ids = IDS
    fill = OrderFilled(
        **ids,
        account_id=ACC,
        venue_order_id=VenueOrderId("v-1"),
        trade_id=TradeId("t-1"),
        order_side=OrderSide.BUY,
        order_type=OrderType.LIMIT,
        last_qty=Quantity("0.25"),
        last_px=Price("50000.01"),
        commission=Money("0.012", ODD),
        liquidity_side=LiquiditySide.MAKER,
        position_id=PositionId("p-1"),
        position_side=PositionSide.LONG,
        **ts,
    )
    pair = CurrencyPair(
        id=IID,
        raw_symbol="BTCUSDT",
        base_currency=BTC,
        quote_currency=USDT,
        settlement_currency=USDT,
        tick_size=Price("0.01"),
        lot_size=Quantity("0.00001"),
        min_quantity=Quantity("0.0001"),
        min_notional=Money("5", USDT),
        maker_fee=Decimal("-0.0001"),
        taker_fee=Decimal("0.001"),
    )
    common = {
        "quote_currency": USDT,
        "settlement_currency": USDT,
        "tick_size": Price("0.5"),
        "lot_size": Quantity("1"),
        "min_quantity": Quantity("1"),
    }
    examples: list[msgspec.Struct] = [
        TimeEvent(name="rebalance", **ts),
        SubmitOrder(strategy_id=SID, spec=spec, account_id=ACC, **ts),
        SubmitOrderList(strategy_id=SID, order_list=bracket, **ts),
        ModifyOrder(
            strategy_id=SID,
            instrument_id=IID,
            client_order_id=spec.client_order_id,
            price=Price("1.25"),
            **ts,
        ),
        CancelOrder(
            strategy_id=SID,
            instrument_id=IID,
            client_order_id=spec.client_order_id,
            venue_order_id=VenueOrderId("v-9"),
            **ts,
        ),
        CancelAllOrders(strategy_id=SID, instrument_id=IID, side=OrderSide.BUY, **ts),
        QueryOrder(strategy_id=SID, instrument_id=IID, client_order_id=spec.client_order_id, **ts),
        OrderInitialized.of(bracket.orders[1], 5),
        OrderDenied(**ids, reason=DenyReason.PRICE_COLLAR, message="too far", **ts),
        OrderSubmitted(**ids, account_id=ACC, **ts),
        OrderAccepted(**ids, account_id=ACC, venue_order_id=VenueOrderId("v-1"), **ts),
        OrderRejected(**ids, account_id=ACC, reason=RejectReason.PRICE_OFF_TICK, message="x", **ts),
        OrderPendingUpdate(**ids, **ts),
        OrderPendingCancel(**ids, **ts),
        OrderModifyRejected(**ids, reason=RejectReason.UNKNOWN_ORDER, message="gone", **ts),
        OrderCancelRejected(**ids, reason=RejectReason.OTHER, message="", **ts),
        OrderUpdated(**ids, quantity=Quantity("3"), trigger_price=Price("-1.5"), **ts),
        OrderTriggered(**ids, **ts),
        OrderCanceled(**ids, reason="user", **ts),
        OrderExpired(**ids, **ts),
        fill,
        PositionChanged(
            position_id=PositionId("p-1"),
            instrument_id=IID,
            strategy_id=SID,
            account_id=ACC,
            side=PositionSide.SHORT,
            quantity=Quantity("2.000"),
            avg_px_open=Decimal("100.5"),
            cost=Money("201", USDT),
            realized_pnl=Money("-3.25", USDT),
            fees=(Money("0.2", USDT), Money("0.001", BTC)),
            last_trade_id=TradeId("t-2"),
            ts_opened=7,
            **ts,
        ),
        OrderStatusReport(
            account_id=ACC,
            instrument_id=IID,
            client_order_id=spec.client_order_id,
            venue_order_id=VenueOrderId("v-1"),
            side=OrderSide.BUY,
            order_type=OrderType.LIMIT,
            status=OrderStatus.PARTIALLY_FILLED,
            quantity=Quantity("2.000"),
            filled_qty=Quantity("0.500"),
            price=Price("100.25"),
            avg_px=Decimal("100.2"),
            **ts,
        ),
        FillReport(
            account_id=ACC,
            instrument_id=IID,
            client_order_id=spec.client_order_id,
            venue_order_id=VenueOrderId("v-1"),
            trade_id=TradeId("t-9"),
            side=OrderSide.SELL,
            last_qty=Quantity("0.5"),
            last_px=Price("100.25"),
            commission=Money("0.05", USDT),
            liquidity_side=LiquiditySide.MAKER,
            **ts,
        ),
        AccountStateChanged(
            account_id=ACC,
            account_type=AccountType.MARGIN,
            base_currency=USDT,
            balances=(AccountBalance.of(Money("100", USDT), Money("40", USDT)),),
            margins=(
                MarginBalance(
                    initial=Money("10", USDT), maintenance=Money("5", USDT), instrument_id=IID
                ),
            ),
            **ts,
        ),
        Bar(
            instrument_id=IID,
            timeframe=Timeframe.from_str("15m"),
            open=Price("10.0"),
            high=Price("12.5"),
            low=Price("9.75"),
            close=Price("11"),
            volume=Quantity("1234.5"),
            **ts,
        ),
        QuoteTick(
            instrument_id=IID,
            bid_price=Price("99.5"),
            ask_price=Price("100.0"),
            bid_size=Quantity("1"),
            ask_size=Quantity("2.5"),
            **ts,
        ),
        TradeTick(
            instrument_id=IID,
            price=Price("99.75"),
            size=Quantity("0.1"),
            aggressor_side=AggressorSide.SELLER,
            trade_id=TradeId("123"),
            **ts,
        ),
        OrderBookDelta(
            instrument_id=IID,
            action=BookAction.UPDATE,
            side=BookSide.ASK,
            price=Price("100.5"),
            size=Quantity("0"),
            sequence=42,
            **ts,
        ),
        OrderBookSnapshot(
            instrument_id=IID,
            sequence=41,
            bids=(BookLevel(Price("99.5"), Quantity("1")), BookLevel(Price("99"), Quantity("2"))),
            asks=(BookLevel(Price("100"), Quantity("3")),),
            **ts,
        ),
        pair,
        PerpetualContract(
            id=InstrumentId("BTCUSD_PERP", "SIM"),
            raw_symbol="BTCUSD_PERP",
            base_currency=BTC,
            is_inverse=True,
            multiplier=Quantity("100"),
            **{**common, "settlement_currency": BTC},
        ),
        FuturesContract(
            id=InstrumentId("ESZ6", "CME"),
            raw_symbol="ESZ6",
            underlying="ES",
            activation_ns=1,
            expiration_ns=2,
            multiplier=Quantity("50"),
            **common,
        ),
        Equity(id=InstrumentId("BRK.B", "NYSE"), raw_symbol="BRK.B", isin="US0846707026", **common),
    ]
    return {type(example): example for example in examples}


EXAMPLES = _examples()


def test_every_message_type_has_an_example() -> None:
    assert set(EXAMPLES) == set(DEFAULT_TYPES)


def test_every_concrete_message_subclass_is_registered() -> None:
    def walk(cls: type) -> list[type]:
        return [cls, *[sub for child in cls.__subclasses__() for sub in walk(child)]]

    leaves = {cls for cls in walk(Message) if not cls.__subclasses__()}
    assert leaves == {*MESSAGE_TYPES, TimeEvent}


@pytest.mark.parametrize("kind", DEFAULT_TYPES, ids=lambda t: t.__name__)
def test_json_round_trip_is_exact(kind: type[msgspec.Struct]) -> None:
    codec = Codec()
    message = EXAMPLES[kind]

    decoded = codec.from_json(codec.to_json(message))

    assert type(decoded) is kind
    assert decoded == message
    assert codec.to_json(decoded) == codec.to_json(message)


@pytest.mark.parametrize("kind", DEFAULT_TYPES, ids=lambda t: t.__name__)
def test_msgpack_round_trip_is_exact(kind: type[msgspec.Struct]) -> None:
    codec = Codec()
    message = EXAMPLES[kind]

    decoded = codec.from_msgpack(codec.to_msgpack(message))

    assert decoded == message
    assert codec.to_msgpack(decoded) == codec.to_msgpack(message)


def test_exact_values_travel_as_strings_with_their_precision() -> None:
    codec = Codec()

    doc = codec.to_builtins(EXAMPLES[OrderFilled])

    assert doc["type"] == "OrderFilled"
    assert doc["last_px"] == "50000.01"
    assert doc["last_qty"] == "0.25"
    assert doc["commission"] == "0.012 XYZ:3"


def test_bad_payload_names_the_field() -> None:
    codec = Codec()
    doc = codec.to_builtins(EXAMPLES[TradeTick])
    doc["size"] = "-1"

    with pytest.raises(DecodeError, match=r"\$\.size"):
        codec.from_json(msgspec.json.encode(doc))


def test_float_where_a_price_belongs_is_refused() -> None:
    codec = Codec()
    doc = codec.to_builtins(EXAMPLES[QuoteTick])
    doc["bid_price"] = 99.5

    with pytest.raises(DecodeError, match="bid_price"):
        codec.from_json(msgspec.json.encode(doc))


def test_unknown_type_tag_is_refused() -> None:
    with pytest.raises(DecodeError, match="type"):
        Codec().from_json(b'{"type": "LaunchRocket", "ts_event": 1, "ts_init": 1}')


def test_domain_invariants_are_checked_when_decoding() -> None:
    codec = Codec()
    doc = codec.to_builtins(EXAMPLES[Bar])
    doc["high"] = "1"

    with pytest.raises(DecodeError, match="high 1 is below low"):
        codec.from_json(msgspec.json.encode(doc))


def test_json_as_decodes_a_plain_domain_struct() -> None:
    codec = Codec()
    spec = EXAMPLES[SubmitOrder].spec  # type: ignore[attr-defined]

    assert codec.json_as(OrderSpec, codec.to_json(spec)) == spec


prices = st.decimals(
    allow_nan=False, allow_infinity=False, places=4, min_value=-(10**9), max_value=10**9
)
sizes = st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=0, max_value=10**9)


@settings(deadline=None, max_examples=200)
@given(price=prices, size=sizes, seq=st.integers(min_value=0, max_value=2**63 - 1))
def test_book_deltas_round_trip_for_any_values(price: Decimal, size: Decimal, seq: int) -> None:
    codec = Codec()
    delta = OrderBookDelta(
        instrument_id=IID,
        action=BookAction.UPDATE,
        side=BookSide.BID,
        price=Price(price),
        size=Quantity(size),
        sequence=seq,
        ts_event=seq,
        ts_init=seq,
    )

    assert codec.from_msgpack(codec.to_msgpack(delta)) == delta
    decoded = codec.from_json(codec.to_json(delta))
    assert isinstance(decoded, OrderBookDelta)
    assert decoded.price.precision == delta.price.precision

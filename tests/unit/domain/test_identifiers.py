import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeforge.domain import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    InvalidValue,
    OrderListId,
    PositionId,
    StrategyId,
    Symbol,
    TradeId,
    Venue,
    VenueOrderId,
)

SIMPLE_ID_TYPES = [
    Symbol,
    ClientOrderId,
    VenueOrderId,
    StrategyId,
    AccountId,
    TradeId,
    PositionId,
    OrderListId,
]

symbols = st.from_regex(r"\A[!-~]{1,20}\Z")
venues = st.from_regex(r"\A[A-Z0-9][A-Z0-9_-]{0,15}\Z")


def test_instrument_id_parses_symbol_and_venue() -> None:
    instrument_id = InstrumentId.from_str("BTC/USDT.BINANCE")

    assert instrument_id.symbol == Symbol("BTC/USDT")
    assert instrument_id.venue == Venue("BINANCE")
    assert str(instrument_id) == "BTC/USDT.BINANCE"


def test_instrument_id_venue_is_what_follows_the_last_dot() -> None:
    instrument_id = InstrumentId.from_str("BRK.B.NYSE")

    assert instrument_id.symbol == Symbol("BRK.B")
    assert instrument_id.venue == Venue("NYSE")


def test_instrument_id_built_from_parts_equals_the_parsed_one() -> None:
    built = InstrumentId("BTC/USDT", Venue("BINANCE"))

    assert built == InstrumentId.from_str("BTC/USDT.BINANCE")
    assert hash(built) == hash(InstrumentId.from_str("BTC/USDT.BINANCE"))
    assert repr(built) == "InstrumentId('BTC/USDT.BINANCE')"


@pytest.mark.parametrize("value", ["BTCUSDT", "BTCUSDT.", ".BINANCE", ""])
def test_instrument_id_without_symbol_or_venue_is_refused_showing_the_expected_shape(
    value: str,
) -> None:
    with pytest.raises(InvalidValue, match=r"SYMBOL\.VENUE") as refused:
        InstrumentId.from_str(value)

    assert repr(value) in str(refused.value)


def test_instrument_id_with_lower_case_venue_is_refused_naming_the_venue() -> None:
    with pytest.raises(InvalidValue, match="venue"):
        InstrumentId.from_str("BTC/USDT.binance")


def test_instrument_id_from_a_non_string_is_refused() -> None:
    with pytest.raises(InvalidValue, match="instrument_id must be a str"):
        InstrumentId.from_str(42)  # type: ignore[arg-type]


@settings(deadline=None)
@given(symbol=symbols, venue=venues)
def test_instrument_id_str_round_trips(symbol: str, venue: str) -> None:
    instrument_id = InstrumentId(symbol, venue)

    parsed = InstrumentId.from_str(str(instrument_id))

    assert parsed == instrument_id
    assert parsed.symbol.value == symbol
    assert parsed.venue.value == venue


def test_instrument_ids_sort_by_their_string_form() -> None:
    ids = [InstrumentId.from_str(v) for v in ("ETH/USDT.BINANCE", "BTC/USDT.BINANCE")]

    assert sorted(ids) == [ids[1], ids[0]]


def test_different_id_types_with_the_same_text_are_never_equal() -> None:
    client = ClientOrderId("X-1")
    venue = VenueOrderId("X-1")

    assert client != venue
    assert client != "X-1"
    assert len({client, venue, TradeId("X-1")}) == 3


def test_ids_of_one_type_compare_and_sort_by_value() -> None:
    assert ClientOrderId("A-1") == ClientOrderId("A-1")
    assert sorted([TradeId("b"), TradeId("a")]) == [TradeId("a"), TradeId("b")]


def test_ordering_ids_of_different_types_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        _ = ClientOrderId("A") < VenueOrderId("B")  # type: ignore[operator]


def test_client_order_id_of_36_characters_is_accepted() -> None:
    assert ClientOrderId("x" * 36).value == "x" * 36


def test_client_order_id_longer_than_36_characters_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidValue, match="client_order_id must have 1 to 36 characters"):
        ClientOrderId("x" * 37)


def test_empty_id_is_refused() -> None:
    with pytest.raises(InvalidValue, match="strategy_id"):
        StrategyId("")


@pytest.mark.parametrize("value", ["A 1", " A1", "A1 ", "A\t1", "A\n1", "Ä1"])
def test_id_with_whitespace_or_non_ascii_is_refused_naming_the_field(value: str) -> None:
    with pytest.raises(InvalidValue, match="client_order_id has characters that are not allowed"):
        ClientOrderId(value)


@pytest.mark.parametrize(
    ("build", "value"),
    [(ClientOrderId, "ABC\n"), (Venue, "BINANCE\n"), (InstrumentId.from_str, "BTC/USDT.SIM\n")],
)
def test_id_with_a_trailing_newline_is_refused(build: object, value: str) -> None:
    with pytest.raises(InvalidValue):
        build(value)  # type: ignore[operator]


def test_id_from_a_non_string_is_refused_naming_the_type() -> None:
    with pytest.raises(InvalidValue, match="trade_id must be a str, got int"):
        TradeId(7)  # type: ignore[arg-type]


def test_venue_must_be_upper_case() -> None:
    with pytest.raises(InvalidValue, match="venue"):
        Venue("Binance")


@pytest.mark.parametrize("id_type", SIMPLE_ID_TYPES)
def test_ids_are_immutable(id_type: type[ClientOrderId]) -> None:
    identifier = id_type("A-1")

    with pytest.raises(AttributeError, match=r"immutable|not writable"):
        identifier._value = "B-2"


def test_instrument_id_is_immutable() -> None:
    instrument_id = InstrumentId.from_str("BTC/USDT.BINANCE")

    with pytest.raises(AttributeError, match=r"immutable|not writable"):
        instrument_id._venue = Venue("OTHER")


@pytest.mark.parametrize("id_type", SIMPLE_ID_TYPES)
def test_ids_survive_pickling_with_their_type(id_type: type[ClientOrderId]) -> None:
    identifier = id_type("A-1")

    restored = pickle.loads(pickle.dumps(identifier))

    assert restored == identifier
    assert type(restored) is id_type


def test_instrument_id_survives_pickling() -> None:
    instrument_id = InstrumentId.from_str("BRK.B.NYSE")

    assert pickle.loads(pickle.dumps(instrument_id)) == instrument_id


def test_id_from_str_and_repr() -> None:
    assert AccountId.from_str("BINANCE-main") == AccountId("BINANCE-main")
    assert repr(AccountId("BINANCE-main")) == "AccountId('BINANCE-main')"

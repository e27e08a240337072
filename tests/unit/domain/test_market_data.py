import pickle
import re
from typing import Any

import pytest
from tests.kit.stubs import BTCUSDT, TS

from tradeforge.domain import (
    AggressorSide,
    Bar,
    BookAction,
    BookLevel,
    BookSide,
    InvalidValue,
    OrderBookDelta,
    OrderBookSnapshot,
    Price,
    Quantity,
    QuoteTick,
    Timeframe,
    TradeId,
    TradeTick,
)

MINUTE_NS = 60 * 10**9


# Timeframe


@pytest.mark.parametrize(
    ("text", "nanos"),
    [
        ("1s", 10**9),
        ("1m", MINUTE_NS),
        ("15m", 15 * MINUTE_NS),
        ("4h", 4 * 60 * MINUTE_NS),
        ("1d", 24 * 60 * MINUTE_NS),
        ("1w", 7 * 24 * 60 * MINUTE_NS),
    ],
)
def test_timeframe_parses_formats_and_measures(text: str, nanos: int) -> None:
    timeframe = Timeframe.from_str(text)

    assert str(timeframe) == text
    assert repr(timeframe) == f"Timeframe('{text}')"
    assert timeframe.nanos == nanos


@pytest.mark.parametrize("text", ["", "m", "0m", "01m", "1", "1x", "1M", "-1m", "1.5h", " 1m"])
def test_bad_timeframe_is_refused_showing_the_expected_shape(text: str) -> None:
    with pytest.raises(InvalidValue, match="timeframe must look like 1m, 5m, 1h or 1d"):
        Timeframe.from_str(text)


def test_timeframe_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(InvalidValue):
        Timeframe.from_str("1m\n")


@pytest.mark.parametrize(("step", "unit"), [(0, "m"), (-1, "m"), (True, "m"), (1, "y")])
def test_timeframe_from_bad_parts_is_refused(step: int, unit: str) -> None:
    with pytest.raises(InvalidValue, match="timeframe"):
        Timeframe(step, unit)


def test_timeframes_of_equal_length_are_equal_and_order_by_length() -> None:
    assert Timeframe.from_str("60m") == Timeframe.from_str("1h")
    assert hash(Timeframe.from_str("60m")) == hash(Timeframe.from_str("1h"))
    assert Timeframe.from_str("1m") < Timeframe.from_str("1h")


def test_timeframe_is_immutable_and_pickles() -> None:
    timeframe = Timeframe.from_str("5m")

    with pytest.raises(AttributeError, match="immutable"):
        timeframe._step = 6
    assert str(pickle.loads(pickle.dumps(timeframe))) == "5m"


# Bar


def bar(**prices: str) -> Bar:
    ohlc = {"open": "100.00", "high": "105.00", "low": "99.00", "close": "104.00"} | prices
    return Bar(
        instrument_id=BTCUSDT,
        timeframe=Timeframe.from_str("1m"),
        volume=Quantity("12.5"),
        ts_event=TS,
        ts_init=TS,
        **{field: Price(value) for field, value in ohlc.items()},
    )


def test_bar_within_its_range_is_valid() -> None:
    valid = bar()

    assert valid.high == Price("105.00")
    assert valid.volume == Quantity("12.5")


def test_flat_bar_is_valid() -> None:
    assert bar(open="100.00", high="100.00", low="100.00", close="100.00").low == 100


def test_bar_with_high_below_low_is_refused_naming_both() -> None:
    with pytest.raises(InvalidValue, match=re.escape("high 98.00 is below low 99.00")) as refused:
        bar(high="98.00", open="98.50", close="98.50")

    assert f"BTC/USDT.BINANCE 1m at {TS}" in str(refused.value)


@pytest.mark.parametrize(
    ("field", "value"), [("open", "105.01"), ("open", "98.99"), ("close", "106"), ("close", "1")]
)
def test_bar_with_open_or_close_outside_its_range_is_refused_naming_the_field(
    field: str, value: str
) -> None:
    with pytest.raises(InvalidValue, match=f"{field} {value} is outside low 99.00 .. high 105.00"):
        bar(**{field: value})


def test_bar_is_frozen() -> None:
    with pytest.raises(AttributeError):
        bar().close = Price("1")  # type: ignore[misc]


# QuoteTick


def quote(bid: str, ask: str) -> QuoteTick:
    return QuoteTick(
        instrument_id=BTCUSDT,
        bid_price=Price(bid),
        ask_price=Price(ask),
        bid_size=Quantity("1"),
        ask_size=Quantity("2"),
        ts_event=TS,
        ts_init=TS,
    )


@pytest.mark.parametrize(
    ("bid", "ask", "mid"),
    [
        ("100.00", "100.02", "100.01"),
        ("100.01", "100.02", "100.015"),
        ("1", "2", "1.5"),
        ("0.05", "0.05", "0.05"),
        ("-1.0", "0.0", "-0.5"),
    ],
)
def test_quote_mid_is_exact(bid: str, ask: str, mid: str) -> None:
    result = quote(bid, ask).mid

    assert result == Price(mid)
    assert str(result) == mid


def test_crossed_quote_is_kept() -> None:
    assert quote("101.00", "100.00").mid == Price("100.50")


# TradeTick and book data


def test_trade_of_zero_size_is_refused() -> None:
    with pytest.raises(
        InvalidValue, match=re.escape("trade T-1 on BTC/USDT.BINANCE: size must be > 0")
    ):
        TradeTick(
            instrument_id=BTCUSDT,
            price=Price("100.00"),
            size=Quantity("0"),
            aggressor_side=AggressorSide.BUYER,
            trade_id=TradeId("T-1"),
            ts_event=TS,
            ts_init=TS,
        )


def delta(action: BookAction, size: str) -> OrderBookDelta:
    return OrderBookDelta(
        instrument_id=BTCUSDT,
        action=action,
        side=BookSide.BID,
        price=Price("100.00"),
        size=Quantity(size),
        sequence=7,
        ts_event=TS,
        ts_init=TS,
    )


def test_book_add_of_zero_size_is_refused_but_delete_may_carry_zero() -> None:
    with pytest.raises(InvalidValue, match="ADD needs a positive size"):
        delta(BookAction.ADD, "0")

    assert delta(BookAction.DELETE, "0").size.is_zero()


def levels(*pairs: tuple[str, str]) -> tuple[BookLevel, ...]:
    return tuple(BookLevel(Price(price), Quantity(size)) for price, size in pairs)


def snapshot(**sides: Any) -> OrderBookSnapshot:
    books = {"bids": levels(), "asks": levels()} | sides
    return OrderBookSnapshot(instrument_id=BTCUSDT, sequence=1, ts_event=TS, ts_init=TS, **books)


def test_book_snapshot_with_best_levels_first() -> None:
    book = snapshot(
        bids=levels(("100.00", "1"), ("99.99", "2")), asks=levels(("100.01", "1"), ("100.05", "3"))
    )

    assert book.best_bid == BookLevel(Price("100.00"), Quantity("1"))
    assert book.best_ask == BookLevel(Price("100.01"), Quantity("1"))


def test_empty_book_has_no_best_levels() -> None:
    book = snapshot()

    assert book.best_bid is None
    assert book.best_ask is None


@pytest.mark.parametrize(
    ("side", "pairs"),
    [
        ("bids", (("99.99", "1"), ("100.00", "1"))),
        ("bids", (("100.00", "1"), ("100.00", "2"))),
        ("asks", (("100.05", "1"), ("100.01", "1"))),
        ("asks", (("100.01", "1"), ("100.01", "1"))),
    ],
)
def test_book_snapshot_out_of_order_is_refused_naming_the_side(
    side: str, pairs: tuple[tuple[str, str], ...]
) -> None:
    with pytest.raises(
        InvalidValue, match=f"{side} must be strictly ordered best first, got {pairs[0][0]}"
    ):
        snapshot(**{side: levels(*pairs)})

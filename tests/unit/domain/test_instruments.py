import re
from decimal import ROUND_DOWN, ROUND_UP, Decimal

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.kit.stubs import BTC, EUR, TS, USD, USDT, aapl, btcusdt, es_future, xbtusd_inverse

from tradeforge.domain import (
    InstrumentKind,
    InvalidValue,
    LiquiditySide,
    Money,
    Price,
    Quantity,
)

# make_price / make_qty


def test_float_price_is_rounded_to_the_tick() -> None:
    instrument = btcusdt()

    price = instrument.make_price(0.1 + 0.2)

    assert price == Price("0.30")
    assert price.precision == 2


def test_float_quantity_is_rounded_to_the_lot() -> None:
    instrument = btcusdt()

    quantity = instrument.make_qty(0.1 + 0.2)

    assert str(quantity) == "0.300"


def test_float_rounding_reads_the_float_as_written_then_rounds_half_even() -> None:
    instrument = btcusdt()

    assert instrument.make_price(100.005) == Price("100.00")
    assert instrument.make_price(100.015) == Price("100.02")


def test_float_rounds_to_a_tick_that_is_not_a_power_of_ten() -> None:
    instrument = es_future()

    assert instrument.make_price(4500.3) == Price("4500.25")
    assert instrument.make_price(4500.4) == Price("4500.50")


def test_named_rounding_mode_is_honored_for_floats_and_exact_inputs() -> None:
    instrument = btcusdt()

    assert instrument.make_price(100.019, rounding=ROUND_DOWN) == Price("100.01")
    assert instrument.make_price("100.019", rounding=ROUND_DOWN) == Price("100.01")
    assert instrument.make_qty("0.0011", rounding=ROUND_UP) == Quantity("0.002")


def test_exact_price_off_the_tick_is_refused_naming_tick_and_instrument() -> None:
    instrument = btcusdt()

    with pytest.raises(
        InvalidValue,
        match=r"price 100\.001 is not a multiple of tick size 0\.01 for BTC/USDT\.BINANCE",
    ):
        instrument.make_price("100.001")


def test_exact_quantity_off_the_lot_is_refused_naming_lot_and_instrument() -> None:
    instrument = btcusdt()

    with pytest.raises(
        InvalidValue,
        match=r"quantity 0\.0015 is not a multiple of lot size 0\.001 for BTC/USDT\.BINANCE",
    ):
        instrument.make_qty(Decimal("0.0015"))


def test_exact_price_off_a_quarter_tick_is_refused() -> None:
    with pytest.raises(InvalidValue, match=re.escape("tick size 0.25")):
        es_future().make_price("4500.10")


def test_exact_inputs_on_the_tick_take_the_instrument_precision() -> None:
    instrument = btcusdt()

    assert str(instrument.make_price(100)) == "100.00"
    assert str(instrument.make_price("100.5")) == "100.50"
    assert str(instrument.make_qty(2)) == "2.000"


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "abc", True])
def test_make_price_refuses_non_numbers(bad: object) -> None:
    with pytest.raises(InvalidValue, match="price"):
        btcusdt().make_price(bad)  # type: ignore[arg-type]


@settings(deadline=None)
@given(ticks=st.integers(min_value=-(10**9), max_value=10**9))
def test_every_whole_number_of_ticks_is_on_tick(ticks: int) -> None:
    instrument = es_future()

    price = instrument.make_price(instrument.tick_size.as_decimal() * ticks)

    assert instrument.is_on_tick(price)
    assert price.precision == instrument.price_precision


def test_is_on_tick_and_is_on_lot() -> None:
    instrument = btcusdt()

    assert instrument.is_on_tick(Price("100.01"))
    assert not instrument.is_on_tick(Price("100.015"))
    assert instrument.is_on_lot(Quantity("0.002"))
    assert not instrument.is_on_lot(Quantity("0.0025"))


# notional and fees


def test_linear_notional_is_quantity_times_price_in_the_settlement_currency() -> None:
    instrument = btcusdt()

    notional = instrument.notional(Quantity("0.123"), Price("43210.57"))

    # 0.123 x 43210.57 = 5314.90011, exact at USDT's 8 decimals
    assert notional == Money("5314.90011", USDT)


def test_notional_applies_the_multiplier() -> None:
    instrument = es_future()

    # 2 contracts x 4500.25 x 50
    assert instrument.notional(Quantity("2"), Price("4500.25")) == Money("450025.00", USD)


def test_notional_is_rounded_once_to_the_currency() -> None:
    instrument = aapl(lot_size=Quantity("0.001"), min_quantity=Quantity("0.001"))

    # 0.005 x 1.01 = 0.00505 -> 0.01 (half-even); ROUND_DOWN -> 0.00
    assert instrument.notional(Quantity("0.005"), Price("1.01")) == Money("0.01", USD)
    assert instrument.notional(Quantity("0.005"), Price("1.01"), rounding=ROUND_DOWN) == Money(
        "0.00", USD
    )


def test_inverse_notional_is_contracts_over_price_in_the_base_currency() -> None:
    instrument = xbtusd_inverse()

    # 1000 USD / 43210.5 = 0.0231425232... BTC
    assert instrument.notional(Quantity("1000"), Price("43210.5")) == Money("0.02314252", BTC)
    # 100 / 30000 = 0.00333333...
    assert instrument.notional(Quantity("100"), Price("30000.0")) == Money("0.00333333", BTC)


def test_inverse_notional_at_a_non_positive_price_is_refused() -> None:
    with pytest.raises(InvalidValue, match="inverse notional needs a positive price"):
        xbtusd_inverse().notional(Quantity("1"), Price("0"))


def test_taker_and_maker_fees_are_notional_times_rate_rounded_once() -> None:
    instrument = btcusdt()
    quantity, price = Quantity("0.123"), Price("43210.57")

    taker = instrument.fee(quantity, price, LiquiditySide.TAKER)
    maker = instrument.fee(quantity, price, LiquiditySide.MAKER)

    # 5314.90011 x 0.0004 = 2.125960044 -> 2.12596004
    assert taker == Money("2.12596004", USDT)
    # 5314.90011 x 0.0002 = 1.062980022 -> 1.06298002
    assert maker == Money("1.06298002", USDT)


def test_negative_maker_fee_is_a_rebate() -> None:
    instrument = xbtusd_inverse()

    rebate = instrument.fee(Quantity("1000"), Price("43210.5"), LiquiditySide.MAKER)

    # 0.0231425232... x -0.00025 = -0.0000057856... -> -0.00000579
    assert rebate == Money("-0.00000579", BTC)
    assert instrument.fee_rate(LiquiditySide.MAKER) == Decimal("-0.00025")


def test_fee_is_rounded_only_once_even_for_long_products() -> None:
    step = Decimal("0.0000000001")
    instrument = btcusdt(
        tick_size=Price(step),
        lot_size=Quantity(step),
        min_quantity=Quantity(step),
        taker_fee=Decimal("0.5"),
    )

    fee = instrument.fee(
        Quantity("1.0000000001"), Price("200000000000.0000000100"), LiquiditySide.TAKER
    )

    # exact: 200000000020.000000010000000001 x 0.5 = 100000000010.0000000050000000005
    assert fee == Money("100000000010.00000001", USDT)


# kinds and precisions


def test_each_instrument_reports_its_kind() -> None:
    assert btcusdt().kind is InstrumentKind.SPOT
    assert xbtusd_inverse().kind is InstrumentKind.PERPETUAL
    assert es_future().kind is InstrumentKind.FUTURE
    assert aapl().kind is InstrumentKind.EQUITY


def test_price_and_size_precision_come_from_tick_and_lot() -> None:
    instrument = btcusdt()

    assert instrument.price_precision == 2
    assert instrument.size_precision == 3


def test_instrument_is_frozen() -> None:
    instrument = btcusdt()

    with pytest.raises(AttributeError):
        instrument.tick_size = Price("1")  # type: ignore[misc]


# invalid instruments


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"tick_size": Price("0")}, "tick_size must be positive, got 0"),
        ({"tick_size": Price("-0.01")}, "tick_size must be positive"),
        ({"lot_size": Quantity("0")}, "lot_size must be positive, got 0"),
        ({"multiplier": Quantity("0")}, "multiplier must be positive"),
        (
            {"min_quantity": Quantity("0.0015")},
            "min_quantity 0.0015 is not a multiple of lot_size 0.001",
        ),
        (
            {"max_quantity": Quantity("0.0005"), "min_quantity": Quantity("0.001")},
            "max_quantity 0.0005 is below min_quantity 0.001",
        ),
        ({"min_notional": Money("10", EUR)}, "min_notional must be in USDT"),
        ({"maker_fee": Decimal("1")}, r"maker_fee must be a Decimal in \(-1, 1\)"),
        ({"taker_fee": Decimal("-1")}, "taker_fee must be a Decimal"),
        ({"taker_fee": Decimal("NaN")}, "taker_fee must be a Decimal"),
        ({"taker_fee": 0.001}, "taker_fee must be a Decimal"),
    ],
)
def test_invalid_instrument_is_refused_naming_the_field(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidValue, match=message) as refused:
        btcusdt(**overrides)

    assert "BTC/USDT.BINANCE" in str(refused.value)


def test_min_notional_in_the_quote_currency_is_accepted() -> None:
    instrument = btcusdt(min_notional=Money("5", USDT))

    assert instrument.min_notional == Money("5", USDT)


@pytest.mark.parametrize("expiration_ns", [TS, TS - 1])
def test_future_expiring_at_or_before_activation_is_refused(expiration_ns: int) -> None:
    with pytest.raises(InvalidValue, match=f"expiration_ns {expiration_ns} must be after"):
        es_future(activation_ns=TS, expiration_ns=expiration_ns)


def test_instrument_is_a_tagged_struct() -> None:
    assert msgspec.structs.asdict(aapl())["isin"] == "US0378331005"
    assert type(aapl()).__struct_config__.tag == "Equity"

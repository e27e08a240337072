"""R2: the price collar against a reference price (mid or last), per side, and the stale
reference.

Pass figure: Hypothesis, 2,000 orders around the collar: 0 accepted outside, 0 denied inside;
a reference older than the limit (or none) is refused with REFERENCE_STALE.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.trading.risk_kit import BTC, BTCUSDT, MS, SECOND, TS, engine, spec

from tradeforge.domain import DenyReason, OrderSide, OrderType, Price, Quantity, QuoteTick
from tradeforge.trading import RiskConfig

TICK = Decimal("0.01")


@settings(max_examples=2000, deadline=None)
@given(
    ref_ticks=st.integers(min_value=100, max_value=10**7),
    pct_tenths=st.integers(min_value=1, max_value=200),
    passive_tenths=st.integers(min_value=1, max_value=200),
    offset_ticks=st.integers(min_value=-300, max_value=300),
    side=st.sampled_from(OrderSide),
    aggressive_edge=st.booleans(),
)
def test_no_order_outside_the_collar_passes_and_none_inside_is_denied(
    *,
    ref_ticks: int,
    pct_tenths: int,
    passive_tenths: int,
    offset_ticks: int,
    side: OrderSide,
    aggressive_edge: bool,
) -> None:
    ref = ref_ticks * TICK
    pct, passive = Decimal(pct_tenths) / 10, Decimal(passive_tenths) / 10
    up = side is OrderSide.BUY if aggressive_edge else side is OrderSide.SELL
    # a price within a few ticks of the chosen edge
    edge_pct = pct if aggressive_edge else passive
    edge = ref * (100 + edge_pct) / 100 if up else ref * (100 - edge_pct) / 100
    price = max(TICK, edge.quantize(TICK) + offset_ticks % 7 * TICK - 3 * TICK)
    risk, _ = engine(RiskConfig(collar_pct=pct, collar_passive_pct=passive), track=None)

    denial = risk.check(spec(side, "1.000", price), BTCUSDT, reference=Price(str(ref)))

    if side is OrderSide.BUY:
        outside = price > ref * (100 + pct) / 100 or price < ref * (100 - passive) / 100
    else:
        outside = price < ref * (100 - pct) / 100 or price > ref * (100 + passive) / 100
    if outside:
        assert denial is not None
        assert denial[0] is DenyReason.PRICE_COLLAR
    else:
        assert denial is None


def test_the_trigger_price_of_a_stop_is_collared_too() -> None:
    risk, _ = engine(RiskConfig(collar_pct=Decimal(5)), track=None)
    stop = spec(price=None, order_type=OrderType.STOP_MARKET, trigger="106.00")

    denial = risk.check(stop, BTCUSDT, reference=Price("100.00"))

    assert denial == (
        DenyReason.PRICE_COLLAR,
        "BUY trigger price 106.00 is more than 5% above the reference 100.00",
    )


def test_without_a_reference_price_a_collared_order_is_denied_as_stale() -> None:
    risk, _ = engine(RiskConfig(collar_pct=Decimal(5)), track=None)

    denial = risk.check(spec(), BTCUSDT)

    assert denial == (DenyReason.REFERENCE_STALE, f"no reference price for {BTC}")


@settings(max_examples=300, deadline=None)
@given(age_ms=st.integers(min_value=0, max_value=10_000))
def test_a_reference_older_than_the_limit_is_stale_and_one_at_or_within_it_is_not(
    age_ms: int,
) -> None:
    risk, clock = engine(RiskConfig(collar_pct=Decimal(5), reference_max_age_ms=5_000))
    risk.set_reference(BTC, Price("100.00"), TS)
    clock.advance_to(TS + age_ms * MS)

    denial = risk.check(spec(), BTCUSDT)

    if age_ms > 5_000:
        assert denial is not None
        assert denial[0] is DenyReason.REFERENCE_STALE
        assert f"is {age_ms} ms old (limit 5000 ms)" in denial[1]
    else:
        assert denial is None


def test_the_mid_of_a_quote_is_the_reference_as_of_the_quote_time() -> None:
    risk, clock = engine(RiskConfig(collar_pct=Decimal(1), reference_max_age_ms=1_000))
    quote = QuoteTick(
        instrument_id=BTC,
        bid_price=Price("99.00"),
        ask_price=Price("101.00"),
        bid_size=Quantity("1"),
        ask_size=Quantity("1"),
        ts_event=TS,
        ts_init=TS,
    )
    risk.on_quote(quote)

    assert risk.check(spec(price="101.00"), BTCUSDT) is None
    assert risk.check(spec(price="101.01"), BTCUSDT) is not None
    clock.advance_to(TS + 2 * SECOND)
    denial = risk.check(spec(price="100.00"), BTCUSDT)
    assert denial is not None
    assert denial[0] is DenyReason.REFERENCE_STALE

"""R1: one order's quantity and notional (per node, account, strategy and instrument).

Pass figure: Hypothesis, 2,000 orders around the limit: 0 accepted above, 0 denied at or below.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.trading.risk_kit import ACCOUNT, BTC, BTCUSDT, STRATEGY, engine, spec

from tradeforge.domain import AccountId, DenyReason, OrderSide, StrategyId
from tradeforge.trading import Limits, RiskConfig

LOT = Decimal("0.001")
TICK = Decimal("0.01")


@settings(max_examples=2000, deadline=None)
@given(
    limit_lots=st.integers(min_value=1, max_value=100_000),
    offset=st.integers(min_value=-50, max_value=50),
    side=st.sampled_from(OrderSide),
)
def test_no_order_above_the_quantity_limit_passes_and_none_at_or_below_is_denied(
    limit_lots: int, offset: int, side: OrderSide
) -> None:
    limit = limit_lots * LOT
    qty = max(1, limit_lots + offset) * LOT
    risk, _ = engine(RiskConfig(max_order_quantity=limit), track=None)

    denial = risk.check(spec(side, qty), BTCUSDT)

    if qty > limit:
        assert denial is not None
        assert denial[0] is DenyReason.MAX_ORDER_QUANTITY
    else:
        assert denial is None


@settings(max_examples=2000, deadline=None)
@given(
    limit_cents=st.integers(min_value=1, max_value=10**9),
    qty_lots=st.integers(min_value=1, max_value=10_000),
    price_ticks=st.integers(min_value=1, max_value=10**7),
    side=st.sampled_from(OrderSide),
    market=st.booleans(),
)
def test_no_order_above_the_notional_limit_passes_and_none_at_or_below_is_denied(
    limit_cents: int, qty_lots: int, price_ticks: int, side: OrderSide, market: bool
) -> None:
    # Prices are drawn near the limit's price for the quantity, so both outcomes are common.
    limit = limit_cents * TICK
    qty = qty_lots * LOT
    near = (limit / qty).quantize(TICK)
    price = max(TICK, near + (price_ticks % 201 - 100) * TICK)
    risk, _ = engine(RiskConfig(max_order_notional=limit), track=None)
    order = spec(side, qty, None if market else price)

    denial = risk.check(order, BTCUSDT, reference=BTCUSDT.make_price(price))

    if qty * price > limit:
        assert denial is not None
        assert denial[0] is DenyReason.MAX_ORDER_NOTIONAL
    else:
        assert denial is None


def test_a_market_order_without_any_reference_price_cannot_be_valued_so_it_is_denied() -> None:
    risk, _ = engine(RiskConfig(max_order_notional=Decimal(1000)), track=None)

    denial = risk.check(spec(price=None), BTCUSDT)

    assert denial is not None
    assert denial[0] is DenyReason.REFERENCE_STALE


def test_the_tightest_scope_decides_and_an_instrument_value_replaces_its_scope_default() -> None:
    other = StrategyId("other-1")
    config = RiskConfig(
        max_order_quantity=Decimal(10),
        strategies={
            str(STRATEGY): Limits(
                max_order_quantity=Decimal(5),
                instruments={str(BTC): Limits(max_order_quantity=Decimal(2))},
            ),
            str(other): Limits(max_order_quantity=Decimal(50)),
        },
        accounts={str(ACCOUNT): Limits(max_order_quantity=Decimal(1))},
    )
    risk, _ = engine(config, track=None)

    # the strategy's BTC value (2) replaces its default (5); the node's 10 is looser
    assert risk.check(spec(qty="2.000"), BTCUSDT) is None
    assert risk.check(spec(qty="2.001"), BTCUSDT) is not None
    # the other strategy's 50 is looser than the node's 10: the node's applies
    assert risk.check(spec(qty="10.000", strategy=other), BTCUSDT) is None
    assert risk.check(spec(qty="10.001", strategy=other), BTCUSDT) is not None
    # through the account, its limit of 1 applies as well
    assert risk.check(spec(qty="1.000"), BTCUSDT, account_id=ACCOUNT) is None
    denial = risk.check(spec(qty="1.001"), BTCUSDT, account_id=ACCOUNT)
    assert denial == (DenyReason.MAX_ORDER_QUANTITY, "quantity 1.001 exceeds the limit 1")
    # another account has no limits of its own
    assert risk.check(spec(qty="2.000"), BTCUSDT, account_id=AccountId("X-1")) is None

"""R14 self-trade prevention (``self_trade_prevention = "expire_taker"``): an order that would
trade against one of the same account's resting orders is refused with ``SELF_TRADE``; the
resting order stays. Pass figure: over 1,000 random sequences of two strategies quoting one
book, 0 accepted orders that cross one of the account's resting orders, 0 refused that do not.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.trading.risk_kit import (
    ACCOUNT,
    BTCUSDT,
    canceled,
    engine,
    fill,
    spec,
    updated,
)

from tradeforge.domain import (
    AccountId,
    ConfigurationError,
    DenyReason,
    OrderSide,
    OrderSpec,
    OrderType,
    Price,
    StrategyId,
)
from tradeforge.trading import Limits, RiskConfig, RiskEngine

BUY, SELL = OrderSide.BUY, OrderSide.SELL
MAKER = StrategyId("maker-1")
TAKER = StrategyId("taker-1")
ON = "expire_taker"


def with_resting_sell(config: RiskConfig) -> tuple[RiskEngine, OrderSpec]:
    risk, _ = engine(config)
    resting = spec(SELL, "1.000", "101.00", strategy=MAKER)
    assert risk.check(resting, BTCUSDT, account_id=ACCOUNT) is None
    return risk, resting


def denied(risk: RiskEngine, order: OrderSpec, account: AccountId = ACCOUNT) -> str | None:
    denial = risk.check(order, BTCUSDT, account_id=account)
    return None if denial is None else denial[0].value


# (side, type, price, trigger, refused): against the account's resting sell at 101.00
TABLE = [
    (BUY, OrderType.LIMIT, "100.99", None, False),
    (BUY, OrderType.LIMIT, "101.00", None, True),
    (BUY, OrderType.LIMIT, "105.00", None, True),
    (BUY, OrderType.MARKET, None, None, True),
    (BUY, OrderType.STOP_MARKET, None, "100.50", False),  # triggered at 100.50: below the sell
    (BUY, OrderType.STOP_MARKET, None, "101.50", True),
    (BUY, OrderType.STOP_LIMIT, "100.90", "100.80", False),
    (BUY, OrderType.STOP_LIMIT, "101.20", "100.80", True),
    (SELL, OrderType.LIMIT, "99.00", None, False),  # same side: never a self-trade
    (SELL, OrderType.MARKET, None, None, False),
]


@pytest.mark.parametrize("row", TABLE)
@pytest.mark.parametrize("level", ["node", "account", "strategy"])
def test_the_table_at_every_scope_level(
    level: str, row: tuple[OrderSide, OrderType, str | None, str | None, bool]
) -> None:
    side, kind, price, trigger, refused = row
    stp = Limits(self_trade_prevention=ON)
    config = {
        "node": RiskConfig(self_trade_prevention=ON),
        "account": RiskConfig(accounts={ACCOUNT.value: stp}),
        "strategy": RiskConfig(strategies={TAKER.value: stp}),
    }[level]
    risk, _ = with_resting_sell(config)
    order = spec(side, "0.500", price, strategy=TAKER, order_type=kind, trigger=trigger)
    assert denied(risk, order) == ("SELF_TRADE" if refused else None)


def test_off_by_default_and_per_account() -> None:
    risk, _ = with_resting_sell(RiskConfig(max_open_orders=100))
    assert denied(risk, spec(BUY, "0.5", "102.00", strategy=TAKER)) is None
    risk, _ = with_resting_sell(RiskConfig(self_trade_prevention=ON))
    other = AccountId("BINANCE-other")
    assert denied(risk, spec(BUY, "0.5", "102.00", strategy=TAKER), other) is None


def test_the_message_names_the_resting_order() -> None:
    risk, resting = with_resting_sell(RiskConfig(self_trade_prevention=ON))
    denial = risk.check(spec(BUY, "0.5", "101.50", strategy=TAKER), BTCUSDT, account_id=ACCOUNT)
    assert denial is not None
    assert denial[0] is DenyReason.SELF_TRADE
    assert resting.client_order_id.value in denial[1]
    assert "101" in denial[1]


def test_a_resting_order_that_ended_or_moved_no_longer_blocks() -> None:
    config = RiskConfig(self_trade_prevention=ON)
    risk, resting = with_resting_sell(config)
    risk.on_order_event(fill(resting, "0.400", "101.00"))  # partly filled: still resting
    assert denied(risk, spec(BUY, "0.5", "101.00", strategy=TAKER)) == "SELF_TRADE"
    risk.on_order_event(updated(resting, "1.000", "103.00"))  # moved up by a modify
    assert denied(risk, spec(BUY, "0.5", "102.00", strategy=TAKER)) is None
    assert denied(risk, spec(BUY, "0.5", "103.00", strategy=TAKER)) == "SELF_TRADE"
    risk.on_order_event(canceled(resting))
    assert denied(risk, spec(BUY, "0.5", "110.00", strategy=TAKER)) is None

    risk, resting = with_resting_sell(config)
    risk.on_order_event(fill(resting, "1.000", "101.00"))  # filled: gone
    assert denied(risk, spec(BUY, "0.5", "110.00", strategy=TAKER)) is None


def test_a_modify_that_would_cross_is_refused() -> None:
    risk, _ = with_resting_sell(RiskConfig(self_trade_prevention=ON))
    bid = spec(BUY, "0.5", "100.00", strategy=TAKER)
    assert risk.check(bid, BTCUSDT, account_id=ACCOUNT) is None
    cross = risk.check_modify(bid.client_order_id, price=Price("101.00"))
    assert cross is not None
    assert cross[0] is DenyReason.SELF_TRADE
    assert risk.check_modify(bid.client_order_id, price=Price("100.50")) is None


def test_only_expire_taker_is_accepted_and_not_per_instrument() -> None:
    with pytest.raises(ConfigurationError, match="self_trade_prevention"):
        RiskConfig(self_trade_prevention="expire_maker")
    with pytest.raises(ConfigurationError, match="self_trade_prevention"):
        RiskConfig(instruments={"BTC/USDT.BINANCE": Limits(self_trade_prevention=ON)})


_steps = st.lists(
    st.tuples(
        st.sampled_from(["submit", "submit", "submit", "cancel", "fill"]),
        st.sampled_from([MAKER, TAKER]),
        st.sampled_from([BUY, SELL]),
        st.integers(min_value=9_990, max_value=10_010),  # price in cents
        st.booleans(),  # market order
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=1_000, deadline=None)
@given(steps=_steps)
def test_two_strategies_quoting_one_book_never_cross_their_own_orders(
    steps: list[tuple[str, StrategyId, OrderSide, int, bool]],
) -> None:
    risk, _ = engine(RiskConfig(accounts={ACCOUNT.value: Limits(self_trade_prevention=ON)}))
    resting: dict[str, tuple[OrderSpec, Decimal]] = {}  # what the model says rests
    for action, strategy, side, cents, market in steps:
        price = Decimal(cents) / 100
        if action == "submit":
            order = spec(side, "0.010", None if market else price, strategy=strategy)
            crosses = any(
                other.side is not side and (market or (price >= px if side is BUY else price <= px))
                for other, px in resting.values()
            )
            denial = risk.check(order, BTCUSDT, account_id=ACCOUNT)
            assert (denial is not None and denial[0] is DenyReason.SELF_TRADE) == crosses
            if denial is None and not market:
                resting[order.client_order_id.value] = (order, price)
            elif denial is None:  # a market order fills at once
                risk.on_order_event(fill(order, "0.010", "100.00"))
        elif resting:
            key = sorted(resting)[cents % len(resting)]
            order, px = resting.pop(key)
            event = canceled(order) if action == "cancel" else fill(order, "0.010", px)
            risk.on_order_event(event)
        buys = [px for o, px in resting.values() if o.side is BUY]
        sells = [px for o, px in resting.values() if o.side is SELL]
        assert not buys or not sells or max(buys) < min(sells)  # the own book is never crossed

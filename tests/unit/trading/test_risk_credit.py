"""R5: credit: an account's free balance, and a scope's capital budget.

Pass figure: 10,000 random sequences of submits, fills, cancels and balance reports: 0 orders
accepted beyond the free balance (what is left after every open order's reservation).
"""

from __future__ import annotations

import random
from decimal import Decimal

from tests.unit.trading.risk_kit import (
    ACCOUNT,
    BTC,
    BTCUSDT,
    ETHUSDT,
    STRATEGY,
    TS,
    canceled,
    engine,
    eth,
    fill,
    spec,
)

from tradeforge.domain import (
    KNOWN_CURRENCIES,
    AccountBalance,
    AccountStateChanged,
    AccountType,
    DenyReason,
    Money,
    OrderSide,
    OrderSpec,
    Price,
)
from tradeforge.trading import Limits, RiskConfig

USDT, BTC_CCY = KNOWN_CURRENCIES["USDT"], KNOWN_CURRENCIES["BTC"]
FEE = BTCUSDT.taker_fee


def report(usdt: Decimal, btc: Decimal) -> AccountStateChanged:
    return AccountStateChanged(
        account_id=ACCOUNT,
        account_type=AccountType.CASH,
        base_currency=None,
        balances=(
            AccountBalance.of(Money(usdt, USDT), Money(0, USDT)),
            AccountBalance.of(Money(btc, BTC_CCY), Money(0, BTC_CCY)),
        ),
        ts_event=TS,
        ts_init=TS,
    )


def one_sequence(rng: random.Random) -> tuple[int, int]:
    """A random sequence; (orders accepted beyond the free balance, orders accepted)."""
    risk, _ = engine(RiskConfig(check_free_balance=True))
    cash = {"USDT": Decimal(rng.randint(100, 10_000)), "BTC": Decimal(rng.randint(0, 5))}
    risk.on_account_state(report(cash["USDT"], cash["BTC"]))
    open_orders: dict[str, tuple[OrderSpec, Decimal, Decimal]] = {}  # spec, leaves, price
    beyond = accepted = 0
    for _ in range(rng.randint(4, 10)):
        action = rng.random()
        if action < 0.6 or not open_orders:
            side = rng.choice(list(OrderSide))
            qty = Decimal(rng.randint(1, 3000)) / 1000
            price = Decimal(rng.randint(100, 5000))
            order = spec(side, qty, price)
            if risk.check(order, BTCUSDT, account_id=ACCOUNT) is None:
                accepted += 1
                open_orders[str(order.client_order_id)] = (order, qty, price)
                beyond += not _funded(cash, open_orders, side)
        elif action < 0.8:
            key = rng.choice(list(open_orders))
            order, leaves, price = open_orders[key]
            part = min(leaves, Decimal(rng.randint(1, 3000)) / 1000)
            fee = (part * price * FEE).quantize(Decimal("0.00000001"))
            risk.on_order_event(fill(order, part, price, commission=Money(fee, USDT)))
            sign = 1 if order.is_buy else -1
            cash["BTC"] += sign * part
            cash["USDT"] -= sign * part * price + fee
            if part == leaves:
                del open_orders[key]
            else:
                open_orders[key] = (order, leaves - part, price)
        elif action < 0.9:
            risk.on_order_event(canceled(open_orders.pop(rng.choice(list(open_orders)))[0]))
        else:  # the venue reports balances (e.g. a deposit or a withdrawal)
            cash = {k: max(Decimal(0), v + rng.randint(-200, 200)) for k, v in cash.items()}
            risk.on_account_state(report(cash["USDT"], cash["BTC"]))
    return beyond, accepted


def _funded(
    cash: dict[str, Decimal],
    open_orders: dict[str, tuple[OrderSpec, Decimal, Decimal]],
    side: OrderSide,
) -> bool:
    """Every open order of the currency ``side`` spends still fits the balance."""
    if side is OrderSide.BUY:
        usdt = sum((q * p * (1 + FEE) for o, q, p in open_orders.values() if o.is_buy), Decimal(0))
        return usdt <= cash["USDT"]
    btc = sum((q for o, q, _ in open_orders.values() if not o.is_buy), Decimal(0))
    return btc <= cash["BTC"]


def test_no_order_is_accepted_beyond_the_free_balance_in_10000_random_sequences() -> None:
    rng = random.Random(515)
    beyond = accepted = 0
    for _ in range(10_000):
        b, a = one_sequence(rng)
        beyond += b
        accepted += a
    assert beyond == 0
    assert accepted > 20_000


def test_open_orders_reserve_funds_until_they_fill_or_are_cancelled() -> None:
    risk, _ = engine(RiskConfig(check_free_balance=True))
    risk.set_balance(None, Money("1000", USDT))
    first = spec(qty="5.000", price="100.00")  # 500 + 0.04 % fee = 500.2

    assert risk.check(first, BTCUSDT) is None
    assert risk.available(None, USDT) == Decimal("499.8")
    denial = risk.check(spec(qty="5.000", price="100.00"), BTCUSDT)
    assert denial is not None
    assert denial[0] is DenyReason.INSUFFICIENT_FUNDS
    assert denial[1] == "needs 500.2 USDT, 499.8 free in account None"
    risk.on_order_event(canceled(first))
    assert risk.available(None, USDT) == Decimal(1000)


def test_a_sell_needs_the_base_currency_and_an_unknown_balance_denies() -> None:
    risk, _ = engine(RiskConfig(check_free_balance=True))
    risk.set_balance(None, Money("1000", USDT))

    denial = risk.check(spec(OrderSide.SELL, "1.000"), BTCUSDT)

    assert denial == (DenyReason.INSUFFICIENT_FUNDS, "no BTC balance known for account None")


def test_a_capital_budget_bounds_the_worst_case_exposure_of_its_scope() -> None:
    config = RiskConfig(strategies={str(STRATEGY): Limits(capital_budget=Decimal(1000))})
    risk, _ = engine(config)
    risk.set_reference(BTC, Price("100.00"))
    risk.set_reference(ETHUSDT, Price("50.00"))
    eth_pair = eth()

    assert risk.check(spec(qty="6.000"), BTCUSDT) is None  # 600
    assert risk.check(spec(qty="8.00", price="50.00", instrument=ETHUSDT), eth_pair) is None  # 400
    denial = risk.check(spec(qty="0.001"), BTCUSDT)
    assert denial is not None
    assert denial[0] is DenyReason.STRATEGY_BUDGET
    # an order that lowers the worst case passes (the open buy keeps the BTC worst case at 6)
    assert risk.check(spec(OrderSide.SELL, "3.000"), BTCUSDT) is None
    # another strategy has its own (unlimited) budget
    other = spec(qty="100.000", strategy=type(STRATEGY)("other-1"))
    assert risk.check(other, BTCUSDT) is None

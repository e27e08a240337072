"""R3: the collar over a period: a ladder of orders walking the price is stopped at the first
order that takes the side's accepted prices more than x % apart within the window.

Pass figure: a ladder of 20 orders is denied at the first breach (every earlier one passes).
"""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from tests.unit.trading.risk_kit import BTCUSDT, SECOND, TS, engine, spec

from tradeforge.domain import DenyReason, OrderSide
from tradeforge.trading import RiskConfig

CONFIG = RiskConfig(drift_pct=Decimal(5), drift_window_ms=60_000)
TICK = Decimal("0.01")


def ladder(start: Decimal, step_pct: Decimal, n: int, side: OrderSide) -> list[Decimal]:
    sign = 1 if side is OrderSide.BUY else -1
    return [(start * (1 + sign * step_pct * i / 100)).quantize(TICK) for i in range(n)]


def first_breach(prices: list[Decimal], side: OrderSide) -> int | None:
    for i, price in enumerate(prices):
        if side is OrderSide.BUY and price * 100 > prices[0] * 105:
            return i
        if side is OrderSide.SELL and price * 100 < prices[0] * 95:
            return i
    return None


@pytest.mark.parametrize("side", list(OrderSide))
@pytest.mark.parametrize("step_pct", [Decimal("0.3"), Decimal("0.5"), Decimal("0.9"), Decimal(2)])
def test_a_ladder_of_20_orders_is_denied_at_the_first_breach(
    side: OrderSide, step_pct: Decimal
) -> None:
    risk, clock = engine(CONFIG)
    prices = ladder(Decimal("100.00"), step_pct, 20, side)
    breach = first_breach(prices, side)
    assert breach is not None  # every ladder here walks more than 5 %

    answers = []
    for i, price in enumerate(prices):
        clock.advance_to(TS + i * SECOND)  # one order a second: all within the 60 s window
        answers.append(risk.check(spec(side, "0.010", price), BTCUSDT))

    assert all(a is None for a in answers[:breach])
    assert all(a is not None and a[0] is DenyReason.PRICE_DRIFT for a in answers[breach:])


def test_random_ladders_are_denied_at_their_first_breach() -> None:
    rng = random.Random(3)
    for _ in range(300):
        side = rng.choice(list(OrderSide))
        step = Decimal(rng.randint(1, 30)) / 10
        prices = ladder(Decimal(rng.randint(1_000, 100_000)), step, 20, side)
        risk, clock = engine(CONFIG)
        denied = []
        for i, price in enumerate(prices):
            clock.advance_to(TS + i * SECOND)
            if risk.check(spec(side, "0.010", price), BTCUSDT) is not None:
                denied.append(i)
        breach = first_breach(prices, side)
        expected = [] if breach is None else list(range(breach, 20))
        assert denied == expected


def test_a_ladder_walking_slower_than_the_window_is_not_stopped() -> None:
    risk, clock = engine(CONFIG)
    prices = ladder(Decimal("100.00"), Decimal(1), 20, OrderSide.BUY)

    for i, price in enumerate(prices):
        clock.advance_to(TS + i * 20 * SECOND)  # 4 % per minute at most
        assert risk.check(spec(OrderSide.BUY, "0.010", price), BTCUSDT) is None


def test_the_sides_are_judged_apart() -> None:
    risk, _ = engine(CONFIG)

    assert risk.check(spec(OrderSide.BUY, "0.010", "100.00"), BTCUSDT) is None
    assert risk.check(spec(OrderSide.SELL, "0.010", "110.00"), BTCUSDT) is None
    denial = risk.check(spec(OrderSide.BUY, "0.010", "105.01"), BTCUSDT)
    assert denial is not None
    assert denial[0] is DenyReason.PRICE_DRIFT

"""R7: the message throttle: submits, modifies and cancels per rolling second, per node, account
and strategy.

Pass figure: a burst of 1,000 in 1 s at a 100/s limit: at most 100 leave in any rolling 1 s
window, the rest are denied THROTTLED.
"""

from __future__ import annotations

import bisect
import random

from tests.unit.trading.risk_kit import (
    ACCOUNT,
    BTCUSDT,
    SECOND,
    STRATEGY,
    TS,
    engine,
    spec,
)

from tradeforge.domain import DenyReason, Price, Quantity, StrategyId
from tradeforge.trading import Limits, RiskConfig


def busiest_window(times: list[int]) -> int:
    """The most events in any half-open window [t, t + 1 s) (it suffices to start at events)."""
    return max((bisect.bisect_left(times, t + SECOND) - i for i, t in enumerate(times)), default=0)


def test_a_burst_of_1000_in_one_second_lets_at_most_100_leave_in_any_rolling_second() -> None:
    rng = random.Random(7)
    for _ in range(20):
        risk, clock = engine(RiskConfig(max_submits_per_s=100))
        times = sorted(TS + rng.randrange(SECOND) for _ in range(1000))
        left, reasons = [], set()
        for t in times:
            clock.advance_to(t)
            denial = risk.check(spec(qty="0.001"), BTCUSDT)
            if denial is None:
                left.append(t)
            else:
                reasons.add(denial[0])
        assert len(left) == 100  # the first 100 leave, not fewer
        assert busiest_window(left) <= 100
        assert reasons == {DenyReason.THROTTLED}


def test_a_long_random_stream_never_exceeds_the_limit_in_any_rolling_second() -> None:
    rng = random.Random(11)
    risk, clock = engine(RiskConfig(strategies={str(STRATEGY): Limits(max_submits_per_s=50)}))
    times = sorted(TS + rng.randrange(30 * SECOND) for _ in range(6000))
    left = []
    for t in times:
        clock.advance_to(t)
        if risk.check(spec(qty="0.001"), BTCUSDT) is None:
            left.append(t)
    assert busiest_window(left) <= 50
    assert len(left) >= 50 * 29  # the throttle does not starve the stream either


def test_the_account_limit_counts_every_strategy_of_the_account() -> None:
    risk, _ = engine(RiskConfig(accounts={str(ACCOUNT): Limits(max_submits_per_s=3)}))
    sids = [StrategyId(f"s-{i}") for i in range(4)]

    answers = [risk.check(spec(strategy=s), BTCUSDT, account_id=ACCOUNT) for s in sids]

    assert answers[:3] == [None, None, None]
    assert answers[3] is not None
    assert answers[3][0] is DenyReason.THROTTLED


def test_modifies_and_cancels_have_their_own_rates() -> None:
    config = RiskConfig(max_submits_per_s=100, max_modifies_per_s=2, max_cancels_per_s=1)
    risk, clock = engine(config)
    orders = [spec() for _ in range(3)]
    for order in orders:
        assert risk.check(order, BTCUSDT) is None

    modifies = [risk.check_modify(o.client_order_id, price=Price("99.00")) for o in orders]
    cancels = [risk.check_cancel(o.client_order_id) for o in orders]

    assert modifies[:2] == [None, None]
    assert modifies[2] is not None
    assert modifies[2][0] is DenyReason.THROTTLED
    assert cancels[0] is None
    assert cancels[1] is not None
    assert cancels[1][0] is DenyReason.THROTTLED
    clock.advance_to(TS + SECOND)
    assert risk.check_cancel(orders[1].client_order_id) is None
    assert risk.check_modify(orders[2].client_order_id, quantity=Quantity("0.500")) is None

"""R6: the number of open orders per node, account and strategy.

Pass figure: the N+1th order is denied, 100 % (here N = 1..30 at each level).
"""

from __future__ import annotations

import pytest
from tests.unit.trading.risk_kit import ACCOUNT, BTCUSDT, STRATEGY, canceled, engine, fill, spec

from tradeforge.domain import DenyReason, StrategyId
from tradeforge.trading import Limits, RiskConfig, Scope


def config_at(level: str, n: int) -> RiskConfig:
    limits = Limits(max_open_orders=n)
    if level == "global":
        return RiskConfig(max_open_orders=n)
    if level == "account":
        return RiskConfig(accounts={str(ACCOUNT): limits})
    return RiskConfig(strategies={str(STRATEGY): limits})


@pytest.mark.parametrize("level", ["global", "account", "strategy"])
def test_the_n_plus_first_open_order_is_always_denied(level: str) -> None:
    denied_n_plus_1 = 0
    for n in range(1, 31):
        risk, _ = engine(config_at(level, n))
        orders = [spec() for _ in range(n)]
        assert all(risk.check(o, BTCUSDT, account_id=ACCOUNT) is None for o in orders)

        denial = risk.check(spec(), BTCUSDT, account_id=ACCOUNT)

        denied_n_plus_1 += denial is not None and denial[0] is DenyReason.MAX_OPEN_ORDERS
        # an order that ends frees its place: by cancel, or by filling completely
        risk.on_order_event(canceled(orders[0]))
        refill = spec()
        assert risk.check(refill, BTCUSDT, account_id=ACCOUNT) is None
        assert risk.check(spec(), BTCUSDT, account_id=ACCOUNT) is not None
        risk.on_order_event(fill(refill, "1.000"))
        assert risk.check(spec(), BTCUSDT, account_id=ACCOUNT) is None
        assert risk.open_order_count(Scope.account(ACCOUNT)) == n
    assert denied_n_plus_1 == 30


def test_a_strategy_limit_does_not_count_another_strategys_orders() -> None:
    risk, _ = engine(RiskConfig(strategies={str(STRATEGY): Limits(max_open_orders=1)}))
    other = StrategyId("other-1")

    assert risk.check(spec(), BTCUSDT) is None
    assert risk.check(spec(strategy=other), BTCUSDT) is None
    denial = risk.check(spec(), BTCUSDT)

    assert denial == (
        DenyReason.MAX_OPEN_ORDERS,
        f"strategy:{STRATEGY} has 1 open orders (limit 1)",
    )

"""R12: trading states ACTIVE / REDUCING / HALTED (with the kill switch and a scope disabled by
the execution throttle alongside), per node, account and strategy.

Pass figure: the state table, tested exhaustively (state x order kind x scope level).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from tests.unit.trading.risk_kit import (
    ACCOUNT,
    BTC,
    BTCUSDT,
    ETHUSDT,
    STRATEGY,
    engine,
    fill,
    spec,
)

from tradeforge.domain import DenyReason, OrderSide, Price, Quantity
from tradeforge.trading import (
    GLOBAL,
    Limits,
    RiskConfig,
    RiskEngine,
    Scope,
    ScopeKind,
    TradingState,
)
from tradeforge.trading.risk_checks import Denial

LEVELS = {
    "global": GLOBAL,
    "account": Scope.account(ACCOUNT),
    "strategy": Scope.strategy(STRATEGY),
}
KINDS = [
    "new_increasing",
    "new_reducing",
    "modify_adding_increasing",
    "modify_adding_reducing",
    "modify_price_only",
    "cancel",
]
_ = None
R, H, K, X = (
    DenyReason.REDUCE_ONLY_MODE,
    DenyReason.TRADING_HALTED,
    DenyReason.KILL_SWITCH,
    DenyReason.EXECUTION_THROTTLE,
)
# what each kind of order meets in each state (None: it passes)
TABLE: dict[str, list[DenyReason | None]] = {
    #            new inc  new red  mod+ inc  mod+ red  mod px   cancel
    "ACTIVE":   [_,       _,       _,        _,        _,       _],
    "REDUCING": [R,       _,       R,        _,        _,       _],
    "HALTED":   [H,       H,       H,        H,        H,       _],
    "KILL":     [K,       K,       K,        K,        K,       _],
    "DISABLED": [X,       X,       X,        X,        X,       _],
}  # fmt: skip


def put(risk: RiskEngine, scope: Scope, state: str) -> None:
    if state in ("ACTIVE", "REDUCING", "HALTED"):
        risk.states.set(scope, TradingState(state), by="ops", reason="table")
    elif state == "KILL":
        risk.kill_switch.activate(scope, by="ops", reason="table")
    else:  # the execution throttle trips on one fill (in another instrument)
        one = Limits(max_executions=1)
        if scope.kind is ScopeKind.GLOBAL:
            config = RiskConfig(max_executions=1)
        elif scope.kind is ScopeKind.ACCOUNT:
            config = RiskConfig(accounts={scope.id: one})
        else:
            config = RiskConfig(strategies={scope.id: one})
        risk.update_config(config, by="ops", reason="table")
        risk.on_order_event(fill(spec(instrument=ETHUSDT, qty="1.00"), "1.00"))
        assert risk.states.disabled(scope) is not None


def act(risk: RiskEngine, kind: str) -> Denial | None:
    # the scope holds 5 long, with an increasing buy and a reducing sell working
    actions: dict[str, Callable[[], Denial | None]] = {
        "new_increasing": lambda: risk.check(spec(), BTCUSDT, account_id=ACCOUNT),
        "new_reducing": lambda: risk.check(
            spec(OrderSide.SELL, "2.000"), BTCUSDT, account_id=ACCOUNT
        ),
        "modify_adding_increasing": lambda: risk.check_modify(
            BUY.client_order_id, quantity=Quantity("2.000")
        ),
        "modify_adding_reducing": lambda: risk.check_modify(
            SELL.client_order_id, quantity=Quantity("2.000")
        ),
        "modify_price_only": lambda: risk.check_modify(BUY.client_order_id, price=Price("99.00")),
        "cancel": lambda: risk.check_cancel(BUY.client_order_id),
    }
    return actions[kind]()


BUY = spec(cid="BUY-1")
SELL = spec(OrderSide.SELL, cid="SELL-1")


@pytest.mark.parametrize("level", list(LEVELS))
@pytest.mark.parametrize("state", list(TABLE))
@pytest.mark.parametrize("kind", KINDS)
def test_the_state_table(level: str, state: str, kind: str) -> None:
    risk, _ = engine(RiskConfig())
    risk.set_position(STRATEGY, BTC, Decimal(5), account_id=ACCOUNT)
    assert risk.check(BUY, BTCUSDT, account_id=ACCOUNT) is None
    assert risk.check(SELL, BTCUSDT, account_id=ACCOUNT) is None
    put(risk, LEVELS[level], state)

    denial = act(risk, kind)

    expected = TABLE[state][KINDS.index(kind)]
    assert (None if denial is None else denial[0]) is expected
    if denial is not None:
        assert str(LEVELS[level]) in denial[1]


def test_a_state_of_another_scope_does_not_apply() -> None:
    risk, _ = engine(RiskConfig())
    risk.states.set(Scope.strategy("other-1"), TradingState.HALTED, by="ops", reason="x")
    risk.states.set(Scope.account("OTHER-acct"), TradingState.HALTED, by="ops", reason="x")

    assert risk.check(spec(), BTCUSDT, account_id=ACCOUNT) is None


def test_setting_a_state_is_audited_and_applies_from_the_next_order() -> None:
    risk, _ = engine(RiskConfig())
    scope = Scope.strategy(STRATEGY)

    entry = risk.states.set(scope, TradingState.HALTED, by="ops:carol", reason="venue incident")

    assert (entry.action, entry.actor, entry.scope, entry.reason) == (
        "trading_state.set",
        "ops:carol",
        str(scope),
        "venue incident",
    )
    assert entry.details == {"from": "ACTIVE", "to": "HALTED"}
    denial = risk.check(spec(), BTCUSDT)
    assert denial == (
        DenyReason.TRADING_HALTED,
        f"{scope} is HALTED by ops:carol: venue incident",
    )
    assert risk.drain_audit() == [entry]
    assert risk.drain_audit() == []

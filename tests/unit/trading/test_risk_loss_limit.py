"""R10: the daily loss and drawdown limits: a breach switches the scope to REDUCING.

Pass figure: after the breach, 0 exposure-increasing orders accepted; reducing orders pass.
"""

from __future__ import annotations

import random
from decimal import Decimal

from tests.unit.trading.risk_kit import BTC, BTCUSDT, SECOND, STRATEGY, TS, engine, fill, spec

from tradeforge.domain import DenyReason, OrderSide
from tradeforge.trading import Limits, RiskConfig, Scope, TradingState

STRAT = Scope.strategy(STRATEGY)
CONFIG = RiskConfig(
    strategies={str(STRATEGY): Limits(max_daily_loss=Decimal(500), max_drawdown=Decimal(800))}
)


def test_after_a_daily_loss_breach_no_order_that_adds_exposure_is_accepted() -> None:
    risk, _ = engine(CONFIG)
    risk.set_position(STRATEGY, BTC, Decimal(5))
    assert risk.mark_pnl(STRAT, Decimal(100)) is None
    assert risk.mark_pnl(STRAT, Decimal(-400)) is None  # lost exactly 500: at the limit

    entry = risk.mark_pnl(STRAT, Decimal("-400.01"))

    assert entry is not None
    assert (entry.action, entry.actor) == ("loss_limit.breach", "risk")
    assert "daily loss 500.01 above the limit 500" in entry.reason
    assert risk.states.get(STRAT) is TradingState.REDUCING
    rng = random.Random(4)
    position, open_sells = Decimal(5), Decimal(0)
    increasing_accepted = reducing_denied = 0
    for _ in range(2000):
        side = rng.choice(list(OrderSide))
        qty = Decimal(rng.randint(1, 3000)) / 1000
        order = spec(side, qty)
        reduces = side is OrderSide.SELL and open_sells + qty <= position
        denial = risk.check(order, BTCUSDT)
        if denial is None:
            increasing_accepted += not reduces
            open_sells += qty
            if rng.random() < 0.5:  # it fills: the position shrinks
                risk.on_order_event(fill(order, qty))
                position -= qty
                open_sells -= qty
        else:
            assert denial[0] is DenyReason.DAILY_LOSS_LIMIT
            reducing_denied += reduces
    assert increasing_accepted == 0
    assert reducing_denied == 0
    assert position >= 0


def test_a_drawdown_from_the_days_high_breaches_too() -> None:
    risk, _ = engine(CONFIG)
    risk.mark_pnl(STRAT, Decimal(0))
    risk.mark_pnl(STRAT, Decimal(1000))  # up 1000 on the day: no loss

    entry = risk.mark_pnl(STRAT, Decimal("199.99"))  # 800.01 below the high

    assert entry is not None
    assert "drawdown 800.01 above the limit 800" in entry.reason
    denial = risk.check(spec(), BTCUSDT)
    assert denial is not None
    assert denial[0] is DenyReason.DAILY_LOSS_LIMIT


def test_the_day_opens_at_the_last_mark_of_the_day_before() -> None:
    risk, clock = engine(CONFIG)
    risk.mark_pnl(STRAT, Decimal(-450))  # day 1: lost 450
    clock.advance_to(TS + 86_400 * SECOND)

    assert risk.mark_pnl(STRAT, Decimal(-900)) is None  # day 2 opened at -450: lost 450

    assert risk.mark_pnl(STRAT, Decimal(-951)) is not None


def test_the_breach_state_survives_a_restart_and_an_operator_lifts_it() -> None:
    risk, clock = engine(CONFIG)
    risk.mark_pnl(STRAT, Decimal(0))  # the first mark opens the day
    risk.mark_pnl(STRAT, Decimal(-501))
    restarted, _ = engine(CONFIG, clock=clock)
    restarted.import_state(risk.export_state())
    assert restarted.states.get(STRAT) is TradingState.REDUCING

    restarted.states.set(STRAT, TradingState.ACTIVE, by="ops:bob", reason="new day, reviewed")

    assert restarted.check(spec(), BTCUSDT) is None

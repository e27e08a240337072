"""R8: the repeated-execution throttle: after N fills within T the scope is disabled until an
operator re-enables it, and a restart does not re-enable it.

Pass figure: disabled after N fills in T; the state round-trips through its data form.
"""

from __future__ import annotations

import json

from tests.kit.stubs import accepted, submitted
from tests.kit.stubs import filled as filled_event
from tests.kit.stubs import order as order_of
from tests.unit.trading.risk_kit import BTCUSDT, SECOND, STRATEGY, TS, engine, fill, spec

from tradeforge.domain import DenyReason, Order, OrderSpec
from tradeforge.trading import Limits, RiskConfig, Scope

CONFIG = RiskConfig(
    execution_window_ms=10_000,
    strategies={str(STRATEGY): Limits(max_executions=5)},
)
STRAT = Scope.strategy(STRATEGY)


def test_the_nth_fill_within_the_window_disables_the_strategy_until_re_enabled() -> None:
    seen = []
    risk, clock = engine(CONFIG)
    risk = type(risk)(CONFIG, clock=clock, track=True, on_audit=seen.append)
    order = spec(qty="10.000")
    assert risk.check(order, BTCUSDT) is None

    for i in range(4):
        risk.on_order_event(fill(order, "1.000", ts=TS + i * SECOND))
    assert risk.check(spec(), BTCUSDT) is None
    risk.on_order_event(fill(order, "1.000", ts=TS + 4 * SECOND))

    denial = risk.check(spec(), BTCUSDT)
    assert denial is not None
    assert denial[0] is DenyReason.EXECUTION_THROTTLE
    assert "5 executions within 10000 ms" in denial[1]
    assert [e.action for e in seen] == ["execution_throttle.disable"]
    assert (seen[0].actor, seen[0].scope) == ("risk", str(STRAT))
    # cancels still go
    assert risk.check_cancel(order.client_order_id) is None
    # time alone does not re-enable it
    clock.advance_to(TS + 3600 * SECOND)
    assert risk.check(spec(), BTCUSDT) is not None

    entry = risk.states.enable(STRAT, by="ops:alice", reason="reviewed the fills")

    assert risk.check(spec(), BTCUSDT) is None
    assert (entry.action, entry.actor, entry.reason) == (
        "execution_throttle.enable",
        "ops:alice",
        "reviewed the fills",
    )


def test_fills_spread_wider_than_the_window_do_not_trip_it() -> None:
    risk, _ = engine(CONFIG)
    order = spec(qty="100.000")
    assert risk.check(order, BTCUSDT) is None

    for i in range(50):
        risk.on_order_event(fill(order, "1.000", ts=TS + i * 3 * SECOND))  # 4 per 10 s at most

    assert risk.check(spec(), BTCUSDT) is None


def test_a_disabled_strategy_stays_disabled_across_a_restart() -> None:
    risk, clock = engine(CONFIG)
    order = spec(qty="10.000")
    assert risk.check(order, BTCUSDT) is None
    for i in range(5):
        risk.on_order_event(fill(order, "1.000", ts=TS + i))
    saved = json.dumps(risk.export_state())  # as the node stores it

    restarted, _ = engine(CONFIG, clock=clock)
    restarted.import_state(json.loads(saved))

    denial = restarted.check(spec(), BTCUSDT)
    assert denial is not None
    assert denial[0] is DenyReason.EXECUTION_THROTTLE
    assert restarted.states.disabled(STRAT) == risk.states.disabled(STRAT)
    assert restarted.state() == risk.state()


def test_fill_times_survive_a_restart_so_the_window_keeps_counting() -> None:
    risk, clock = engine(CONFIG)
    order = spec(qty="10.000")
    assert risk.check(order, BTCUSDT) is None
    for i in range(4):
        risk.on_order_event(fill(order, "1.000", ts=TS + i))

    restarted, _ = engine(CONFIG, clock=clock)
    restarted.import_state(risk.export_state())
    restarted.adopt_order(_open(order, "6.000"), BTCUSDT)
    restarted.on_order_event(fill(order, "1.000", ts=TS + 5))

    assert restarted.check(spec(), BTCUSDT) is not None


def _open(order_spec: OrderSpec, filled: str) -> Order:
    """The order as the journal rebuilds it after a restart: accepted, partly filled."""
    return order_of(
        order_spec,
        submitted(order_spec),
        accepted(order_spec),
        filled_event(order_spec, filled, "100.00", trade_id="T-x"),
    )

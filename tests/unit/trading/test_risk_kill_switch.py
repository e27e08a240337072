"""R13: the kill switch (node, account, strategy): blocks every new order from its activation
time, lists the scope's open orders for the node to cancel, survives a restart, is audited.

Pass figures (the part that is risk's): 0 orders accepted after the activation timestamp; the
open orders of the scope listed for cancel (500 on 2 venues); the state round-trips.
"""

from __future__ import annotations

import json
import random
from decimal import Decimal

from tests.unit.trading.risk_kit import (
    ACCOUNT,
    BTC,
    BTCUSDT,
    ETHUSDT,
    MS,
    STRATEGY,
    TS,
    canceled,
    engine,
    eth,
    spec,
)

from tradeforge.bus import ReplayClock
from tradeforge.domain import (
    AccountId,
    DenyReason,
    Order,
    OrderInitialized,
    OrderSide,
    OrderSpec,
    StrategyId,
)
from tradeforge.trading import GLOBAL, RiskConfig, RiskEngine, Scope

ETH_PAIR = eth()
OTHER_ACCOUNT = AccountId("KRAKEN-main")
STRATEGIES = [StrategyId(f"s-{i}") for i in range(5)]
Placed = list[tuple[OrderSpec, AccountId]]


def place_500(risk: RiskEngine, rng: random.Random) -> Placed:
    """500 open orders from 5 strategies on 2 venues (one account each)."""
    placed: Placed = []
    while len(placed) < 500:
        sid = rng.choice(STRATEGIES)
        if rng.random() < 0.5:
            order, instrument, account = spec(qty="0.010", strategy=sid), BTCUSDT, ACCOUNT
        else:
            order = spec(qty="0.10", strategy=sid, instrument=ETHUSDT)
            instrument, account = ETH_PAIR, OTHER_ACCOUNT
        assert risk.check(order, instrument, account_id=account) is None
        placed.append((order, account))
    return placed


def random_order(rng: random.Random) -> tuple[OrderSpec, AccountId]:
    sid = rng.choice(STRATEGIES)
    side = rng.choice(list(OrderSide))
    if rng.random() < 0.5:
        return spec(side, "0.010", strategy=sid), ACCOUNT
    return spec(side, "0.10", strategy=sid, instrument=ETHUSDT), OTHER_ACCOUNT


def check(risk: RiskEngine, order: OrderSpec, account: AccountId) -> object:
    instrument = BTCUSDT if order.instrument_id == BTC else ETH_PAIR
    return risk.check(order, instrument, account_id=account)


def test_the_global_switch_lists_every_open_order_and_blocks_every_later_one() -> None:
    rng = random.Random(13)
    risk, clock = engine(RiskConfig())
    placed = place_500(risk, rng)
    for order, _ in placed[:40]:  # some are gone already
        risk.on_order_event(canceled(order))
    clock.advance_to(TS + 5 * MS)

    activation = risk.kill_switch.activate(by="ops:dana", reason="runaway algo")

    assert sorted(str(r.client_order_id) for r in activation.to_cancel) == sorted(
        str(o.client_order_id) for o, _ in placed[40:]
    )
    assert {r.instrument_id.venue.value for r in activation.to_cancel} == {"BINANCE", "KRAKEN"}
    assert activation.activation.ts_ns == TS + 5 * MS
    assert (activation.audit.action, activation.audit.actor, activation.audit.reason) == (
        "kill_switch.activate",
        "ops:dana",
        "runaway algo",
    )
    assert activation.audit.details["open_orders"] == "460"
    accepted_after = 0
    for i in range(2000):
        clock.advance_to(TS + 5 * MS + i)  # from the activation time itself on
        order, account = random_order(rng)
        denial = check(risk, order, account)
        accepted_after += denial is None
        assert denial is None or denial[0] is DenyReason.KILL_SWITCH  # type: ignore[index]
    assert accepted_after == 0
    # cancels still go out
    assert risk.check_cancel(placed[100][0].client_order_id) is None


def test_an_account_or_strategy_switch_lists_and_blocks_only_its_scope() -> None:
    rng = random.Random(14)
    risk, _ = engine(RiskConfig())
    placed = place_500(risk, rng)

    by_account = risk.kill_switch.activate(Scope.account(OTHER_ACCOUNT), by="ops", reason="x")
    by_strategy = risk.kill_switch.activate(Scope.strategy(STRATEGIES[0]), by="ops", reason="y")

    assert {str(r.client_order_id) for r in by_account.to_cancel} == {
        str(o.client_order_id) for o, a in placed if a == OTHER_ACCOUNT
    }
    assert {str(r.client_order_id) for r in by_strategy.to_cancel} == {
        str(o.client_order_id) for o, _ in placed if o.strategy_id == STRATEGIES[0]
    }
    assert check(risk, spec(qty="0.10", strategy=STRATEGIES[1], instrument=ETHUSDT), OTHER_ACCOUNT)
    assert check(risk, spec(qty="0.010", strategy=STRATEGIES[0]), ACCOUNT)
    assert check(risk, spec(qty="0.010", strategy=STRATEGIES[1]), ACCOUNT) is None


def test_the_switch_survives_a_restart_and_lists_the_orders_the_journal_brings_back() -> None:
    rng = random.Random(15)
    risk, clock = engine(RiskConfig())
    placed = place_500(risk, rng)
    risk.kill_switch.activate(GLOBAL, by="ops", reason="restart drill")
    saved = json.dumps(risk.export_state())

    restarted = RiskEngine(RiskConfig(), clock=ReplayClock(clock.timestamp_ns()), track=True)
    restarted.import_state(json.loads(saved))
    for order, account in placed[:10]:  # what the journal says is still open
        instrument = BTCUSDT if order.instrument_id == BTC else ETH_PAIR
        restarted.adopt_order(Order(OrderInitialized.of(order, TS)), instrument, account_id=account)

    assert restarted.kill_switch.active(GLOBAL) == risk.kill_switch.active(GLOBAL)
    assert len(restarted.kill_switch.open_orders()) == 10
    order, account = random_order(rng)
    denial = check(restarted, order, account)
    assert denial is not None
    assert denial[0] is DenyReason.KILL_SWITCH  # type: ignore[index]


def test_releasing_lets_orders_through_again_and_is_audited() -> None:
    risk, _ = engine(RiskConfig())
    risk.kill_switch.activate(by="ops", reason="drill")
    assert risk.check(spec(), BTCUSDT) is not None

    entry = risk.kill_switch.release(by="ops:erin", reason="drill over")

    assert risk.check(spec(), BTCUSDT) is None
    assert (entry.action, entry.actor, entry.details) == (
        "kill_switch.release",
        "ops:erin",
        {"was_active": "True"},
    )


def test_when_configured_the_switch_lets_exposure_reducing_orders_through() -> None:
    risk, _ = engine(RiskConfig(kill_switch_allows_reducing=True))
    risk.set_position(STRATEGY, BTC, Decimal(2))
    risk.kill_switch.activate(by="ops", reason="flatten only")

    assert risk.check(spec(OrderSide.SELL, "2.000"), BTCUSDT) is None
    assert risk.check(spec(OrderSide.SELL, "0.001"), BTCUSDT) is not None
    assert risk.check(spec(OrderSide.BUY, "0.001"), BTCUSDT) is not None


def test_the_configured_halt_blocks_everything_from_the_start() -> None:
    risk, _ = engine(RiskConfig(halted=True), track=None)

    assert risk.check(spec(), BTCUSDT) == (
        DenyReason.KILL_SWITCH,
        "trading is halted by configuration (risk.halted)",
    )

"""R4: the worst-case position per instrument and scope, counting open orders (RTS 6 15(2):
an order counts from the moment it passes).

Pass figure: 50 submits racing (checked one after another, each passing order counted at once,
fills and cancels landing in between), 1,000 randomized runs: 0 runs where the worst-case
exposure of any scope exceeds its limit.
"""

from __future__ import annotations

import random
from decimal import Decimal

from tests.unit.trading.risk_kit import ACCOUNT, BTC, BTCUSDT, canceled, engine, fill, spec

from tradeforge.domain import DenyReason, OrderSide, OrderSpec, StrategyId
from tradeforge.trading import Limits, RiskConfig, Scope

A, B = StrategyId("alpha-1"), StrategyId("beta-1")


def run_once(rng: random.Random) -> tuple[bool, int]:
    """One run; (no scope ever exceeded its limit, orders accepted)."""
    strategy_limit = Decimal(rng.randint(1, 20))
    account_limit = Decimal(rng.randint(2, 30))
    config = RiskConfig(
        accounts={str(ACCOUNT): Limits(max_position=account_limit)},
        strategies={
            str(A): Limits(instruments={str(BTC): Limits(max_position=strategy_limit)}),
            str(B): Limits(max_position=strategy_limit),
        },
    )
    risk, _ = engine(config)
    position = {A: Decimal(0), B: Decimal(0)}
    start = {s: Decimal(rng.randint(-1, 1)) for s in (A, B)}  # within every limit
    for sid, qty in start.items():
        risk.set_position(sid, BTC, qty, account_id=ACCOUNT)
        position[sid] = qty
    open_orders: dict[str, tuple[OrderSpec, Decimal]] = {}
    accepted = 0
    ok = True
    for _ in range(50):
        sid = rng.choice((A, B))
        side = rng.choice(list(OrderSide))
        qty = Decimal(rng.randint(1, 6))
        order = spec(side, f"{qty}.000", "100.00", strategy=sid)
        if risk.check(order, BTCUSDT, account_id=ACCOUNT) is None:
            accepted += 1
            open_orders[str(order.client_order_id)] = (order, qty)
        # some of the open orders fill (partly) or are cancelled before the next submit
        for key in list(open_orders):
            if rng.random() < 0.15:
                order, leaves = open_orders[key]
                part = Decimal(rng.randint(1, int(leaves)))
                risk.on_order_event(fill(order, f"{part}.000"))
                signed = part if order.side is OrderSide.BUY else -part
                position[order.strategy_id] += signed
                if part == leaves:
                    del open_orders[key]
                else:
                    open_orders[key] = (order, leaves - part)
            elif rng.random() < 0.05:
                risk.on_order_event(canceled(open_orders.pop(key)[0]))
        ok = ok and _within(position, open_orders, strategy_limit, account_limit)
    return ok, accepted


def _within(
    position: dict[StrategyId, Decimal],
    open_orders: dict[str, tuple[OrderSpec, Decimal]],
    strategy_limit: Decimal,
    account_limit: Decimal,
) -> bool:
    def worst(sids: tuple[StrategyId, ...]) -> tuple[Decimal, Decimal]:
        pos = sum((position[s] for s in sids), Decimal(0))
        buys = sum(
            (q for o, q in open_orders.values() if o.strategy_id in sids and o.is_buy),
            Decimal(0),
        )
        sells = sum(
            (q for o, q in open_orders.values() if o.strategy_id in sids and not o.is_buy),
            Decimal(0),
        )
        return pos + buys, pos - sells

    for sids, limit in (((A,), strategy_limit), ((B,), strategy_limit), ((A, B), account_limit)):
        long, short = worst(sids)
        if long > limit or short < -limit:
            return False
    return True


def test_50_racing_submits_never_take_any_scope_beyond_its_limit_in_1000_runs() -> None:
    rng = random.Random(20240501)
    failures = 0
    accepted = 0
    for _ in range(1000):
        ok, n = run_once(rng)
        failures += not ok
        accepted += n
    assert failures == 0
    assert accepted > 10_000  # the limits bind, but plenty of orders still pass


def test_open_orders_count_toward_the_limit_until_they_fill_or_die() -> None:
    risk, _ = engine(RiskConfig(max_position=Decimal(3)))
    first, second = spec(qty="2.000"), spec(qty="1.000")
    assert risk.check(first, BTCUSDT) is None
    assert risk.check(second, BTCUSDT) is None

    denial = risk.check(spec(qty="0.001"), BTCUSDT)
    assert denial is not None
    assert denial[0] is DenyReason.MAX_POSITION
    assert "would be 3.001 (position + open buys), above the limit 3" in denial[1]
    # a fill moves the quantity from open to position: still 3 worst case
    risk.on_order_event(fill(first, "2.000"))
    assert risk.check(spec(qty="0.001"), BTCUSDT) is not None
    # a cancel releases it
    risk.on_order_event(canceled(second))
    assert risk.check(spec(qty="1.000"), BTCUSDT) is None
    # selling is judged on the short side: from the position of +2 down to -3 is allowed
    assert risk.check(spec(OrderSide.SELL, "5.000"), BTCUSDT) is None
    assert risk.check(spec(OrderSide.SELL, "0.001"), BTCUSDT) is not None
    exposure = risk.exposure(Scope.strategy(first.strategy_id), BTC)
    assert (exposure.position, exposure.open_buy, exposure.open_sell) == (2, 1, 5)

"""R9: duplicate orders (same strategy, instrument, side, type, quantity and price within X ms)
and duplicate client order ids.

Pass figure: 100 % of duplicates denied.
"""

from __future__ import annotations

import random

from tests.unit.trading.risk_kit import BTCUSDT, MS, TS, engine, spec

from tradeforge.domain import DenyReason, OrderSide
from tradeforge.trading import RiskConfig

CONFIG = RiskConfig(duplicate_window_ms=500)


def test_every_duplicate_within_the_window_is_denied_and_none_outside_it() -> None:
    rng = random.Random(9)
    risk, clock = engine(CONFIG)
    last_accepted: dict[tuple[OrderSide, str, str | None], int] = {}
    now = TS
    duplicates = denied_duplicates = false_denials = 0
    for _ in range(20_000):
        now += rng.randrange(0, 200 * MS)
        clock.advance_to(now)
        side = rng.choice(list(OrderSide))
        qty = rng.choice(["0.001", "0.002", "0.003"])
        price = rng.choice(["100.00", "100.01", None])
        key = (side, qty, price)
        previous = last_accepted.get(key)
        duplicate = previous is not None and now - previous < 500 * MS

        denial = risk.check(spec(side, qty, price), BTCUSDT)

        if duplicate:
            duplicates += 1
            denied_duplicates += denial is not None and denial[0] is DenyReason.DUPLICATE_ORDER
        elif denial is not None:
            false_denials += 1
        if denial is None:
            last_accepted[key] = now
    assert duplicates > 1000
    assert denied_duplicates == duplicates
    assert false_denials == 0


def test_a_confirmed_duplicate_goes_through() -> None:
    risk, _ = engine(CONFIG)
    assert risk.check(spec(), BTCUSDT) is None

    denial = risk.check(spec(), BTCUSDT)
    confirmed = risk.check(spec(tags=("confirmed",)), BTCUSDT)

    assert denial is not None
    assert denial[0] is DenyReason.DUPLICATE_ORDER
    assert confirmed is None


def test_a_client_order_id_is_never_accepted_twice() -> None:
    risk, clock = engine(RiskConfig(max_open_orders=1000))
    assert risk.check(spec(cid="C-1"), BTCUSDT) is None
    clock.advance_to(TS + 3600 * 1000 * MS)

    denial = risk.check(spec(OrderSide.SELL, "2.000", "99.00", cid="C-1"), BTCUSDT)

    assert denial == (DenyReason.DUPLICATE_CLIENT_ORDER_ID, "client order id C-1 was already used")

"""R16: the fat-finger soft block: k x the typical size, or x % off the reference, needs an
explicit confirmation (the ``confirmed`` tag on the order).

Pass figure: 0 soft-blocked orders pass without the confirmation.
"""

from __future__ import annotations

import random
from decimal import Decimal

from tests.unit.trading.risk_kit import BTC, BTCUSDT, engine, spec

from tradeforge.domain import DenyReason, OrderSide, Price
from tradeforge.trading import Limits, RiskConfig

CONFIG = RiskConfig(
    fat_finger_multiple=Decimal(10),
    fat_finger_pct=Decimal(3),
    instruments={str(BTC): Limits(typical_quantity=Decimal("0.5"))},
)


def test_no_soft_blocked_order_passes_without_the_confirmation_and_each_passes_with_it() -> None:
    rng = random.Random(16)
    risk, _ = engine(CONFIG)
    risk.set_reference(BTC, Price("100.00"))
    blocked = passed_unconfirmed = confirmed_refused = 0
    for _ in range(5000):
        qty = Decimal(rng.randint(1, 10_000)) / 1000
        price = Decimal(rng.randint(9_000, 11_000)) / 100
        side = rng.choice(list(OrderSide))
        soft = qty > 5 or abs(price - 100) * 100 > 3 * 100
        confirm = rng.random() < 0.5
        tags = ("confirmed",) if confirm else ()

        denial = risk.check(spec(side, qty, price, tags=tags), BTCUSDT)

        if soft and not confirm:
            blocked += 1
            passed_unconfirmed += denial is None
            assert denial is None or denial[0] is DenyReason.FAT_FINGER
        elif denial is not None:
            confirmed_refused += 1
    assert blocked > 1000
    assert passed_unconfirmed == 0
    assert confirmed_refused == 0


def test_without_a_configured_size_the_typical_size_is_learned_from_accepted_orders() -> None:
    risk, _ = engine(RiskConfig(fat_finger_multiple=Decimal(5), fat_finger_samples=10))
    for _ in range(9):  # too few to judge: anything goes
        assert risk.check(spec(qty="1.000"), BTCUSDT) is None
    assert risk.check(spec(qty="1.000"), BTCUSDT) is None

    assert risk.check(spec(qty="5.000"), BTCUSDT) is None  # mean 1.0: 5x is the edge
    denial = risk.check(spec(qty="8.000"), BTCUSDT)  # mean now 1.4: 7.0 at most
    assert denial is not None
    assert denial[0] is DenyReason.FAT_FINGER
    assert "resend with the tag 'confirmed'" in denial[1]


def test_hard_limits_still_apply_to_a_confirmed_order() -> None:
    config = RiskConfig(max_order_quantity=Decimal(1), fat_finger_multiple=Decimal(2))
    risk, _ = engine(config)

    denial = risk.check(spec(qty="2.000", tags=("confirmed",)), BTCUSDT)

    assert denial is not None
    assert denial[0] is DenyReason.MAX_ORDER_QUANTITY

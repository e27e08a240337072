"""Modifies: added quantity counts at once (position, funds) until the venue answers; a
rejected modify gives it back, an applied one sets what is counted."""

from __future__ import annotations

from decimal import Decimal

from tests.unit.trading.risk_kit import BTC, BTCUSDT, STRATEGY, TS, USDT, engine, spec, updated

from tradeforge.domain import DenyReason, Money, OrderModifyRejected, Price, Quantity, RejectReason
from tradeforge.trading import RiskConfig, Scope


def test_added_quantity_counts_until_the_venue_rejects_the_modify() -> None:
    risk, _ = engine(RiskConfig(max_position=Decimal(5), check_free_balance=True))
    risk.set_balance(None, Money("10000", USDT))
    order = spec(qty="2.000")
    assert risk.check(order, BTCUSDT) is None

    assert risk.check_modify(order.client_order_id, quantity=Quantity("4.000")) is None

    exposure = risk.exposure(Scope.strategy(STRATEGY), BTC)
    assert exposure.open_buy == 4
    assert risk.available(None, USDT) == Decimal(10000) - Decimal("400.16")
    denial = risk.check(spec(qty="1.001"), BTCUSDT)
    assert denial is not None
    assert denial[0] is DenyReason.MAX_POSITION
    risk.on_order_event(
        OrderModifyRejected(
            **order.ids(), reason=RejectReason.OTHER, message="no", ts_event=TS, ts_init=TS
        )
    )
    assert risk.exposure(Scope.strategy(STRATEGY), BTC).open_buy == 2
    assert risk.available(None, USDT) == Decimal(10000) - Decimal("200.08")


def test_an_applied_modify_sets_the_counted_quantity_and_price() -> None:
    risk, _ = engine(RiskConfig(check_free_balance=True))
    risk.set_balance(None, Money("10000", USDT))
    order = spec(qty="2.000")
    assert risk.check(order, BTCUSDT) is None
    assert risk.check_modify(order.client_order_id, price=Price("50.00")) is None

    risk.on_order_event(updated(order, "1.000", "50.00"))

    assert risk.exposure(Scope.strategy(STRATEGY), BTC).open_buy == 1
    assert risk.available(None, USDT) == Decimal(10000) - Decimal("50.02")


def test_a_modify_beyond_the_limits_is_refused_and_counts_nothing() -> None:
    risk, _ = engine(RiskConfig(max_order_quantity=Decimal(3), max_position=Decimal(4)))
    order = spec(qty="2.000")
    assert risk.check(order, BTCUSDT) is None

    too_big = risk.check_modify(order.client_order_id, quantity=Quantity("3.001"))
    unknown = risk.check_modify(spec().client_order_id, quantity=Quantity("1.000"))

    assert too_big == (DenyReason.MAX_ORDER_QUANTITY, "quantity 3.001 exceeds the limit 3")
    assert unknown is not None
    assert unknown[0] is DenyReason.INVALID_ORDER
    assert risk.exposure(Scope.strategy(STRATEGY), BTC).open_buy == 2

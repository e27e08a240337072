"""R17: every check behaves the same in backtest, paper and live: time comes only from the
clock, so the same intents at the same times give the same answers.

Pass figure: the same 10,000 intents give the same deny set through a ReplayClock-driven run
(twice) and through a LiveClock-like clock (time read from a wall the test moves).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from tests.unit.trading.risk_kit import (
    ACCOUNT,
    BTC,
    BTCUSDT,
    MS,
    TS,
    USDT,
    canceled,
    fill,
    spec,
)

from tradeforge.bus import Clock, ReplayClock, TimeEventCallback, ns_to_utc
from tradeforge.domain import (
    AccountBalance,
    AccountStateChanged,
    AccountType,
    Money,
    OrderSide,
    OrderSpec,
    Price,
    StrategyId,
)
from tradeforge.trading import Limits, RiskConfig, RiskEngine, Scope

BTC_CCY = BTCUSDT.base_currency
CONFIG = RiskConfig(
    max_order_quantity=Decimal(10),
    max_order_notional=Decimal(450),
    collar_pct=Decimal(2),
    collar_passive_pct=Decimal(10),
    reference_max_age_ms=2_000,
    drift_pct=Decimal(4),
    drift_window_ms=10_000,
    max_position=Decimal(12),
    max_open_orders=60,
    max_submits_per_s=8,
    max_cancels_per_s=10,
    duplicate_window_ms=300,
    fat_finger_multiple=Decimal(3),
    check_free_balance=True,
    execution_window_ms=5_000,
    strategies={
        "s-0": Limits(max_daily_loss=Decimal(200)),
        "s-1": Limits(max_executions=6),
    },
)


class WallClock:
    """A LiveClock-like clock: it reads the time from a wall (here one the test moves), as
    ``LiveClock`` reads ``time.time_ns``; it has no control over time itself."""

    def __init__(self, wall: Callable[[], int]) -> None:
        self._wall = wall

    def timestamp_ns(self) -> int:
        return self._wall()

    def utc_now(self) -> datetime:
        return ns_to_utc(self._wall())

    def set_timer(
        self,
        name: str,
        interval_ns: int,
        callback: TimeEventCallback,
        *,
        start_ns: int | None = None,
        stop_ns: int | None = None,
    ) -> None:
        raise NotImplementedError

    def set_time_alert(self, name: str, alert_ns: int, callback: TimeEventCallback) -> None:
        raise NotImplementedError

    def cancel_timer(self, name: str) -> None:
        raise NotImplementedError

    def timer_names(self) -> list[str]:
        return []


def intents(seed: int, n: int) -> list[tuple[int, str, object]]:
    """``n`` timed intents: submits, cancels, fills, quotes, PnL marks, balance reports."""
    rng = random.Random(seed)
    now = TS
    out: list[tuple[int, str, object]] = []
    open_specs: list[OrderSpec] = []
    mid = Decimal(100)
    pnl = Decimal(0)
    for i in range(n):
        now += rng.randrange(0, 50 * MS)
        roll = rng.random()
        if roll < 0.08:
            mid = max(Decimal(50), mid + Decimal(rng.randint(-100, 100)) / 100)
            out.append((now, "reference", mid))
        elif roll < 0.7 or not open_specs:
            side = rng.choice(list(OrderSide))
            qty = rng.choice(["0.500", "1.000", "1.500", "4.000", "6.000", "12.000"])
            price = (
                None if rng.random() < 0.1 else f"{mid * Decimal(rng.randint(96, 104)) / 100:.2f}"
            )
            order = spec(
                side, qty, price, cid=f"P-{seed}-{i}", strategy=StrategyId(f"s-{rng.randint(0, 2)}")
            )
            open_specs.append(order)
            out.append((now, "submit", order))
        elif roll < 0.85:
            order = open_specs.pop(rng.randrange(len(open_specs)))
            out.append((now, "cancel", order))
        elif roll < 0.97:
            order = open_specs.pop(rng.randrange(len(open_specs)))
            out.append((now, "fill", order))
        else:
            pnl += rng.randint(-40, 30)
            out.append((now, "pnl", pnl))
    return out


def replay(
    timed: list[tuple[int, str, object]], clock: Clock, move: Callable[[int], None]
) -> list[tuple[str, str]]:
    """Feed the intents; the deny set as (client order id, reason)."""
    risk = RiskEngine(CONFIG, clock=clock, track=True)
    risk.on_account_state(
        AccountStateChanged(
            account_id=ACCOUNT,
            account_type=AccountType.CASH,
            base_currency=None,
            balances=(
                AccountBalance.of(Money(2_000, USDT), Money(0, USDT)),
                AccountBalance.of(Money(8, BTC_CCY), Money(0, BTC_CCY)),
            ),
            ts_event=TS,
            ts_init=TS,
        )
    )
    denied: list[tuple[str, str]] = []
    for ts, kind, payload in timed:
        move(ts)
        if kind == "reference":
            assert isinstance(payload, Decimal)
            risk.set_reference(BTC, Price(f"{payload:.2f}"))
        elif kind == "submit":
            assert isinstance(payload, OrderSpec)
            denial = risk.check(payload, BTCUSDT, account_id=ACCOUNT)
            if denial is not None:
                denied.append((str(payload.client_order_id), denial[0].value))
        elif kind == "cancel":
            assert isinstance(payload, OrderSpec)
            denial = risk.check_cancel(payload.client_order_id)
            if denial is None:
                risk.on_order_event(canceled(payload, ts=ts))
            else:
                denied.append((f"cancel {payload.client_order_id}", denial[0].value))
        elif kind == "fill":
            assert isinstance(payload, OrderSpec)
            price = payload.price.as_decimal() if payload.price is not None else Decimal(100)
            risk.on_order_event(fill(payload, payload.quantity.as_decimal(), f"{price:.2f}", ts=ts))
        else:
            assert isinstance(payload, Decimal)
            risk.mark_pnl(Scope.strategy("s-0"), payload)
    return denied


def test_the_same_10000_intents_give_the_same_deny_set_on_every_clock() -> None:
    timed = intents(17, 10_000)

    replay_clock = ReplayClock(TS)
    first = replay(timed, replay_clock, replay_clock.advance_to)
    second_clock = ReplayClock(TS)
    second = replay(timed, second_clock, second_clock.advance_to)
    wall = [TS]
    live = replay(timed, WallClock(lambda: wall[0]), lambda ts: wall.__setitem__(0, ts))

    assert first == second == live
    reasons = {reason for _, reason in first}
    assert len(first) > 1000
    assert reasons == {
        "DAILY_LOSS_LIMIT",
        "DUPLICATE_ORDER",
        "EXECUTION_THROTTLE",
        "FAT_FINGER",
        "INSUFFICIENT_FUNDS",
        "MAX_OPEN_ORDERS",
        "MAX_ORDER_NOTIONAL",
        "MAX_ORDER_QUANTITY",
        "MAX_POSITION",
        "PRICE_COLLAR",
        "PRICE_DRIFT",
        "REFERENCE_STALE",
        "THROTTLED",
    }  # every control took part

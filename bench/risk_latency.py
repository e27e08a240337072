"""RISK-LAT: what the whole chain of pre-trade checks costs per order, in process.

Every control is on, at all three levels (node, account, strategy) where it has one, with
per-instrument values: size and notional, collar with a stale-reference limit, collar over a
period, fat finger, duplicates, message throttle, open orders, worst-case position, capital
budget, free balance, execution throttle and daily loss. The limits are set so that most orders
pass: a refusal stops the chain early and would flatter the figure. Between checks, orders fill
or are cancelled (those events are not timed) so that the open-order book stays realistic.

Run:  .venv/bin/python bench/risk_latency.py [--checks 100000] [--seed 1]
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import statistics
import sys
from decimal import Decimal
from time import perf_counter_ns as perf_counter
from time import thread_time_ns as thread_time

from tradeforge.bus import ReplayClock
from tradeforge.domain import (
    KNOWN_CURRENCIES,
    AccountBalance,
    AccountId,
    AccountStateChanged,
    AccountType,
    ClientOrderId,
    CurrencyPair,
    InstrumentId,
    LiquiditySide,
    Money,
    OrderCanceled,
    OrderFilled,
    OrderSide,
    OrderSpec,
    OrderType,
    Price,
    Quantity,
    StrategyId,
    TradeId,
    VenueOrderId,
)
from tradeforge.trading import Limits, RiskConfig, RiskEngine, Scope

USDT, BTC = KNOWN_CURRENCIES["USDT"], KNOWN_CURRENCIES["BTC"]
IID = InstrumentId.from_str("BTC/USDT.BINANCE")
ACCOUNT = AccountId("BINANCE-main")
STRATEGY = StrategyId("bench-1")
START = 1_700_000_000_000_000_000
STEP_NS = 1_000_000  # one order per millisecond of replay time

INSTRUMENT = CurrencyPair(
    id=IID,
    raw_symbol="BTCUSDT",
    base_currency=BTC,
    quote_currency=USDT,
    settlement_currency=USDT,
    tick_size=Price("0.01"),
    lot_size=Quantity("0.001"),
    min_quantity=Quantity("0.001"),
    taker_fee=Decimal("0.0004"),
)


def config() -> RiskConfig:
    """Every control on, loose enough that most orders pass the whole chain."""
    scope = Limits(
        max_order_quantity=Decimal(5),
        max_order_notional=Decimal(500_000),
        collar_pct=Decimal(5),
        collar_passive_pct=Decimal(20),
        drift_pct=Decimal(10),
        fat_finger_multiple=Decimal(50),
        fat_finger_pct=Decimal(8),
        max_position=Decimal(1_000),
        max_open_orders=500,
        capital_budget=Decimal(10**9),
        max_submits_per_s=5_000,
        max_modifies_per_s=5_000,
        max_cancels_per_s=5_000,
        max_executions=10**6,
        max_daily_loss=Decimal(10**9),
        max_drawdown=Decimal(10**9),
        restricted_instruments=frozenset({"DOGE/USDT.BINANCE"}),
        instruments={str(IID): Limits(max_position=Decimal(900), typical_quantity=Decimal(1))},
    )
    return RiskConfig(
        **{f: getattr(scope, f) for f in scope.__struct_fields__},
        accounts={str(ACCOUNT): scope},
        strategies={str(STRATEGY): scope},
        reference_max_age_ms=5_000,
        drift_window_ms=60_000,
        duplicate_window_ms=50,
        execution_window_ms=60_000,
        check_free_balance=True,
    )


def engine(clock: ReplayClock) -> RiskEngine:
    """The engine under test, funded, with a PnL track open."""
    risk = RiskEngine(config(), clock=clock, track=True)
    risk.on_account_state(
        AccountStateChanged(
            account_id=ACCOUNT,
            account_type=AccountType.CASH,
            base_currency=None,
            balances=(
                AccountBalance.of(Money(10**12, USDT), Money(0, USDT)),
                AccountBalance.of(Money(10**6, BTC), Money(0, BTC)),
            ),
            ts_event=START,
            ts_init=START,
        )
    )
    risk.mark_pnl(Scope.strategy(STRATEGY), Decimal(0))
    return risk


def orders(rng: random.Random, n: int) -> list[tuple[OrderSpec, Price]]:
    """``n`` limit orders within 0.5 % of a slowly walking mid, each with that mid."""
    out = []
    mid = 30_000.0
    for i in range(n):
        mid *= 1 + rng.uniform(-0.0002, 0.0002)
        spec = OrderSpec(
            client_order_id=ClientOrderId(f"B-{i}"),
            strategy_id=STRATEGY,
            instrument_id=IID,
            side=OrderSide.BUY if rng.random() < 0.5 else OrderSide.SELL,
            order_type=OrderType.LIMIT,
            quantity=Quantity(f"{rng.randint(1, 2000) / 1000:.3f}"),
            price=Price(f"{mid * rng.uniform(0.995, 1.005):.2f}"),
        )
        out.append((spec, Price(f"{mid:.2f}")))
    return out


class Samples:
    """Per-check wall-clock and thread-CPU times, and what the checks answered."""

    def __init__(self) -> None:
        self.wall: list[int] = []  # perf_counter: includes time preempted by other processes
        self.cpu: list[int] = []  # this thread's CPU time: the chain's own cost
        self.accepted = 0
        self.refused: dict[str, int] = {}


def measure(
    risk: RiskEngine, clock: ReplayClock, rng: random.Random, *, checks: int, warmup: int
) -> Samples:
    """Check every order (specs are made before: the check is timed, not making an order)."""
    prepared = orders(rng, warmup + checks)
    samples = Samples()
    open_specs: list[OrderSpec] = []
    gc.collect()
    gc.freeze()  # the prepared specs are not what is measured: keep them out of GC scans
    for i, (spec, mid_price) in enumerate(prepared):
        now = START + (i + 1) * STEP_NS
        clock.advance_to(now)
        risk.set_reference(IID, mid_price, now)
        c0 = thread_time()
        t0 = perf_counter()
        denial = risk.check(spec, INSTRUMENT, account_id=ACCOUNT)
        elapsed = perf_counter() - t0
        used = thread_time() - c0
        if i >= warmup:
            samples.wall.append(elapsed)
            samples.cpu.append(used)
            if denial is None:
                samples.accepted += 1
            else:
                key = denial[0].value
                samples.refused[key] = samples.refused.get(key, 0) + 1
        if denial is None:
            open_specs.append(spec)
        while len(open_specs) > 50:  # the older orders fill or are cancelled
            done = open_specs.pop(rng.randrange(len(open_specs) // 2))
            risk.on_order_event(_end(done, rng, now))
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--checks", type=int, default=100_000)
    parser.add_argument("--warmup", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    clock = ReplayClock(START)
    rng = random.Random(args.seed)
    samples = measure(engine(clock), clock, rng, checks=args.checks, warmup=args.warmup)

    n = len(samples.wall)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"RISK-LAT: {n:,} pre-trade checks, every control on (three levels, per instrument)")
    print(
        f"python {platform.python_version()} on {platform.machine()} ({platform.system()}), "
        f"{os.cpu_count()} CPUs, load average {load:.2f}"
    )
    print("wall clock  " + _summary(samples.wall))
    print("thread CPU  " + _summary(samples.cpu))
    print(f"accepted {samples.accepted / n:.1%}; refused: {samples.refused or 'none'}")
    p99_cpu = sorted(samples.cpu)[min(n - 1, int(0.99 * n))] / 1000
    p99_wall = sorted(samples.wall)[min(n - 1, int(0.99 * n))] / 1000
    print(
        f"target p99 < 100 us: CPU {'met' if p99_cpu < 100 else 'NOT met'} ({p99_cpu:.1f} us), "
        f"wall clock {'met' if p99_wall < 100 else 'NOT met'} ({p99_wall:.1f} us)"
    )
    return 0


def _summary(samples: list[int]) -> str:
    ordered = sorted(samples)
    n = len(ordered)

    def pct(p: float) -> str:
        return f"{ordered[min(n - 1, int(p * n))] / 1000:.1f}"

    return (
        f"p50 {pct(0.50)} us  p90 {pct(0.90)} us  p99 {pct(0.99)} us  p99.9 {pct(0.999)} us  "
        f"max {ordered[-1] / 1000:.1f} us  mean {statistics.fmean(ordered) / 1000:.1f} us"
    )


def _end(spec: OrderSpec, rng: random.Random, now: int) -> OrderFilled | OrderCanceled:
    if rng.random() < 0.5:
        return OrderCanceled(**spec.ids(), ts_event=now, ts_init=now)
    assert spec.price is not None
    return OrderFilled(
        **spec.ids(),
        account_id=ACCOUNT,
        venue_order_id=VenueOrderId("V"),
        trade_id=TradeId(f"T-{spec.client_order_id}"),
        order_side=spec.side,
        order_type=spec.order_type,
        last_qty=spec.quantity,
        last_px=spec.price,
        commission=Money.zero(USDT),
        liquidity_side=LiquiditySide.MAKER,
        ts_event=now,
        ts_init=now,
    )


if __name__ == "__main__":
    sys.exit(main())

"""The backtest engine, driven through ``run``: the strategy wall, feeds merged in time order,
several strategies in one run, pre-trade risk, latency, fill timing, timers on the replay clock,
and orders managed through the strategy context (cancel, modify, brackets)."""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from decimal import Decimal

import numpy as np
import pytest
from tests.kit.stubs import BTC as BTC_CURRENCY
from tests.kit.stubs import USDT

from tradeforge.backtest import FillModel, LatencyModel, run
from tradeforge.bus import TimeEvent
from tradeforge.data import BarArrays, generate_bars
from tradeforge.domain import (
    AccountType,
    ClientOrderId,
    DenyReason,
    InstrumentId,
    InvalidValue,
    OrderAccepted,
    OrderCanceled,
    OrderDenied,
    OrderEvent,
    OrderFilled,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderSide,
    OrderStatus,
    OrderSubmitted,
    OrderUpdated,
    PerpetualContract,
    Price,
    Quantity,
    StrategyError,
    StrategyId,
    Timeframe,
    UnknownInstrument,
)
from tradeforge.strategy import BarLike, Strategy
from tradeforge.strategy.examples.sma_cross import SmaCross
from tradeforge.trading import RiskConfig

BTC = InstrumentId.from_str("BTC/USDT.SIM")
ETH = InstrumentId.from_str("ETH/USDT.SIM")
START = 1_577_836_800_000_000_000  # 2020-01-01 00:00 UTC
SECOND = 1_000_000_000
MINUTE = 60 * SECOND
ONE_MINUTE = Timeframe.from_str("1m")


def synthetic(
    n: int, seed: int = 1, *, start_ns: int = START, price: float = 30_000.0
) -> BarArrays:
    return generate_bars(
        bars=n, seed=seed, timeframe=ONE_MINUTE, start_ns=start_ns, start_price=price
    )


def hand_made(opens: Sequence[float], closes: Sequence[float]) -> BarArrays:
    """One-minute bars from START with the given opens and closes (high/low just outside)."""
    o, c = np.array(opens, dtype=np.float64), np.array(closes, dtype=np.float64)
    return BarArrays(
        START + np.arange(len(o), dtype=np.int64) * MINUTE,
        o,
        np.maximum(o, c) + 1.0,
        np.minimum(o, c) - 1.0,
        c,
        np.full(len(o), 10.0),
    )


def bar_close(i: int) -> int:
    """Close time of the i-th one-minute bar from START."""
    return START + (i + 1) * MINUTE


Action = Callable[["Scripted", BarLike], None]


class Scripted(Strategy):
    """Runs ``script[n]`` at its n-th bar (counting from 0) and records what reaches it."""

    def __init__(
        self,
        script: dict[int, Action] | None = None,
        *,
        strategy_id: str | None = None,
        instruments: Sequence[InstrumentId] = (),
        on_start: Callable[[Scripted], None] | None = None,
    ) -> None:
        super().__init__(strategy_id=strategy_id, instruments=instruments)
        self.script = dict(script or {})
        self.start_action = on_start
        self.n = -1
        self.seen: list[tuple[InstrumentId, int, int]] = []  # (instrument, bar close, clock)
        self.events: list[OrderEvent] = []
        self.fills: list[OrderFilled] = []
        self.timers: list[tuple[str, int, int]] = []  # (name, due, clock)
        self.ids: dict[str, ClientOrderId] = {}

    def on_start(self) -> None:
        if self.start_action is not None:
            self.start_action(self)

    def on_bar(self, bar: BarLike) -> None:
        self.n += 1
        self.seen.append((bar.instrument_id, bar.ts_event, self.ctx.now_ns))
        action = self.script.get(self.n)
        if action is not None:
            action(self, bar)

    def on_order(self, event: OrderEvent) -> None:
        self.events.append(event)

    def on_fill(self, fill: OrderFilled) -> None:
        self.fills.append(fill)

    def on_timer(self, event: TimeEvent) -> None:
        self.timers.append((event.name, event.ts_event, self.ctx.now_ns))

    def status(self, key: str) -> OrderStatus:
        """The status of the order this strategy sent under ``key``."""
        order = self.ctx.order(self.ids[key])
        assert order is not None
        return order.status

    def kinds(self, client_order_id: ClientOrderId | None = None) -> list[str]:
        return [
            type(e).__name__
            for e in self.events
            if client_order_id is None or e.client_order_id == client_order_id
        ]


def buy(qty: str = "1", price: str | None = None, key: str = "buy") -> Action:
    def act(s: Scripted, bar: BarLike) -> None:
        s.ids[key] = s.buy(qty, price=Price(price) if price is not None else None)

    return act


# ======================================================== the strategy wall


class Churner(Strategy):
    """Buys 1 every 10th bar and closes 3 bars later; raises in ``fail_in`` from bar
    ``fail_at`` on (for ``on_fill``: at the first fill from then)."""

    def __init__(self, fail_in: str, fail_at: int = 103, strategy_id: str = "bad") -> None:
        super().__init__(strategy_id=strategy_id)
        self.fail_in, self.fail_at = fail_in, fail_at
        self.n = -1
        self.submitted: list[int] = []  # clock times of this strategy's orders

    def on_start(self) -> None:
        if self.fail_in == "on_start":
            raise RuntimeError("boom")

    def on_bar(self, bar: BarLike) -> None:
        self.n += 1
        if self.fail_in == "on_bar" and self.n == self.fail_at:
            raise RuntimeError("boom")
        if self.n % 10 == 0:
            self.buy("1")
            self.submitted.append(self.ctx.now_ns)
        elif self.n % 10 == 3 and self.close_position() is not None:
            self.submitted.append(self.ctx.now_ns)

    def on_fill(self, fill: OrderFilled) -> None:
        if self.fail_in == "on_fill" and self.n >= self.fail_at:
            raise RuntimeError("boom")


@pytest.fixture(scope="module")
def history() -> BarArrays:
    return synthetic(3_000)


def test_a_strategy_that_raises_in_on_bar_is_stopped_and_named(history: BarArrays) -> None:
    bad, good = Churner("on_bar"), SmaCross(strategy_id="good")
    alone = run(SmaCross(strategy_id="good"), bars={BTC: history}, fee=Decimal("0.001"))

    result = run([bad, good], bars={BTC: history}, fee=Decimal("0.001"))

    assert len(result.errors) == 1
    error = result.errors[0]
    assert isinstance(error, StrategyError)
    assert (error.strategy_id, error.hook, error.ts_ns) == ("bad", "on_bar", bar_close(103))
    assert isinstance(error.cause, RuntimeError)
    assert str(error) == (
        f"strategy 'bad' failed in on_bar at ts={bar_close(103)}: RuntimeError('boom')"
    )
    # It stopped: no order after the failure (every order in the run is accounted for).
    assert bad.n == 103
    assert max(bad.submitted) < error.ts_ns
    assert result.orders == alone.orders + len(bad.submitted)
    # The other strategy traded exactly as it does alone.
    assert result.strategies[StrategyId("good")].trades == alone.trades
    assert len(alone.trades) > 10


def test_the_failed_strategy_keeps_its_position_but_trades_no_more(history: BarArrays) -> None:
    bad = Churner("on_bar", fail_at=102)  # bought at bar 100, filled at bar 101's open

    result = run(bad, bars={BTC: history})

    mine = result.strategies[StrategyId("bad")]
    assert [t.exit_ts for t in mine.trades][-1] < bar_close(102)
    assert bool(mine.equity.invested[-1])
    assert result.orders == len(bad.submitted) == 21


def test_an_order_sent_just_before_the_failure_is_canceled() -> None:
    def buy_then_fail(s: Scripted, bar: BarLike) -> None:
        s.ids["buy"] = s.buy("1")
        raise ValueError("after sending")

    strategy = Scripted({5: buy_then_fail})

    result = run(strategy, bars={BTC: synthetic(20)})

    assert [e.hook for e in result.errors] == ["on_bar"]
    assert result.fills == 0
    assert strategy.status("buy") is OrderStatus.CANCELED


def test_a_strategy_that_raises_in_on_start_never_trades(history: BarArrays) -> None:
    bad, good = Churner("on_start"), SmaCross(strategy_id="good")
    alone = run(SmaCross(strategy_id="good"), bars={BTC: history}, start_ns=START)

    result = run([bad, good], bars={BTC: history}, start_ns=START)

    assert [(e.strategy_id, e.hook, e.ts_ns) for e in result.errors] == [("bad", "on_start", START)]
    assert bad.n == -1  # on_bar never called
    assert result.strategies[StrategyId("bad")].trades == []
    assert result.strategies[StrategyId("good")].trades == alone.trades


def test_an_on_start_failure_is_stamped_with_the_start_of_the_data() -> None:
    result = run(Churner("on_start"), bars={BTC: synthetic(20)})

    assert [e.ts_ns for e in result.errors] == [START]


def test_a_strategy_that_raises_in_on_fill_is_stopped_and_the_run_goes_on(
    history: BarArrays,
) -> None:
    bad, good = Churner("on_fill", fail_at=100), SmaCross(strategy_id="good")
    alone = run(SmaCross(strategy_id="good"), bars={BTC: history})

    result = run([bad, good], bars={BTC: history})

    assert [(e.strategy_id, e.hook, e.ts_ns) for e in result.errors] == [
        ("bad", "on_fill", START + 101 * MINUTE)  # the fill at bar 101's open
    ]
    assert result.strategies[StrategyId("good")].trades == alone.trades


def test_a_strategy_that_raises_in_on_order_is_stopped() -> None:
    class Fussy(Scripted):
        def on_order(self, event: OrderEvent) -> None:
            if isinstance(event, OrderAccepted):
                raise KeyError("accepted")

    strategy = Fussy({2: buy()})

    result = run(strategy, bars={BTC: synthetic(20)})

    assert [(e.hook, e.ts_ns) for e in result.errors] == [("on_order", bar_close(2))]
    assert result.fills == 0
    assert strategy.n == 2


def test_a_strategy_that_raises_in_on_timer_is_stopped() -> None:
    class Ticking(Scripted):
        def on_timer(self, event: TimeEvent) -> None:
            raise ZeroDivisionError("tick")

    strategy = Ticking(on_start=lambda s: s.ctx.set_timer("tick", 5 * MINUTE))

    result = run(strategy, bars={BTC: synthetic(20)}, start_ns=START)

    assert [(e.hook, e.ts_ns) for e in result.errors] == [("on_timer", START + 5 * MINUTE)]
    assert strategy.n == 3  # bars closing at 1..4 minutes; none after the failure


def test_a_strategy_that_raises_in_on_stop_is_reported() -> None:
    class Grumpy(Scripted):
        def on_stop(self) -> None:
            raise RuntimeError("bye")

    result = run(Grumpy(), bars={BTC: synthetic(20)})

    assert [(e.hook, e.ts_ns) for e in result.errors] == [("on_stop", bar_close(19))]


# ===================================================== several instruments


def interleaved(n: int) -> tuple[BarArrays, BarArrays]:
    """BTC bars on even minutes and ETH bars on odd minutes: they never overlap."""
    a, b = synthetic(n, seed=1), synthetic(n, seed=2, price=2_000.0)
    even = START + np.arange(n, dtype=np.int64) * 2 * MINUTE
    return (
        BarArrays(even, a.open, a.high, a.low, a.close, a.volume),
        BarArrays(even + MINUTE, b.open, b.high, b.low, b.close, b.volume),
    )


def test_bars_of_several_instruments_reach_the_strategy_in_time_order() -> None:
    a, b = interleaved(200)
    strategy = Scripted()
    # Odd, different chunk sizes, so windows end at different places in each feed.
    chunks_a = [a[i : i + 37] for i in range(0, len(a), 37)]
    chunks_b = [b[i : i + 53] for i in range(0, len(b), 53)]

    result = run(strategy, bars={BTC: chunks_a, ETH: chunks_b})

    expected = sorted(
        [(int(t), BTC) for t in a.ts + MINUTE] + [(int(t), ETH) for t in b.ts + MINUTE],
        key=lambda x: x[0],
    )
    assert [(ts, iid) for iid, ts, _ in strategy.seen] == expected
    assert all(ts == clock for _, ts, clock in strategy.seen)
    assert result.bars == 400
    assert result.errors == []


def test_bars_closing_at_the_same_time_come_in_feed_order() -> None:
    a, b = synthetic(100, seed=1), synthetic(100, seed=2, price=2_000.0)
    strategy = Scripted()

    run(strategy, bars={BTC: [a[:41], a[41:]], ETH: [b[:29], b[29:]]})

    ts = [t for _, t, _ in strategy.seen]
    assert ts == sorted(ts)
    assert [iid for iid, _, _ in strategy.seen] == [BTC, ETH] * 100


def test_overlapping_bars_of_two_feeds_are_merged_by_close_time() -> None:
    a, b = synthetic(100, seed=1), synthetic(100, seed=2, price=2_000.0)
    shifted = BarArrays(b.ts + 30 * SECOND, b.open, b.high, b.low, b.close, b.volume)
    strategy = Scripted()

    run(strategy, bars={BTC: a, ETH: shifted})

    ts = [t for _, t, _ in strategy.seen]
    assert ts == sorted(ts)
    assert len(ts) == 200


# ==================================================== several strategies


def test_several_strategies_have_their_own_results_that_partition_the_run(
    history: BarArrays,
) -> None:
    fast = SmaCross({"fast": "5", "slow": "20"}, strategy_id="fast")
    slow = SmaCross({"fast": "10", "slow": "50"}, strategy_id="slow")
    alone = {
        "fast": run(SmaCross({"fast": "5", "slow": "20"}, strategy_id="fast"), bars={BTC: history}),
        "slow": run(
            SmaCross({"fast": "10", "slow": "50"}, strategy_id="slow"), bars={BTC: history}
        ),
    }

    result = run([fast, slow], bars={BTC: history})

    assert set(result.strategies) == {StrategyId("fast"), StrategyId("slow")}
    per = {str(sid): r for sid, r in result.strategies.items()}
    assert all(r.strategy_id == StrategyId(name) for name, r in per.items())
    assert all(t.strategy_id == StrategyId("fast") for t in per["fast"].trades)
    assert all(t.strategy_id == StrategyId("slow") for t in per["slow"].trades)
    assert sorted(per["fast"].trades + per["slow"].trades, key=repr) == sorted(
        result.trades, key=repr
    )
    for name in ("fast", "slow"):
        assert per[name].trades == alone[name].trades
        assert per[name].metrics.num_trades == len(alone[name].trades)
        np.testing.assert_allclose(per[name].equity.equity, alone[name].equity.equity, atol=1e-6)
    # Each strategy's curve is as if it had the starting cash alone; gains add up.
    initial = float(result.initial_cash.amount)
    np.testing.assert_allclose(
        (per["fast"].equity.equity - initial) + (per["slow"].equity.equity - initial),
        result.equity.equity - initial,
        atol=1e-6,
    )


def test_two_strategies_need_distinct_ids() -> None:
    with pytest.raises(InvalidValue, match="its own strategy_id"):
        run([SmaCross(), SmaCross()], bars={BTC: synthetic(10)})


# ================================================================ risk


def test_an_order_over_the_quantity_limit_is_denied_with_a_reason_code() -> None:
    strategy = Scripted({5: buy("1")})

    result = run(
        strategy,
        bars={BTC: synthetic(20)},
        risk=RiskConfig(max_order_quantity=Decimal("0.5")),
    )

    [denied] = strategy.events
    assert isinstance(denied, OrderDenied)
    assert denied.reason is DenyReason.MAX_ORDER_QUANTITY
    assert denied.message == "quantity 1.000 exceeds the limit 0.5"
    assert denied.ts_event == bar_close(5)
    assert strategy.fills == []
    assert (result.fills, result.orders, result.trades) == (0, 1, [])
    assert strategy.status("buy") is OrderStatus.DENIED
    assert result.final_cash == result.initial_cash


def test_an_order_over_the_notional_limit_is_denied_at_the_last_price() -> None:
    strategy = Scripted({5: buy("1")})

    run(strategy, bars={BTC: synthetic(20)}, risk=RiskConfig(max_order_notional=Decimal(1000)))

    [denied] = strategy.events
    assert isinstance(denied, OrderDenied)
    assert denied.reason is DenyReason.MAX_ORDER_NOTIONAL
    assert strategy.fills == []


def test_an_order_within_the_limits_goes_through() -> None:
    strategy = Scripted({5: buy("0.5")})

    run(strategy, bars={BTC: synthetic(20)}, risk=RiskConfig(max_order_quantity=Decimal("0.5")))

    assert strategy.kinds() == ["OrderSubmitted", "OrderAccepted", "OrderFilled"]


# ===================================================== fills and latency


def test_a_market_order_fills_at_the_next_bars_open_by_default() -> None:
    bars = hand_made([100, 110, 120, 130, 140], [105, 115, 125, 135, 145])
    strategy = Scripted({1: buy()})

    run(strategy, bars={BTC: bars})

    [fill] = strategy.fills
    assert (fill.last_px, fill.ts_event) == (Price("120.00"), START + 2 * MINUTE)


def test_fill_at_close_fills_at_the_signal_bars_close() -> None:
    bars = hand_made([100, 110, 120, 130, 140], [105, 115, 125, 135, 145])
    strategy = Scripted({1: buy()})

    run(strategy, bars={BTC: bars}, fill_model=FillModel(fill_at="close"))

    [fill] = strategy.fills
    assert (fill.last_px, fill.ts_event) == (Price("115.00"), bar_close(1))


@pytest.mark.parametrize(
    ("latency_ns", "fill_bar"),
    [
        (0, 6),  # no latency: the next bar's open
        (30 * SECOND, 7),  # arrives inside bar 6: the open of bar 7
        (60 * SECOND, 7),  # arrives exactly at bar 7's open
        (61 * SECOND, 8),  # more than a bar: arrives inside bar 7, fills at bar 8's open
        (5 * MINUTE, 11),
    ],
)
def test_latency_delays_the_order_to_the_first_open_after_it_arrives(
    latency_ns: int, fill_bar: int
) -> None:
    bars = synthetic(20)
    strategy = Scripted({5: buy()})

    run(strategy, bars={BTC: bars}, latency=LatencyModel(submit_ns=latency_ns))

    submitted, accepted = strategy.events[0], strategy.events[1]
    assert isinstance(submitted, OrderSubmitted)
    assert submitted.ts_event == bar_close(5)
    assert isinstance(accepted, OrderAccepted)
    assert accepted.ts_event == bar_close(5) + latency_ns  # when the venue got it
    [fill] = strategy.fills
    assert fill.ts_event == START + fill_bar * MINUTE
    assert fill.last_px.as_float() == bars.open[fill_bar]


def test_a_cancel_with_latency_arrives_after_its_delay() -> None:
    def cancel(s: Scripted, bar: BarLike) -> None:
        s.ctx.cancel(s.ids["buy"])

    strategy = Scripted({2: buy(price="1.00"), 3: cancel})

    run(strategy, bars={BTC: synthetic(20)}, latency=LatencyModel(cancel_ns=90 * SECOND))

    canceled = [e for e in strategy.events if isinstance(e, OrderCanceled)]
    assert [e.ts_event for e in canceled] == [bar_close(3) + 90 * SECOND]


# ================================================================ timers


def test_timers_fire_on_the_replay_clock_at_exact_times() -> None:
    calls: list[tuple[str, int, int]] = []

    def arm(s: Scripted) -> None:
        s.ctx.set_timer("every-7m", 7 * MINUTE)
        s.ctx.set_timer(
            "every-150s", 150 * SECOND, lambda e: calls.append((e.name, e.ts_event, s.ctx.now_ns))
        )

    strategy = Scripted(on_start=arm)

    run(strategy, bars={BTC: synthetic(30)}, start_ns=START)

    end = bar_close(29)
    assert [due for _, due, _ in strategy.timers] == list(
        range(START + 7 * MINUTE, end + 1, 7 * MINUTE)
    )
    assert [due for _, due, _ in calls] == list(range(START + 150 * SECOND, end + 1, 150 * SECOND))
    assert all(due == clock for _, due, clock in strategy.timers + calls)


def test_a_timer_due_at_a_bar_close_fires_before_that_bars_hook() -> None:
    order: list[str] = []

    class Both(Scripted):
        def on_timer(self, event: TimeEvent) -> None:
            order.append(f"timer@{(event.ts_event - START) // MINUTE}")

        def on_bar(self, bar: BarLike) -> None:
            order.append(f"bar@{(bar.ts_event - START) // MINUTE}")

    strategy = Both(on_start=lambda s: s.ctx.set_timer("t", 2 * MINUTE))

    run(strategy, bars={BTC: synthetic(4)}, start_ns=START)

    assert order == ["bar@1", "timer@2", "bar@2", "bar@3", "timer@4", "bar@4"]


def test_on_timer_receives_the_name_the_strategy_gave() -> None:
    strategy = Scripted(on_start=lambda s: s.ctx.set_timer("every-7m", 7 * MINUTE))

    run(strategy, bars={BTC: synthetic(10)}, start_ns=START)

    assert [name for name, _, _ in strategy.timers] == ["every-7m"]


def test_a_timer_set_in_on_start_first_fires_one_interval_after_the_data_starts() -> None:
    day = 86_400 * SECOND
    strategy = Scripted(on_start=lambda s: s.ctx.set_timer("daily", day))

    run(strategy, bars={BTC: synthetic(30)})

    assert strategy.timers == []  # 30 minutes of data: a daily timer never comes due


# ====================================================== managing orders


def test_a_far_limit_canceled_the_next_bar_ends_canceled() -> None:
    seen_open: list[list[ClientOrderId]] = []

    def cancel(s: Scripted, bar: BarLike) -> None:
        seen_open.append([o.client_order_id for o in s.ctx.open_orders(BTC)])
        s.ctx.cancel(s.ids["buy"])

    strategy = Scripted({3: buy(price="1.00"), 4: cancel})

    result = run(strategy, bars={BTC: synthetic(20)})

    oid = strategy.ids["buy"]
    assert seen_open == [[oid]]
    assert strategy.kinds(oid) == [
        "OrderSubmitted",
        "OrderAccepted",
        "OrderPendingCancel",
        "OrderCanceled",
    ]
    assert strategy.status("buy") is OrderStatus.CANCELED
    assert strategy.ctx.open_orders() == []
    assert result.fills == 0


def test_cancel_all_cancels_only_this_strategys_orders() -> None:
    def two_limits(s: Scripted, bar: BarLike) -> None:
        s.ids["a"] = s.buy("1", price=Price("1.00"))
        s.ids["b"] = s.buy("1", price=Price("2.00"))

    mine = Scripted({2: two_limits, 3: lambda s, _: s.ctx.cancel_all(BTC)}, strategy_id="mine")
    other = Scripted({2: buy(price="3.00")}, strategy_id="other")

    run([mine, other], bars={BTC: synthetic(10)})

    assert [mine.status(k) for k in "ab"] == [OrderStatus.CANCELED] * 2
    assert other.status("buy") is OrderStatus.ACCEPTED


def test_a_modified_limit_rests_at_its_new_price_and_fills_there() -> None:
    bars = hand_made([100, 100, 100, 100, 90, 90], [100, 100, 100, 100, 90, 90])

    def modify(s: Scripted, bar: BarLike) -> None:
        s.ctx.modify(s.ids["buy"], price=Price("95.00"))

    strategy = Scripted({1: buy(price="50.00"), 2: modify})

    run(strategy, bars={BTC: bars})

    oid = strategy.ids["buy"]
    kinds = strategy.kinds(oid)
    assert kinds[:4] == ["OrderSubmitted", "OrderAccepted", "OrderPendingUpdate", "OrderUpdated"]
    updated = next(e for e in strategy.events if isinstance(e, OrderUpdated))
    assert updated.price == Price("95.00")
    [fill] = strategy.fills
    # Bar 4 opens at 90, below the 95 limit: the buy fills at the open (better than its limit).
    assert (fill.last_px, fill.ts_event) == (Price("90.00"), START + 4 * MINUTE)
    assert strategy.status("buy") is OrderStatus.FILLED


def test_a_modify_reaches_the_venue_and_a_bad_one_is_rejected_there() -> None:
    def modify_off_tick(s: Scripted, bar: BarLike) -> None:
        s.ctx.modify(s.ids["buy"], price=Price("1.005"))

    strategy = Scripted({1: buy(price="1.00"), 2: modify_off_tick})

    run(strategy, bars={BTC: synthetic(5)})

    kinds = strategy.kinds(strategy.ids["buy"])
    assert kinds == [
        "OrderSubmitted",
        "OrderAccepted",
        "OrderPendingUpdate",
        "OrderModifyRejected",
    ]
    assert strategy.status("buy") is OrderStatus.ACCEPTED


def test_a_bracket_enters_then_one_exit_fills_and_cancels_the_other() -> None:
    # Entry at bar 2's open (100); bar 2 then rises to 111: the 110 take-profit fills.
    bars = hand_made([100, 100, 100, 105], [100, 100, 110, 105])

    def bracket(s: Scripted, bar: BarLike) -> None:
        orders = s.ctx.orders.bracket(
            BTC,
            OrderSide.BUY,
            Quantity("1.000"),
            stop_loss=Price("90.00"),
            take_profit=Price("110.00"),
        )
        entry, stop, target = (o.client_order_id for o in orders.orders)
        s.ids.update(entry=entry, stop=stop, target=target)
        s.ctx.submit_list(orders)

    strategy = Scripted({1: bracket})

    result = run(strategy, bars={BTC: bars})

    ids = strategy.ids
    assert [(f.client_order_id, f.last_px) for f in strategy.fills] == [
        (ids["entry"], Price("100.00")),
        (ids["target"], Price("110.00")),
    ]
    status = {k: strategy.status(k) for k in ids}
    assert status == {
        "entry": OrderStatus.FILLED,
        "stop": OrderStatus.CANCELED,
        "target": OrderStatus.FILLED,
    }
    [trade] = result.trades
    assert (trade.entry_price, trade.exit_price) == (Decimal(100), Decimal(110))
    assert strategy.position_qty() == 0


def test_a_bracket_over_the_risk_limit_is_denied_as_a_whole() -> None:
    def bracket(s: Scripted, bar: BarLike) -> None:
        s.ctx.submit_list(
            s.ctx.orders.bracket(
                BTC,
                OrderSide.BUY,
                Quantity("1.000"),
                stop_loss=Price("1.00"),
                take_profit=Price("99999.00"),
            )
        )

    strategy = Scripted({1: bracket})

    result = run(
        strategy, bars={BTC: synthetic(5)}, risk=RiskConfig(max_order_quantity=Decimal("0.1"))
    )

    assert strategy.kinds() == ["OrderDenied"] * 3
    assert result.fills == 0


# ======================================================= the context


def test_the_context_reports_cash_position_and_last_price() -> None:
    bars = hand_made([100, 100, 100, 120], [100, 100, 110, 130])
    snapshots: list[tuple[Decimal, Decimal, Price | None, Decimal]] = []

    def look(s: Scripted, bar: BarLike) -> None:
        snapshots.append(
            (
                s.ctx.cash().amount,
                s.position_qty(),
                s.ctx.last_price(BTC),
                s.ctx.equity().amount,
            )
        )

    strategy = Scripted({1: buy(), 2: look, 3: look})

    run(strategy, bars={BTC: bars}, cash=10_000)

    assert snapshots == [
        (Decimal(9_900), Decimal(1), Price("110.00"), Decimal(10_010)),
        (Decimal(9_900), Decimal(1), Price("130.00"), Decimal(10_030)),
    ]


def test_an_instrument_not_in_the_backtest_is_refused_by_the_context() -> None:
    def ask(s: Scripted, bar: BarLike) -> None:
        s.ctx.instrument(ETH)

    result = run(Scripted({0: ask}), bars={BTC: synthetic(3)})

    [error] = result.errors
    assert isinstance(error.cause, UnknownInstrument)
    assert str(error.cause) == "ETH/USDT.SIM is not in this backtest"


def test_order_ids_carry_the_strategy_id() -> None:
    strategy = Scripted({0: buy()}, strategy_id="alpha")

    run(strategy, bars={BTC: synthetic(3)})

    assert str(strategy.ids["buy"]).startswith("alpha-")
    assert {e.strategy_id for e in strategy.events} == {StrategyId("alpha")}


def test_pending_events_arrive_in_lifecycle_order() -> None:
    def cancel(s: Scripted, bar: BarLike) -> None:
        s.ctx.cancel(s.ids["buy"])

    strategy = Scripted({0: buy(price="1.00"), 1: cancel})

    run(strategy, bars={BTC: synthetic(3)})

    types = [type(e) for e in strategy.events]
    assert types == [OrderSubmitted, OrderAccepted, OrderPendingCancel, OrderCanceled]
    assert OrderPendingUpdate not in types


def test_a_strategy_cannot_change_the_engines_books_through_what_it_is_given() -> None:
    class Meddler(Scripted):
        def on_fill(self, fill: OrderFilled) -> None:
            position = self.position()
            assert position is not None
            position.apply(fill)  # apply the same fill a second time, to its own copy

    result = run(Meddler({1: buy()}), bars={BTC: synthetic(5)})

    assert result.open_cost.amount == result.initial_cash.amount - result.final_cash.amount


def test_a_strategy_can_close_its_position_while_another_holds_the_opposite() -> None:
    perp_id = InstrumentId.from_str("BTCUSDT-PERP.SIM")
    perp = PerpetualContract(
        id=perp_id,
        raw_symbol="BTCUSDT",
        base_currency=BTC_CURRENCY,
        quote_currency=USDT,
        settlement_currency=USDT,
        tick_size=Price("0.01"),
        lot_size=Quantity("0.001"),
        min_quantity=Quantity("0.001"),
    )

    def long(s: Scripted, bar: BarLike) -> None:
        s.ids["buy"] = s.buy("1", instrument_id=perp_id)

    def short(s: Scripted, bar: BarLike) -> None:
        s.ids["sell"] = s.sell("1", instrument_id=perp_id)

    def close(s: Scripted, bar: BarLike) -> None:
        closing = s.close_position(perp_id)
        assert closing is not None
        s.ids["close"] = closing

    x = Scripted({2: long, 5: close}, strategy_id="x")
    y = Scripted({2: short}, strategy_id="y")

    run(
        [x, y],
        bars={perp_id: synthetic(10)},
        instruments=[perp],
        account_type=AccountType.MARGIN,
    )

    assert x.status("close") is OrderStatus.FILLED
    assert x.position_qty(perp_id) == 0


# ------------------------------------------------------ the strategy's own attributes


def _has_dict_object(obj: object) -> bool:
    """Whether ``obj``'s attributes live in a dict object (CPython keeps a plain instance's
    attribute values inline until something reads its ``__dict__``)."""
    return any(isinstance(r, dict) and "_params" in r for r in gc.get_referents(obj))


def test_running_a_strategy_leaves_its_attributes_inline() -> None:
    # Reading a strategy's __dict__ (as looking for its hooks with vars() did) turns its
    # attributes into a dict object, and on CPython 3.11 the interpreter's specialised
    # ``self.x`` loads then miss on every bar: a slow generic lookup for the whole run.
    strategy = SmaCross()
    if _has_dict_object(strategy):
        pytest.skip("this interpreter keeps instance attributes in a dict from the start")

    result = run(strategy, bars={BTC: synthetic(300)})

    assert result.metrics.num_trades > 0
    assert not _has_dict_object(strategy)


def test_hooks_set_on_the_instance_are_called_like_the_classs() -> None:
    fills: list[OrderFilled] = []
    events: list[OrderEvent] = []
    strategy = SmaCross()
    strategy.on_fill = fills.append  # type: ignore[method-assign]
    plain = SmaCross(strategy_id="plain")  # the base class's hooks: nothing to call
    plain.on_order = events.append  # type: ignore[method-assign]

    result = run([strategy, plain], bars={BTC: synthetic(300)})

    assert len(fills) == result.fills // 2 > 0
    assert {type(e) for e in events} >= {OrderSubmitted, OrderAccepted, OrderFilled}

"""Regressions from review: no bar, price or value from the future reaches a strategy, and a
strategy object is not changed by being run."""

from __future__ import annotations

import math

import numpy as np
from tests.kit.venue import VenueHarness, order_factory

from tradeforge.backtest import FillModel, run
from tradeforge.bus import TimeEvent
from tradeforge.data import BarArrays
from tradeforge.domain import InstrumentId, OrderCanceled, OrderFilled, OrderSide, Price, Quantity
from tradeforge.strategy import BarLike, Strategy

M = 60_000_000_000
A = InstrumentId.from_str("AAA/USD.SIM")
B = InstrumentId.from_str("BBB/USD.SIM")


def bars(minutes: list[int] | range, prices: list[float]) -> BarArrays:
    ts = np.array(list(minutes), dtype=np.int64) * M
    p = np.array(prices, dtype=np.float64)
    return BarArrays(ts, p, p, p, p, np.full(len(ts), 1000.0))


def test_a_fill_after_the_feed_moved_to_its_next_block_uses_the_last_seen_close() -> None:
    # A trades minutes 0-9, then again from minute 4096 (its next block) at much higher prices.
    a = bars(
        list(range(10)) + list(range(4096, 4200)), [100.0] * 10 + [200.0 + i for i in range(104)]
    )
    fills: list[OrderFilled] = []

    class BuyAOnB(Strategy):
        def on_bar(self, bar: BarLike) -> None:
            if bar.instrument_id == B and bar.ts_event == 11 * M:
                self.buy(1, instrument_id=A)

        def on_fill(self, fill: OrderFilled) -> None:
            fills.append(fill)

    run(
        BuyAOnB(strategy_id="s", instruments=[A, B]),
        bars={A: a, B: bars(range(4200), [50.0] * 4200)},
        cash=10_000,
        fill_model=FillModel(fill_at="close"),
    )

    assert [(f.last_px, f.ts_event // M) for f in fills] == [(Price("100"), 11)]


def test_timers_inside_a_gap_see_the_last_closed_bar() -> None:
    seen: list[tuple[float, float]] = []

    class Timed(Strategy):
        def on_start(self) -> None:
            self.sma = self.indicator("SMA", timeperiod=1)
            self.ctx.set_timer("t", 5 * M)

        def on_timer(self, event: TimeEvent) -> None:
            seen.append((event.ts_event / M, self.sma[-1]))

    run(
        Timed(strategy_id="s"),
        bars={A: bars(list(range(10)) + list(range(20, 30)), [100.0] * 10 + [500.0] * 10)},
        cash=10_000,
    )

    assert seen[:3] == [(5.0, 100.0), (10.0, 100.0), (15.0, 100.0)]
    assert (20.0, 100.0) in seen  # the bar opening at 20 closes at 21


def test_an_indicator_reads_nothing_before_its_feed_has_a_bar() -> None:
    read: list[tuple[float, bool]] = []

    class Early(Strategy):
        def on_start(self) -> None:
            self.a = self.indicator("SMA", instrument_id=A, timeperiod=1)

        def on_bar(self, bar: BarLike) -> None:
            if bar.instrument_id == B and bar.ts_event == 5 * M:
                read.append((self.a.value, self.a.ready))

    run(
        Early(strategy_id="s", instruments=[A, B]),
        bars={
            A: bars(range(100, 200), [float(x) for x in range(100, 200)]),
            B: bars(range(200), [50.0] * 200),
        },
    )

    assert len(read) == 1
    assert math.isnan(read[0][0])
    assert read[0][1] is False


def test_a_bracket_whose_entry_is_rejected_leaves_no_exit_working() -> None:
    harness = VenueHarness()
    harness.tape.flat("100.00")
    too_big = order_factory().bracket(
        harness.instrument.id,
        OrderSide.BUY,
        Quantity("1000.000"),
        stop_loss=Price("90.00"),
        take_profit=Price("110.00"),
    )

    harness.submit_list(too_big)
    harness.tape.bar("100.00", "120.00", "80.00", "100.00")

    assert harness.engine.orders() == []
    canceled = [e.client_order_id for e in harness.events if isinstance(e, OrderCanceled)]
    assert canceled == [spec.client_order_id for spec in too_big.orders[1:]]


def test_strategies_whose_ids_share_a_long_prefix_get_distinct_order_ids() -> None:
    class BuyOnce(Strategy):
        def on_bar(self, bar: BarLike) -> None:
            if bar.ts_event == 3 * M:
                self.buy(1)

    fast = BuyOnce(strategy_id="momentum-strategy-btc-usdt-fast")
    slow = BuyOnce(strategy_id="momentum-strategy-btc-usdt-slow")

    result = run([fast, slow], bars={A: bars(range(20), [100.0] * 20)}, cash=100_000)

    assert result.errors == []
    assert result.fills == 2


def test_a_strategy_object_can_run_again_on_other_instruments() -> None:
    class Idle(Strategy):
        pass

    strategy = Idle(strategy_id="s")
    run(strategy, bars={A: bars(range(5), [1.0] * 5)})

    result = run(strategy, bars={B: bars(range(5), [1.0] * 5)})

    assert result.errors == []
    assert strategy.configured_instruments == ()

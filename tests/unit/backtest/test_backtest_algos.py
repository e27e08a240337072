"""Parent orders in a backtest (``backtest.algos``): TWAP, iceberg and POV worked on the replay
clock, every child through ``BacktestEngine.submit`` (risk, OMS, simulated venue); children at
the scheduled times, sizes summing exactly to the parent, report figures recomputed from the
fills, money reconciling, the same run twice giving the same run, cancel, the end of the run,
and a strategy failure."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from tradeforge.backtest import BacktestResult, run, spot_pair
from tradeforge.data import BarArrays, generate_bars
from tradeforge.domain import (
    ClientOrderId,
    InstrumentId,
    InvalidValue,
    OrderCanceled,
    OrderEvent,
    OrderFilled,
    OrderSide,
    OrderStatus,
    OrderSubmitted,
    Price,
    Quantity,
    Timeframe,
)
from tradeforge.execution import (
    AlgoOrder,
    AlgoParams,
    ChildStyle,
    ExecutionReport,
    ExecutionState,
    IcebergParams,
    PovParams,
    RouteParams,
    TwapParams,
)
from tradeforge.strategy import BarLike, Strategy

BTC = InstrumentId.from_str("BTC/USDT.SIM")
INSTRUMENT = spot_pair(BTC, price_precision=2, size_precision=5, fee=Decimal("0.001"))
START = 1_577_836_800_000_000_000  # 2020-01-01 00:00 UTC
MINUTE = 60_000_000_000
CASH = Decimal(1_000_000)


def synthetic(n: int) -> BarArrays:
    return generate_bars(
        bars=n, seed=7, timeframe=Timeframe.from_str("1m"), start_ns=START, start_price=30_000.0
    )


def flat(n: int, price: float = 30_000.0, volume: float = 10.0) -> BarArrays:
    """One-minute bars that never move (a resting order away from ``price`` never fills)."""
    p = np.full(n, price)
    return BarArrays(
        START + np.arange(n, dtype=np.int64) * MINUTE, p, p + 5.0, p - 5.0, p, np.full(n, volume)
    )


Step = Callable[["Parents", BarLike], None]


class Parents(Strategy):
    """Runs ``script[n]`` at its n-th bar; records order events and every parent report."""

    def __init__(self, script: dict[int, Step], on_algo: Callable[..., None] | None = None) -> None:
        super().__init__(strategy_id="parents", instruments=[BTC])
        self.script = script
        self.react = on_algo
        self.n = -1
        self.events: list[tuple[OrderEvent, int]] = []  # (event, clock)
        self.reports: list[ExecutionReport] = []
        self.parents: dict[str, ClientOrderId] = {}
        self.final: dict[ClientOrderId, ExecutionReport | None] = {}

    def on_bar(self, bar: BarLike) -> None:
        self.n += 1
        step = self.script.get(self.n)
        if step is not None:
            step(self, bar)

    def on_order(self, event: OrderEvent) -> None:
        self.events.append((event, self.ctx.now_ns))

    def on_algo(self, report: ExecutionReport) -> None:
        self.reports.append(report)
        if self.react is not None:
            self.react(self, report)

    def on_stop(self) -> None:
        self.final = {pid: self.ctx.algo(pid) for pid in self.parents.values()}

    def send(self, key: str, side: OrderSide, qty: str, params: AlgoParams, **kw: object) -> None:
        order = AlgoOrder(
            instrument_id=BTC, side=side, quantity=Quantity(qty), params=params,
            **kw,  # type: ignore[arg-type]
        )  # fmt: skip
        self.parents[key] = self.ctx.submit_algo(order)

    def children(self, parent: ClientOrderId) -> list[tuple[ClientOrderId, int]]:
        """(child id, submit time) of the parent's children, in order."""
        prefix = f"{parent}-c"
        return [
            (e.client_order_id, e.ts_event)
            for e, _ in self.events
            if isinstance(e, OrderSubmitted) and e.client_order_id.value.startswith(prefix)
        ]

    def fills(self, parent: ClientOrderId) -> list[OrderFilled]:
        prefix = f"{parent}-c"
        return [
            e
            for e, _ in self.events
            if isinstance(e, OrderFilled) and e.client_order_id.value.startswith(prefix)
        ]

    def quantity(self, child: ClientOrderId) -> Quantity:
        view = self.ctx.order(child)
        assert view is not None
        return view.quantity


def twap_then_iceberg() -> Parents:
    """Buys 1.00003 BTC by TWAP (6 slices 2 minutes apart from bar 2's close), then, once it
    is done, sells it all back as an iceberg showing 0.3 at a time, priced to fill."""

    def start(s: Parents, bar: BarLike) -> None:
        now = s.ctx.now_ns
        s.send("twap", OrderSide.BUY, "1.00003",
               TwapParams(start_ns=now, end_ns=now + 12 * MINUTE, slices=6))  # fmt: skip

    def react(s: Parents, report: ExecutionReport) -> None:
        # (The first report comes during submit_algo, before the parent's id is returned.)
        if report.parent_order_id == s.parents.get("twap") and report.state.is_terminal:
            close = s.ctx.last_price(BTC)
            assert close is not None
            price = Price(str(round(close.as_decimal() * Decimal("0.99"), 2)))
            s.send("iceberg", OrderSide.SELL, str(report.filled),
                   IcebergParams(display_qty=Quantity("0.30000"), price=price))  # fmt: skip

    return Parents({2: start}, on_algo=react)


def check_report(s: Parents, report: ExecutionReport) -> None:
    """The report's figures recomputed from the fills the strategy saw."""
    fills = s.fills(report.parent_order_id)
    filled = sum((f.last_qty.as_decimal() for f in fills), Decimal(0))
    notional = sum((f.last_qty.as_decimal() * f.last_px.as_decimal() for f in fills), Decimal(0))
    assert report.filled.as_decimal() == filled
    assert report.notional == notional
    assert report.remaining.as_decimal() == report.quantity.as_decimal() - filled
    assert report.children == len(s.children(report.parent_order_id))
    assert filled > 0
    avg = Fraction(notional) / Fraction(filled)
    assert report.avg_price is not None
    assert report.arrival_price is not None
    assert abs(Fraction(report.avg_price) - avg) <= avg / 10**50
    arrival = Fraction(report.arrival_price.as_decimal())
    sign = 1 if report.side is OrderSide.BUY else -1
    expected = sign * (avg - arrival) / arrival * 10_000
    assert report.slippage_bps is not None
    assert abs(Fraction(report.slippage_bps) - expected) <= abs(expected) / 10**50 + Fraction(
        1, 10**40
    )


def same(a: ExecutionReport, b: ExecutionReport) -> bool:
    """Equal but for when each was made (``ctx.algo`` stamps its report with the time now)."""
    return {**a.to_dict(), "ts_event": 0, "ts_init": 0} == {
        **b.to_dict(),
        "ts_event": 0,
        "ts_init": 0,
    }


def backtest(strategy: Strategy, bars: BarArrays, **kw: object) -> BacktestResult:
    return run(strategy, bars={BTC: bars}, instruments=[INSTRUMENT], cash=CASH, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def history() -> BarArrays:
    return synthetic(60)


def test_twap_children_at_the_slice_times_sum_exactly_and_the_iceberg_sells_it_back(
    history: BarArrays,
) -> None:
    s = twap_then_iceberg()

    result = backtest(s, history)

    assert result.errors == []
    twap, iceberg = s.parents["twap"], s.parents["iceberg"]
    t0 = START + 3 * MINUTE  # bar 2's close
    children = s.children(twap)
    # One market child per slice, sent at each slice start on the replay clock.
    assert [ts - t0 for _, ts in children] == [k * 2 * MINUTE for k in range(6)]
    sizes = [s.quantity(cid) for cid, _ in children]
    assert sizes == [Quantity("0.16667")] * 5 + [Quantity("0.16668")]  # remainder last
    assert sum(q.as_decimal() for q in sizes) == Decimal("1.00003")
    final_twap = s.final[twap]
    assert final_twap is not None
    assert final_twap.state is ExecutionState.DONE
    assert final_twap.filled == Quantity("1.00003")
    # The arrival price is the last close the venue saw when the parent was sent.
    assert final_twap.arrival_price == Price(str(history.close[2].round(2)))
    check_report(s, final_twap)

    # The iceberg: one piece of at most 0.3 at a time, each after the one before ended.
    pieces = s.children(iceberg)
    sizes = [s.quantity(cid) for cid, _ in pieces]
    assert sizes == [Quantity("0.30000")] * 3 + [Quantity("0.10003")]
    for (child, _), (_, sent_next) in itertools.pairwise(pieces):
        ended = [
            t for e, t in s.events if e.client_order_id == child and isinstance(e, OrderFilled)
        ]
        assert ended
        assert max(ended) <= sent_next
    final_ice = s.final[iceberg]
    assert final_ice is not None
    assert final_ice.state is ExecutionState.DONE
    assert final_ice.filled == Quantity("1.00003")
    check_report(s, final_ice)

    # Every report reached on_algo; the last of each is the final one.
    last = {r.parent_order_id: r for r in s.reports}
    assert same(last[twap], final_twap)
    assert same(last[iceberg], final_ice)
    # Flat again: cash moved by realised PnL and fees only, to the cent.
    assert s.ctx.position_qty(BTC) == 0
    assert result.open_cost.amount == 0
    assert result.fills == len(s.fills(twap)) + len(s.fills(iceberg))
    fees = sum((f.commission.amount for f in s.fills(twap) + s.fills(iceberg)), Decimal(0))
    assert result.fees.amount == fees > 0
    assert CASH + result.realized_pnl.amount - result.fees.amount == result.final_cash.amount


def test_the_same_run_twice_replays_the_parents_exactly(history: BarArrays) -> None:
    def trace(s: Parents, result: BacktestResult) -> tuple[object, ...]:
        fills = [
            (e.client_order_id, e.ts_event, e.last_qty, e.last_px, e.commission)
            for e, _ in s.events
            if isinstance(e, OrderFilled)
        ]
        return (fills, s.reports, result.final_cash, result.realized_pnl, result.fees)

    first, second = twap_then_iceberg(), twap_then_iceberg()
    a = trace(first, backtest(first, history))
    b = trace(second, backtest(second, history))

    assert a == b
    assert len(a[0]) >= 9  # type: ignore[arg-type]


def test_cancelling_the_parent_cancels_its_open_child_and_stops_the_schedule() -> None:
    # A limit-style TWAP resting 50 ticks below a market that never moves: nothing fills.
    def start(s: Parents, bar: BarLike) -> None:
        now = s.ctx.now_ns
        s.send("twap", OrderSide.BUY, "1",
               TwapParams(start_ns=now, end_ns=now + 20 * MINUTE, slices=10, style=ChildStyle.LIMIT,
                          offset_ticks=-5000),
               )  # fmt: skip

    def stop(s: Parents, bar: BarLike) -> None:
        s.cancelled_at = s.ctx.now_ns  # type: ignore[attr-defined]
        assert s.ctx.cancel_algo(s.parents["twap"]) is True
        assert s.ctx.cancel_algo(s.parents["twap"]) is False  # no longer running

    s = Parents({1: start, 6: stop})

    result = backtest(s, flat(30))

    assert result.errors == []
    pid = s.parents["twap"]
    children = s.children(pid)
    cancelled_at: int = s.cancelled_at  # type: ignore[attr-defined]
    # Slices at bar 1's close + 0, 2, 4 minutes; then the cancel at bar 6's close.
    assert [ts for _, ts in children] == [START + 2 * MINUTE + k * 2 * MINUTE for k in range(3)]
    assert all(ts < cancelled_at for _, ts in children)
    for cid, _ in children:
        view = s.ctx.order(cid)
        assert view is not None
        assert view.status is OrderStatus.CANCELED
        assert view.price == Price("29950.00")  # near touch (close) 5000 ticks away
    last_child = children[-1][0]
    assert any(
        isinstance(e, OrderCanceled) and e.client_order_id == last_child for e, _ in s.events
    )
    report = s.final[pid]
    assert report is not None
    assert report.state is ExecutionState.CANCELED
    assert report.reason == "canceled by the strategy"
    assert report.filled.is_zero()
    assert report.working.is_zero()
    assert same(s.reports[-1], report)
    assert s.reports[-1].ts_event == cancelled_at
    assert result.fills == 0


def test_the_end_of_the_run_stops_a_running_parent_before_on_stop() -> None:
    def start(s: Parents, bar: BarLike) -> None:
        now = s.ctx.now_ns
        s.send("twap", OrderSide.BUY, "1",
               TwapParams(start_ns=now, end_ns=now + 100 * MINUTE, slices=50))  # fmt: skip

    s = Parents({0: start})

    result = backtest(s, flat(10))

    report = s.final[s.parents["twap"]]
    assert report is not None
    assert report.state is ExecutionState.CANCELED
    assert report.reason == "the backtest ended"
    assert same(s.reports[-1], report)
    # Slices every 2 minutes from bar 0's close (minute 1) to the last close (minute 10).
    assert len(s.children(s.parents["twap"])) == 5
    assert 0 < report.filled.as_decimal() < 1
    check_report(s, report)
    assert result.errors == []


def test_pov_follows_the_volume_of_the_bars() -> None:
    # 10 traded per bar; 10 % of it: 1.0 per bar, for a parent of 3.5.
    def start(s: Parents, bar: BarLike) -> None:
        s.send("pov", OrderSide.BUY, "3.5", PovParams(rate=Decimal("0.1")))

    s = Parents({1: start})

    backtest(s, flat(12, volume=10.0))

    pid = s.parents["pov"]
    children = s.children(pid)
    sizes = [s.quantity(cid) for cid, _ in children]
    assert sum(q.as_decimal() for q in sizes) == Decimal("3.5")
    # Each bar closing after the start adds 10 to the volume seen: a child of 1 at each close,
    # the last one the remaining 0.5 (the parent never gets ahead of its share).
    assert [ts for _, ts in children] == [START + k * MINUTE for k in (3, 4, 5, 6)]
    assert sizes == [Quantity("1.00000")] * 3 + [Quantity("0.50000")]
    report = s.final[pid]
    assert report is not None
    assert report.state is ExecutionState.DONE
    check_report(s, report)


def test_a_strategy_failure_stops_its_parents_and_routing_is_refused(history: BarArrays) -> None:
    refused: list[str] = []

    def start(s: Parents, bar: BarLike) -> None:
        try:
            s.send("sor", OrderSide.BUY, "1", RouteParams())
        except InvalidValue as exc:
            refused.append(str(exc))
        now = s.ctx.now_ns
        s.send("twap", OrderSide.BUY, "1",
               TwapParams(start_ns=now, end_ns=now + 30 * MINUTE, slices=10))  # fmt: skip

    def fail(s: Parents, bar: BarLike) -> None:
        raise RuntimeError("boom")

    s = Parents({0: start, 7: fail})

    result = backtest(s, history)

    assert len(refused) == 1
    assert "one" in refused[0]
    assert [e.hook for e in result.errors] == ["on_bar"]
    pid = s.parents["twap"]
    assert s.final == {}  # on_stop is not called for a failed strategy
    report = s.ctx.algo(pid)
    assert report is not None
    assert report.state is ExecutionState.CANCELED
    assert report.reason == "strategy failed in on_bar"
    failed_at = result.errors[0].ts_ns
    assert failed_at is not None
    assert all(ts <= failed_at for _, ts in s.children(pid))
    assert len(s.children(pid)) == 3  # minutes 1, 4, 7

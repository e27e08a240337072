"""Every shipped example strategy runs a whole backtest over 20,000 synthetic bars without an
error, trades, and leaves money that reconciles to the last unit of the quote currency."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import numpy as np
import pytest

from tradeforge.backtest import BacktestResult, run
from tradeforge.data import BarArrays, generate_bars
from tradeforge.domain import (
    ClientOrderId,
    InstrumentId,
    Money,
    OrderFilled,
    OrderListId,
    Timeframe,
)
from tradeforge.strategy import Strategy
from tradeforge.strategy.examples.bollinger_breakout import BollingerBreakout
from tradeforge.strategy.examples.pairs_spread import PairsSpread
from tradeforge.strategy.examples.rsi_reversion import RsiReversion
from tradeforge.strategy.examples.sma_cross import SmaCross

BTC = InstrumentId.from_str("BTC/USDT.SIM")
ALT = InstrumentId.from_str("ALT/USDT.SIM")
START = 1_577_836_800_000_000_000  # 2020-01-01
ONE_MINUTE = Timeframe.from_str("1m")
BARS = 20_000
FEE = Decimal("0.001")


@pytest.fixture(scope="module")
def bars() -> BarArrays:
    return generate_bars(bars=BARS, seed=7, timeframe=ONE_MINUTE, start_ns=START)


def chunked(bars: BarArrays, size: int = 7_001) -> list[BarArrays]:
    return [bars[i : i + size] for i in range(0, len(bars), size)]


def assert_money_reconciles(result: BacktestResult) -> None:
    zero = Money.zero(result.initial_cash.currency)
    assert (
        result.initial_cash + result.realized_pnl - result.fees - result.open_cost
        == result.final_cash
    )
    # Long-only strategies realize PnL only when a trade closes: the trades carry all of it.
    assert sum((t.pnl for t in result.trades), zero) == result.realized_pnl
    if result.open_cost.is_zero():
        assert sum((t.fees for t in result.trades), zero) == result.fees


@pytest.mark.parametrize(
    "strategy",
    [SmaCross(), RsiReversion(), BollingerBreakout()],
    ids=lambda s: s.name,
)
def test_a_single_instrument_example_trades_and_money_reconciles(
    bars: BarArrays, strategy: Strategy
) -> None:
    result = run(strategy, bars={BTC: chunked(bars)}, fee=FEE)

    assert result.errors == []
    assert result.bars == BARS
    assert len(result.trades) >= 1
    assert result.fees.amount > 0
    assert_money_reconciles(result)
    assert len(result.equity.ts) == BARS
    assert result.metrics.num_trades == len(result.trades)


class WatchedBreakout(BollingerBreakout):
    """The shipped breakout, noting which orders of each bracket filled."""

    name = "watched_breakout"

    def on_start(self) -> None:
        super().on_start()
        self.exits: dict[OrderListId, set[ClientOrderId]] = defaultdict(set)
        self.entries: dict[OrderListId, ClientOrderId] = {}

    def on_fill(self, fill: OrderFilled) -> None:
        order = self.ctx.order(fill.client_order_id)
        assert order is not None
        list_id = order.spec.order_list_id
        assert list_id is not None  # every order of this strategy is part of a bracket
        if order.spec.parent_order_id is None:
            self.entries[list_id] = fill.client_order_id
        else:
            self.exits[list_id].add(fill.client_order_id)


def test_no_bollinger_bracket_fills_both_its_stop_and_its_target(bars: BarArrays) -> None:
    strategy = WatchedBreakout()

    result = run(strategy, bars={BTC: chunked(bars)}, fee=FEE)

    assert result.errors == []
    assert len(strategy.entries) >= 10
    assert all(len(filled) == 1 for filled in strategy.exits.values())
    assert set(strategy.exits) <= set(strategy.entries)
    # Every bracket but possibly the last has exited, and each exit closed one round trip.
    assert len(strategy.entries) - len(strategy.exits) in (0, 1)
    assert len(result.trades) == len(strategy.exits)


def test_bollinger_breakout_does_not_depend_on_how_history_is_chunked() -> None:
    bars = generate_bars(bars=BARS, seed=1, timeframe=ONE_MINUTE, start_ns=START)

    whole = run(BollingerBreakout(), bars={BTC: bars}, fee=FEE)
    pieces = run(BollingerBreakout(), bars={BTC: chunked(bars, 997)}, fee=FEE)

    assert pieces.trades == whole.trades
    assert pieces.final_cash == whole.final_cash


# ------------------------------------------------------------------- pairs


def correlated(base: BarArrays, seed: int) -> BarArrays:
    """A second instrument that tracks ``base``: its close is base's close times (1 + noise)."""
    rng = np.random.default_rng(seed)
    noise = (
        1.0 + np.cumsum(rng.normal(0.0, 2e-4, len(base))) * 0.05 + rng.normal(0, 5e-4, len(base))
    )
    close = np.round(base.close * noise / 10.0, 2)
    open_ = np.concatenate(([close[0]], close[:-1]))
    wiggle = np.abs(rng.normal(0.0, 0.5, len(base)))
    high = np.round(np.maximum(open_, close) + wiggle, 2)
    low = np.round(np.minimum(open_, close) - wiggle, 2)
    return BarArrays(base.ts.copy(), open_, high, low, close, base.volume.copy())


def pairs(a: BarArrays, b: BarArrays) -> tuple[PairsSpread, BacktestResult]:
    strategy = PairsSpread({"window": "200", "entry": "2", "exit": "0.5"})
    result = run(strategy, bars={BTC: chunked(a), ALT: chunked(b, 5_003)}, fee=FEE)
    return strategy, result


def test_pairs_spread_on_two_correlated_instruments_trades_and_money_reconciles(
    bars: BarArrays,
) -> None:
    _, result = pairs(bars, correlated(bars, seed=11))

    assert result.errors == []
    assert {t.instrument_id for t in result.trades} == {BTC, ALT}
    assert_money_reconciles(result)


def test_pairs_spread_on_two_feeds_that_take_turns_trades_and_money_reconciles(
    bars: BarArrays,
) -> None:
    # The same two correlated series, B's bars shifted a minute and every bar two minutes
    # long apart, so the feeds take turns and never overlap (the merge works for this case).
    b = correlated(bars, seed=11)
    a_ts = START + np.arange(len(bars), dtype=np.int64) * 2 * 60_000_000_000
    a = BarArrays(a_ts, bars.open, bars.high, bars.low, bars.close, bars.volume)
    b = BarArrays(a_ts + 60_000_000_000, b.open, b.high, b.low, b.close, b.volume)

    strategy, result = pairs(a, b)

    assert result.errors == []
    assert result.bars == 2 * BARS
    assert {t.instrument_id for t in result.trades} == {BTC, ALT}
    assert_money_reconciles(result)
    assert strategy.instrument_ids == (BTC, ALT)

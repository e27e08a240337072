"""``run``: from strategies and bars (in memory or chunked) to a ``BacktestResult``; what it
infers (instruments, precisions), what it refuses, and the counts and money it reports."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from tradeforge.backtest import BacktestResult, run, spot_pair
from tradeforge.data import BarArrays, generate_bars
from tradeforge.domain import (
    KNOWN_CURRENCIES,
    CurrencyPair,
    InstrumentId,
    InvalidValue,
    Money,
    OrderFilled,
    Price,
    Quantity,
    StrategyId,
    Timeframe,
)
from tradeforge.strategy import BarLike, Strategy
from tradeforge.strategy.examples.sma_cross import SmaCross

BTC = InstrumentId.from_str("BTC/USDT.SIM")
START = 1_577_836_800_000_000_000
MINUTE = 60_000_000_000
USDT = KNOWN_CURRENCIES["USDT"]


def synthetic(n: int, seed: int = 1) -> BarArrays:
    return generate_bars(bars=n, seed=seed, timeframe=Timeframe.from_str("1m"), start_ns=START)


class BuyOnce(Strategy):
    """Buys ``qty`` at its ``at``-th bar and keeps what it learns about its instrument."""

    def __init__(self, at: int = 2, qty: str = "1") -> None:
        super().__init__()
        self.at, self.qty, self.n = at, qty, -1
        self.fills: list[OrderFilled] = []

    def on_start(self) -> None:
        self.seen_instrument = self.ctx.instrument(self.instrument_id)

    def on_bar(self, bar: BarLike) -> None:
        self.n += 1
        if self.n == self.at:
            self.buy(self.qty)

    def on_fill(self, fill: OrderFilled) -> None:
        self.fills.append(fill)


@pytest.fixture(scope="module")
def bars() -> BarArrays:
    return synthetic(5_000)


def backtest(bars: BarArrays, chunk: int | None = None) -> BacktestResult:
    data = bars if chunk is None else [bars[i : i + chunk] for i in range(0, len(bars), chunk)]
    return run(SmaCross(), bars={BTC: data}, fee=Decimal("0.001"))


# ------------------------------------------------------------------ inputs


def test_bars_in_one_array_or_in_chunks_give_the_same_run(bars: BarArrays) -> None:
    whole = backtest(bars)

    for chunk in (997, 1_234, 4_999):
        chunked = backtest(bars, chunk)
        assert chunked.trades == whole.trades
        assert chunked.final_cash == whole.final_cash
        assert chunked.metrics == whole.metrics


def test_empty_chunks_are_skipped(bars: BarArrays) -> None:
    empty = BarArrays.empty()

    result = run(SmaCross(), bars={BTC: [bars[:2_000], empty, empty, bars[2_000:], empty]})

    assert result.bars == len(bars)
    assert result.trades == run(SmaCross(), bars={BTC: bars}).trades


def test_an_empty_first_chunk_does_not_change_the_instrument(bars: BarArrays) -> None:
    strategy = BuyOnce()

    run(strategy, bars={BTC: [BarArrays.empty(), bars[:10]]})

    assert strategy.seen_instrument.tick_size == Price("0.01")
    assert strategy.seen_instrument.lot_size == Quantity("0.001")


def test_progress_reports_the_rows_of_each_window(bars: BarArrays) -> None:
    done: list[int] = []

    run(SmaCross(), bars={BTC: [bars[:1_500], bars[1_500:]]}, progress=done.append)

    # One report per time-aligned block of 4,096 minutes, adding up to every bar.
    assert sum(done) == len(bars)
    assert len(done) == len({int(t) // (4096 * 60 * 10**9) for t in bars.ts})


def test_the_instrument_is_inferred_from_the_symbol_and_the_datas_precision() -> None:
    strategy = BuyOnce()

    run(strategy, bars={BTC: synthetic(10)}, fee=Decimal("0.002"))

    inst = strategy.seen_instrument
    assert isinstance(inst, CurrencyPair)
    assert (inst.base_currency.code, inst.quote_currency.code) == ("BTC", "USDT")
    assert (inst.tick_size, inst.lot_size) == (Price("0.01"), Quantity("0.001"))
    assert inst.taker_fee == inst.maker_fee == Decimal("0.002")


def test_an_instrument_given_is_used_with_the_fee_of_the_run() -> None:
    given = spot_pair(BTC, price_precision=1, size_precision=2)
    strategy = BuyOnce(qty="0.25")

    run(strategy, bars={BTC: synthetic(10)}, instruments=[given], fee=Decimal("0.001"))

    assert strategy.seen_instrument.tick_size == Price("0.1")
    [fill] = strategy.fills
    assert fill.last_qty == Quantity("0.25")
    assert fill.commission == Money.rounded(
        fill.last_px.as_decimal() * Decimal("0.25") * Decimal("0.001"), USDT
    )


def test_spot_pair_reads_base_and_quote_from_the_symbol() -> None:
    pair = spot_pair(BTC, price_precision=2, size_precision=3, fee=Decimal("0.001"))

    assert pair.raw_symbol == "BTCUSDT"
    assert (pair.min_quantity, pair.taker_fee) == (Quantity("0.001"), Decimal("0.001"))
    with pytest.raises(InvalidValue, match="cannot tell base and quote currencies"):
        spot_pair(InstrumentId.from_str("BTCUSDT.SIM"), price_precision=2, size_precision=3)


def test_commission_is_the_fee_rate_times_the_notional(bars: BarArrays) -> None:
    strategy = BuyOnce()

    result = run(strategy, bars={BTC: bars[:10]}, fee=Decimal("0.001"))

    [fill] = strategy.fills
    notional = fill.last_px.as_decimal() * fill.last_qty.as_decimal()
    assert fill.commission == Money.rounded(notional * Decimal("0.001"), USDT)
    assert result.fees == fill.commission


# ---------------------------------------------------------------- refusals


def test_a_run_needs_bars_or_a_catalog() -> None:
    with pytest.raises(InvalidValue, match="give bars=, or a catalog= and instrument_ids="):
        run(SmaCross())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cash": 0}, "cash must be positive, got 0.00000000 USDT"),
        ({"cash": "-5"}, "cash must be positive, got -5.00000000 USDT"),
        ({"timeframe": "7x"}, "timeframe must look like 1m, 5m, 1h or 1d; got '7x'"),
    ],
)
def test_bad_arguments_are_refused_naming_them(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        run(SmaCross(), bars={BTC: synthetic(5)}, **kwargs)  # type: ignore[arg-type]

    assert str(caught.value) == message


def test_a_run_needs_a_strategy() -> None:
    with pytest.raises(InvalidValue, match="at least one strategy"):
        run([], bars={BTC: synthetic(5)})


def test_a_strategy_trading_an_instrument_without_bars_is_refused() -> None:
    strategy = SmaCross(instruments=["ETH/USDT.SIM"])

    with pytest.raises(InvalidValue, match=r"trades ETH/USDT\.SIM, which has no bars"):
        run(strategy, bars={BTC: synthetic(5)})


def test_instruments_must_share_one_venue_and_one_quote_currency() -> None:
    five = synthetic(5)

    with pytest.raises(InvalidValue, match=r"one venue; got \['OTHER', 'SIM'\]"):
        run(SmaCross(), bars={BTC: five, InstrumentId.from_str("ETH/USDT.OTHER"): five})
    with pytest.raises(InvalidValue, match=r"one quote currency .*got \['BTC', 'USDT'\]"):
        run(SmaCross(), bars={BTC: five, InstrumentId.from_str("ETH/BTC.SIM"): five})


def test_no_instruments_at_all_is_refused_saying_so() -> None:
    with pytest.raises(InvalidValue, match="bars"):
        run(SmaCross(), bars={})


def test_cash_that_is_not_a_number_is_refused_naming_it() -> None:
    with pytest.raises(InvalidValue, match="cash"):
        run(SmaCross(), bars={BTC: synthetic(5)}, cash="abc")


def test_start_ns_with_bars_in_memory_starts_the_run_there() -> None:
    result = run(SmaCross(), bars={BTC: synthetic(100)}, start_ns=START + 50 * MINUTE)

    assert result.bars == 50


def test_end_ns_with_bars_in_memory_stops_the_run_there() -> None:
    result = run(SmaCross(), bars={BTC: synthetic(100)}, end_ns=START + 50 * MINUTE)

    assert result.bars == 50


# ----------------------------------------------------------------- results


def test_the_result_counts_bars_orders_and_trades(bars: BarArrays) -> None:
    result = backtest(bars, 997)

    assert result.bars == len(bars)
    assert result.orders == 2 * len(result.trades) + (1 if result.open_cost.amount else 0)
    assert result.metrics.num_trades == len(result.trades)
    assert result.errors == []
    assert set(result.strategies) == {StrategyId("sma_cross-1")}


def test_the_result_counts_fills() -> None:
    strategy = BuyOnce()

    result = run(strategy, bars={BTC: synthetic(10)})

    assert len(strategy.fills) == 1
    assert result.fills == 1


def test_money_reconciles_exactly(bars: BarArrays) -> None:
    result = backtest(bars, 997)

    assert (
        result.initial_cash + result.realized_pnl - result.fees - result.open_cost
        == result.final_cash
    )
    assert sum((t.pnl for t in result.trades), Money.zero(USDT)) == result.realized_pnl


def test_the_whole_run_and_its_only_strategy_agree(bars: BarArrays) -> None:
    result = backtest(bars)

    [mine] = result.strategies.values()
    assert mine.trades == result.trades
    assert mine.metrics.num_trades == result.metrics.num_trades
    assert (mine.equity.equity == result.equity.equity).all()


def test_a_run_without_bars_reports_nothing_happened() -> None:
    result = run(SmaCross(), bars={BTC: BarArrays.empty()})

    assert (result.bars, result.orders, result.trades) == (0, 0, [])
    assert result.final_cash == result.initial_cash
    assert len(result.equity.ts) == 0


def test_the_tick_is_fine_enough_for_every_price_in_the_data() -> None:
    def chunk(first: int, closes: list[float], highs: list[float]) -> BarArrays:
        c, h = np.array(closes), np.array(highs)
        ts = START + (first + np.arange(len(c), dtype=np.int64)) * MINUTE
        return BarArrays(ts, c, h, c - 1, c, np.ones(len(c)))

    class Watcher(Strategy):
        def on_start(self) -> None:
            self.seen: list[tuple[Price, Price]] = []

        def on_bar(self, bar: BarLike) -> None:
            self.seen.append((bar.close, bar.high))

    watcher = Watcher()

    run(
        watcher,
        bars={
            BTC: [
                chunk(0, [100.5, 101.0], [102.25, 103.75]),
                chunk(2, [101.25, 101.35], [102.0, 102.0]),
            ]
        },
    )

    assert watcher.seen == [
        (Price("100.50"), Price("102.25")),
        (Price("101.00"), Price("103.75")),
        (Price("101.25"), Price("102.00")),
        (Price("101.35"), Price("102.00")),
    ]


def test_a_lone_strategys_metrics_equal_the_runs() -> None:
    result = run(BuyOnce(), bars={BTC: synthetic(20)}, fee=Decimal("0.001"))

    [mine] = result.strategies.values()
    assert result.open_cost.amount > 0  # still holding at the end
    assert mine.metrics.final_cash == result.metrics.final_cash
    assert mine.metrics.fees == result.metrics.fees
    assert mine.metrics.final_equity == result.metrics.final_equity

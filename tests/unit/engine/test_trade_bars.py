"""``TradeBarAggregator``: trades in, time bars out, on the catalog's grid; a bar is handed out
once, and a trade that arrives after its bar was closed never makes a second bar of the same
interval (found by the backtest/paper parity test: the timer closed a bar, its last trade came
a moment later and opened a one-trade bar with the same open time)."""

from __future__ import annotations

from decimal import Decimal

from tradeforge.backtest import spot_pair
from tradeforge.domain import InstrumentId, Timeframe
from tradeforge.engine import TradeBarAggregator

INST = spot_pair(InstrumentId.from_str("BTC/USDT.SIM"), price_precision=2, size_precision=3)
MINUTE = Timeframe.from_str("1m")
S = 1_000_000_000
T0 = 1_700_000_040 * S  # a minute edge


def d(text: str) -> Decimal:
    return Decimal(text)


def test_a_bar_is_closed_by_the_next_intervals_first_trade() -> None:
    agg = TradeBarAggregator(INST, MINUTE)
    assert agg.on_trade(d("100"), d("1"), T0 + 1 * S) is None
    assert agg.on_trade(d("103"), d("2"), T0 + 20 * S) is None
    assert agg.on_trade(d("99"), d("0.5"), T0 + 40 * S) is None
    assert agg.on_trade(d("101"), d("1"), T0 + 59 * S) is None
    bar = agg.on_trade(d("102"), d("1"), T0 + 61 * S)
    assert bar is not None
    assert (bar.ts_open, bar.ts_event) == (T0, T0 + 60 * S)
    assert [bar.open.as_decimal(), bar.high.as_decimal(), bar.low.as_decimal()] == [
        d("100"), d("103"), d("99"),
    ]  # fmt: skip
    assert (bar.close.as_decimal(), bar.volume.as_decimal()) == (d("101"), d("4.5"))


def test_a_trade_arriving_after_its_bar_was_flushed_is_dropped_not_a_second_bar() -> None:
    agg = TradeBarAggregator(INST, MINUTE)
    agg.on_trade(d("100"), d("1"), T0 + 10 * S)
    assert agg.flush(T0 + 59 * S) is None  # not over yet
    first = agg.flush(T0 + 60 * S)
    assert first is not None
    assert first.ts_open == T0
    # Stamped inside the flushed interval, delivered late: dropped and counted.
    assert agg.on_trade(d("120"), d("1"), T0 + 59 * S) is None
    assert agg.late == 1
    nxt = agg.on_trade(d("101"), d("1"), T0 + 61 * S)
    assert nxt is None
    second = agg.flush(T0 + 120 * S)
    assert second is not None
    assert second.ts_open == T0 + 60 * S
    assert second.open.as_decimal() == d("101")  # the late trade is in neither bar
    assert first.high.as_decimal() == d("100")


def test_an_interval_without_trades_makes_no_bar() -> None:
    agg = TradeBarAggregator(INST, MINUTE)
    agg.on_trade(d("100"), d("1"), T0)
    bar = agg.on_trade(d("100"), d("1"), T0 + 180 * S)
    assert bar is not None
    assert bar.ts_open == T0
    assert agg.flush(T0 + 239 * S) is None
    assert agg.flush(T0 + 240 * S) is not None
    assert agg.flush(T0 + 300 * S) is None

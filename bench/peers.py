"""The same strategy in backtesting.py and backtrader, fed the same OHLCV arrays.

Both are configured to TradeForge's semantics: the signal at a bar's close, a market order of
size 1 filled at the next bar's open, 0.1 % commission on every fill, a position opened only
while flat and closed on the opposite cross, and the strict cross rule
``prev fast < prev slow and cur fast > cur slow``.

* backtesting.py: ``lib.crossover`` is exactly that rule (``s1[-2] < s2[-2] and s1[-1] >
  s2[-1]``), so it is used as is. The SMAs are TA-Lib's (``self.I(talib.SMA, ...)``), the
  function TradeForge computes, so both see the same floats except where TradeForge restarts
  TA-Lib's running sum (it computes indicators block by block over the streamed history).
* backtrader: ``bt.ind.CrossOver`` is NOT the same rule: it remembers the last non-zero
  difference, so a touch (fast == slow on the previous bar) followed by a move counts as a cross.
  The strategy compares the SMA lines by hand instead. ``bt.ind.SMA`` averages with
  ``math.fsum`` (correctly rounded), so its values can differ from TA-Lib's running sum in the
  last bits, which flips near-equal crossings.

Importing this module imports pandas, backtesting and backtrader (the ``bench`` extras).
"""

from __future__ import annotations

import time
import warnings

import backtesting
import backtrader as bt
import numpy as np
import pandas as pd
import talib
from backtesting.lib import crossover

from bench.tradeforge_case import RunOutcome
from bench.workload import CASH, FAST, FEE, SIZE, SLOW, Trade
from tradeforge.data import BarArrays


def frame(bars: BarArrays) -> pd.DataFrame:
    """The bars as the OHLCV DataFrame both peers read (index: bar open time, UTC, naive)."""
    index = pd.DatetimeIndex(np.asarray(bars.ts).astype("datetime64[ns]"), name="time")
    return pd.DataFrame(
        {
            "Open": bars.open,
            "High": bars.high,
            "Low": bars.low,
            "Close": bars.close,
            "Volume": bars.volume,
        },
        index=index,
    )


# ------------------------------------------------------------------ backtesting.py
class BpSmaCross(backtesting.Strategy):
    """SMA(10)/SMA(30) crossover, long only, size 1, in backtesting.py."""

    def init(self) -> None:
        close = self.data.Close
        self.fast = self.I(talib.SMA, close, FAST, name="fast")
        self.slow = self.I(talib.SMA, close, SLOW, name="slow")

    def next(self) -> None:
        if crossover(self.fast, self.slow):
            if not self.position:
                self.buy(size=SIZE)
        elif crossover(self.slow, self.fast) and self.position:
            self.position.close()


def run_backtesting(df: pd.DataFrame, ts: np.ndarray) -> RunOutcome:
    """One timed backtesting.py run: ``Backtest(...)`` and ``.run()`` (stats included)."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        # "Some trades remain open": expected, an open position at the end is not a trade.
        warnings.simplefilter("ignore")
        test = backtesting.Backtest(
            df,
            BpSmaCross,
            cash=CASH,
            commission=FEE,
            trade_on_close=False,
            exclusive_orders=False,
            finalize_trades=False,
        )
        stats = test.run()
    seconds = time.perf_counter() - start
    done = stats["_trades"]
    trades: list[Trade] = [
        (int(ts[entry]), float(entry_price), int(ts[exit_]), float(exit_price))
        for entry, entry_price, exit_, exit_price in zip(
            done["EntryBar"], done["EntryPrice"], done["ExitBar"], done["ExitPrice"], strict=True
        )
    ]
    return RunOutcome(
        seconds=seconds,
        bars=len(df),
        trades=trades,
        final_equity=float(stats["Equity Final [$]"]),
    )


# ---------------------------------------------------------------------- backtrader
class BtSmaCross(bt.Strategy):
    """SMA(10)/SMA(30) crossover, long only, size 1, in backtrader (strict cross by hand)."""

    def __init__(self) -> None:
        self.fast = bt.ind.SMA(self.data.close, period=FAST)
        self.slow = bt.ind.SMA(self.data.close, period=SLOW)
        self.fills: list[tuple[int, float, bool]] = []  # (bar index, price, is buy)

    def next(self) -> None:
        fast, slow = self.fast, self.slow
        if fast[-1] < slow[-1] and fast[0] > slow[0]:
            if not self.position:
                self.buy(size=SIZE)
        elif fast[-1] > slow[-1] and fast[0] < slow[0] and self.position:
            self.close()

    def notify_order(self, order: bt.Order) -> None:
        if order.status == order.Completed:
            # Called on the bar the order executed on, before next(): len(data) - 1 is its index.
            self.fills.append((len(self.data) - 1, order.executed.price, order.isbuy()))


def run_backtrader(df: pd.DataFrame, ts: np.ndarray) -> RunOutcome:
    """One timed backtrader run: Cerebro set-up, feed loading (preload) and ``.run()``.

    ``stdstats=False`` (no broker/trades/buy-sell observers: nothing here reads them);
    ``cheat_on_open`` stays off, so market orders fill at the next bar's open.
    """
    start = time.perf_counter()
    cerebro = bt.Cerebro(stdstats=False, cheat_on_open=False)
    cerebro.adddata(bt.feeds.PandasData(dataname=df, timeframe=bt.TimeFrame.Minutes))
    cerebro.addstrategy(BtSmaCross)
    cerebro.broker.setcash(CASH)
    cerebro.broker.setcommission(commission=FEE)
    strategy = cerebro.run()[0]
    seconds = time.perf_counter() - start
    trades: list[Trade] = []
    entry: tuple[int, float] | None = None
    for index, price, is_buy in strategy.fills:
        if is_buy:
            entry = (int(ts[index]), float(price))
        elif entry is not None:
            trades.append((entry[0], entry[1], int(ts[index]), float(price)))
            entry = None
    return RunOutcome(
        seconds=seconds,
        bars=len(df),
        trades=trades,
        final_equity=float(cerebro.broker.getvalue()),
    )

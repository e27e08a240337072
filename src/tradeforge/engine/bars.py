"""Time bars built from trades, for live and paper trading.

A bar covers ``[open, open + timeframe)`` on the timeframe's grid (the same open times as the
history catalog's). It is closed, and handed out, by the first trade of a later interval or by
``flush(now)`` once its interval has passed (the node calls it on a timer). An interval with
no trade makes no bar. Prices and volumes are exact: the bar is a domain ``Bar``.

A trade stamped inside an interval whose bar has already been handed out (it arrived after the
timer closed the bar, or out of order) is dropped and counted in ``late``: the bar is history
once strategies have seen it, and a second bar with the same open time must never follow it.
"""

from __future__ import annotations

from decimal import Decimal

from tradeforge.domain import Bar, Instrument, Timeframe

__all__ = ["TradeBarAggregator"]


class TradeBarAggregator:
    """Trades of one instrument in, closed bars of one timeframe out."""

    def __init__(self, instrument: Instrument, timeframe: Timeframe) -> None:
        self.instrument = instrument
        self.timeframe = timeframe
        self._span = timeframe.nanos
        self._open_ns: int | None = None
        self._closed_ns: int | None = None  # open time of the last bar handed out
        self.late = 0
        self._o = self._h = self._l = self._c = Decimal(0)
        self._v = Decimal(0)

    def on_trade(self, price: Decimal, size: Decimal, ts_ns: int) -> Bar | None:
        """Add one trade; returns the bar it closed, if it opened a new interval."""
        start = ts_ns - ts_ns % self._span
        if self._closed_ns is not None and start <= self._closed_ns:
            self.late += 1  # its bar was handed out already
            return None
        closed = None
        if self._open_ns is not None and start > self._open_ns:
            closed = self._bar()
        if self._open_ns is None or start > self._open_ns:
            self._open_ns = start
            self._o = self._h = self._l = self._c = price
            self._v = size
        elif start == self._open_ns:
            self._h, self._l, self._c = max(self._h, price), min(self._l, price), price
            self._v += size
        else:  # older than the current bar: that bar has closed
            self.late += 1
        return closed

    def flush(self, now_ns: int) -> Bar | None:
        """Close the current bar if its interval has passed by ``now_ns``."""
        if self._open_ns is None or now_ns < self._open_ns + self._span:
            return None
        bar = self._bar()
        self._open_ns = None
        return bar

    def _bar(self) -> Bar:
        assert self._open_ns is not None
        self._closed_ns = self._open_ns
        inst = self.instrument
        close_ns = self._open_ns + self._span
        return Bar(
            instrument_id=inst.id,
            timeframe=self.timeframe,
            open=inst.make_price(self._o),
            high=inst.make_price(self._h),
            low=inst.make_price(self._l),
            close=inst.make_price(self._c),
            volume=inst.make_qty(self._v),
            ts_event=close_ns,
            ts_init=close_ns,
        )

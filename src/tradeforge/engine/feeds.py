"""``LiveBarFeed``: one instrument's closed bars for the strategies of a node.

It keeps the recent bars strategies ask for and feeds their indicators through
``RollingWindow``, whose values equal the backtest's bit for bit.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from tradeforge.domain import Bar, InstrumentId, Timeframe
from tradeforge.strategy import Indicator
from tradeforge.strategy.indicators import RollingWindow

__all__ = ["LiveBarFeed"]


class LiveBarFeed:
    """Closed bars of one instrument and timeframe, with indicators and a memory of recent bars."""

    def __init__(self, instrument_id: InstrumentId, timeframe: Timeframe) -> None:
        self.instrument_id = instrument_id
        self.timeframe = timeframe
        self.keep = 2
        self._bars: deque[Bar] = deque(maxlen=10_000)
        self._indicators: list[Indicator] = []
        self._window: RollingWindow | None = None

    def add_indicator(self, indicator: Indicator) -> None:
        """Feed ``indicator`` from now on (add every indicator before the first bar)."""
        self._indicators.append(indicator)
        self._window = None

    def remove_indicator(self, indicator: Indicator) -> None:
        """Stop feeding ``indicator`` (its strategy stopped); the others are rebuilt from the
        kept bars at the next bar."""
        self._indicators = [i for i in self._indicators if i is not indicator]
        self._window = None

    def push(self, bar: Bar) -> None:
        """One more closed bar."""
        if self._window is None and self._indicators:
            self._window = RollingWindow(self._indicators, self.timeframe)
            for old in self._bars:  # indicators added after bars arrived see them too
                self._window.update(old.ts_open, _row(old))
        self._bars.append(bar)
        if self._window is not None:
            self._window.update(bar.ts_open, _row(bar))

    def recent(self, n: int) -> Sequence[Bar]:
        """The last ``n`` bars, oldest first."""
        bars = list(self._bars)
        return bars[-n:]

    @property
    def last(self) -> Bar | None:
        """The newest bar, if any."""
        return self._bars[-1] if self._bars else None


def _row(bar: Bar) -> dict[str, float]:
    return {
        "open": bar.open.as_float(),
        "high": bar.high.as_float(),
        "low": bar.low.as_float(),
        "close": bar.close.as_float(),
        "volume": bar.volume.as_float(),
    }

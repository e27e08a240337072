"""Long-only moving-average crossover.

Buys ``size`` when the fast SMA of closes crosses above the slow one (previous fast < previous slow
and current fast > current slow) while flat, and closes the position on the opposite cross.
"""

from __future__ import annotations

from decimal import Decimal

from tradeforge.domain import InvalidValue
from tradeforge.strategy.base import BarLike, Strategy
from tradeforge.strategy.params import DecimalParam, IntParam


class SmaCross(Strategy):
    """SMA(fast) / SMA(slow) crossover, long only, market orders."""

    name = "sma_cross"
    fast = IntParam(10, min=2, max=1_000, step=1, description="fast SMA period (bars)")
    slow = IntParam(30, min=3, max=5_000, step=1, description="slow SMA period (bars)")
    size = DecimalParam(Decimal(1), min=Decimal(0), description="quantity bought on each entry")

    def check_params(self) -> None:
        if self.fast >= self.slow:
            raise InvalidValue(f"parameter 'fast' = {self.fast} must be below 'slow' = {self.slow}")
        if self.size <= 0:
            raise InvalidValue(f"parameter 'size' = {self.size} must be positive")

    def on_start(self) -> None:
        self._fast = self.indicator("SMA", timeperiod=self.fast)
        self._slow = self.indicator("SMA", timeperiod=self.slow)
        self._qty = self.ctx.instrument(self.instrument_id).make_qty(self.size)

    def on_bar(self, bar: BarLike) -> None:
        if self._fast.crossed_above(self._slow):
            if not self.position_qty():
                self.buy(self._qty)
        elif self._fast.crossed_below(self._slow) and self.position_qty() > 0:
            self.close_position()

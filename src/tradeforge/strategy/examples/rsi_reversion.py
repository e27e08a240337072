"""Mean reversion on RSI: buy when oversold, sell when overbought (long only)."""

from __future__ import annotations

from decimal import Decimal

from tradeforge.domain import InvalidValue
from tradeforge.strategy.base import BarLike, Strategy
from tradeforge.strategy.params import DecimalParam, FloatParam, IntParam


class RsiReversion(Strategy):
    """Buys ``size`` when RSI(period) falls below ``lower`` while flat; exits above ``upper``."""

    name = "rsi_reversion"
    period = IntParam(14, min=2, max=200, description="RSI period (bars)")
    lower = FloatParam(30.0, min=1.0, max=99.0, description="oversold level: buy below it")
    upper = FloatParam(70.0, min=1.0, max=99.0, description="overbought level: exit above it")
    size = DecimalParam(Decimal(1), min=Decimal(0), description="quantity bought on each entry")

    def check_params(self) -> None:
        if self.size <= 0:
            raise InvalidValue(f"parameter 'size' = {self.size} must be positive")
        if self.lower >= self.upper:
            raise InvalidValue(
                f"parameter 'lower' = {self.lower} must be below 'upper' = {self.upper}"
            )

    def on_start(self) -> None:
        self._rsi = self.indicator("RSI", timeperiod=self.period)
        self._qty = self.ctx.instrument(self.instrument_id).make_qty(self.size)

    def on_bar(self, bar: BarLike) -> None:
        rsi = self._rsi[-1]
        held = self.position_qty()
        if not held and rsi < self.lower and not self.ctx.open_orders(self.instrument_id):
            self.buy(self._qty)
        elif held > 0 and rsi > self.upper:
            self.close_position()

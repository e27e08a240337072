"""Breakout above the upper Bollinger band, entered with a bracket order.

On a close above the upper band while flat, it buys at market with a stop-loss at the middle band
and a take-profit ``reward_risk`` times that distance above the close; whichever exit fills first
cancels the other.
"""

from __future__ import annotations

import math
from decimal import ROUND_DOWN, ROUND_UP, Decimal

from tradeforge.domain import InvalidValue, OrderSide
from tradeforge.strategy.base import BarLike, Strategy
from tradeforge.strategy.params import DecimalParam, FloatParam, IntParam


class BollingerBreakout(Strategy):
    """Bracketed breakout on BBANDS(period, nbdev)."""

    name = "bollinger_breakout"
    period = IntParam(20, min=2, max=500, description="Bollinger period (bars)")
    nbdev = FloatParam(2.0, min=0.1, max=10.0, description="band width in standard deviations")
    reward_risk = DecimalParam(Decimal(2), min=Decimal("0.1"), description="target / stop distance")
    size = DecimalParam(Decimal(1), min=Decimal(0), description="quantity per entry")

    def check_params(self) -> None:
        if self.size <= 0:
            raise InvalidValue(f"parameter 'size' = {self.size} must be positive")

    def on_start(self) -> None:
        period, width = self.period, self.nbdev
        self._upper = self.indicator(
            "BBANDS", output="upperband", timeperiod=period, nbdevup=width, nbdevdn=width
        )
        self._middle = self.indicator(
            "BBANDS", output="middleband", timeperiod=period, nbdevup=width, nbdevdn=width
        )
        self._instrument = self.ctx.instrument(self.instrument_id)
        self._qty = self._instrument.make_qty(self.size)

    def on_bar(self, bar: BarLike) -> None:
        upper, middle = self._upper[-1], self._middle[-1]
        if math.isnan(upper) or self.position_qty() or self.ctx.open_orders(self.instrument_id):
            return  # not ready (NaN), in a trade, or an entry is on its way
        close = bar.close.as_decimal()
        if close <= Decimal(repr(upper)):
            return
        inst = self._instrument
        stop = inst.make_price(Decimal(repr(middle)), rounding=ROUND_DOWN)
        risk = close - stop.as_decimal()
        if risk <= 0:
            return
        target = inst.make_price(close + risk * self.reward_risk, rounding=ROUND_UP)
        bracket = self.ctx.orders.bracket(
            self.instrument_id, OrderSide.BUY, self._qty, stop_loss=stop, take_profit=target
        )
        self.ctx.submit_list(bracket)

"""Pairs trading on the log price ratio of two instruments (long only, for spot accounts).

The z-score of ``log(A) - log(B)`` over ``window`` bars says which leg is cheap. Below
``-entry`` A is cheap: hold A. Above ``entry`` B is cheap: hold B. When the z-score comes back
inside ``exit`` the position is closed. Each leg is sized to ``notional`` in the quote currency.
"""

from __future__ import annotations

import math
from collections import deque
from decimal import ROUND_DOWN, Decimal

from tradeforge.domain import InstrumentId, InvalidValue
from tradeforge.strategy.base import BarLike, Strategy
from tradeforge.strategy.params import DecimalParam, FloatParam, IntParam


class PairsSpread(Strategy):
    """Rotates into the cheaper of two co-moving instruments."""

    name = "pairs_spread"
    window = IntParam(100, min=10, max=10_000, description="z-score window (bars)")
    entry = FloatParam(2.0, min=0.1, max=10.0, description="z-score to enter")
    exit = FloatParam(0.5, min=0.0, max=10.0, description="z-score to exit")
    notional = DecimalParam(Decimal(1000), min=Decimal(0), description="quote amount per entry")

    def check_params(self) -> None:
        if self.notional <= 0:
            raise InvalidValue(f"parameter 'notional' = {self.notional} must be positive")
        if self.exit >= self.entry:
            raise InvalidValue(
                f"parameter 'exit' = {self.exit} must be below 'entry' = {self.entry}"
            )

    def on_start(self) -> None:
        if len(self.instrument_ids) != 2:
            raise InvalidValue(
                f"pairs_spread needs exactly two instruments, got {self.instrument_ids}"
            )
        self._a, self._b = self.instrument_ids
        self._last: dict[InstrumentId, float] = {}
        self._spread: deque[float] = deque(maxlen=self.window)
        self._ts = -1

    def on_bar(self, bar: BarLike) -> None:
        self._last[bar.instrument_id] = bar.close.as_float()
        if len(self._last) < 2 or bar.ts_event == self._ts:
            return
        self._ts = bar.ts_event
        spread = math.log(self._last[self._a]) - math.log(self._last[self._b])
        self._spread.append(spread)
        if len(self._spread) < self.window:
            return
        mean = sum(self._spread) / len(self._spread)
        var = sum((x - mean) ** 2 for x in self._spread) / (len(self._spread) - 1)
        if var <= 0:
            return
        z = (spread - mean) / math.sqrt(var)
        held_a, held_b = self.position_qty(self._a), self.position_qty(self._b)
        if self.ctx.open_orders():
            return
        if held_a or held_b:
            if abs(z) < self.exit:
                self.close_position(self._a if held_a else self._b)
        elif z < -self.entry:
            self._enter(self._a)
        elif z > self.entry:
            self._enter(self._b)

    def _enter(self, instrument_id: InstrumentId) -> None:
        inst = self.ctx.instrument(instrument_id)
        price = Decimal(repr(self._last[instrument_id]))
        qty = inst.make_qty(self.notional / price, rounding=ROUND_DOWN)
        if qty >= inst.min_quantity and qty > 0:
            self.buy(qty, instrument_id=instrument_id)

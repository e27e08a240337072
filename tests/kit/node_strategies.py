"""Strategies the node tests run in another process (``tests.kit.node_strategies:Churn``)."""

from __future__ import annotations

from decimal import Decimal

from tradeforge.bus import TimeEvent
from tradeforge.domain import ClientOrderId
from tradeforge.strategy import Strategy


class Churn(Strategy):
    """Every 100 ms: a market order alternating buy and sell, a limit buy far below the market,
    and a cancel of the previous limit: a steady stream of submits, fills and cancels."""

    name = "churn"

    def on_start(self) -> None:
        self._n = 0
        self._limit: ClientOrderId | None = None
        self.ctx.set_timer("churn", 100_000_000)

    def on_timer(self, event: TimeEvent) -> None:
        inst = self.ctx.instrument(self.instrument_id)
        self._n += 1
        qty = inst.make_qty(Decimal("0.001"))
        if self._n % 2:
            self.buy(qty)
        else:
            self.sell(qty)
        last = self.ctx.last_price(self.instrument_id)
        if last is None:
            return
        if self._limit is not None:
            self.ctx.cancel(self._limit)
        self._limit = self.buy(qty, price=inst.make_price(last.as_decimal() * Decimal("0.8")))

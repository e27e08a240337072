"""Strategies the node tests run in another process (``tests.kit.node_strategies:Churn``,
``tests.kit.node_strategies:CrashProbe``)."""

from __future__ import annotations

from decimal import Decimal

from tradeforge.bus import TimeEvent
from tradeforge.domain import (
    ClientOrderId,
    OrderAccepted,
    OrderEvent,
    OrderSide,
    TimeInForce,
    TradeTick,
)
from tradeforge.strategy import ChoiceParam, DecimalParam, IntParam, Strategy


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


class CrashProbe(Strategy):
    """The crash matrix's strategy (RELIABILITY.md OMS-1). ``rounds`` times, one per trade seen:
    an order of ``kind`` that trades at once (a buy priced 5 % above the market) and one that does
    not (LIMIT GTC: a buy 20 % below, which rests; MARKET: a sell; IOC: a buy 20 % below, which
    expires). Each order is cancelled as soon as the venue accepts it, so a round passes the
    submit, ack, fill and cancel paths (a cancel of an order already done is refused).

    ``bracket``: a market buy with a stop-loss 20 % below and a take-profit 20 % above, left
    working (the node's stop cancels them): the exits are the venue's native OCO list."""

    name = "crash_probe"
    kind = ChoiceParam("limit", ["limit", "market", "ioc", "bracket"])
    rounds = IntParam(1, min=0)
    size = DecimalParam(Decimal("0.001"))

    def on_start(self) -> None:
        self._done = 0

    def on_trade(self, trade: TradeTick) -> None:
        if self._done >= self.rounds:
            return
        self._done += 1
        inst = self.ctx.instrument(self.instrument_id)
        last = trade.price.as_decimal()
        above = inst.make_price(last * Decimal("1.05"))
        below = inst.make_price(last * Decimal("0.8"))
        qty = inst.make_qty(self.size)
        if self.kind == "bracket":
            self.ctx.submit_list(
                self.ctx.orders.bracket(
                    self.instrument_id, OrderSide.BUY, qty, stop_loss=below,
                    take_profit=inst.make_price(last * Decimal("1.2")),
                )
            )  # fmt: skip
        elif self.kind == "market":
            self.buy(qty)
            self.sell(qty)
        else:
            tif = TimeInForce.GTC if self.kind == "limit" else TimeInForce.IOC
            self.buy(qty, price=above, time_in_force=tif)
            self.buy(qty, price=below, time_in_force=tif)

    def on_order(self, event: OrderEvent) -> None:
        if isinstance(event, OrderAccepted) and self.kind != "bracket":
            self.ctx.cancel(event.client_order_id)

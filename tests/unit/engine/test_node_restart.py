"""A node restarted on a journal left by a crash (regressions found by the crash matrix, OMS-1):

- an order journaled SUBMITTED (point B: not sent, or not known whether sent) is looked up at
  the venue and resolved, never left in flight;
- an order journaled INITIALIZED only (point A: never sent) is closed, not left "open";
- events of reconciliation are not handed to a strategy before its ``on_start`` (a strategy
  using ``self.ctx`` in ``on_order`` was stopped as failed at every restart).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from tradeforge.backtest import spot_pair
from tradeforge.bus import LiveClock
from tradeforge.connectors import SimVenueClient
from tradeforge.domain import (
    AccountId,
    ClientOrderIdGenerator,
    InstrumentId,
    Money,
    OrderEvent,
    OrderFactory,
    OrderSide,
    OrderStatus,
    OrderSubmitted,
    StrategyId,
    Timeframe,
    Venue,
)
from tradeforge.domain.money import KNOWN_CURRENCIES
from tradeforge.engine import TradingNode
from tradeforge.store import Database, SqlOrderJournal, sqlite_url
from tradeforge.strategy import Strategy
from tradeforge.trading import OrderManager

IID = InstrumentId("BTC/USDT", Venue("SIM"))
USDT = KNOWN_CURRENCIES["USDT"]


class UsesContext(Strategy):
    """Reads its context on every order event, as most strategies do."""

    name = "uses_context"

    def on_start(self) -> None:
        self.seen: list[OrderEvent] = []

    def on_order(self, event: OrderEvent) -> None:
        self.ctx.open_orders(self.instrument_id)
        self.seen.append(event)


def test_orders_left_initialized_or_submitted_are_settled_at_restart(tmp_path: Path) -> None:
    async def go() -> None:
        clock = LiveClock()
        inst = spot_pair(IID, price_precision=2, size_precision=5, fee=Decimal("0.001"))
        venue = SimVenueClient(instruments=[inst], balances=[Money("100000", USDT)], clock=clock)
        db = Database(sqlite_url(tmp_path / "journal.sqlite"))
        db.upgrade()
        journal = SqlOrderJournal(db)
        strategy = UsesContext(strategy_id="uses_context-1", instruments=[IID])
        # What a crashed node left: one order journaled but never submitted (point A), one
        # journaled SUBMITTED but never sent (point B).
        orders = OrderFactory(StrategyId("uses_context-1"), ClientOrderIdGenerator("OLD"))
        never_sent = orders.limit(IID, OrderSide.BUY, inst.make_qty(Decimal("0.01")),
                                  inst.make_price(Decimal(100)))  # fmt: skip
        in_flight = orders.market(IID, OrderSide.BUY, inst.make_qty(Decimal("0.01")))
        before = OrderManager()
        for spec in (never_sent, in_flight):
            journal.append(*reversed(before.create(spec, 1)))
        submitted = OrderSubmitted(**in_flight.ids(), account_id=AccountId("SIM-1"), ts_event=2,
                                   ts_init=2)  # fmt: skip
        journal.append(submitted, before.apply(submitted))
        node = TradingNode(
            clock=clock, venues={IID.venue: venue}, strategies=[strategy], journal=journal,
            timeframe=Timeframe.from_str("1s"), base_currency=USDT,
            inflight_interval=0.01, inflight_retries=2,
        )  # fmt: skip
        report = await node.start()
        await node.stop()
        statuses = {o.client_order_id: o.status for o in node.oms}
        assert statuses == {
            never_sent.client_order_id: OrderStatus.CANCELED,
            in_flight.client_order_id: OrderStatus.REJECTED,
        }
        assert report.resolved == [in_flight.client_order_id.value]
        projected = {r["client_order_id"]: r["status"] for r in journal.orders()}
        assert projected == {
            never_sent.client_order_id.value: "CANCELED",
            in_flight.client_order_id.value: "REJECTED",
        }
        assert node.errors == []  # the strategy was not called before on_start
        assert strategy.seen == []
        db.dispose()

    asyncio.run(go())

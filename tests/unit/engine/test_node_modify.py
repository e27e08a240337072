"""A modify done at the venue reaches the node's OMS (regressions found by OMS-11): the node
applied the venue's answer to a modify without its new quantity or price, so the order kept
its old quantity, and fills beyond it were refused as overfills; and a modify whose answer was
lost was taken as refused, so fills up to the old quantity closed the order as FILLED while the
venue still worked the new one."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from tests.unit.engine.scripted_venue import ScriptedVenue

from tradeforge.backtest import spot_pair
from tradeforge.bus import LiveClock
from tradeforge.domain import InstrumentId, OrderStatus, Timeframe, Venue
from tradeforge.domain.money import KNOWN_CURRENCIES
from tradeforge.engine import TradingNode
from tradeforge.store import Database, SqlOrderJournal, sqlite_url
from tradeforge.strategy import Strategy

IID = InstrumentId("BTC/USDT", Venue("SIM"))
INST = spot_pair(IID, price_precision=2, size_precision=3, fee=Decimal(0))


class Quiet(Strategy):
    name = "quiet"


def test_a_modify_answered_or_lost_is_applied_from_the_venues_report(tmp_path: Path) -> None:
    async def go() -> None:
        db = Database(sqlite_url(tmp_path / "journal.sqlite"))
        db.upgrade()
        venue = ScriptedVenue(INST)
        strategy = Quiet(instruments=[IID])
        node = TradingNode(
            clock=LiveClock(), venues={IID.venue: venue}, strategies=[strategy],
            journal=SqlOrderJournal(db), timeframe=Timeframe.from_str("1s"),
            base_currency=KNOWN_CURRENCIES["USDT"], inflight_timeout=0, inflight_interval=0,
            reconcile_every_s=0,
        )  # fmt: skip
        await node.start()
        cid = strategy.buy(INST.make_qty(Decimal("0.002")), price=INST.make_price(Decimal(100)))
        await venue.drained()
        node.modify(strategy, cid, quantity=INST.make_qty(Decimal("0.001")),
                    price=INST.make_price(Decimal(99)))  # fmt: skip
        await venue.drained()
        order = node.oms.get(cid)
        assert order is not None
        assert (order.quantity.as_decimal(), order.price) == (Decimal("0.001"), Decimal(99))
        venue.answers["modify"] = "lost"  # the venue makes it 0.005, the answer is lost
        node.modify(strategy, cid, quantity=INST.make_qty(Decimal("0.005")))
        await venue.drained()
        venue.push(venue.fill(cid, Decimal("0.001"), Decimal(99)))  # the old quantity: not done
        await venue.drained()
        assert order.status is OrderStatus.PARTIALLY_FILLED
        venue.push(venue.fill(cid, Decimal("0.004"), Decimal(99)))  # beyond the old quantity
        await venue.drained()
        assert order.status is OrderStatus.FILLED
        assert order.filled_qty.as_decimal() == order.quantity.as_decimal() == Decimal("0.005")
        await node.stop()
        db.dispose()

    asyncio.run(go())

"""A bracket's exits as one native OCO list at the simulated exchange (a real process), sent by
the node through ``CcxtVenueClient`` (Binance's ``POST /api/v3/orderList/oco`` via CCXT's raw
``privatePostOrderListOco``), and what a crash between the journal and the venue does to it.

- In process: the account holds USDT only. The entry fills, the two exits go as one list (same
  ``orderListId``), the base is locked once; the node's stop cancels one leg and the venue ends
  the list; journal and venue agree exactly.
- Crashes (the node a real process, ``TF_CRASH_AT``): at B:2 (the pair journaled SUBMITTED, not
  sent) the restart finds neither leg and resolves both REJECTED, nothing re-sent; at C:2 (the
  venue took the list, the ack not journaled) the restart adopts both. Either way 0 orders lost,
  0 duplicated, and journal and venue agree exactly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from tests.integration.node.node_runner import NodeRunner
from tests.integration.node.test_crash_matrix import Case, crash_and_restart
from tests.integration.node.venue_checks import Venue, journal_vs_venue, read_journal
from tests.kit.sim_exchange import RunningExchange, venue_client
from tests.unit.engine.hand_market import Recorder

from tradeforge.bus import LiveClock
from tradeforge.domain import InstrumentId, OrderSide, OrderStatus, Timeframe
from tradeforge.domain import Venue as VenueName
from tradeforge.domain.money import KNOWN_CURRENCIES
from tradeforge.engine import TradingNode
from tradeforge.store import Database, SqlOrderJournal, sqlite_url

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]
IID = InstrumentId("BTC/USDT", VenueName("SIM"))
USDT_ONLY = {"USDT": Decimal(1_000_000)}


@pytest.fixture(scope="module")
def server(exchange_factory: Callable[..., RunningExchange]) -> RunningExchange:
    return exchange_factory("--instruments", "BTC/USDT", "--events-per-second", "50",
                            "--orders-per-10s", "100000")  # fmt: skip


def test_bracket_exits_are_one_oco_list_at_the_exchange(
    server: RunningExchange, tmp_path: Path
) -> None:
    account = server.add_account(**{k: str(v) for k, v in USDT_ONLY.items()})
    venue = Venue(server, account)
    url = sqlite_url(tmp_path / "journal.sqlite")

    async def go() -> list[str]:
        database = Database(url)
        database.upgrade()
        strategy = Recorder(strategy_id="recorder-1", instruments=[IID])
        node = TradingNode(
            clock=LiveClock(), venues={IID.venue: venue_client(server, account)},
            strategies=[strategy], journal=SqlOrderJournal(database),
            timeframe=Timeframe.from_str("1s"), base_currency=KNOWN_CURRENCIES["USDT"],
        )  # fmt: skip
        await node.start()
        try:
            assert node.venues[IID.venue].capabilities.oco_orders
            async with asyncio.timeout(30):
                while node.last_price(IID) is None:
                    await asyncio.sleep(0.02)
            inst, last = node.instruments[IID], node.last_price(IID)
            assert last is not None
            group = strategy.ctx.orders.bracket(
                IID, OrderSide.BUY, inst.make_qty(Decimal("0.001")),
                stop_loss=inst.make_price(last.as_decimal() * Decimal("0.8")),
                take_profit=inst.make_price(last.as_decimal() * Decimal("1.2")),
            )  # fmt: skip
            strategy.ctx.submit_list(group)
            exits = [s.client_order_id for s in group.orders[1:]]
            async with asyncio.timeout(30):
                while any(
                    (o := node.oms.get(c)) is None or o.status is not OrderStatus.ACCEPTED
                    for c in exits
                ):
                    await asyncio.sleep(0.05)
            at_venue = {o["clientOrderId"]: o for o in venue.all_orders()}
            legs = [at_venue[c.value] for c in exits]
            assert legs[0]["orderListId"] == legs[1]["orderListId"] >= 0
            assert {leg["type"] for leg in legs} == {"STOP_LOSS", "LIMIT_MAKER"}
            assert venue.balances()["BTC"][1] == Decimal("0.001")  # locked once for the pair
        finally:
            await node.stop()
            database.dispose()
        return [str(node.oms.get(c).status) for c in exits]  # type: ignore[union-attr]

    statuses = asyncio.run(go())
    assert statuses == ["CANCELED", "CANCELED"]
    assert journal_vs_venue(venue, url, USDT_ONLY) == []


class BracketCase(Case):
    """One bracket (``rounds`` 1), the crash at the 2nd pass of the point: the 1st is the
    entry's, the 2nd the exits' list."""

    @property
    def crash_at(self) -> str:
        return f"{self.point}:2"


@pytest.fixture(scope="module")
def runner() -> Iterator[NodeRunner]:
    node_runner = NodeRunner()
    yield node_runner
    node_runner.close()


@pytest.mark.parametrize("point", ["B", "C"])
def test_a_crash_around_the_oco_send_neither_loses_nor_duplicates_it(
    runner: NodeRunner, server: RunningExchange, tmp_path: Path, point: str
) -> None:
    case = BracketCase(point, "bracket", 1)
    database = f"sqlite:///{tmp_path / 'journal.sqlite'}"
    problems, account = crash_and_restart(runner, server, case, database, tmp_path / "case")
    assert problems == []
    venue = Venue(server, account)
    start = {"USDT": Decimal(1_000_000), "BTC": Decimal(10)}
    assert journal_vs_venue(venue, database, start) == []
    orders, _ = read_journal(database)
    assert len(orders) == 3
    entry, *legs = sorted(orders, key=lambda o: int(o["created_ns"]))
    assert entry["status"] == "FILLED"
    exits = [o["status"] for o in legs]
    at_venue = venue.all_orders()
    if point == "B":  # never sent: resolved, not re-sent
        assert exits == ["REJECTED", "REJECTED"]
        assert len(at_venue) == 1
    else:  # taken by the venue: adopted, then cancelled by the node's stop
        assert exits == ["CANCELED", "CANCELED"]
        assert len(at_venue) == 3

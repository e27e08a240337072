"""Paper nodes on a replay clock, for parent orders (execution algorithms and SOR).

``AlgoMarket`` builds one ``SimVenueClient`` per venue (in process, no feed), all trading the
same symbol, each with a book the test sets; a ``TradingNode`` on them keeps the books
(``engine.books``) and runs a ``Recorder`` strategy. The clock is a ``ReplayClock``: the test
moves time with ``advance(ns)`` and every timer due (slice starts) fires on the way, so a
one-hour TWAP takes milliseconds and its schedule is exact.
"""

from __future__ import annotations

import asyncio
import itertools
from decimal import Decimal
from typing import Any

from tradeforge.backtest import spot_pair
from tradeforge.bus import ReplayClock
from tradeforge.connectors import SimVenueClient
from tradeforge.domain import (
    AggressorSide,
    BookLevel,
    ClientOrderId,
    Instrument,
    InstrumentId,
    Money,
    OrderBookSnapshot,
    OrderEvent,
    OrderFilled,
    OrderSubmitted,
    Timeframe,
    TradeId,
    TradeTick,
    Venue,
)
from tradeforge.domain.money import KNOWN_CURRENCIES
from tradeforge.engine import TradingNode
from tradeforge.engine.books import OrderBooks
from tradeforge.execution import ExecutionReport
from tradeforge.store import SqlOrderJournal
from tradeforge.strategy import Strategy
from tradeforge.trading import RiskEngine

USDT = KNOWN_CURRENCIES["USDT"]
BTC = KNOWN_CURRENCIES["BTC"]
T0 = 1_700_000_000 * 10**9  # a replay start: 2023-11-14 22:13:20 UTC
SECOND = 10**9


class Recorder(Strategy):
    """Sends nothing by itself; keeps every order event, fill and parent report it is shown."""

    name = "recorder"

    def on_start(self) -> None:
        self.events: list[OrderEvent] = []
        self.fills: list[OrderFilled] = []
        self.reports: list[ExecutionReport] = []

    def on_order(self, event: OrderEvent) -> None:
        self.events.append(event)

    def on_fill(self, fill: OrderFilled) -> None:
        self.fills.append(fill)

    def on_algo(self, report: ExecutionReport) -> None:
        self.reports.append(report)

    def children(self, parent: ClientOrderId) -> list[OrderSubmitted]:
        """The parent's children as submitted, in order."""
        prefix = f"{parent.value}-"
        return [
            e
            for e in self.events
            if isinstance(e, OrderSubmitted) and e.client_order_id.value.startswith(prefix)
        ]

    def child_fills(self, parent: ClientOrderId) -> list[OrderFilled]:
        prefix = f"{parent.value}-"
        return [f for f in self.fills if f.client_order_id.value.startswith(prefix)]


async def settle(rounds: int = 100) -> None:
    """Let every task the last step woke run (nothing here waits on I/O)."""
    for _ in range(rounds):
        await asyncio.sleep(0)


def book(inst: Instrument, bids: list[tuple[str, str]], asks: list[tuple[str, str]],
         sequence: int = 1, ts: int = T0) -> OrderBookSnapshot:  # fmt: skip
    """A snapshot of ``inst`` from (price, size) pairs, best first."""

    def levels(pairs: list[tuple[str, str]]) -> tuple[BookLevel, ...]:
        return tuple(
            BookLevel(inst.make_price(Decimal(p)), inst.make_qty(Decimal(q))) for p, q in pairs
        )

    return OrderBookSnapshot(instrument_id=inst.id, bids=levels(bids), asks=levels(asks),
                             sequence=sequence, ts_event=ts, ts_init=ts)  # fmt: skip


class AlgoMarket:
    """Simulated venues and a paper node on a replay clock (module docstring)."""

    def __init__(
        self,
        journal: SqlOrderJournal,
        *,
        venues: tuple[str, ...] = ("SIM",),
        size_precision: int = 5,
        fees: tuple[str, ...] = (),
        usdt: str = "10000000",
        btc: str = "1000",
    ) -> None:
        self.clock = ReplayClock(T0)
        self.journal = journal
        self.instruments: list[Instrument] = []
        self.venues: dict[Venue, SimVenueClient] = {}
        for k, name in enumerate(venues):
            iid = InstrumentId("BTC/USDT", Venue(name))
            fee = Decimal(fees[k]) if k < len(fees) else Decimal("0.001")
            inst = spot_pair(iid, price_precision=2, size_precision=size_precision, fee=fee)
            self.instruments.append(inst)
            self.venues[iid.venue] = SimVenueClient(
                instruments=[inst], balances=[Money(usdt, USDT), Money(btc, BTC)],
                clock=self.clock,
            )  # fmt: skip
        self.inst = self.instruments[0]
        self.iid = self.inst.id
        self._trade_ids = itertools.count(1)
        self.node: TradingNode | None = None

    def new_node(self, **options: Any) -> TradingNode:
        # Every venue's instrument: the node keeps the books of what its strategies trade.
        self.strategy = Recorder(
            strategy_id="recorder-1", instruments=[i.id for i in self.instruments]
        )
        self.node = TradingNode(
            clock=self.clock, venues=dict(self.venues), strategies=[self.strategy],
            journal=self.journal, timeframe=Timeframe.from_str("1m"), base_currency=USDT,
            reconcile_every_s=0, value_every_s=0, risk=options.pop("risk", RiskEngine()),
            **options,
        )  # fmt: skip
        self.node.books = OrderBooks()
        return self.node

    def set_book(self, snapshot: OrderBookSnapshot) -> None:
        """The venue's book (its matching engine and the node's book feed)."""
        self.venues[snapshot.instrument_id.venue].on_book(snapshot)

    async def advance(self, ns: int) -> None:
        """Move time on by ``ns``, one due timer at a time, letting the node act after each."""
        target = self.clock.timestamp_ns() + ns
        while True:
            due = self.clock.next_event_ns()
            if due is None or due > target:
                break
            self.clock.advance_to(due)
            await settle()
        self.clock.advance_to(target)
        await settle()

    async def trade(self, price: str, size: str, venue: int = 0) -> None:
        """Print one public trade at a venue."""
        inst = self.instruments[venue]
        now = self.clock.timestamp_ns()
        self.venues[inst.id.venue].on_trade(
            TradeTick(
                instrument_id=inst.id, price=inst.make_price(Decimal(price)),
                size=inst.make_qty(Decimal(size)), aggressor_side=AggressorSide.SELLER,
                trade_id=TradeId(f"t{next(self._trade_ids)}"), ts_event=now, ts_init=now,
            )
        )  # fmt: skip
        await settle()

"""OMS-11, the transition table (RELIABILITY.md section 1): a Hypothesis state machine drives the
trading node (its OMS and journal) against a scripted venue through submits (answered, lost or
refused), acks, partial and whole fills delivered once, twice or never, cancels and modifies
(answered, lost or refused), the venue ending or rejecting orders by itself, a dropped own-order
stream and its reconnect (a reconciliation), and crash + restart (a new node rebuilt from the
journal, reconciled with the venue).

Invariants after every step: every status change in the journal is a row of the lifecycle table
(``tradeforge.domain.orders.lifecycle``); filled <= quantity; the node never holds a fill the
venue did not make; the position is the sum of the journaled fills; replaying the journal gives
the node's OMS exactly. At the end, once the stream is back and the node has reconciled, every
order is where the venue has it (status, quantity, filled, fills).

``make test`` runs 200 examples of 50 steps; ``TF_OMS_LONG=1`` runs 5,000.
"""

from __future__ import annotations

import asyncio
import os
import time
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import select
from tests.unit.engine.journals import Journals
from tests.unit.engine.scripted_venue import ScriptedVenue

from tradeforge.backtest import spot_pair
from tradeforge.bus import Codec, LiveClock
from tradeforge.domain import (
    ClientOrderId,
    InstrumentId,
    Order,
    OrderEvent,
    OrderFilled,
    OrderInitialized,
    OrderSide,
    OrderStatus,
    Timeframe,
    Venue,
)
from tradeforge.domain.money import KNOWN_CURRENCIES
from tradeforge.domain.orders.lifecycle import TRANSITIONS
from tradeforge.engine import TradingNode
from tradeforge.store import tables
from tradeforge.strategy import Strategy

LONG = os.environ.get("TF_OMS_LONG") == "1"
pytestmark = pytest.mark.timeout(7200 if LONG else 120)
IID = InstrumentId("BTC/USDT", Venue("SIM"))
INST = spot_pair(IID, price_precision=2, size_precision=3, fee=Decimal(0))
LOT = Decimal("0.001")
CODEC = Codec()
ANSWERS = st.sampled_from(["ok", "ok", "lost", "refused"])
DELIVERY = st.sampled_from(["once", "twice", "never"])
_JOURNALS: list[Journals] = []  # made once per process: migrating a journal costs 100s of ms


def journals() -> Journals:
    if not _JOURNALS:
        _JOURNALS.append(Journals())
    return _JOURNALS[0]


class Quiet(Strategy):
    """Trades only when the machine tells it to."""

    name = "quiet"


class NodeMachine(RuleBasedStateMachine):
    """The node, its journal and the venue (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.journal = journals().new()
        self.venue = ScriptedVenue(INST)
        self.sent: list[ClientOrderId] = []
        self._seen = 0  # the journal's last event replayed into _replayed
        self._replayed: dict[ClientOrderId, Order] = {}
        self._position = Decimal(0)
        self.node, self.strategy = self._start()

    # ------------------------------------------------------------ plumbing
    def _start(self) -> tuple[TradingNode, Strategy]:
        strategy = Quiet(instruments=[IID])
        node = TradingNode(
            clock=LiveClock(), venues={IID.venue: self.venue}, strategies=[strategy],
            journal=self.journal, timeframe=Timeframe.from_str("1s"),
            base_currency=KNOWN_CURRENCIES["USDT"], inflight_timeout=0, inflight_interval=0,
            inflight_retries=2, reconcile_every_s=0,
        )  # fmt: skip
        self.run(node.start())
        return node, strategy

    def run(self, coro: Any) -> Any:
        result = self.loop.run_until_complete(coro)
        self.loop.run_until_complete(self.venue.drained())
        return result

    def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """``fn(...)`` inside the node's loop (the node spawns tasks), then run to quiet."""

        async def inside() -> Any:
            return fn(*args, **kwargs)

        return self.run(inside())

    def _venue_open(self) -> list[ClientOrderId]:
        return [c for c, o in self.venue.orders.items() if o.is_open]

    def _node_open(self) -> list[ClientOrderId]:
        return [c for c in self.sent if (o := self.node.oms.get(c)) is not None and o.is_open]

    def _deliver(self, update: Any, how: str) -> None:
        for _ in range({"once": 1, "twice": 2, "never": 0}[how]):
            self.venue.push(update)

    # ------------------------------------------------------------ rules
    @rule(side=st.sampled_from(OrderSide), lots=st.integers(1, 50), market=st.booleans(),
          answer=ANSWERS)  # fmt: skip
    def submit(self, side: OrderSide, lots: int, market: bool, answer: str) -> None:
        self.venue.answers["submit"] = answer
        qty = INST.make_qty(lots * LOT)
        price = None if market else INST.make_price(Decimal(100))
        order = self.strategy.buy if side is OrderSide.BUY else self.strategy.sell
        self.sent.append(self.call(order, qty, price=price))

    @precondition(lambda self: self._venue_open())
    @rule(data=st.data(), part=st.integers(1, 100), ticks=st.integers(1, 10**6),
          how=DELIVERY, report=st.booleans())  # fmt: skip
    def venue_fills(
        self, data: st.DataObject, part: int, ticks: int, how: str, report: bool
    ) -> None:
        cid = data.draw(st.sampled_from(self._venue_open()))
        leaves = self.venue.orders[cid].leaves
        qty = max(LOT, (leaves * part / 100).quantize(LOT))
        fill = self.venue.fill(cid, min(qty, leaves), ticks * Decimal("0.01"))
        self._deliver(fill, how)
        if report:
            self._deliver(self.venue.report(self.venue.orders[cid]), how)
        self.run(asyncio.sleep(0))

    @precondition(lambda self: self._venue_open())
    @rule(data=st.data(), status=st.sampled_from([OrderStatus.CANCELED, OrderStatus.EXPIRED,
                                                  OrderStatus.REJECTED]), how=DELIVERY)  # fmt: skip
    def venue_ends(self, data: st.DataObject, status: OrderStatus, how: str) -> None:
        cid = data.draw(st.sampled_from(self._venue_open()))
        if status is OrderStatus.REJECTED and self.venue.orders[cid].filled:
            status = OrderStatus.CANCELED  # a venue rejects an order before it trades, not after
        self._deliver(self.venue.end(cid, status), how)
        self.run(asyncio.sleep(0))

    @precondition(lambda self: self._node_open())
    @rule(data=st.data(), answer=ANSWERS)
    def cancel(self, data: st.DataObject, answer: str) -> None:
        self.venue.answers["cancel"] = answer
        self.call(self.node.cancel, self.strategy, data.draw(st.sampled_from(self._node_open())))

    @precondition(lambda self: self._node_open())
    @rule(data=st.data(), lots=st.integers(1, 60), answer=ANSWERS)
    def modify(self, data: st.DataObject, lots: int, answer: str) -> None:
        self.venue.answers["modify"] = answer
        cid = data.draw(st.sampled_from(self._node_open()))
        self.call(self.node.modify, self.strategy, cid, quantity=INST.make_qty(lots * LOT))

    @rule()
    def disconnect(self) -> None:
        self.venue.connected = False

    @rule()
    def reconnect(self) -> None:
        self.venue.connected = True
        self.run(self.node.reconcile())

    @rule()
    def crash_and_restart(self) -> None:
        for task in asyncio.all_tasks(self.loop):  # the process dies: nothing runs on
            task.cancel()
        self.loop.run_until_complete(asyncio.sleep(0))
        self.venue.forget_streams()
        time.sleep(0.002)  # client order ids carry the start millisecond: a new one
        self.node, self.strategy = self._start()

    # ------------------------------------------------------------ invariants
    def _journaled_since(self) -> list[OrderEvent]:
        # The journal's events appended since the last step (its table, read as events() does).
        query = (
            select(tables.order_events.c.seq, tables.order_events.c.body)
            .where(tables.order_events.c.seq > self._seen)
            .order_by(tables.order_events.c.seq)
        )
        with self.journal.db.engine.connect() as conn:
            rows = list(conn.execute(query))
        if rows:
            self._seen = rows[-1][0]
        return [CODEC.from_msgpack(bytes(body)) for _, body in rows]

    @invariant()
    def journal_is_the_oms_and_every_change_is_in_the_table(self) -> None:
        replayed = self._replayed
        for event in self._journaled_since():
            if isinstance(event, OrderInitialized):
                replayed[event.client_order_id] = Order(event)
                continue
            order = replayed[event.client_order_id]
            before = order.status
            order.apply(event)
            assert order.status is before or order.status in TRANSITIONS[before], (before, event)
            if isinstance(event, OrderFilled):
                sign = 1 if event.order_side is OrderSide.BUY else -1
                self._position += sign * event.last_qty.as_decimal()
        position = self._position
        for cid in self.sent:
            ours = self.node.oms.get(cid)
            assert ours is not None
            again = replayed[cid]
            assert (again.status, again.quantity, again.filled_qty, again.filled_notional) == (
                ours.status, ours.quantity, ours.filled_qty, ours.filled_notional,
            ), (again, ours)  # fmt: skip
            assert ours.filled_qty <= ours.quantity
            at_venue = self.venue.orders.get(cid)
            made = {f.trade_id for f in at_venue.fills} if at_venue is not None else set()
            booked = {e.trade_id for e in ours.events if isinstance(e, OrderFilled)}
            assert booked <= made, "a fill the venue never made"
        held = self.node.position(self.strategy.id, IID)
        assert (held.signed_qty if held is not None else 0) == position

    def teardown(self) -> None:
        try:
            self.venue.connected = True
            self.venue.answers = {"submit": "ok", "cancel": "ok", "modify": "ok"}
            self.run(self.node.reconcile())
            for cid in self.sent:  # once reconciled, every order is where the venue has it
                ours, theirs = self.node.oms.get(cid), self.venue.orders.get(cid)
                assert ours is not None
                if theirs is None:
                    assert ours.status is OrderStatus.REJECTED, ours
                    continue
                assert ours.filled_qty.as_decimal() == theirs.filled, (ours, theirs)
                assert ours.quantity == theirs.quantity, (ours, theirs)
                if theirs.is_open:
                    assert ours.is_open, (ours, theirs)
                else:
                    assert ours.status is theirs.status, (ours, theirs)
            self.run(self.node.stop())
        finally:
            for task in asyncio.all_tasks(self.loop):
                task.cancel()
            self.loop.run_until_complete(asyncio.sleep(0))
            self.loop.close()
            journals().discard(self.journal)


NodeMachine.TestCase.settings = settings(
    max_examples=5_000 if LONG else 200,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestNodeTransitions = NodeMachine.TestCase

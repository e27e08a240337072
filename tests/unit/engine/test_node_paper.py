"""The trading node in paper mode, in process: a strategy's orders go through risk, the journal
and the simulated venue fed by a random market; positions, journal and venue agree exactly."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from tradeforge.backtest import spot_pair
from tradeforge.bus import LiveClock
from tradeforge.connectors import SimVenueClient
from tradeforge.connectors.sim_exchange.random_market import RandomMarket
from tradeforge.domain import (
    DenyReason,
    InstrumentId,
    Money,
    OrderFilled,
    OrderSide,
    OrderStatus,
    OrderType,
    Timeframe,
    Venue,
)
from tradeforge.domain.money import KNOWN_CURRENCIES
from tradeforge.engine import TradingNode
from tradeforge.store import Database, SqlOrderJournal, sqlite_url
from tradeforge.strategy import BarLike, Strategy
from tradeforge.trading import RiskConfig, RiskEngine

IID = InstrumentId("BTC/USDT", Venue("SIM"))
USDT = KNOWN_CURRENCIES["USDT"]
BTC = KNOWN_CURRENCIES["BTC"]


class FlipFlop(Strategy):
    """Buys on one bar, sells on the next; also tries one order that risk must refuse."""

    name = "flip_flop"

    def on_start(self) -> None:
        self.bars = 0
        self.fills: list[OrderFilled] = []
        self.denied: list[DenyReason] = []

    def on_bar(self, bar: BarLike) -> None:
        self.bars += 1
        qty = self.ctx.instrument(self.instrument_id).make_qty(Decimal("0.01"))
        if self.bars == 1:
            self.buy(self.ctx.instrument(self.instrument_id).make_qty(Decimal(5)))  # too big
        if self.position_qty() == 0:
            self.buy(qty)
        else:
            self.close_position()

    def on_fill(self, fill: OrderFilled) -> None:
        self.fills.append(fill)

    def on_order(self, event: object) -> None:
        reason = getattr(event, "reason", None)
        if isinstance(reason, DenyReason):
            self.denied.append(reason)


def test_paper_node_trades_through_risk_journal_and_venue(tmp_path: Path) -> None:
    async def go() -> None:
        clock = LiveClock()
        inst = spot_pair(IID, price_precision=2, size_precision=5, fee=Decimal("0.001"))
        market = RandomMarket(inst, seed=3, start_price=Decimal(30000), events_per_second=400)
        venue = SimVenueClient(
            instruments=[inst],
            balances=[Money("100000", USDT)],
            clock=clock,
            feeds=[market],
            feed_interval_ns=20_000_000,
        )
        db = Database(sqlite_url(tmp_path / "journal.sqlite"))
        db.upgrade()
        journal = SqlOrderJournal(db)
        strategy = FlipFlop(instruments=[IID])
        node = TradingNode(
            clock=clock,
            venues={IID.venue: venue},
            strategies=[strategy],
            journal=journal,
            timeframe=Timeframe.from_str("1s"),
            base_currency=USDT,
            risk=RiskEngine(RiskConfig(max_order_quantity=Decimal(1))),
        )
        await node.start()
        try:
            async with asyncio.timeout(30):
                while len(strategy.fills) < 4:
                    await asyncio.sleep(0.1)
        finally:
            await node.stop()
        assert strategy.denied == [DenyReason.MAX_ORDER_QUANTITY]
        venue_fills = await venue.fills(IID)
        assert {f.trade_id for f in venue_fills} == {f.trade_id for f in strategy.fills}
        journal_fills = journal.fills()
        assert sorted(f["trade_id"] for f in journal_fills) == sorted(
            f.trade_id.value for f in venue_fills
        )
        position = node.position(strategy.id, IID)
        assert position is not None
        net = sum(
            (f.last_qty.as_decimal() * (1 if f.side.value == "BUY" else -1) for f in venue_fills),
            Decimal(0),
        )
        assert position.signed_qty == net
        (denial,) = journal.denials()
        assert denial.reason is DenyReason.MAX_ORDER_QUANTITY
        db.dispose()

    asyncio.run(go())


class OneBracket(Strategy):
    """On the first bar: a market entry with a stop-loss 20 % below and a take-profit 20 % above."""

    name = "one_bracket"

    def on_start(self) -> None:
        self.sent = False

    def on_bar(self, bar: BarLike) -> None:
        if self.sent:
            return
        self.sent = True
        inst = self.ctx.instrument(self.instrument_id)
        close = bar.close.as_decimal()
        group = self.ctx.orders.bracket(
            self.instrument_id,
            OrderSide.BUY,
            inst.make_qty(Decimal("0.01")),
            stop_loss=inst.make_price(close * Decimal("0.8")),
            take_profit=inst.make_price(close * Decimal("1.2")),
        )
        self.ctx.submit_list(group)


def test_a_bracket_sends_its_exits_only_after_the_entry_fills(tmp_path: Path) -> None:
    async def go() -> None:
        clock = LiveClock()
        inst = spot_pair(IID, price_precision=2, size_precision=5, fee=Decimal("0.001"))
        market = RandomMarket(inst, seed=5, start_price=Decimal(30000), events_per_second=400)
        # Both exits are plain sells at this venue (the node links them): on a spot account
        # each locks the base it would sell, so the account holds some base besides the entry.
        venue = SimVenueClient(
            instruments=[inst], balances=[Money("100000", USDT), Money("1", BTC)], clock=clock,
            feeds=[market], feed_interval_ns=20_000_000,
        )  # fmt: skip
        db = Database(sqlite_url(tmp_path / "journal.sqlite"))
        db.upgrade()
        strategy = OneBracket(instruments=[IID])
        node = TradingNode(
            clock=clock, venues={IID.venue: venue}, strategies=[strategy],
            journal=SqlOrderJournal(db), timeframe=Timeframe.from_str("1s"), base_currency=USDT,
        )  # fmt: skip
        await node.start()
        try:
            async with asyncio.timeout(20):
                while len(await venue.open_orders(IID)) < 2:
                    await asyncio.sleep(0.05)
            entry, stop_loss, take_profit = sorted(node.oms, key=lambda o: o.client_order_id.value)
            assert entry.status is OrderStatus.FILLED
            at_venue = {o.client_order_id for o in await venue.open_orders(IID)}
            assert at_venue == {stop_loss.client_order_id, take_profit.client_order_id}
            assert stop_loss.order_type is OrderType.STOP_MARKET
            assert take_profit.order_type is OrderType.LIMIT
        finally:
            await node.stop()
        assert await venue.open_orders(IID) == []  # cancel-on-stop took both exits
        db.dispose()

    asyncio.run(go())


class Quoter(Strategy):
    """Every bar: a buy limit 5 % under the close (resting orders for the kill switch)."""

    name = "quoter"

    def on_start(self) -> None:
        self.denied: list[DenyReason] = []

    def on_bar(self, bar: BarLike) -> None:
        inst = self.ctx.instrument(self.instrument_id)
        self.buy(
            inst.make_qty(Decimal("0.01")),
            price=inst.make_price(bar.close.as_decimal() * Decimal("0.95")),
        )

    def on_order(self, event: object) -> None:
        reason = getattr(event, "reason", None)
        if isinstance(reason, DenyReason):
            self.denied.append(reason)


def test_the_kill_switch_cancels_blocks_and_survives_a_restart(tmp_path: Path) -> None:
    db_path = tmp_path / "journal.sqlite"

    async def node_with(strategy: Strategy) -> tuple[TradingNode, SimVenueClient]:
        clock = LiveClock()
        inst = spot_pair(IID, price_precision=2, size_precision=5, fee=Decimal("0.001"))
        market = RandomMarket(inst, seed=9, start_price=Decimal(30000), events_per_second=400)
        venue = SimVenueClient(
            instruments=[inst], balances=[Money("100000", USDT)], clock=clock, feeds=[market],
            feed_interval_ns=20_000_000,
        )  # fmt: skip
        db = Database(sqlite_url(db_path))
        db.upgrade()
        node = TradingNode(
            clock=clock, venues={IID.venue: venue}, strategies=[strategy],
            journal=SqlOrderJournal(db), timeframe=Timeframe.from_str("1s"), base_currency=USDT,
            risk=RiskEngine(RiskConfig(max_open_orders=50), clock=clock, track=True),
        )  # fmt: skip
        await node.start()
        return node, venue

    async def go() -> None:
        quoter = Quoter(instruments=[IID])
        node, venue = await node_with(quoter)
        try:
            async with asyncio.timeout(20):
                while len(await venue.open_orders(IID)) < 2:
                    await asyncio.sleep(0.05)
            cancelled = await node.kill(by="ops", reason="test")
            assert cancelled >= 2
            assert await venue.open_orders(IID) == []
            async with asyncio.timeout(10):
                while DenyReason.KILL_SWITCH not in quoter.denied:
                    await asyncio.sleep(0.05)
            placed_after = [o for o in node.oms if o.status is OrderStatus.ACCEPTED]
            assert placed_after == []
        finally:
            await node.stop()
        again = Quoter(instruments=[IID])
        node, venue = await node_with(again)
        try:
            async with asyncio.timeout(10):
                while DenyReason.KILL_SWITCH not in again.denied:
                    await asyncio.sleep(0.05)
            assert await venue.open_orders(IID) == []
        finally:
            await node.stop()

    asyncio.run(go())


class _Deaf(SimVenueClient):
    """A venue whose own-order stream never delivers (a dead user-data connection)."""

    def order_updates(self):  # type: ignore[no-untyped-def, override]
        async def never():  # type: ignore[no-untyped-def]
            await asyncio.Event().wait()
            yield None

        return never()


def test_periodic_reconciliation_repairs_what_the_stream_missed(tmp_path: Path) -> None:
    async def go() -> None:
        clock = LiveClock()
        inst = spot_pair(IID, price_precision=2, size_precision=5, fee=Decimal("0.001"))
        market = RandomMarket(inst, seed=4, start_price=Decimal(30000), events_per_second=400)
        venue = _Deaf(
            instruments=[inst], balances=[Money("100000", USDT)], clock=clock, feeds=[market],
            feed_interval_ns=20_000_000,
        )  # fmt: skip
        db = Database(sqlite_url(tmp_path / "journal.sqlite"))
        db.upgrade()
        quoter = Quoter(instruments=[IID])
        node = TradingNode(
            clock=clock, venues={IID.venue: venue}, strategies=[quoter],
            journal=SqlOrderJournal(db), timeframe=Timeframe.from_str("1s"), base_currency=USDT,
            reconcile_every_s=0.3,
        )  # fmt: skip
        await node.start()
        try:
            async with asyncio.timeout(20):
                while not await venue.open_orders(IID):
                    await asyncio.sleep(0.05)
            target = (await venue.open_orders(IID))[0]
            await venue.cancel(IID, target.client_order_id)  # behind the node's back
            order = node.oms.get(target.client_order_id)
            assert order is not None
            async with asyncio.timeout(5):
                while order.status is not OrderStatus.CANCELED:
                    await asyncio.sleep(0.05)
        finally:
            await node.stop()
        db.dispose()

    asyncio.run(go())

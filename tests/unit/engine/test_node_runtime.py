"""A running node's strategies are added, started, stopped, configured and removed on
request; each keeps its recent log lines and its live performance; the node values its account
and records the value as a time series (kept in the store across restarts); a modify passes
pre-trade risk (a refusal is answered, nothing changes)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from tradeforge.backtest import spot_pair
from tradeforge.bus import LiveClock, TimeEvent
from tradeforge.connectors import SimVenueClient
from tradeforge.connectors.sim_exchange.random_market import RandomMarket
from tradeforge.domain import (
    InstrumentId,
    InvalidValue,
    Money,
    OrderStatus,
    StrategyId,
    Timeframe,
    TradeTick,
    Venue,
)
from tradeforge.domain.money import KNOWN_CURRENCIES
from tradeforge.engine import TradingNode, strategy_performance
from tradeforge.store import Database, SqlOrderJournal, SqlValuationStore, sqlite_url
from tradeforge.strategy import IntParam, Strategy
from tradeforge.trading import RiskConfig, RiskEngine

IID = InstrumentId("BTC/USDT", Venue("SIM"))
USDT = KNOWN_CURRENCIES["USDT"]
BTC = KNOWN_CURRENCIES["BTC"]
INST = spot_pair(IID, price_precision=2, size_precision=5, fee=Decimal("0.001"))


class Pinger(Strategy):
    """Buys ``size`` thousandths at market on its first trade, rests a limit buy far below the
    market, logs every timer tick; raises in on_trade when ``explode`` is set."""

    name = "pinger"
    size = IntParam(1, min=1, max=100)
    explode = IntParam(0, min=0, max=1)

    def on_start(self) -> None:
        self.trades = 0
        self.ticks = 0
        self.ctx.set_timer("tick", 20_000_000)

    def on_timer(self, event: TimeEvent) -> None:
        self.ticks += 1
        self.ctx.log("tick", n=self.ticks)

    def on_trade(self, trade: TradeTick) -> None:
        if self.explode:
            raise RuntimeError("boom")
        self.trades += 1
        if self.trades == 1:
            qty = INST.make_qty(Decimal(self.size) / 1000)
            self.buy(qty)
            self.buy(qty, price=INST.make_price(trade.price.as_decimal() * Decimal("0.5")))


def make_node(tmp_path: Path, clock: LiveClock, **extra: object) -> tuple[TradingNode, Database]:
    market = RandomMarket(INST, seed=5, start_price=Decimal(30000), events_per_second=400)
    venue = SimVenueClient(instruments=[INST], clock=clock, feeds=[market],
                           balances=[Money("100000", USDT), Money("2", BTC)],
                           feed_interval_ns=5_000_000)  # fmt: skip
    db = Database(sqlite_url(tmp_path / "journal.sqlite"))
    db.upgrade()
    node = TradingNode(
        clock=clock, venues={IID.venue: venue}, strategies=[], journal=SqlOrderJournal(db),
        timeframe=Timeframe.from_str("1s"), base_currency=USDT, reconcile_every_s=0,
        risk=RiskEngine(RiskConfig(max_order_quantity=Decimal("0.5")), clock=clock, track=True),
        **extra,  # type: ignore[arg-type]
    )  # fmt: skip
    return node, db


async def until(check: object, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():  # type: ignore[operator]
            await asyncio.sleep(0.01)


def test_strategies_are_added_started_stopped_configured_and_removed(tmp_path: Path) -> None:
    async def go() -> None:
        clock = LiveClock()
        node, db = make_node(tmp_path, clock)
        await node.start()
        sid = StrategyId("ping-1")
        node.add_strategy(Pinger({"size": 2}, strategy_id="ping-1", instruments=[IID]),
                          owner="u1")  # fmt: skip
        assert not node.is_running(sid)
        assert node.owner(sid) == "u1"
        await asyncio.sleep(0.1)
        assert not hasattr(node.strategy(sid), "trades")  # added stopped: no hook ran
        with pytest.raises(InvalidValue, match="already exists"):
            node.add_strategy(Pinger(strategy_id="ping-1", instruments=[IID]))
        with pytest.raises(InvalidValue, match="not traded"):
            node.add_strategy(Pinger(strategy_id="x", instruments=["ETH/USDT.SIM"]))

        node.start_strategy(sid)
        first = node.strategy(sid)
        await until(lambda: len(node.oms.open_orders(sid)) == 1 and first.ticks >= 2)
        market_buy = next(o for o in node.oms if o.strategy_id == sid and not o.is_open)
        assert market_buy.status is OrderStatus.FILLED
        perf = strategy_performance(node, sid)
        assert (perf.orders, perf.open_orders, perf.fills) == (2, 1, 1)
        (row,) = perf.positions
        assert row.quantity == Decimal("0.002")
        assert row.instrument_id == str(IID)
        assert perf.fees > 0
        assert row.fees == perf.fees
        with pytest.raises(InvalidValue, match="running"):
            node.replace_strategy(Pinger({"size": 3}, strategy_id="ping-1", instruments=[IID]))

        assert node.stop_strategy(sid) == 1  # the resting limit is cancelled
        await until(lambda: not node.oms.open_orders(sid))
        ticks = first.ticks
        await asyncio.sleep(0.1)
        assert first.ticks == ticks  # its timer is gone
        lines = [line.message for line in node.logs.lines(sid)]
        assert lines[:2] == ["added", "started"]
        assert lines[-1] == "stopped"
        assert "tick" in lines

        node.replace_strategy(Pinger({"size": 3}, strategy_id="ping-1", instruments=[IID]))
        node.start_strategy(sid)
        second = node.strategy(sid)
        assert second is not first
        assert second.params["size"] == 3
        await until(lambda: strategy_performance(node, sid).orders == 4)
        ids = [o.client_order_id.value for o in node.oms if o.strategy_id == sid]
        assert len(set(ids)) == 4  # a new run never reuses an order id
        node.stop_strategy(sid)
        await until(lambda: not node.oms.open_orders(sid))
        node.remove_strategy(sid)
        with pytest.raises(InvalidValue):
            node.strategy(sid)
        assert node.logs.lines(sid) == []
        await node.stop()
        db.dispose()

    asyncio.run(go())


def test_a_failing_strategy_is_stopped_logged_and_can_start_again(tmp_path: Path) -> None:
    async def go() -> None:
        node, db = make_node(tmp_path, LiveClock())
        await node.start()
        sid = StrategyId("bad")
        node.add_strategy(Pinger({"explode": 1}, strategy_id="bad", instruments=[IID]))
        node.start_strategy(sid)
        await until(lambda: node.errors_since_start(sid))
        assert not node.is_running(sid)
        assert node.logs.lines(sid)[-1].level == "error"
        node.start_strategy(sid)  # starts afresh (its old timer does not clash)
        assert node.is_running(sid)
        assert node.errors_since_start(sid) == []
        await until(lambda: node.errors_since_start(sid))
        await node.stop()
        db.dispose()

    asyncio.run(go())


def test_the_account_value_is_exact_and_recorded_as_a_series(tmp_path: Path) -> None:
    async def go() -> None:
        clock = LiveClock()
        node, db = make_node(tmp_path, clock, valuations=SqlValuationStore(db_for(tmp_path)),
                             value_every_s=0.05)  # fmt: skip
        node.add_strategy(Pinger(strategy_id="idle", instruments=[IID]))  # trades of IID flow
        await node.start()
        assert not node.is_running(StrategyId("idle"))
        await until(lambda: node.last_price(IID) is not None)
        value = node.portfolio.now()
        mark = node.last_price(IID)
        assert mark is not None
        assert value.base_currency == "USDT"
        assert value.unpriced == ()
        assert value.cash == {"BTC": Decimal(2), "USDT": Decimal(100000)}
        assert value.equity == (Decimal(100000) + 2 * mark.as_decimal()).quantize(Decimal("0.01"))
        await until(lambda: len(node.portfolio.history()) >= 3)
        points = node.portfolio.history()
        assert [p.ts_ns for p in points] == sorted({p.ts_ns for p in points})
        assert all(p.ts_ns % 1_000_000 == 0 for p in points)  # whole milliseconds
        newest = node.portfolio.history(limit=2, newest=True)
        assert len(newest) == 2
        assert newest[0].ts_ns < newest[1].ts_ns
        assert newest[1].ts_ns >= points[-1].ts_ns
        await node.stop()
        kept = len(node.portfolio.history(limit=500))
        db.dispose()
        again, db2 = make_node(tmp_path, clock, valuations=SqlValuationStore(db_for(tmp_path)))
        assert len(again.portfolio.history(limit=500)) == kept  # the store keeps the series
        db2.dispose()

    asyncio.run(go())


def db_for(tmp_path: Path) -> Database:
    db = Database(sqlite_url(tmp_path / "journal.sqlite"))
    db.upgrade()
    return db


def test_a_modify_passes_risk_and_a_refusal_changes_nothing(tmp_path: Path) -> None:
    async def go() -> None:
        node, db = make_node(tmp_path, LiveClock())
        await node.start()
        sid = StrategyId("ping-2")
        node.add_strategy(Pinger({"size": 1}, strategy_id="ping-2", instruments=[IID]))
        node.start_strategy(sid)
        await until(lambda: len(node.oms.open_orders(sid)) == 1)
        (order,) = node.oms.open_orders(sid)
        strategy = node.strategy(sid)
        task = node.modify(strategy, order.client_order_id, quantity=INST.make_qty(Decimal(1)))
        assert task is not None
        refusal = await task
        assert refusal is not None
        assert refusal.by == "risk"
        assert refusal.reason == "MAX_ORDER_QUANTITY"
        assert order.quantity.as_decimal() == Decimal("0.001")
        assert order.price is not None
        lower = INST.make_price(order.price.as_decimal() - 1)
        task = node.modify(strategy, order.client_order_id, quantity=INST.make_qty(
            Decimal("0.003")), price=lower)  # fmt: skip
        assert task is not None
        assert await task is None
        assert (order.quantity.as_decimal(), order.price) == (Decimal("0.003"), lower)
        assert any("refused by risk" in line.message for line in node.logs.lines(sid))
        await node.stop()
        db.dispose()

    asyncio.run(go())


def test_strategies_added_at_run_time_come_back_after_a_restart(tmp_path: Path) -> None:
    async def go() -> None:
        clock = LiveClock()
        node, db = make_node(tmp_path, clock)
        await node.start()
        node.add_strategy(Pinger({"size": 4}, strategy_id="keep-run", instruments=[IID]),
                          owner="u1")  # fmt: skip
        node.add_strategy(Pinger({"size": 5}, strategy_id="keep-stop", instruments=[IID]))
        node.add_strategy(Pinger(strategy_id="gone", instruments=[IID]))
        node.start_strategy(StrategyId("keep-run"))
        node.remove_strategy(StrategyId("gone"))
        await node.stop()
        db.dispose()

        again, db2 = make_node(tmp_path, clock)
        venue = again.venues[IID.venue]
        streams: list[InstrumentId] = []
        real_trades = venue.trades

        def counted(iid: InstrumentId) -> AsyncIterator[TradeTick]:
            streams.append(iid)
            return real_trades(iid)

        venue.trades = counted  # type: ignore[method-assign,assignment]
        await again.start()
        # Each instrument is streamed once, the restarted strategy's included (its feed is
        # added as it comes back, while the node already runs, and with the node's feeds).
        assert streams == [IID]
        assert [s.id.value for s in again.strategies] == ["keep-run", "keep-stop"]
        assert again.is_running(StrategyId("keep-run"))
        assert not again.is_running(StrategyId("keep-stop"))
        assert again.owner(StrategyId("keep-run")) == "u1"
        assert again.strategy(StrategyId("keep-stop")).params["size"] == 5
        await again.stop()
        db2.dispose()

    asyncio.run(go())


def test_a_saved_strategy_that_no_longer_builds_is_left_out(tmp_path: Path) -> None:
    async def go() -> None:
        clock = LiveClock()
        node, db = make_node(tmp_path, clock)
        good = {"ref": f"{__name__}:Pinger", "id": "ok", "instruments": [str(IID)],
                "params": {"size": "3"}, "owner": None, "running": False}  # fmt: skip
        node.journal.save_state("strategy_instances", {"instances": [
            {**good, "id": "bad-param", "params": {"size": 1000}},
            {**good, "id": "bad-class", "ref": "nowhere.module:Gone"},
            {**good, "id": "bad-instrument", "instruments": ["DOGE/USDT.SIM"]},
            good,
        ]}, 0)  # fmt: skip
        await node.start()
        assert [s.id.value for s in node.strategies] == ["ok"]
        assert node.strategy(StrategyId("ok")).params["size"] == 3
        await node.stop()
        db.dispose()

    asyncio.run(go())

"""Running one strategy over one catalog dataset twice: as a backtest and in a paper-trading
node whose simulated venue is fed a replay of the same bars, recording what it decided.

``Recorded(cls)`` is the strategy class with its context wrapped: every order it hands to
``submit`` or ``submit_list`` is noted with the open time of the bar whose hook made it, and
every fill with the fill itself. Nothing else changes, so the strategy decides exactly as the
shipped class does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from tradeforge.backtest import BacktestResult, run
from tradeforge.bus import ReplayClock
from tradeforge.connectors import SimVenueClient
from tradeforge.connectors.sim_exchange.market import MarketEvent, MarketFeed
from tradeforge.connectors.sim_exchange.replay_market import ReplayMarket, catalog_bars
from tradeforge.data import Catalog
from tradeforge.domain import (
    Instrument,
    InstrumentId,
    Money,
    OrderBookSnapshot,
    OrderFilled,
    OrderList,
    OrderSpec,
    Timeframe,
    TradeTick,
)
from tradeforge.engine import TradingNode
from tradeforge.store import Database, SqlOrderJournal, sqlite_url
from tradeforge.strategy import BarLike, Strategy
from tradeforge.trading import RiskEngine


@dataclass(frozen=True)
class Decision:
    """One order a strategy submitted: at which bar, and what."""

    bar_open_ns: int
    side: str
    order_type: str
    quantity: Decimal
    price: Decimal | None
    trigger_price: Decimal | None


@dataclass(frozen=True)
class Fill:
    """One execution, with the bar (by open time) it happened in."""

    bar_open_ns: int
    side: str
    order_type: str
    quantity: Decimal
    price: Decimal
    commission: Decimal
    liquidity: str


class _Recording:
    """A strategy context that notes every order it is given, then passes it on."""

    def __init__(self, ctx: Any, owner: Any) -> None:
        self._ctx = ctx
        self._owner = owner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)

    def submit(self, spec: OrderSpec) -> Any:
        self._owner.note(spec)
        return self._ctx.submit(spec)

    def submit_list(self, order_list: OrderList) -> None:
        for spec in order_list.orders:
            self._owner.note(spec)
        self._ctx.submit_list(order_list)


def recorded(cls: type[Strategy]) -> type[Strategy]:
    """``cls`` noting its decisions and fills (see the module docstring)."""

    class Recorded(cls):  # type: ignore[valid-type,misc]
        name = cls.name

        def bind(self, ctx: Any, instruments: Sequence[InstrumentId]) -> None:
            self.decisions: list[Decision] = []
            self.fills: list[OrderFilled] = []
            self.bar_open: int | None = None
            super().bind(_Recording(ctx, self), instruments)

        def note(self, spec: OrderSpec) -> None:
            assert self.bar_open is not None, "orders are decided in on_bar only"
            self.decisions.append(
                Decision(
                    bar_open_ns=self.bar_open,
                    side=spec.side.value,
                    order_type=spec.order_type.value,
                    quantity=spec.quantity.as_decimal(),
                    price=None if spec.price is None else spec.price.as_decimal(),
                    trigger_price=(
                        None if spec.trigger_price is None else spec.trigger_price.as_decimal()
                    ),
                )
            )

        def on_bar(self, bar: BarLike) -> None:
            self.bar_open = bar.ts_open
            super().on_bar(bar)

        def on_fill(self, fill: OrderFilled) -> None:
            self.fills.append(fill)
            super().on_fill(fill)

    return Recorded


def fills_by_bar(fills: Sequence[OrderFilled], timeframe: Timeframe) -> list[Fill]:
    """Fills with the open time of the bar they happened in, in the order they happened."""
    span = timeframe.nanos
    return [
        Fill(
            bar_open_ns=f.ts_event - f.ts_event % span,
            side=f.order_side.value,
            order_type=f.order_type.value,
            quantity=f.last_qty.as_decimal(),
            price=f.last_px.as_decimal(),
            commission=f.commission.amount,
            liquidity=f.liquidity_side.value,
        )
        for f in fills
    ]


def backtest(
    strategy: Strategy, catalog: Catalog, instrument: Instrument, timeframe: Timeframe, cash: str
) -> BacktestResult:
    """The backtest of ``strategy`` over the catalog's dataset."""
    return run(
        strategy,
        catalog=catalog,
        instrument_ids=[instrument.id],
        instruments=[instrument],
        timeframe=timeframe,
        cash=cash,
    )


class TradesOnly:
    """A feed's trades without its book: the venue then fills a market order at the next
    trade, as the backtester fills it at the next bar's open."""

    def __init__(self, feed: MarketFeed) -> None:
        self._feed = feed
        self.instrument = feed.instrument

    def snapshot(self) -> OrderBookSnapshot:
        empty = self._feed.snapshot()
        return OrderBookSnapshot(
            instrument_id=empty.instrument_id, bids=(), asks=(), sequence=empty.sequence,
            ts_event=empty.ts_event, ts_init=empty.ts_init,
        )  # fmt: skip

    def advance(self, ts_ns: int) -> list[MarketEvent]:
        return [e for e in self._feed.advance(ts_ns) if isinstance(e, TradeTick)]


async def settle(rounds: int = 40) -> None:
    """Let every task the last clock step woke run to its end (no task here waits on I/O)."""
    for _ in range(rounds):
        await asyncio.sleep(0)


async def paper(
    strategy: Strategy,
    catalog: Catalog,
    instrument: Instrument,
    timeframe: Timeframe,
    *,
    cash: str,
    tmp: Path,
    with_book: bool = False,
    offset_ns: int = 1_000_000,
) -> TradingNode:
    """Run ``strategy`` in a paper-trading node (``SimVenueClient``: the simulated venue, in
    process, as ``tradeforge run`` builds a paper venue) fed a ``ReplayMarket`` of the catalog's
    dataset, on a replay clock moved timer by timer, until every bar has been replayed and the
    last one closed. Returns the stopped node. The account holds ``cash`` of the quote currency
    only, as the backtest's does.

    The replay starts ``offset_ns`` after the first bar's open, so a bar's first trade comes
    just after the node closed the previous bar (as on a venue, where the next trade follows
    the bar's end) and the order decided on that bar reaches the venue before it."""
    info = catalog.info(instrument.id, timeframe)
    span = timeframe.nanos
    start = info.first_ts - span  # grid-aligned: the node's bar timer fires on bar edges
    clock = ReplayClock(start)
    market = ReplayMarket(
        instrument,
        catalog_bars(catalog, instrument.id, timeframe),
        timeframe_ns=span,
        start_ts_ns=info.first_ts + offset_ns,
        trades_per_bar=12,
        seed=1,
    )
    feed: MarketFeed = market if with_book else TradesOnly(market)
    venue = SimVenueClient(
        instruments=[instrument],
        balances=[Money(cash, instrument.quote_currency)],
        clock=clock, feeds=[feed], feed_interval_ns=span // 60,
    )  # fmt: skip
    db = Database(sqlite_url(tmp / "journal.sqlite"))
    db.upgrade()
    node = TradingNode(
        clock=clock, venues={instrument.id.venue: venue}, strategies=[strategy],
        journal=SqlOrderJournal(db), timeframe=timeframe,
        base_currency=instrument.quote_currency, risk=RiskEngine(clock=clock, track=True),
        reconcile_every_s=0, value_every_s=0,
    )  # fmt: skip
    await node.start()
    await settle()
    end = info.last_ts + 2 * span
    try:
        while True:
            due = clock.next_event_ns()
            if due is None or due > end:
                break
            clock.advance_to(due)
            await settle()
    finally:
        await node.stop()
        db.dispose()
    assert market.finished
    return node

"""A paper node on a market moved by hand: the test prints each trade.

``HandMarket`` builds a ``SimVenueClient`` (the simulated venue, in process) with no feed, and a
``TradingNode`` on it with a ``Recorder`` strategy; ``trade(price)`` prints one trade (to the
node's subscription first, then to the venue's matching engines, as a real feed does) and lets
every task it woke run. ``Limited`` wraps a venue client with fewer capabilities (and without
the methods they need), to run the node's fallbacks against the same simulated venue; ``Flaky``
puts it behind a link the test cuts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from tradeforge.backtest import spot_pair
from tradeforge.bus import LiveClock
from tradeforge.connectors import SimVenueClient
from tradeforge.domain import (
    AggressorSide,
    InstrumentId,
    Money,
    OrderEvent,
    OrderFilled,
    TemporaryError,
    Timeframe,
    TradeId,
    TradeTick,
    Venue,
)
from tradeforge.domain.money import KNOWN_CURRENCIES
from tradeforge.engine import TradingNode
from tradeforge.execution import VenueCapabilities
from tradeforge.store import Database, SqlOrderJournal, sqlite_url
from tradeforge.strategy import Strategy

IID = InstrumentId("BTC/USDT", Venue("SIM"))
USDT = KNOWN_CURRENCIES["USDT"]
BTC = KNOWN_CURRENCIES["BTC"]
INSTRUMENT = spot_pair(IID, price_precision=2, size_precision=5, fee=Decimal("0.001"))


class Recorder(Strategy):
    """Sends nothing by itself; keeps every order event and fill it is shown."""

    name = "recorder"

    def on_start(self) -> None:
        self.events: list[OrderEvent] = []
        self.fills: list[OrderFilled] = []

    def on_order(self, event: OrderEvent) -> None:
        self.events.append(event)

    def on_fill(self, fill: OrderFilled) -> None:
        self.fills.append(fill)


class Limited:
    """``client`` with only ``capabilities`` (its other methods passed through, except those
    the missing capabilities name)."""

    _HIDDEN: ClassVar[dict[str, str]] = {"oco_orders": "submit_oco"}

    def __init__(self, client: Any, **capabilities: bool) -> None:
        self._client = client
        self.capabilities: VenueCapabilities = dataclasses.replace(
            client.capabilities, **capabilities
        )
        self._hidden = {m for cap, m in self._HIDDEN.items() if not getattr(self.capabilities, cap)}

    def __getattr__(self, name: str) -> Any:
        if name in self._hidden:
            raise AttributeError(name)
        return getattr(self._client, name)


async def settle(rounds: int = 30) -> None:
    """Let every task the last step woke run (nothing here waits on I/O)."""
    for _ in range(rounds):
        await asyncio.sleep(0)


class HandMarket:
    """One simulated venue and a node on it (see the module docstring)."""

    def __init__(
        self,
        tmp: Path,
        *,
        usdt: str = "100000",
        btc: str = "0",
        limit: dict[str, bool] | None = None,
        flaky: bool = False,
    ) -> None:
        self.clock = LiveClock()
        self.venue = SimVenueClient(
            instruments=[INSTRUMENT],
            balances=[Money(usdt, USDT), Money(btc, BTC)],
            clock=self.clock,
        )
        self.client: Any = Limited(self.venue, **limit) if limit else self.venue
        if flaky:
            self.client = Flaky(self.client)
        self.db_path = tmp / "journal.sqlite"
        self._ids = itertools.count(1)
        self.node: TradingNode | None = None

    def new_node(self, **options: Any) -> TradingNode:
        db = Database(sqlite_url(self.db_path))
        db.upgrade()
        self.strategy = Recorder(strategy_id="recorder-1", instruments=[IID])
        self.node = TradingNode(
            clock=self.clock, venues={IID.venue: self.client}, strategies=[self.strategy],
            journal=SqlOrderJournal(db), timeframe=Timeframe.from_str("1m"), base_currency=USDT,
            reconcile_every_s=0, value_every_s=0, **options,
        )  # fmt: skip
        return self.node

    async def trade(self, price: str, size: str = "1") -> None:
        """Print one trade and let the node and the venue act on it."""
        now = self.clock.timestamp_ns()
        self.venue.on_trade(
            TradeTick(
                instrument_id=IID, price=INSTRUMENT.make_price(Decimal(price)),
                size=INSTRUMENT.make_qty(Decimal(size)), aggressor_side=AggressorSide.BUYER,
                trade_id=TradeId(f"t{next(self._ids)}"), ts_event=now, ts_init=now,
            )
        )  # fmt: skip
        await settle()

    async def btc(self) -> tuple[Decimal, Decimal]:
        """The account's BTC at the venue: (total, locked)."""
        for balance in await self.venue.balances():
            if balance.total.currency == BTC:
                return balance.total.amount, balance.locked.amount
        return Decimal(0), Decimal(0)


class _Breakable:
    """An order-update subscription the test can break (the reader gets ``TemporaryError``)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._broken: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def break_(self) -> None:
        if not self._broken.done():
            self._broken.set_result(None)
            self._inner.end()

    def __aiter__(self) -> _Breakable:
        return self

    async def __anext__(self) -> Any:
        if self._broken.done():
            raise TemporaryError("order stream broken (test)")
        item = asyncio.ensure_future(self._inner.__anext__())
        await asyncio.wait([item, self._broken], return_when=asyncio.FIRST_COMPLETED)
        if self._broken.done():
            item.cancel()
            raise TemporaryError("order stream broken (test)")
        return item.result()


class Flaky:
    """``client`` behind a link the test cuts: while ``down`` every request raises
    ``TemporaryError`` (as a timeout does); ``break_streams()`` breaks the order streams."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.capabilities = client.capabilities
        self.down = False
        self.pings = 0
        self.subscriptions = 0
        self._streams: list[_Breakable] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def _check(self) -> None:
        if self.down:
            raise TemporaryError("link down (test)")

    async def ping(self) -> None:
        self.pings += 1
        self._check()

    async def balances(self) -> Any:
        self._check()
        return await self._client.balances()

    async def submit(self, spec: Any) -> Any:
        self._check()
        return await self._client.submit(spec)

    async def submit_oco(self, order_list: Any) -> Any:
        self._check()
        return await self._client.submit_oco(order_list)

    async def cancel(self, instrument_id: Any, client_order_id: Any) -> Any:
        self._check()
        return await self._client.cancel(instrument_id, client_order_id)

    async def order_status(self, instrument_id: Any, client_order_id: Any) -> Any:
        self._check()
        return await self._client.order_status(instrument_id, client_order_id)

    async def open_orders(self, instrument_id: Any = None) -> Any:
        self._check()
        return await self._client.open_orders(instrument_id)

    async def fills(self, instrument_id: Any, *, since_ns: int | None = None) -> Any:
        self._check()
        return await self._client.fills(instrument_id, since_ns=since_ns)

    def order_updates(self) -> _Breakable:
        self.subscriptions += 1
        stream = _Breakable(self._client.order_updates())
        self._streams.append(stream)
        return stream

    def break_streams(self) -> None:
        for stream in self._streams:
            stream.break_()

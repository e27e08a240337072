"""``PaperVenueClient``: paper trading on a real venue's market data.

Orders go to an in-process ``SimVenueClient`` (the backtester's simulated venue: simulated
fills, exact balances); market data comes from a real connector (a CCXT venue, or our simulated
exchange server) and is also pushed into the simulated venue, so resting orders fill when the
real market trades through them. Strategies see the real market.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from decimal import Decimal

from tradeforge.bus import Clock
from tradeforge.connectors.ccxt_convert import currency
from tradeforge.connectors.sim_venue import SimVenueClient
from tradeforge.domain import (
    AccountBalance,
    Bar,
    ClientOrderId,
    FillReport,
    Instrument,
    InstrumentId,
    Money,
    OrderList,
    OrderSpec,
    OrderStatusReport,
    Price,
    Quantity,
    QuoteTick,
    Timeframe,
    TradeForgeError,
    TradeTick,
)
from tradeforge.execution import BookUpdate, OrderUpdate, VenueCapabilities, VenueClient
from tradeforge.observability import get_logger

__all__ = ["PaperVenueClient"]

log = get_logger("tradeforge.paper")


class PaperVenueClient:
    """Simulated fills on a real market (see the module docstring)."""

    def __init__(
        self,
        data: VenueClient,
        *,
        balances: dict[str, Decimal],
        clock: Clock,
        instruments: Iterable[str] = (),
    ) -> None:
        self.data = data
        self.venue = data.venue
        self.capabilities = VenueCapabilities(
            modify_order=True, reduce_only=True, trailing_stop_orders=True,
            if_touched_orders=True, oco_orders=True,
        )  # fmt: skip
        self._balances = balances
        self._clock = clock
        self._wanted = set(instruments)
        self._sim: SimVenueClient | None = None
        self._pumps: list[asyncio.Task[None]] = []

    @property
    def sim(self) -> SimVenueClient:
        """The simulated venue (after ``connect``)."""
        if self._sim is None:
            raise TradeForgeError(f"paper venue {self.venue} is not connected")
        return self._sim

    @property
    def account_id(self) -> object:
        """The simulated account's id."""
        return self.sim.account_id

    async def connect(self) -> None:
        """Connect the data venue, build the simulated one on its instruments, start pumping."""
        if self._sim is not None:
            return
        await self.data.connect()
        instruments = await self.data.instruments()
        self._sim = SimVenueClient(
            instruments=instruments,
            balances=[Money.rounded(v, currency(k)) for k, v in self._balances.items()],
            clock=self._clock,
        )
        await self._sim.connect()
        for inst in instruments:
            if not self._wanted or str(inst.id) in self._wanted:
                self._pumps.append(asyncio.create_task(self._pump_trades(inst)))
                self._pumps.append(asyncio.create_task(self._pump_book(inst)))

    async def _pump_trades(self, inst: Instrument) -> None:
        try:
            async for trade in self.data.trades(inst.id):
                self.sim.on_trade(trade)
        except TradeForgeError as exc:
            log.warning("paper trade feed stopped", instrument=str(inst.id), error=str(exc))

    async def _pump_book(self, inst: Instrument) -> None:
        try:
            async for update in self.data.book(inst.id):
                self.sim.on_book(update)
        except TradeForgeError as exc:
            log.warning("paper book feed stopped", instrument=str(inst.id), error=str(exc))

    async def close(self) -> None:
        """Stop pumping, close both venues."""
        for task in self._pumps:
            task.cancel()
        for task in self._pumps:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._sim is not None:
            await self._sim.close()
        await self.data.close()

    async def ping(self) -> None:
        """Orders go to the simulated venue in process: reachable while it is open."""
        await self.sim.ping()

    async def instruments(self) -> list[Instrument]:
        return await self.sim.instruments()

    async def balances(self) -> list[AccountBalance]:
        return await self.sim.balances()

    async def submit(self, spec: OrderSpec) -> OrderStatusReport:
        return await self.sim.submit(spec)

    async def submit_oco(self, order_list: OrderList) -> list[OrderStatusReport]:
        return await self.sim.submit_oco(order_list)

    async def cancel(
        self, instrument_id: InstrumentId, client_order_id: ClientOrderId
    ) -> OrderStatusReport:
        return await self.sim.cancel(instrument_id, client_order_id)

    async def modify(
        self,
        instrument_id: InstrumentId,
        client_order_id: ClientOrderId,
        *,
        quantity: Quantity | None = None,
        price: Price | None = None,
        trigger_price: Price | None = None,
    ) -> OrderStatusReport:
        return await self.sim.modify(
            instrument_id, client_order_id, quantity=quantity, price=price,
            trigger_price=trigger_price,
        )  # fmt: skip

    async def order_status(
        self, instrument_id: InstrumentId, client_order_id: ClientOrderId
    ) -> OrderStatusReport | None:
        return await self.sim.order_status(instrument_id, client_order_id)

    async def open_orders(
        self, instrument_id: InstrumentId | None = None
    ) -> list[OrderStatusReport]:
        return await self.sim.open_orders(instrument_id)

    async def fills(
        self, instrument_id: InstrumentId, *, since_ns: int | None = None
    ) -> list[FillReport]:
        return await self.sim.fills(instrument_id, since_ns=since_ns)

    def trades(self, instrument_id: InstrumentId) -> AsyncIterator[TradeTick]:
        return self.sim.trades(instrument_id)

    def quotes(self, instrument_id: InstrumentId) -> AsyncIterator[QuoteTick]:
        return self.sim.quotes(instrument_id)

    def book(self, instrument_id: InstrumentId) -> AsyncIterator[BookUpdate]:
        return self.sim.book(instrument_id)

    def bars(self, instrument_id: InstrumentId, timeframe: Timeframe) -> AsyncIterator[Bar]:
        return self.sim.bars(instrument_id, timeframe)

    def order_updates(self) -> AsyncIterator[OrderUpdate]:
        return self.sim.order_updates()

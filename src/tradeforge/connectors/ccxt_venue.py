"""``CcxtVenueClient``: the ``VenueClient`` port over CCXT, for any exchange CCXT supports.

REST goes through async CCXT, streams through CCXT Pro's ``watch_*`` methods (and, for venues
that speak Binance's depth protocol, our own :class:`BinanceBookStream`, so gaps and resyncs
are ours to see). Every request passes the client-side weight limiter, the venue's circuit
breaker and, for reads only, a retry policy (:mod:`~tradeforge.connectors.ccxt_requests`).
Writes are never retried: an unknown outcome is settled by looking the order up by its client
order id (:mod:`~tradeforge.connectors.ccxt_orders`).

CCXT's own rate limiter is switched off: ours counts the venue's weights and honours its
headers. Every failure reaches the caller as a domain error (``ccxt_errors``).

The client wires its parts together: the configuration (``ccxt_config``), the loaded
instruments (``ccxt_markets``), order reports (``ccxt_reports``), order entry (``ccxt_orders``)
and streams (``ccxt_streams``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt_async
from prometheus_client import CollectorRegistry

from tradeforge.connectors.binance_book import BinanceBookStream
from tradeforge.connectors.ccxt_config import (
    CcxtVenueConfig,
    VenueClock,
    capabilities_of,
    make_exchange,
)
from tradeforge.connectors.ccxt_convert import currency, dec, fill_from_trade
from tradeforge.connectors.ccxt_markets import CcxtMarkets
from tradeforge.connectors.ccxt_orders import CcxtOrderEntry
from tradeforge.connectors.ccxt_reports import CcxtOrderReports
from tradeforge.connectors.ccxt_requests import CcxtRequests
from tradeforge.connectors.ccxt_streams import CcxtStreams
from tradeforge.connectors.order_book_sync import DepthSnapshot
from tradeforge.connectors.resilience import (
    BreakerMetrics,
    CircuitBreaker,
    FullJitter,
    RetryBudget,
    RetryPolicy,
    WeightLimiter,
)
from tradeforge.domain import (
    AccountBalance,
    AccountId,
    Bar,
    ClientOrderId,
    FillReport,
    Instrument,
    InstrumentId,
    Money,
    OrderBookDelta,
    OrderBookSnapshot,
    OrderList,
    OrderSpec,
    OrderStatusReport,
    Price,
    Quantity,
    QuoteTick,
    Timeframe,
    TradeTick,
)
from tradeforge.execution import OrderUpdate

__all__ = ["CcxtVenueClient", "CcxtVenueConfig", "VenueClock", "capabilities_of"]


class CcxtVenueClient:
    """A CCXT venue as a ``VenueClient`` (see the module docstring).

    Binance counts request weight per IP, not per key: clients of one venue that share an IP
    must share one ``limiter`` (by default each has its own, of ``config.weight_limit``).
    """

    def __init__(
        self,
        config: CcxtVenueConfig,
        *,
        clock: VenueClock,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        registry: CollectorRegistry | None = None,
        limiter: WeightLimiter | None = None,
    ) -> None:
        self.config = config
        self.venue = config.venue
        self._clock = clock
        self.account_id = config.account_id or AccountId(f"{config.venue}-{config.exchange_id}")
        self.rest = make_exchange(ccxt_async, config)
        self.capabilities = capabilities_of(self.rest.has, config.exchange_id)
        binance = config.exchange_id.startswith("binance")
        if binance:
            # CCXT refuses every symbol's open orders unless told that their weight (80, not
            # 6) is known: the limiter charges it (``fetch_open_orders_all``).
            self.rest.options.setdefault("fetchOpenOrders", {})["warnWithoutSymbol"] = False
        limiter = limiter or WeightLimiter(
            monotonic=clock.monotonic, sleep=sleep, limit=config.weight_limit
        )
        breaker = CircuitBreaker(
            str(config.venue),
            monotonic=clock.monotonic,
            failure_threshold=config.breaker_threshold,
            cooldown=config.breaker_cooldown,
            metrics=BreakerMetrics(registry) if registry is not None else None,
        )
        retry = RetryPolicy(
            backoff=FullJitter(base=0.2, cap=5.0),
            budget=RetryBudget(monotonic=clock.monotonic, reserve=3),
            sleep=sleep,
        )
        self._requests = CcxtRequests(
            self.rest,
            venue=config.venue,
            binance=binance,
            limiter=limiter,
            breaker=breaker,
            retry=retry,
        )
        self._markets = CcxtMarkets(config.venue)
        self._reports = CcxtOrderReports(self.account_id, clock.timestamp_ns)
        self._orders = CcxtOrderEntry(
            config,
            rest=self.rest,
            requests=self._requests,
            markets=self._markets,
            reports=self._reports,
            capabilities=self.capabilities,
            binance=binance,
            sleep=sleep,
        )
        self._streams = CcxtStreams(
            config,
            rest=self.rest,
            requests=self._requests,
            markets=self._markets,
            reports=self._reports,
            account_id=self.account_id,
            binance=binance,
            now_ns=clock.timestamp_ns,
            sleep=sleep,
        )
        self.book_streams: dict[InstrumentId, BinanceBookStream] = self._streams.book_streams

    @property
    def limiter(self) -> WeightLimiter:
        """The client-side weight limiter."""
        return self._requests.limiter

    @property
    def breaker(self) -> CircuitBreaker:
        """The venue's circuit breaker."""
        return self._requests.breaker

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy of reads (replaceable)."""
        return self._requests.retry

    @retry.setter
    def retry(self, policy: RetryPolicy) -> None:
        self._requests.retry = policy

    @property
    def pro(self) -> Any:
        """The CCXT Pro client (created on first use)."""
        return self._streams.pro

    def instrument(self, instrument_id: InstrumentId) -> Instrument:
        """A loaded instrument (else ``UnknownInstrument``)."""
        return self._markets.instrument(instrument_id)

    # ------------------------------------------------------------- lifecycle
    async def connect(self) -> None:
        """Load the markets and measure the clock difference with the venue."""
        self._markets.load(await self._requests.read("load_markets", self.rest.load_markets))
        if self.rest.has.get("fetchTime"):
            await self.sync_time()

    async def sync_time(self) -> int:
        """Measure the venue's clock against ours (signed requests use the difference)."""
        difference = await self._requests.read("fetch_time", self.rest.load_time_difference)
        self._streams.follow_time_difference()
        return int(difference)

    async def ping(self) -> None:
        """One cheap request (the server's time, weight 1), not retried: the node's heartbeat
        must see a failure as one. An open circuit breaker fails it too."""
        await self._requests.once("fetch_time", self.rest.fetch_time)

    async def close(self) -> None:
        """Close the REST session and any stream."""
        await self.rest.close()
        await self._streams.close()

    # ------------------------------------------------------------ reads
    async def instruments(self) -> list[Instrument]:
        """The venue's spot instruments."""
        return self._markets.all()

    async def balances(self) -> list[AccountBalance]:
        """Every currency the account holds."""
        raw = await self._requests.read("fetch_balance", self.rest.fetch_balance)
        out = []
        for code, entry in raw.items():
            if not isinstance(entry, dict) or "total" not in entry or code in ("info", "free"):
                continue
            total, used = (
                dec(entry.get("total")) or Decimal(0),
                dec(entry.get("used")) or Decimal(0),
            )
            if total == 0 and used == 0:
                continue
            ccy = currency(code)
            out.append(AccountBalance.of(Money.rounded(total, ccy), Money.rounded(used, ccy)))
        return out

    async def order_status(
        self, instrument_id: InstrumentId, client_order_id: ClientOrderId
    ) -> OrderStatusReport | None:
        """The order with this client order id, or None when the venue does not know it."""
        return await self._orders.order_status(instrument_id, client_order_id)

    async def open_orders(
        self, instrument_id: InstrumentId | None = None
    ) -> list[OrderStatusReport]:
        """Open orders of one instrument, or of all."""
        symbol = self._markets.symbol(instrument_id) if instrument_id is not None else None
        name = "fetch_open_orders" if symbol is not None else "fetch_open_orders_all"
        orders = await self._requests.read(name, lambda: self.rest.fetch_open_orders(symbol))
        return [self._reports.report(o, inst) for o in orders
                if (inst := self._markets.by_symbol(o.get("symbol"))) is not None]  # fmt: skip

    async def fills(
        self, instrument_id: InstrumentId, *, since_ns: int | None = None
    ) -> list[FillReport]:
        """The account's executions in one instrument, oldest first."""
        inst, symbol = self._markets.instrument(instrument_id), self._markets.symbol(instrument_id)
        since = since_ns // 1_000_000 if since_ns is not None else None
        trades = await self._requests.read(
            "fetch_my_trades", lambda: self.rest.fetch_my_trades(symbol, since)
        )
        if any(not self._reports.knows(str(t.get("order"))) for t in trades):
            # A venue's trade list names its own order ids: learn our ids from its orders.
            orders = await self._requests.read(
                "fetch_orders", lambda: self.rest.fetch_orders(symbol, since)
            )
            for order in orders:
                self._reports.remember(order)
        now = self._clock.timestamp_ns()
        return [
            fill_from_trade(
                t,
                inst,
                self.account_id,
                now,
                client_order_id=self._reports.client_order_id(str(t.get("order"))),
            )
            for t in trades
        ]

    # ------------------------------------------------------------ writes
    async def submit(self, spec: OrderSpec) -> OrderStatusReport:
        """Send a new order; never re-sent: an unknown outcome is settled by a lookup."""
        return await self._orders.submit(spec)

    async def submit_oco(self, order_list: OrderList) -> list[OrderStatusReport]:
        """Send an OCO pair as one Binance order list (``POST /api/v3/orderList/oco``, through
        CCXT's raw ``privatePostOrderListOco``: CCXT has no unified OCO). The venue locks funds
        once for the pair and expires one leg when the other fills.

        A spot sell can never open a short, so a leg's ``reduce_only`` (a bracket's exits) is
        what the venue does anyway and is not sent. Never re-sent: an unknown outcome is settled
        by looking both legs up by client order id."""
        return await self._orders.submit_oco(order_list)

    async def cancel(
        self, instrument_id: InstrumentId, client_order_id: ClientOrderId
    ) -> OrderStatusReport:
        """Cancel an open order; an unknown outcome is settled by a lookup."""
        return await self._orders.cancel(instrument_id, client_order_id)

    async def modify(
        self,
        instrument_id: InstrumentId,
        client_order_id: ClientOrderId,
        *,
        quantity: Quantity | None = None,
        price: Price | None = None,
        trigger_price: Price | None = None,
    ) -> OrderStatusReport:
        """Change an open order, where the venue can (else ``InvalidOrder``)."""
        return await self._orders.modify(
            instrument_id,
            client_order_id,
            quantity=quantity,
            price=price,
            trigger_price=trigger_price,
        )

    # ------------------------------------------------------------ streams
    def trades(self, instrument_id: InstrumentId) -> AsyncIterator[TradeTick]:
        """Public trades."""
        return self._streams.trades(instrument_id)

    def quotes(self, instrument_id: InstrumentId) -> AsyncIterator[QuoteTick]:
        """Best bid and ask."""
        return self._streams.quotes(instrument_id)

    def book(
        self, instrument_id: InstrumentId
    ) -> AsyncIterator[OrderBookSnapshot | OrderBookDelta]:
        """The level-2 book: ours for Binance-protocol venues, CCXT's snapshots otherwise."""
        return self._streams.book(instrument_id)

    async def _depth_snapshot(self, inst: Instrument) -> DepthSnapshot:
        return await self._streams.depth_snapshot(inst)

    def bars(self, instrument_id: InstrumentId, timeframe: Timeframe) -> AsyncIterator[Bar]:
        """Bars of ``timeframe``, each once a later one has started (so it has closed)."""
        return self._streams.bars(instrument_id, timeframe)

    def order_updates(self) -> AsyncIterator[OrderUpdate]:
        """The account's order reports and fills, merged from two CCXT Pro streams."""
        return self._streams.order_updates()

"""``CcxtVenueClient``: the ``VenueClient`` port over CCXT, for any exchange CCXT supports.

REST goes through async CCXT, streams through CCXT Pro's ``watch_*`` methods (and, for venues
that speak Binance's depth protocol, our own :class:`BinanceBookStream`, so gaps and resyncs
are ours to see). Around every request, in this order:

1. the client-side weight limiter (``WeightLimiter``): it waits until the request's weight fits
   under 95 % of the venue's budget, follows the used-weight header the venue returns, and
   after a 429/418 sends nothing until ``Retry-After`` has passed;
2. the venue's circuit breaker: five consecutive failures open it, then one probe per
   cool-down;
3. for reads only, a ``RetryPolicy`` (at most 3 attempts, full-jitter back-off, a 10 % retry
   budget). Writes are never retried: when the outcome of ``submit`` or ``cancel`` is unknown
   (a timeout, a 5xx, a lost answer) the client asks the venue for the order by its client
   order id, several times over the venue's visibility lag, before it decides anything.

CCXT's own rate limiter is switched off: ours counts the venue's weights and honours its
headers. Every failure reaches the caller as a domain error (``ccxt_errors``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol, TypeVar

import aiohttp
import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro
import msgspec
from prometheus_client import CollectorRegistry

from tradeforge.connectors.binance_book import BinanceBookStream
from tradeforge.connectors.ccxt_convert import (
    bar_from_ohlcv,
    currency,
    dec,
    fill_from_trade,
    instrument_from_market,
    quote_from_ticker,
    report_from_order,
    trade_from_ccxt,
)
from tradeforge.connectors.ccxt_errors import map_ccxt_error
from tradeforge.connectors.errors import MalformedResponse, UnknownOutcome
from tradeforge.connectors.order_book_sync import DepthSnapshot, parse_depth_snapshot
from tradeforge.connectors.resilience import (
    BreakerMetrics,
    CircuitBreaker,
    FullJitter,
    RetryBudget,
    RetryPolicy,
    WeightLimiter,
    write_operation,
)
from tradeforge.domain import (
    AccountBalance,
    AccountId,
    Bar,
    BookLevel,
    ClientOrderId,
    ContingencyType,
    FillReport,
    Instrument,
    InstrumentId,
    InvalidOrder,
    Money,
    OrderBookDelta,
    OrderBookSnapshot,
    OrderList,
    OrderSpec,
    OrderStatusReport,
    OrderType,
    Price,
    Quantity,
    QuoteTick,
    RateLimited,
    Timeframe,
    TimeInForce,
    TradeForgeError,
    TradeTick,
    UnknownInstrument,
    UnknownOrder,
    Venue,
)
from tradeforge.domain.errors import RetryableError
from tradeforge.execution import OrderUpdate, VenueCapabilities
from tradeforge.observability import get_logger

__all__ = ["CcxtVenueClient", "CcxtVenueConfig", "VenueClock", "capabilities_of"]

log = get_logger("tradeforge.connectors.ccxt")
T = TypeVar("T")

# Request weights of Binance Spot (the venue the weight header speaks for); others weigh 1.
_BINANCE_WEIGHTS = {
    "fetch_time": 1, "load_markets": 20, "fetch_balance": 20, "create_order": 1,
    "cancel_order": 1, "fetch_order": 4, "fetch_open_orders": 6, "fetch_my_trades": 20,
    "fetch_order_book": 5, "depth_snapshot": 50, "fetch_trades": 25, "fetch_ohlcv": 2,
    "fetch_orders": 20, "fetch_open_orders_all": 80, "create_order_list": 1,
}  # fmt: skip
_BINANCE_TYPES = {
    (OrderType.MARKET, False): "market",
    (OrderType.LIMIT, False): "limit",
    (OrderType.LIMIT, True): "LIMIT_MAKER",
    (OrderType.STOP_MARKET, False): "STOP_LOSS",
    (OrderType.STOP_LIMIT, False): "STOP_LOSS_LIMIT",
    (OrderType.LIMIT_IF_TOUCHED, False): "TAKE_PROFIT_LIMIT",
}
# A leg of a Binance OCO list: its limit leg must be LIMIT_MAKER (it rests, never takes).
_BINANCE_OCO_LEGS = {
    OrderType.LIMIT: "LIMIT_MAKER",
    OrderType.STOP_MARKET: "STOP_LOSS",
    OrderType.STOP_LIMIT: "STOP_LOSS_LIMIT",
    OrderType.LIMIT_IF_TOUCHED: "TAKE_PROFIT_LIMIT",
}


class VenueClock(Protocol):
    """What the client needs of a clock: ``LiveClock`` has both."""

    def timestamp_ns(self) -> int: ...

    def monotonic(self) -> float: ...


@dataclass(frozen=True)
class CcxtVenueConfig:
    """One CCXT venue account.

    ``urls`` is merged into the CCXT class's ``urls`` (to point it at a testnet or at our
    simulated exchange); ``ws_url`` enables our own Binance-protocol book stream.
    """

    exchange_id: str
    venue: Venue
    api_key: str | None = None
    secret: str | None = None
    urls: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    ws_url: str | None = None
    timeout_ms: int = 10_000
    weight_limit: int = 6000
    breaker_threshold: int = 5
    breaker_cooldown: float = 30.0
    lookup_attempts: int = 5
    lookup_interval: float = 1.0
    account_id: AccountId | None = None


def capabilities_of(has: Mapping[str, Any], exchange_id: str) -> VenueCapabilities:
    """What a venue can do, from CCXT's ``has`` table and our own overrides."""

    def yes(key: str) -> bool:
        return bool(has.get(key))

    binance = exchange_id == "binance"
    return VenueCapabilities(
        modify_order=yes("editOrder") and not binance,  # spot edit = cancelReplace
        stop_orders=yes("createStopOrder") or yes("createStopLimitOrder"),
        if_touched_orders=binance,  # TAKE_PROFIT_LIMIT
        oco_orders=binance,  # orderList/oco, through CCXT's raw method
        post_only=yes("createPostOnlyOrder") or exchange_id == "binance",
        reduce_only=yes("createReduceOnlyOrder"),
        fetch_order_by_client_id=yes("fetchOrder"),
        watch_trades=yes("watchTrades"),
        watch_quotes=yes("watchBidsAsks") or yes("watchTicker"),
        watch_book=yes("watchOrderBook"),
        watch_bars=yes("watchOHLCV"),
        watch_orders=yes("watchOrders"),
    )


def _deep_merge(target: dict[str, Any], extra: Mapping[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _deep_merge(target[key], value)
        else:
            target[key] = value


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
        self._sleep = sleep
        self.account_id = config.account_id or AccountId(f"{config.venue}-{config.exchange_id}")
        self.rest = self._make(ccxt_async)
        self._pro: Any = None
        self.capabilities = capabilities_of(self.rest.has, config.exchange_id)
        self._binance = config.exchange_id.startswith("binance")
        if self._binance:
            # CCXT refuses every symbol's open orders unless told that their weight (80, not
            # 6) is known: the limiter charges it (``fetch_open_orders_all``).
            self.rest.options.setdefault("fetchOpenOrders", {})["warnWithoutSymbol"] = False
        self.limiter = limiter or WeightLimiter(
            monotonic=clock.monotonic, sleep=sleep, limit=config.weight_limit
        )
        self.breaker = CircuitBreaker(
            str(config.venue),
            monotonic=clock.monotonic,
            failure_threshold=config.breaker_threshold,
            cooldown=config.breaker_cooldown,
            metrics=BreakerMetrics(registry) if registry is not None else None,
        )
        self.retry = RetryPolicy(
            backoff=FullJitter(base=0.2, cap=5.0),
            budget=RetryBudget(monotonic=clock.monotonic, reserve=3),
            sleep=sleep,
        )
        self._instruments: dict[InstrumentId, Instrument] = {}
        self._symbols: dict[InstrumentId, str] = {}
        self._by_symbol: dict[str, Instrument] = {}
        self.book_streams: dict[InstrumentId, BinanceBookStream] = {}
        self._client_ids: dict[str, str] = {}  # venue order id -> our client order id

    def _make(self, module: Any) -> Any:
        cfg = self.config
        params: dict[str, Any] = {
            "enableRateLimit": False,
            "timeout": cfg.timeout_ms,
            "options": dict(cfg.options),
        }
        if cfg.api_key:
            params |= {"apiKey": cfg.api_key, "secret": cfg.secret or ""}
        try:
            exchange = getattr(module, cfg.exchange_id)(params)
        except AttributeError:
            raise UnknownInstrument(f"CCXT has no exchange {cfg.exchange_id!r}") from None
        _deep_merge(exchange.urls, cfg.urls)
        return exchange

    # -------------------------------------------------------------- plumbing
    def _weight(self, name: str) -> int:
        return _BINANCE_WEIGHTS.get(name, 1) if self._binance else 1

    def _header(self, name: str) -> str | None:
        headers = getattr(self.rest, "last_response_headers", None) or {}
        wanted = name.lower()
        for key, value in headers.items():
            if key.lower() == wanted:
                return str(value)
        return None

    async def _once(
        self, name: str, fn: Callable[[], Awaitable[T]], *, client_order_id: str | None = None
    ) -> T:
        await self.limiter.acquire(self._weight(name))

        async def guarded() -> T:
            try:
                return await fn()
            except TradeForgeError:
                raise
            except Exception as exc:
                retry_after = self._header("Retry-After")
                error = map_ccxt_error(
                    _cut_short(exc),
                    venue=str(self.venue),
                    what=name,
                    retry_after=float(retry_after) if retry_after else None,
                    client_order_id=client_order_id,
                )
                if isinstance(error, RateLimited):
                    self.limiter.block_until(error.retry_after or 1.0)
                raise error from exc
            finally:
                used = self._header("X-MBX-USED-WEIGHT-1M")
                if used is not None and used.isdigit():
                    self.limiter.observe(int(used))

        return await self.breaker.call(guarded)

    async def _read(self, name: str, fn: Callable[[], Awaitable[T]]) -> T:
        return await self.retry.read(lambda: self._once(name, fn), name=name)

    def instrument(self, instrument_id: InstrumentId) -> Instrument:
        """A loaded instrument (else ``UnknownInstrument``)."""
        inst = self._instruments.get(instrument_id)
        if inst is None:
            raise UnknownInstrument(f"{instrument_id} is not traded at {self.venue}")
        return inst

    def _symbol(self, instrument_id: InstrumentId) -> str:
        self.instrument(instrument_id)
        return self._symbols[instrument_id]

    def _now(self) -> int:
        return self._clock.timestamp_ns()

    # ------------------------------------------------------------- lifecycle
    async def connect(self) -> None:
        """Load the markets and measure the clock difference with the venue."""
        markets = await self._read("load_markets", self.rest.load_markets)
        for symbol, market in markets.items():
            if market.get("spot") is False or not market.get("active", True):
                continue
            try:
                inst = instrument_from_market(market, self.venue)
            except TradeForgeError as exc:
                log.warning("market skipped", symbol=symbol, reason=str(exc))
                continue
            self._instruments[inst.id] = inst
            self._symbols[inst.id] = symbol
            self._by_symbol[symbol] = inst
        if self.rest.has.get("fetchTime"):
            await self.sync_time()

    async def sync_time(self) -> int:
        """Measure the venue's clock against ours (signed requests use the difference)."""
        difference = await self._read("fetch_time", self.rest.load_time_difference)
        if self._pro is not None:
            self._pro.options["timeDifference"] = self.rest.options.get("timeDifference", 0)
        return int(difference)

    async def ping(self) -> None:
        """One cheap request (the server's time, weight 1), not retried: the node's heartbeat
        must see a failure as one. An open circuit breaker fails it too."""
        await self._once("fetch_time", self.rest.fetch_time)

    async def close(self) -> None:
        """Close the REST session and any stream."""
        await self.rest.close()
        if self._pro is not None:
            await self._pro.close()

    @property
    def pro(self) -> Any:
        """The CCXT Pro client (created on first use)."""
        if self._pro is None:
            self._pro = self._make(ccxt_pro)
            self._pro.markets = self.rest.markets
            self._pro.markets_by_id = self.rest.markets_by_id
            self._pro.symbols = self.rest.symbols
            self._pro.options["timeDifference"] = self.rest.options.get("timeDifference", 0)
        return self._pro

    # ------------------------------------------------------------ reads
    async def instruments(self) -> list[Instrument]:
        """The venue's spot instruments."""
        return list(self._instruments.values())

    async def balances(self) -> list[AccountBalance]:
        """Every currency the account holds."""
        raw = await self._read("fetch_balance", self.rest.fetch_balance)
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
        inst, symbol = self.instrument(instrument_id), self._symbol(instrument_id)
        try:
            order = await self._read(
                "fetch_order",
                lambda: self.rest.fetch_order(
                    "", symbol, {"origClientOrderId": client_order_id.value}
                ),
            )
        except UnknownOrder:
            return None
        return self._report(order, inst)

    async def open_orders(
        self, instrument_id: InstrumentId | None = None
    ) -> list[OrderStatusReport]:
        """Open orders of one instrument, or of all."""
        symbol = self._symbol(instrument_id) if instrument_id is not None else None
        name = "fetch_open_orders" if symbol is not None else "fetch_open_orders_all"
        orders = await self._read(name, lambda: self.rest.fetch_open_orders(symbol))
        return [self._report(o, self._by_symbol[o["symbol"]]) for o in orders
                if o.get("symbol") in self._by_symbol]  # fmt: skip

    async def fills(
        self, instrument_id: InstrumentId, *, since_ns: int | None = None
    ) -> list[FillReport]:
        """The account's executions in one instrument, oldest first."""
        inst, symbol = self.instrument(instrument_id), self._symbol(instrument_id)
        since = since_ns // 1_000_000 if since_ns is not None else None
        trades = await self._read(
            "fetch_my_trades", lambda: self.rest.fetch_my_trades(symbol, since)
        )
        if any(str(t.get("order")) not in self._client_ids for t in trades):
            # A venue's trade list names its own order ids: learn our ids from its orders.
            orders = await self._read("fetch_orders", lambda: self.rest.fetch_orders(symbol, since))
            for order in orders:
                self._remember(order)
        now = self._now()
        return [
            fill_from_trade(
                t,
                inst,
                self.account_id,
                now,
                client_order_id=self._client_ids.get(str(t.get("order"))),
            )
            for t in trades
        ]

    def _remember(self, order: dict[str, Any]) -> None:
        if order.get("clientOrderId"):
            self._client_ids[str(order["id"])] = str(order["clientOrderId"])

    def _report(self, order: dict[str, Any], inst: Instrument) -> OrderStatusReport:
        self._remember(order)
        if str(order.get("type")).lower() == "market":
            # CCXT puts a market order's average fill price in ``price``: off the tick once
            # the order has walked the book. A market order has no price of its own.
            order = {**order, "price": None}
        return report_from_order(order, inst, self.account_id, self._now())

    # ------------------------------------------------------------ writes
    def _order_args(self, spec: OrderSpec, inst: Instrument) -> tuple[str, dict[str, Any]]:
        # CCXT would round an off-tick price or off-lot quantity silently: refuse instead.
        for label, value in (("price", spec.price), ("trigger price", spec.trigger_price)):
            if value is not None and not inst.is_on_tick(value):
                raise InvalidOrder(
                    f"{label} {value} is not a multiple of {inst.id}'s tick size {inst.tick_size}"
                )
        if not inst.is_on_lot(spec.quantity):
            raise InvalidOrder(
                f"quantity {spec.quantity} is not a multiple of {inst.id}'s lot size "
                f"{inst.lot_size}"
            )
        params: dict[str, Any] = {"clientOrderId": spec.client_order_id.value}
        if self._binance:
            kind = _BINANCE_TYPES.get((spec.order_type, spec.post_only))
            if kind is None:
                raise InvalidOrder(f"{self.venue} does not take {spec.order_type} orders")
            params["newOrderRespType"] = "RESULT"
        else:
            kind = "market" if spec.order_type is OrderType.MARKET else "limit"
            if spec.order_type not in (OrderType.MARKET, OrderType.LIMIT) and spec.trigger_price:
                params["triggerPrice"] = spec.trigger_price.as_float()
            if spec.post_only:
                params["postOnly"] = True
        if spec.trigger_price is not None and self._binance:
            params["stopPrice"] = str(spec.trigger_price)
        if spec.order_type is not OrderType.MARKET and not spec.post_only:
            params["timeInForce"] = spec.time_in_force.value
        if spec.reduce_only:
            if not self.capabilities.reduce_only:
                raise InvalidOrder(f"{self.venue} has no reduce-only orders")
            params["reduceOnly"] = True
        if spec.time_in_force not in (TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK):
            raise InvalidOrder(f"{self.venue} takes GTC, IOC and FOK orders only")
        return kind, params

    @write_operation
    async def _create(self, symbol: str, kind: str, spec: OrderSpec, params: dict[str, Any]) -> Any:
        price = str(spec.price) if spec.price is not None else None
        return await self._once(
            "create_order",
            lambda: self.rest.create_order(
                symbol, kind, spec.side.value.lower(), str(spec.quantity), price, params
            ),
            client_order_id=spec.client_order_id.value,
        )

    async def submit(self, spec: OrderSpec) -> OrderStatusReport:
        """Send a new order; never re-sent: an unknown outcome is settled by a lookup."""
        inst, symbol = self.instrument(spec.instrument_id), self._symbol(spec.instrument_id)
        kind, params = self._order_args(spec, inst)
        try:
            order = await self._create(symbol, kind, spec, params)
            return self._report(order, inst)
        except (UnknownOutcome, MalformedResponse) as exc:  # sent, but what became of it?
            log.warning("submit outcome unknown; looking the order up", venue=str(self.venue),
                        client_order_id=spec.client_order_id.value, error=str(exc))  # fmt: skip
            found = await self._lookup(spec.instrument_id, spec.client_order_id)
            if found is not None:
                return found
            raise UnknownOutcome(
                f"{exc} (not found by client order id after {self.config.lookup_attempts} "
                "lookups; it may still appear: do not re-send it under this id)",
                client_order_id=spec.client_order_id.value,
            ) from exc

    def _oco_params(self, order_list: OrderList, inst: Instrument) -> dict[str, Any]:
        """Binance's ``orderList/oco`` parameters: the leg with the higher price is above."""
        specs = order_list.orders
        if len(specs) != 2 or any(s.contingency_type is not ContingencyType.OCO for s in specs):
            raise InvalidOrder(f"order list {order_list.order_list_id}: an OCO is two orders")
        first, second = specs
        if first.side is not second.side or first.quantity != second.quantity:
            raise InvalidOrder(
                f"order list {order_list.order_list_id}: {self.venue}'s OCO legs share one "
                "side and one quantity"
            )

        def level(spec: OrderSpec) -> Decimal:
            px = spec.trigger_price or spec.price
            assert px is not None  # every leg type below has a price or a trigger
            return px.as_decimal()

        for spec in specs:
            self._order_args(msgspec.structs.replace(spec, reduce_only=False), inst)  # tick, lot
            if spec.order_type not in _BINANCE_OCO_LEGS:
                raise InvalidOrder(f"{self.venue} takes no {spec.order_type} leg in an OCO")
        above, below = sorted(specs, key=level, reverse=True)
        params: dict[str, Any] = {
            "symbol": inst.raw_symbol,
            "side": first.side.value,
            "quantity": str(first.quantity),
            "listClientOrderId": order_list.order_list_id.value[:36],
        }
        for prefix, spec in (("above", above), ("below", below)):
            kind = _BINANCE_OCO_LEGS[spec.order_type]
            params[f"{prefix}Type"] = kind
            params[f"{prefix}ClientOrderId"] = spec.client_order_id.value
            if spec.price is not None:
                params[f"{prefix}Price"] = str(spec.price)
            if spec.trigger_price is not None:
                params[f"{prefix}StopPrice"] = str(spec.trigger_price)
            if kind.endswith("_LIMIT"):
                params[f"{prefix}TimeInForce"] = spec.time_in_force.value
        return params

    async def submit_oco(self, order_list: OrderList) -> list[OrderStatusReport]:
        """Send an OCO pair as one Binance order list (``POST /api/v3/orderList/oco``, through
        CCXT's raw ``privatePostOrderListOco``: CCXT has no unified OCO). The venue locks funds
        once for the pair and expires one leg when the other fills.

        A spot sell can never open a short, so a leg's ``reduce_only`` (a bracket's exits) is
        what the venue does anyway and is not sent. Never re-sent: an unknown outcome is settled
        by looking both legs up by client order id."""
        if not self.capabilities.oco_orders:
            raise InvalidOrder(f"{self.venue} has no native OCO orders")
        iid = order_list.orders[0].instrument_id
        inst = self.instrument(iid)
        params = self._oco_params(order_list, inst)
        market = self.rest.market(self._symbol(iid))

        @write_operation
        async def send() -> Any:
            return await self._once(
                "create_order_list",
                lambda: self.rest.privatePostOrderListOco(params),
                client_order_id=params["aboveClientOrderId"],
            )

        specs = order_list.orders
        try:
            answer = await send()
            reports = {
                r.client_order_id: r
                for r in (
                    self._report(self.rest.parse_order(raw, market), inst)
                    for raw in answer.get("orderReports") or []
                )
            }
            if all(s.client_order_id in reports for s in specs):
                return [reports[s.client_order_id] for s in specs]
            raise MalformedResponse(f"{self.venue} orderList/oco answer lacks a leg: {answer}")
        except (UnknownOutcome, MalformedResponse) as exc:
            log.warning("order list outcome unknown; looking its legs up", venue=str(self.venue),
                        order_list_id=order_list.order_list_id.value, error=str(exc))  # fmt: skip
            found = [await self._lookup(iid, s.client_order_id) for s in specs]
            known = [f for f in found if f is not None]
            if len(known) == len(specs):
                return known
            raise UnknownOutcome(
                f"{exc} (order list {order_list.order_list_id}: {len(known)} of its legs found "
                "by client order id; do not re-send it under these ids)",
                client_order_id=specs[0].client_order_id.value,
            ) from exc

    async def _lookup(
        self, instrument_id: InstrumentId, client_order_id: ClientOrderId
    ) -> OrderStatusReport | None:
        """Ask for an order by client order id over the venue's visibility lag."""
        for attempt in range(self.config.lookup_attempts):
            if attempt:
                await self._sleep(self.config.lookup_interval)
            with contextlib.suppress(TradeForgeError):
                found = await self.order_status(instrument_id, client_order_id)
                if found is not None:
                    return found
        return None

    @write_operation
    async def _cancel(self, symbol: str, client_order_id: ClientOrderId) -> Any:
        return await self._once(
            "cancel_order",
            lambda: self.rest.cancel_order(
                "", symbol, {"origClientOrderId": client_order_id.value}
            ),
            client_order_id=client_order_id.value,
        )

    async def cancel(
        self, instrument_id: InstrumentId, client_order_id: ClientOrderId
    ) -> OrderStatusReport:
        """Cancel an open order; an unknown outcome is settled by a lookup."""
        inst, symbol = self.instrument(instrument_id), self._symbol(instrument_id)
        try:
            order = await self._cancel(symbol, client_order_id)
        except UnknownOutcome:
            found = await self._lookup(instrument_id, client_order_id)
            if found is not None and not found.is_open:
                return found
            raise
        report = self._report(order, inst)
        if report.client_order_id != client_order_id:  # Binance echoes the cancel's own id
            report = msgspec.structs.replace(report, client_order_id=client_order_id)
        return report

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
        if not self.capabilities.modify_order:
            raise InvalidOrder(f"{self.venue} cannot modify orders: cancel and submit a new one")
        current = await self.order_status(instrument_id, client_order_id)
        if current is None or not current.is_open:
            raise UnknownOrder(f"{client_order_id} is not open at {self.venue}")
        inst, symbol = self.instrument(instrument_id), self._symbol(instrument_id)
        qty = quantity or current.quantity
        px = price or current.price

        @write_operation
        async def edit() -> Any:
            return await self._once(
                "edit_order",
                lambda: self.rest.edit_order(
                    current.venue_order_id.value, symbol, current.order_type.value.lower(),
                    current.side.value.lower(), str(qty), str(px) if px else None,
                    {"triggerPrice": str(trigger_price)} if trigger_price else {},
                ),
                client_order_id=client_order_id.value,
            )  # fmt: skip

        return self._report(await edit(), inst)

    # ------------------------------------------------------------ streams
    async def _watch(self, name: str, fn: Callable[[], Awaitable[T]]) -> AsyncIterator[T]:
        """Call a CCXT Pro ``watch_*`` forever, reconnecting with back-off on network errors."""
        backoff = FullJitter(base=0.1, cap=5.0)
        failures = 0
        while True:
            try:
                value = await fn()
            except Exception as exc:
                error = map_ccxt_error(exc, venue=str(self.venue), what=name)
                if not isinstance(error, RetryableError):
                    raise error from exc
                delay = backoff.delay(failures, 0.0)
                failures += 1
                log.info("stream reconnecting", venue=str(self.venue), stream=name,
                         error=str(error), delay_s=round(delay, 3))  # fmt: skip
                await self._sleep(delay)
                continue
            failures = 0
            yield value

    async def trades(self, instrument_id: InstrumentId) -> AsyncIterator[TradeTick]:
        """Public trades."""
        inst, symbol = self.instrument(instrument_id), self._symbol(instrument_id)
        async for batch in self._watch("watch_trades", lambda: self.pro.watch_trades(symbol)):
            now = self._now()
            for trade in batch:
                yield trade_from_ccxt(trade, inst, now)

    async def quotes(self, instrument_id: InstrumentId) -> AsyncIterator[QuoteTick]:
        """Best bid and ask."""
        inst, symbol = self.instrument(instrument_id), self._symbol(instrument_id)
        watch = (
            (lambda: self.pro.watch_bids_asks([symbol]))
            if self.pro.has.get("watchBidsAsks")
            else (lambda: self.pro.watch_ticker(symbol))
        )
        async for value in self._watch("watch_quotes", watch):
            ticker = value.get(symbol, value) if isinstance(value, dict) else value
            quote = quote_from_ticker(ticker, inst, self._now())
            if quote is not None:
                yield quote

    async def book(
        self, instrument_id: InstrumentId
    ) -> AsyncIterator[OrderBookSnapshot | OrderBookDelta]:
        """The level-2 book: ours for Binance-protocol venues, CCXT's snapshots otherwise."""
        inst, symbol = self.instrument(instrument_id), self._symbol(instrument_id)
        if self._binance and self.config.ws_url:
            stream = BinanceBookStream(
                inst,
                ws_url=self.config.ws_url,
                fetch_snapshot=lambda: self._depth_snapshot(inst),
                now_ns=self._now,
                sleep=self._sleep,
            )
            self.book_streams[instrument_id] = stream
            async for update in stream.updates():
                yield update
            return
        async for ob in self._watch("watch_order_book", lambda: self.pro.watch_order_book(symbol)):
            yield OrderBookSnapshot(
                instrument_id=inst.id,
                bids=tuple(_level(inst, p, q) for p, q, *_ in ob["bids"]),
                asks=tuple(_level(inst, p, q) for p, q, *_ in ob["asks"]),
                sequence=int(ob.get("nonce") or 0),
                ts_event=self._now(),
                ts_init=self._now(),
            )

    async def _depth_snapshot(self, inst: Instrument) -> DepthSnapshot:
        raw = await self._read(
            "depth_snapshot",
            lambda: self.rest.publicGetDepth({"symbol": inst.raw_symbol, "limit": 1000}),
        )
        return parse_depth_snapshot(raw)

    async def bars(self, instrument_id: InstrumentId, timeframe: Timeframe) -> AsyncIterator[Bar]:
        """Bars of ``timeframe``, each once a later one has started (so it has closed)."""
        inst, symbol = self.instrument(instrument_id), self._symbol(instrument_id)
        tf = str(timeframe)
        last: list[Any] | None = None
        async for candles in self._watch("watch_ohlcv", lambda: self.pro.watch_ohlcv(symbol, tf)):
            for row in candles:
                if last is not None and row[0] > last[0]:
                    yield bar_from_ohlcv(last, inst, timeframe, self._now())
                if last is None or row[0] >= last[0]:
                    last = row

    async def order_updates(self) -> AsyncIterator[OrderUpdate]:
        """The account's order reports and fills, merged from two CCXT Pro streams."""
        queue: asyncio.Queue[OrderUpdate | BaseException] = asyncio.Queue()

        async def pump(name: str, watch: Callable[[], Awaitable[list[Any]]], fill: bool) -> None:
            try:
                async for batch in self._watch(name, watch):
                    now = self._now()
                    for item in batch:
                        inst = self._by_symbol.get(item.get("symbol"))
                        if inst is None:
                            continue
                        if fill:
                            await queue.put(fill_from_trade(item, inst, self.account_id, now))
                        else:
                            await queue.put(self._report(item, inst))
            except BaseException as exc:
                await queue.put(exc)

        tasks = [
            asyncio.create_task(pump("watch_orders", self.pro.watch_orders, False)),
            asyncio.create_task(pump("watch_my_trades", self.pro.watch_my_trades, True)),
        ]
        try:
            while True:
                item = await queue.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            for task in tasks:
                task.cancel()


def _cut_short(exc: Exception) -> Exception:
    """A CCXT error as what it is when the answer broke in transit.

    CCXT reports an aiohttp failure that is not a connection error (a body cut short by a reset:
    ``ClientPayloadError``; an answer that is not valid HTTP: ``ClientResponseError``) as an
    ``ExchangeError``, which reads as "the venue refused". The venue may well have executed the
    request: it is a network failure (for a write, an unknown outcome).
    """
    if isinstance(exc.__cause__, aiohttp.ClientPayloadError | aiohttp.ClientResponseError):
        network: Exception = ccxt_async.NetworkError(str(exc))
        return network
    return exc


def _level(inst: Instrument, price: Any, qty: Any) -> BookLevel:
    return BookLevel(
        inst.make_price(dec(price) or Decimal(0)), inst.make_qty(dec(qty) or Decimal(0))
    )

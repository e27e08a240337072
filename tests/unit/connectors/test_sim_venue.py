"""``SimVenueClient``: the ``VenueClient`` port over the in-process simulated venue.

Scenarios run on the connector tests' virtual-time loop. Most drive a ``ReplayClock`` by hand
(``Market`` pushes data and moves the clock with it); the paper-trading ones use a ``LiveClock``,
whose timers run on that loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.kit.stubs import BTC, STRATEGY, USDT, btcusdt

import tradeforge.connectors
from tradeforge.backtest import LatencyModel
from tradeforge.bus import LiveClock, ReplayClock
from tradeforge.connectors import SimVenueClient, UnknownOutcome
from tradeforge.connectors.sim_exchange.market import MarketEvent
from tradeforge.connectors.sim_exchange.random_market import RandomMarket
from tradeforge.connectors.sim_venue import SimSubscription
from tradeforge.domain import (
    KNOWN_CURRENCIES,
    AccountId,
    AggressorSide,
    Bar,
    BookAction,
    BookLevel,
    BookSide,
    ClientOrderId,
    ClientOrderIdGenerator,
    FillReport,
    Instrument,
    InstrumentId,
    InsufficientFunds,
    InvalidOrder,
    LiquiditySide,
    Money,
    OrderBookDelta,
    OrderBookSnapshot,
    OrderFactory,
    OrderSide,
    OrderSpec,
    OrderStatus,
    OrderStatusReport,
    Price,
    Quantity,
    QuoteTick,
    RequestError,
    TemporaryError,
    Timeframe,
    TimeInForce,
    TradeId,
    TradeTick,
    TrailingOffsetType,
    UnknownInstrument,
    UnknownOrder,
    Venue,
)
from tradeforge.execution import VenueClient

if TYPE_CHECKING:
    from tests.unit.connectors.conftest import VirtualTime

T = TypeVar("T")

T0 = 1_700_000_000_000_000_000  # 2023-11-14T22:13:20Z
MS = 1_000_000
SECOND = 1_000_000_000
BUY, SELL = OrderSide.BUY, OrderSide.SELL
S = OrderStatus

INST = btcusdt(
    id=InstrumentId.from_str("BTC/USDT.SIM"),
    min_quantity=Quantity("0.010"),
    max_quantity=Quantity("100.000"),
    min_notional=Money("5", USDT),
)
IID = INST.id
ETH_INST = btcusdt(
    id=InstrumentId.from_str("ETH/USDT.SIM"),
    raw_symbol="ETHUSDT",
    base_currency=KNOWN_CURRENCIES["ETH"],
)
START_USDT, START_BTC = Decimal(10_000), Decimal(2)


def make_client(clock: ReplayClock | LiveClock | None = None, **kwargs: Any) -> SimVenueClient:
    return SimVenueClient(
        instruments=kwargs.pop("instruments", [INST, ETH_INST]),
        balances=[Money(START_USDT, USDT), Money(START_BTC, BTC)],
        clock=clock or ReplayClock(T0),
        **kwargs,
    )


def orders(prefix: str = "T") -> OrderFactory:
    return OrderFactory(STRATEGY, ClientOrderIdGenerator(prefix))


def qty(value: str) -> Quantity:
    return Quantity(value)


def px(value: str) -> Price:
    return Price(value)


def level(price: Decimal, size: str) -> BookLevel:
    return BookLevel(INST.make_price(price), INST.make_qty(size))


@dataclass
class Market:
    """Pushes market data into a client at increasing times, moving its replay clock along."""

    client: SimVenueClient
    clock: ReplayClock
    ts: int = T0
    seq: int = 0
    trades: int = 0

    def _next(self, ts: int | None) -> int:
        self.ts = ts if ts is not None else self.ts + MS
        self.clock.advance_to(self.ts)
        self.seq += 1
        return self.ts

    def book(
        self, bid: str, ask: str, size: str = "1.000", *, ts: int | None = None
    ) -> OrderBookSnapshot:
        """Two levels a side: ``size`` at the touch, 2.000 one whole unit away."""
        now = self._next(ts)
        b, a = Decimal(bid), Decimal(ask)
        snapshot = OrderBookSnapshot(
            instrument_id=IID,
            bids=(level(b, size), level(b - 1, "2.000")),
            asks=(level(a, size), level(a + 1, "2.000")),
            sequence=self.seq,
            ts_event=now,
            ts_init=now,
        )
        self.client.on_book(snapshot)
        return snapshot

    def delta(self, side: BookSide, price: str, size: str) -> OrderBookDelta:
        now = self._next(None)
        action = BookAction.DELETE if Decimal(size) == 0 else BookAction.UPDATE
        delta = OrderBookDelta(
            instrument_id=IID,
            action=action,
            side=side,
            price=px(price),
            size=qty(size),
            sequence=self.seq,
            ts_event=now,
            ts_init=now,
        )
        self.client.on_book(delta)
        return delta

    def trade(self, price: str, size: str = "1.000") -> TradeTick:
        now = self._next(None)
        self.trades += 1
        tick = TradeTick(
            instrument_id=IID,
            price=px(price),
            size=qty(size),
            aggressor_side=AggressorSide.BUYER,
            trade_id=TradeId(str(self.trades)),
            ts_event=now,
            ts_init=now,
        )
        self.client.on_trade(tick)
        return tick


def thin_book() -> OrderBookSnapshot:
    """One level a side, 99.00 / 101.00."""
    return OrderBookSnapshot(
        instrument_id=IID,
        bids=(level(Decimal(99), "1.000"),),
        asks=(level(Decimal(101), "1.000"),),
        sequence=1,
        ts_event=T0,
        ts_init=T0,
    )


def setup(**kwargs: Any) -> tuple[SimVenueClient, Market]:
    """A client on a replay clock with a book at 99.00 / 101.00."""
    clock = ReplayClock(T0)
    client = make_client(clock, **kwargs)
    market = Market(client, clock)
    market.book("99.00", "101.00")
    return client, market


async def drain(sub: AsyncIterator[T]) -> list[T]:
    """What a subscription has queued now, without waiting for more."""
    assert isinstance(sub, SimSubscription)
    return [await anext(sub) for _ in range(sub.queued)]


def statuses(updates: list[Any], cid: ClientOrderId) -> list[OrderStatus]:
    return [
        u.status for u in updates if isinstance(u, OrderStatusReport) and u.client_order_id == cid
    ]


def fill_prices(updates: list[Any], cid: ClientOrderId) -> list[str]:
    return [
        str(u.last_px) for u in updates if isinstance(u, FillReport) and u.client_order_id == cid
    ]


async def totals(client: SimVenueClient) -> dict[str, tuple[Decimal, Decimal]]:
    """Currency -> (total, locked)."""
    return {b.currency.code: (b.total.amount, b.locked.amount) for b in await client.balances()}


def run(virtual_time: VirtualTime, scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    virtual_time.run(scenario())


# ------------------------------------------------------------------ the port


def test_it_is_a_venue_client_with_every_port_method_implemented() -> None:
    client = make_client()
    assert isinstance(client, VenueClient)
    assert client.venue == Venue("SIM")
    assert client.capabilities.modify_order
    members = [n for n, v in vars(VenueClient).items() if callable(v) and not n.startswith("_")]
    assert sorted(members) == [
        "balances",
        "bars",
        "book",
        "cancel",
        "close",
        "connect",
        "fills",
        "instruments",
        "modify",
        "open_orders",
        "order_status",
        "order_updates",
        "quotes",
        "submit",
        "trades",
    ]

    def shape(f: Callable[..., Any]) -> list[tuple[str, Any, Any]]:
        return [(p.name, p.kind, p.default) for p in inspect.signature(f).parameters.values()]

    for name in members:
        port, impl = getattr(VenueClient, name), vars(SimVenueClient)[name]
        assert inspect.iscoroutinefunction(impl) == inspect.iscoroutinefunction(port), name
        assert shape(impl) == shape(port), name
    assert "SimVenueClient" in tradeforge.connectors.__all__


def test_instruments_and_starting_balances(virtual_time: VirtualTime) -> None:
    async def scenario() -> None:
        client = make_client()
        assert await client.instruments() == [INST, ETH_INST]
        assert await totals(client) == {"USDT": (START_USDT, 0), "BTC": (START_BTC, 0)}

    run(virtual_time, scenario)


# ------------------------------------------------------------------ order lifecycle


@dataclass
class Case:
    spec: Callable[[OrderFactory], OrderSpec]
    moves: list[tuple[str, str]]  # books (bid, ask) pushed after the submit
    statuses: list[OrderStatus]  # every report of the order, in order
    fills: list[str] = field(default_factory=list)
    submitted: OrderStatus | None = None  # what submit returns (default: the first status)


LIFECYCLES = {
    "market buy fills at the ask": Case(
        lambda f: f.market(IID, BUY, qty("0.500")),
        [],
        [S.ACCEPTED, S.FILLED],
        ["101.00"],
        submitted=S.FILLED,
    ),
    "market sell walks two levels": Case(
        lambda f: f.market(IID, SELL, qty("1.500")),
        [],
        [S.ACCEPTED, S.PARTIALLY_FILLED, S.FILLED],
        ["99.00", "98.00"],
        submitted=S.FILLED,
    ),
    "limit rests, then the market comes to it": Case(
        lambda f: f.limit(IID, BUY, qty("0.500"), px("100.00")),
        [("98.00", "100.00")],
        [S.ACCEPTED, S.FILLED],
        ["100.00"],
    ),
    "marketable limit fills what the book has and rests the rest": Case(
        lambda f: f.limit(IID, BUY, qty("1.500"), px("101.00")),
        [("100.00", "100.50")],
        [S.ACCEPTED, S.PARTIALLY_FILLED, S.FILLED],
        ["101.00", "101.00"],
        submitted=S.PARTIALLY_FILLED,
    ),
    "IOC remainder is canceled": Case(
        lambda f: f.limit(IID, BUY, qty("2.000"), px("101.00"), time_in_force=TimeInForce.IOC),
        [],
        [S.ACCEPTED, S.PARTIALLY_FILLED, S.CANCELED],
        ["101.00"],
        submitted=S.CANCELED,
    ),
    "FOK that the book can fill": Case(
        lambda f: f.limit(IID, BUY, qty("2.000"), px("102.00"), time_in_force=TimeInForce.FOK),
        [],
        [S.ACCEPTED, S.PARTIALLY_FILLED, S.FILLED],
        ["101.00", "102.00"],
        submitted=S.FILLED,
    ),
    "FOK that the book cannot fill is canceled unfilled": Case(
        lambda f: f.limit(IID, BUY, qty("2.000"), px("101.00"), time_in_force=TimeInForce.FOK),
        [],
        [S.ACCEPTED, S.CANCELED],
        submitted=S.CANCELED,
    ),
    "stop market triggers and fills": Case(
        lambda f: f.stop_market(IID, BUY, qty("0.500"), px("103.00")),
        [("102.00", "103.00")],
        [S.ACCEPTED, S.TRIGGERED, S.FILLED],
        ["103.00"],
    ),
    "stop limit triggers, rests, then fills at its limit": Case(
        lambda f: f.stop_limit(IID, BUY, qty("0.500"), px("103.00"), px("103.00")),
        [("102.00", "104.00"), ("102.00", "103.00")],
        [S.ACCEPTED, S.TRIGGERED, S.FILLED],
        ["103.00"],
    ),
    "trailing stop follows the market up and sells on the way down": Case(
        lambda f: f.trailing_stop(IID, SELL, qty("0.500"), Decimal(2), TrailingOffsetType.AMOUNT),
        [("104.00", "105.00"), ("103.00", "104.00"), ("102.00", "103.00")],
        [S.ACCEPTED, S.TRIGGERED, S.FILLED],
        ["102.00"],
    ),
    "limit if touched triggers when touched": Case(
        lambda f: f.limit_if_touched(IID, BUY, qty("0.500"), px("100.00"), px("100.00")),
        [("98.00", "100.00")],
        [S.ACCEPTED, S.TRIGGERED, S.FILLED],
        ["100.00"],
    ),
    "post-only limit rests as a maker": Case(
        lambda f: f.limit(IID, BUY, qty("0.500"), px("100.00"), post_only=True),
        [("98.00", "100.00")],
        [S.ACCEPTED, S.FILLED],
        ["100.00"],
    ),
}


@pytest.mark.parametrize("case", LIFECYCLES.values(), ids=LIFECYCLES.keys())
def test_order_lifecycle(virtual_time: VirtualTime, case: Case) -> None:
    async def scenario() -> None:
        client, market = setup()
        updates = client.order_updates()
        spec = case.spec(orders())
        report = await client.submit(spec)
        assert report.status is (case.submitted or case.statuses[0])
        for bid, ask in case.moves:
            market.book(bid, ask)
        seen = await drain(updates)
        assert statuses(seen, spec.client_order_id) == case.statuses
        assert fill_prices(seen, spec.client_order_id) == case.fills
        final = await client.order_status(IID, spec.client_order_id)
        assert final is not None
        assert final.status is case.statuses[-1]
        assert final.venue_order_id == report.venue_order_id
        assert [str(f.last_px) for f in await client.fills(IID)] == case.fills
        if not final.is_open:
            assert await client.open_orders() == []
            assert all(locked == 0 for _, locked in (await totals(client)).values())

    run(virtual_time, scenario)


def test_a_resting_limit_fills_as_maker_with_the_maker_fee(virtual_time: VirtualTime) -> None:
    async def scenario() -> None:
        client, market = setup()
        spec = orders().limit(IID, BUY, qty("0.500"), px("100.00"))
        await client.submit(spec)
        market.book("98.00", "100.00")
        [fill] = await client.fills(IID)
        assert fill.liquidity_side is LiquiditySide.MAKER
        assert fill.commission == Money("0.01", USDT)  # 50.00 x 0.02 %
        report = await client.order_status(IID, spec.client_order_id)
        assert report is not None
        assert report.avg_px == Decimal("100.00")
        assert report.filled_qty == qty("0.500")

    run(virtual_time, scenario)


def test_a_partly_filled_order_canceled_keeps_its_fill_and_frees_its_lock(
    virtual_time: VirtualTime,
) -> None:
    async def scenario() -> None:
        client, market = setup()
        spec = orders().limit(IID, BUY, qty("1.000"), px("100.00"))
        await client.submit(spec)
        market.book("98.00", "100.00", size="0.300")
        assert (await totals(client))["USDT"][1] > 0
        report = await client.cancel(IID, spec.client_order_id)
        assert (report.status, report.filled_qty) == (S.CANCELED, qty("0.300"))
        assert await client.open_orders() == []
        assert (await totals(client))["USDT"][1] == 0
        with pytest.raises(UnknownOrder, match="UNKNOWN_ORDER"):
            await client.cancel(IID, spec.client_order_id)  # closed now

    run(virtual_time, scenario)


def test_gtd_and_day_orders_expire_and_free_their_locks(virtual_time: VirtualTime) -> None:
    async def scenario() -> None:
        client, market = setup()
        updates = client.order_updates()
        f = orders()
        gtd = f.limit(
            IID,
            BUY,
            qty("0.500"),
            px("95.00"),
            time_in_force=TimeInForce.GTD,
            expire_time_ns=T0 + SECOND,
        )
        day = f.limit(IID, BUY, qty("0.500"), px("95.00"), time_in_force=TimeInForce.DAY)
        await client.submit(gtd)
        await client.submit(day)
        market.book("99.00", "101.00", ts=T0 + 2 * SECOND)
        midnight = (T0 // (86_400 * SECOND) + 1) * 86_400 * SECOND
        assert [r.client_order_id for r in await client.open_orders()] == [day.client_order_id]
        market.book("99.00", "101.00", ts=midnight)
        seen = await drain(updates)
        for spec in (gtd, day):
            assert statuses(seen, spec.client_order_id) == [S.ACCEPTED, S.EXPIRED]
            report = await client.order_status(IID, spec.client_order_id)
            assert report is not None
            assert (report.status, report.reason) == (S.EXPIRED, "expired")
        assert (await totals(client))["USDT"] == (START_USDT, 0)

    run(virtual_time, scenario)


def test_reduce_only_closes_a_position_but_may_not_grow_it(virtual_time: VirtualTime) -> None:
    async def scenario() -> None:
        client, _ = setup()
        f = orders()
        await client.submit(f.market(IID, BUY, qty("0.500")))
        with pytest.raises(InvalidOrder, match="REDUCE_ONLY_WOULD_INCREASE"):
            await client.submit(f.market(IID, SELL, qty("0.600"), reduce_only=True))
        report = await client.submit(f.market(IID, SELL, qty("0.500"), reduce_only=True))
        assert report.status is S.FILLED

    run(virtual_time, scenario)


def test_open_orders_in_acceptance_order_and_by_instrument(virtual_time: VirtualTime) -> None:
    async def scenario() -> None:
        client, _ = setup()
        f = orders()
        one = await client.submit(f.limit(IID, BUY, qty("0.100"), px("90.00")))
        eth = await client.submit(f.limit(ETH_INST.id, BUY, qty("0.100"), px("90.00")))
        two = await client.submit(f.limit(IID, SELL, qty("0.100"), px("110.00")))
        cids = lambda reports: [r.client_order_id for r in reports]  # noqa: E731
        assert cids(await client.open_orders()) == cids([one, eth, two])
        assert cids(await client.open_orders(IID)) == cids([one, two])
        assert cids(await client.open_orders(ETH_INST.id)) == cids([eth])
        # An order is found under its own instrument only.
        assert await client.order_status(ETH_INST.id, one.client_order_id) is None
        with pytest.raises(UnknownInstrument):
            await client.open_orders(InstrumentId.from_str("XRP/USDT.SIM"))

    run(virtual_time, scenario)


def test_closed_orders_stay_queryable_up_to_the_limit(virtual_time: VirtualTime) -> None:
    async def scenario() -> None:
        client, _ = setup(closed_orders_kept=2)
        f = orders()
        done = [await client.submit(f.market(IID, BUY, qty("0.100"))) for _ in range(3)]
        assert [r.status for r in done] == [S.FILLED] * 3
        assert await client.order_status(IID, done[0].client_order_id) is None  # forgotten
        for report in done[1:]:
            found = await client.order_status(IID, report.client_order_id)
            assert found is not None
            assert found.status is S.FILLED
        assert len(await client.fills(IID)) == 3  # executions are never forgotten
        assert await client.order_status(IID, ClientOrderId("never-sent")) is None

    run(virtual_time, scenario)


def test_fills_have_unique_trade_ids_and_filter_by_time(virtual_time: VirtualTime) -> None:
    async def scenario() -> None:
        client, market = setup()
        f = orders()
        await client.submit(f.market(IID, BUY, qty("1.500")))  # two levels: two fills
        market.book("99.00", "101.00")
        later = market.ts
        await client.submit(f.market(IID, SELL, qty("0.500")))
        fills = await client.fills(IID)
        assert len(fills) == 3
        assert len({fill.trade_id for fill in fills}) == 3
        assert await client.fills(IID, since_ns=later) == fills[2:]
        assert await client.fills(ETH_INST.id) == []

    run(virtual_time, scenario)


# ------------------------------------------------------------------ modify and cancel


def test_modify_changes_price_and_quantity_and_the_lock(virtual_time: VirtualTime) -> None:
    async def scenario() -> None:
        client, _ = setup()
        updates = client.order_updates()
        spec = orders().limit(IID, BUY, qty("1.000"), px("95.00"))
        await client.submit(spec)
        cid = spec.client_order_id
        assert (await totals(client))["USDT"][1] == Decimal("95.038")  # 95 x 1.0004
        report = await client.modify(IID, cid, price=px("96.00"), quantity=qty("2.000"))
        assert (report.status, report.price, report.quantity) == (
            S.ACCEPTED,
            px("96.00"),
            qty("2.000"),
        )
        assert (await totals(client))["USDT"][1] == Decimal("192.0768")  # 192 x 1.0004
        assert [(u.price, u.quantity) for u in await drain(updates)] == [
            (px("95.00"), qty("1.000")),
            (px("96.00"), qty("2.000")),
        ]

    run(virtual_time, scenario)


def test_a_modify_that_crosses_fills(virtual_time: VirtualTime) -> None:
    async def scenario() -> None:
        client, _ = setup()
        spec = orders().limit(IID, BUY, qty("0.500"), px("95.00"))
        await client.submit(spec)
        report = await client.modify(IID, spec.client_order_id, price=px("101.00"))
        assert (report.status, report.avg_px) == (S.FILLED, Decimal("101.00"))

    run(virtual_time, scenario)


def test_refused_modifies_map_to_errors_and_change_nothing(virtual_time: VirtualTime) -> None:
    async def scenario() -> None:
        client, _ = setup()
        f = orders()
        spec = f.limit(IID, BUY, qty("1.000"), px("95.00"))
        before = await client.submit(spec)
        cid = spec.client_order_id
        with pytest.raises(InvalidOrder, match="PRICE_OFF_TICK"):
            await client.modify(IID, cid, price=px("95.005"))
        with pytest.raises(InvalidOrder, match="QUANTITY_OFF_LOT"):
            await client.modify(IID, cid, quantity=qty("1.0005"))
        with pytest.raises(InsufficientFunds, match="INSUFFICIENT_BALANCE"):
            await client.modify(IID, cid, quantity=qty("110.000"))
        with pytest.raises(InvalidOrder, match="give quantity, price or trigger_price"):
            await client.modify(IID, cid)
        with pytest.raises(UnknownOrder, match="UNKNOWN_ORDER"):
            await client.modify(IID, ClientOrderId("nope"), price=px("96.00"))
        with pytest.raises(UnknownInstrument):
            await client.modify(InstrumentId.from_str("XRP/USDT.SIM"), cid, price=px("96.00"))
        after = await client.order_status(IID, cid)
        assert after is not None
        assert (after.price, after.quantity, after.status) == (
            before.price,
            before.quantity,
            S.ACCEPTED,
        )
        filled = await client.submit(f.market(IID, BUY, qty("0.100")))
        with pytest.raises(UnknownOrder):
            await client.modify(IID, filled.client_order_id, quantity=qty("0.200"))

    run(virtual_time, scenario)


def test_cancel_of_unknown_orders(virtual_time: VirtualTime) -> None:
    async def scenario() -> None:
        client, _ = setup()
        with pytest.raises(UnknownOrder, match="UNKNOWN_ORDER"):
            await client.cancel(IID, ClientOrderId("never-sent"))
        spec = orders().limit(IID, BUY, qty("0.100"), px("90.00"))
        await client.submit(spec)
        with pytest.raises(UnknownOrder):  # it is open, but in another instrument
            await client.cancel(ETH_INST.id, spec.client_order_id)
        with pytest.raises(UnknownInstrument):
            await client.cancel(InstrumentId.from_str("XRP/USDT.SIM"), spec.client_order_id)
        assert (await client.cancel(IID, spec.client_order_id)).status is S.CANCELED

    run(virtual_time, scenario)


# ------------------------------------------------------------------ refusals


REFUSALS: dict[str, tuple[Callable[[OrderFactory], OrderSpec], type[Exception], str]] = {
    "price off tick": (
        lambda f: f.limit(IID, BUY, qty("0.500"), px("100.005")),
        InvalidOrder,
        "PRICE_OFF_TICK: price 100.005 is not a multiple of tick size 0.01",
    ),
    "quantity off lot": (
        lambda f: f.limit(IID, BUY, qty("0.5005"), px("100.00")),
        InvalidOrder,
        "QUANTITY_OFF_LOT",
    ),
    "below minimum quantity": (
        lambda f: f.limit(IID, BUY, qty("0.005"), px("100.00")),
        InvalidOrder,
        "BELOW_MIN_QUANTITY",
    ),
    "above maximum quantity": (
        lambda f: f.limit(IID, BUY, qty("150.000"), px("0.01")),
        InvalidOrder,
        "ABOVE_MAX_QUANTITY",
    ),
    "below minimum notional": (
        lambda f: f.limit(IID, BUY, qty("0.010"), px("100.00")),
        InvalidOrder,
        "BELOW_MIN_NOTIONAL: notional 1.00000000 USDT < min 5.00000000 USDT",
    ),
    "post-only that would cross": (
        lambda f: f.limit(IID, BUY, qty("0.500"), px("101.00"), post_only=True),
        InvalidOrder,
        "POST_ONLY_WOULD_CROSS",
    ),
    "reduce-only with no position": (
        lambda f: f.market(IID, SELL, qty("0.500"), reduce_only=True),
        InvalidOrder,
        "REDUCE_ONLY_WOULD_INCREASE",
    ),
    "expire time in the past": (
        lambda f: f.limit(
            IID,
            BUY,
            qty("0.500"),
            px("100.00"),
            time_in_force=TimeInForce.GTD,
            expire_time_ns=T0 - 1,
        ),
        InvalidOrder,
        "OTHER: expire time",
    ),
    "buy beyond the quote balance": (
        lambda f: f.limit(IID, BUY, qty("99.000"), px("101.00")),
        InsufficientFunds,
        "INSUFFICIENT_BALANCE",
    ),
    "sell beyond the base balance": (
        lambda f: f.market(IID, SELL, qty("2.500")),
        InsufficientFunds,
        "INSUFFICIENT_BALANCE",
    ),
    "unknown instrument": (
        lambda f: f.limit(InstrumentId.from_str("XRP/USDT.SIM"), BUY, qty("1.000"), px("1.00")),
        UnknownInstrument,
        "UNKNOWN_INSTRUMENT",
    ),
}


@pytest.mark.parametrize(("build", "error", "text"), REFUSALS.values(), ids=REFUSALS.keys())
def test_a_refused_order_raises_the_mapped_error_and_leaves_nothing_behind(
    virtual_time: VirtualTime,
    build: Callable[[OrderFactory], OrderSpec],
    error: type[Exception],
    text: str,
) -> None:
    async def scenario() -> None:
        client, market = setup()
        market.clock.advance_to(T0 + 10 * MS)
        updates = client.order_updates()
        spec = build(orders())
        with pytest.raises(error, match=text.replace(".", r"\.")) as raised:
            await client.submit(spec)
        assert str(spec.client_order_id) in str(raised.value)
        assert await client.open_orders() == []
        assert await client.fills(IID) == []
        assert await totals(client) == {"USDT": (START_USDT, 0), "BTC": (START_BTC, 0)}
        assert updates.queued == 0
        if spec.instrument_id == IID:
            assert await client.order_status(IID, spec.client_order_id) is None
        # Nothing was kept of it: the same id may be used for a good order.
        good = orders("G").limit(IID, BUY, qty("0.100"), px("90.00"))
        again = msgspec.structs.replace(good, client_order_id=spec.client_order_id)
        assert (await client.submit(again)).status is S.ACCEPTED

    run(virtual_time, scenario)


def test_a_market_order_before_any_price_is_a_temporary_error(virtual_time: VirtualTime) -> None:
    async def scenario() -> None:
        client = make_client()
        with pytest.raises(TemporaryError, match="NO_LIQUIDITY"):
            await client.submit(orders().market(IID, BUY, qty("0.500")))
        assert await client.open_orders() == []
        assert await totals(client) == {"USDT": (START_USDT, 0), "BTC": (START_BTC, 0)}

    run(virtual_time, scenario)


def test_a_client_order_id_is_never_reused(virtual_time: VirtualTime) -> None:
    async def scenario() -> None:
        client, _ = setup()
        f = orders()
        resting = f.limit(IID, BUY, qty("0.500"), px("95.00"))
        filled = f.market(IID, BUY, qty("0.100"))
        await client.submit(resting)
        await client.submit(filled)
        locked = await totals(client)
        for used in (resting, filled):  # open, and closed
            other = f.limit(IID, BUY, qty("0.200"), px("96.00"))
            duplicate = msgspec.structs.replace(other, client_order_id=used.client_order_id)
            with pytest.raises(InvalidOrder, match="DUPLICATE_CLIENT_ORDER_ID"):
                await client.submit(duplicate)
        assert [r.client_order_id for r in await client.open_orders()] == [resting.client_order_id]
        original = await client.order_status(IID, resting.client_order_id)
        assert original is not None
        assert (original.price, original.quantity) == (px("95.00"), qty("0.500"))
        assert await totals(client) == locked

    run(virtual_time, scenario)


# ------------------------------------------------------------------ market data subscriptions


def test_trades_reach_their_instruments_subscribers_and_the_venue(
    virtual_time: VirtualTime,
) -> None:
    async def scenario() -> None:
        clock = ReplayClock(T0)
        client = make_client(clock)
        market = Market(client, clock)
        btc, eth = client.trades(IID), client.trades(ETH_INST.id)
        spec = orders().limit(IID, BUY, qty("0.500"), px("100.00"))
        market.trade("100.50")  # a price to check funds against
        await client.submit(spec)
        ticks = [market.trade("100.20"), market.trade("99.90", "0.200")]
        assert (await drain(btc))[1:] == ticks
        assert await drain(eth) == []
        report = await client.order_status(IID, spec.client_order_id)
        assert report is not None
        assert (report.status, report.filled_qty) == (S.PARTIALLY_FILLED, qty("0.200"))

    run(virtual_time, scenario)


def test_quotes_are_pushed_and_derived_from_the_top_of_the_book(virtual_time: VirtualTime) -> None:
    async def scenario() -> None:
        client, market = setup()
        quotes = client.quotes(IID)
        market.delta(BookSide.BID, "97.00", "5.000")  # below the top: no quote
        market.delta(BookSide.ASK, "100.50", "0.700")  # a new best ask
        pushed = QuoteTick(
            instrument_id=IID,
            bid_price=px("99.50"),
            ask_price=px("100.00"),
            bid_size=qty("1.000"),
            ask_size=qty("1.000"),
            ts_event=T0,
            ts_init=T0,
        )
        client.on_quote(pushed)
        got = await drain(quotes)
        assert [(q.bid_price, q.ask_price, q.ask_size) for q in got] == [
            (px("99.00"), px("100.50"), qty("0.700")),
            (px("99.50"), px("100.00"), qty("1.000")),
        ]
        # The pushed quote reached the venue: a buy at 100.00 fills against it.
        report = await client.submit(orders().limit(IID, BUY, qty("0.500"), px("100.00")))
        assert report.status is S.FILLED

    run(virtual_time, scenario)


def test_book_is_a_snapshot_then_deltas(virtual_time: VirtualTime) -> None:
    async def scenario() -> None:
        client, market = setup()
        first = client.book(IID)
        d1 = market.delta(BookSide.BID, "99.00", "0")
        d2 = market.delta(BookSide.ASK, "100.00", "0.500")
        snapshot, *deltas = await drain(first)
        assert isinstance(snapshot, OrderBookSnapshot)
        assert (snapshot.best_bid, snapshot.best_ask) == (
            level(Decimal(99), "1.000"),
            level(Decimal(101), "1.000"),
        )
        assert deltas == [d1, d2]
        late = client.book(IID)  # a later subscriber starts from the book as it is now
        [now] = await drain(late)
        assert isinstance(now, OrderBookSnapshot)
        assert now.sequence == d2.sequence
        assert [lvl.price for lvl in now.bids] == [px("98.00")]
        assert [lvl.price for lvl in now.asks] == [px("100.00"), px("101.00"), px("102.00")]

    run(virtual_time, scenario)


def test_bars_by_timeframe_and_only_matched_when_asked(virtual_time: VirtualTime) -> None:
    def bar(tf: str, low: str, close_ns: int) -> Bar:
        return Bar(
            instrument_id=IID,
            timeframe=Timeframe.from_str(tf),
            open=px("100.00"),
            high=px("101.00"),
            low=px(low),
            close=px("100.50"),
            volume=qty("10.000"),
            ts_event=close_ns,
            ts_init=close_ns,
        )

    async def scenario() -> None:
        client, _ = setup()
        one, five = (
            client.bars(IID, Timeframe.from_str("1m")),
            client.bars(IID, Timeframe.from_str("5m")),
        )
        spec = orders().limit(IID, BUY, qty("0.500"), px("95.00"))
        await client.submit(spec)
        slow = bar("5m", "94.00", T0 + 300 * SECOND)
        client.on_bar(slow, match=False)  # a second timeframe of the same market
        assert (await client.open_orders())[0].status is S.ACCEPTED
        fast = bar("1m", "94.00", T0 + 60 * SECOND)
        client.on_bar(fast)
        assert await drain(one) == [fast]
        assert await drain(five) == [slow]
        report = await client.order_status(IID, spec.client_order_id)
        assert report is not None
        assert report.status is S.FILLED

    run(virtual_time, scenario)


def test_subscriptions_end_on_aclose_and_on_close(virtual_time: VirtualTime) -> None:
    async def scenario() -> None:
        client, market = setup()
        async with client.trades(IID) as closed_early:
            pass
        kept = client.trades(IID)
        tick = market.trade("100.00")
        assert closed_early.queued == 0
        await client.close()
        assert [t async for t in kept] == [tick]  # what was queued, then the end
        with pytest.raises(TemporaryError, match="closed"):
            client.trades(IID)
        with pytest.raises(TemporaryError, match="closed"):
            await client.submit(orders().market(IID, BUY, qty("0.100")))
        with pytest.raises(UnknownInstrument):
            make_client().quotes(InstrumentId.from_str("XRP/USDT.SIM"))

    run(virtual_time, scenario)


# ------------------------------------------------------------------ slow consumers


def test_a_slow_market_data_reader_loses_the_oldest_and_is_told(virtual_time: VirtualTime) -> None:
    async def scenario() -> None:
        client, market = setup(market_data_limit=3)
        trades = client.trades(IID)
        ticks = [market.trade(f"{100 + i}.00") for i in range(10)]
        assert trades.dropped == 7
        assert await drain(trades) == ticks[-3:]

    run(virtual_time, scenario)


def test_a_slow_book_reader_gets_a_fresh_snapshot_and_rebuilds_the_book(
    virtual_time: VirtualTime,
) -> None:
    async def scenario() -> None:
        client, market = setup(market_data_limit=4)
        sub = client.book(IID)
        for i in range(10):
            market.delta(BookSide.BID, f"9{i}.50", f"{i + 1}.000")
        assert sub.dropped == 10
        bids: dict[Price, Quantity] = {}
        for update in await drain(sub):
            if isinstance(update, OrderBookSnapshot):
                bids = {lvl.price: lvl.size for lvl in update.bids}
            else:
                bids[update.price] = update.size
        [now] = await drain(client.book(IID))
        assert isinstance(now, OrderBookSnapshot)
        assert bids == {lvl.price: lvl.size for lvl in now.bids}
        assert len(bids) == 12

    run(virtual_time, scenario)


def test_own_order_updates_are_never_dropped_a_reader_too_far_behind_is_cut_off(
    virtual_time: VirtualTime,
) -> None:
    async def scenario() -> None:
        client, _ = setup(order_update_limit=4)
        f = orders()
        fast, slow = client.order_updates(), client.order_updates()
        seen: list[Any] = []

        async def keep_up() -> None:
            async for update in fast:
                seen.append(update)

        reader = asyncio.create_task(keep_up())
        specs = [f.limit(IID, BUY, qty("0.100"), px(f"9{i}.00")) for i in range(6)]
        for spec in specs:
            await client.submit(spec)
            await asyncio.sleep(0)  # the fast reader runs
        assert [u.client_order_id for u in seen] == [s.client_order_id for s in specs]
        queued = [await anext(slow) for _ in range(4)]
        assert [u.client_order_id for u in queued] == [s.client_order_id for s in specs[:4]]
        with pytest.raises(TemporaryError, match="reconcile"):
            await anext(slow)
        with pytest.raises(StopAsyncIteration):
            await anext(slow)
        await client.close()
        await reader

    run(virtual_time, scenario)


# ------------------------------------------------------------------ latency and timeouts


def test_with_latency_submit_waits_for_the_venue_on_the_clock(virtual_time: VirtualTime) -> None:
    async def scenario() -> None:
        clock = ReplayClock(T0)
        latency = LatencyModel(submit_ns=50 * MS, modify_ns=20 * MS, cancel_ns=30 * MS)
        client = make_client(clock, latency=latency)
        market = Market(client, clock)
        market.book("99.00", "101.00")
        spec = orders().limit(IID, BUY, qty("0.500"), px("95.00"))
        submit = asyncio.create_task(client.submit(spec))
        await asyncio.sleep(0)
        clock.advance_to(T0 + 50 * MS)  # the venue acts 50 ms after the submit, at 51 ms
        await asyncio.sleep(0)
        assert not submit.done()
        assert await client.order_status(IID, spec.client_order_id) is None
        clock.advance_to(T0 + MS + 50 * MS)
        report = await submit
        assert (report.status, report.ts_event) == (S.ACCEPTED, T0 + MS + 50 * MS)
        modify = asyncio.create_task(client.modify(IID, spec.client_order_id, price=px("96.00")))
        await asyncio.sleep(0)
        clock.advance_to(clock.timestamp_ns() + 20 * MS)
        assert (await modify).price == px("96.00")
        cancel = asyncio.create_task(client.cancel(IID, spec.client_order_id))
        await asyncio.sleep(0)
        clock.advance_to(clock.timestamp_ns() + 30 * MS)
        assert (await cancel).status is S.CANCELED
        assert clock.timer_names() == []  # no timeout left behind

    run(virtual_time, scenario)


def test_paper_trading_latency_on_the_live_clock(virtual_time: VirtualTime) -> None:
    async def scenario() -> None:
        clock = LiveClock()
        client = make_client(clock, latency=LatencyModel(submit_ns=50 * MS))
        client.on_book(thin_book())
        loop = asyncio.get_running_loop()
        start = loop.time()
        report = await client.submit(orders().market(IID, BUY, qty("0.500")))
        assert report.status is S.FILLED  # filled by the time the answer is read
        assert loop.time() - start == pytest.approx(0.05, abs=0.001)  # wall-clock anchored
        await client.close()
        clock.close()

    run(virtual_time, scenario)


def test_a_venue_slower_than_the_timeout_gives_unknown_outcome_then_the_order_appears(
    virtual_time: VirtualTime,
) -> None:
    async def scenario() -> None:
        clock = LiveClock()
        client = make_client(clock, latency=LatencyModel(submit_ns=2 * SECOND), timeout_ns=SECOND)
        client.on_book(thin_book())
        updates = client.order_updates()
        f = orders()
        spec = f.limit(IID, BUY, qty("0.500"), px("95.00"))
        with pytest.raises(UnknownOutcome) as raised:
            await client.submit(spec)
        assert raised.value.client_order_id == spec.client_order_id.value
        assert await client.order_status(IID, spec.client_order_id) is None  # still on its way
        with pytest.raises(InvalidOrder, match="DUPLICATE"):
            await client.submit(spec)  # never sent twice
        refused = f.limit(IID, BUY, qty("99.000"), px("101.00"))  # more than the balance
        with pytest.raises(UnknownOutcome):
            await client.submit(refused)
        await asyncio.sleep(1.5)  # the venue acts on both
        report = await client.order_status(IID, spec.client_order_id)
        assert report is not None
        assert report.status is S.ACCEPTED
        assert [u.client_order_id for u in await drain(updates)] == [spec.client_order_id]
        assert await client.order_status(IID, refused.client_order_id) is None
        assert (await totals(client))["USDT"][1] == Decimal("47.519")  # only the first is locked
        await client.close()
        clock.close()

    run(virtual_time, scenario)


def test_close_fails_the_calls_still_waiting(virtual_time: VirtualTime) -> None:
    async def scenario() -> None:
        clock = ReplayClock(T0)
        client = make_client(clock, latency=LatencyModel(submit_ns=SECOND))
        client.on_book(thin_book())
        submit = asyncio.create_task(client.submit(orders().market(IID, BUY, qty("0.100"))))
        await asyncio.sleep(0)
        await client.close()
        with pytest.raises(UnknownOutcome, match="closed"):
            await submit

    run(virtual_time, scenario)


# ------------------------------------------------------------------ exact money


@st.composite
def steps(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    """Market moves, trades, orders of every kind and cancels, at random."""
    ticks = st.integers(9_900, 10_100)  # 99.00 .. 101.00: orders and the market meet often
    lots = st.integers(50, 1_500)  # 0.050 .. 1.500
    order = st.tuples(
        st.just("order"),
        st.sampled_from([BUY, SELL]),
        st.booleans(),
        lots,
        ticks,
        st.sampled_from([TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK]),
    )
    step = st.one_of(
        order,
        order,  # twice as likely: most plans should trade
        st.tuples(st.just("book"), ticks, st.integers(1, 20), lots),
        st.tuples(st.just("trade"), ticks, lots),
        st.tuples(st.just("cancel"), st.integers(0, 10)),
    )
    return draw(st.lists(step, min_size=20, max_size=60))


def price_of(ticks: int) -> Price:
    return INST.make_price(Decimal(ticks).scaleb(-2))


def size_of(lots: int) -> Quantity:
    return INST.make_qty(Decimal(lots).scaleb(-3))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plan=steps())
def test_balances_reconcile_exactly_with_the_fills(
    virtual_time: VirtualTime, plan: list[tuple[Any, ...]]
) -> None:
    async def scenario() -> None:
        clock = ReplayClock(T0)
        client = make_client(clock)
        market = Market(client, clock)
        market.book("99.00", "101.00")
        f = orders()
        sent: list[OrderSpec] = []
        for step in plan:
            if step[0] == "book":
                _, mid, half_spread, lots = step
                bid, ask = price_of(mid - half_spread), price_of(mid + half_spread)
                market.book(str(bid), str(ask), str(size_of(lots)))
            elif step[0] == "trade":
                market.trade(str(price_of(step[1])), str(size_of(step[2])))
            elif step[0] == "order":
                _, side, is_market, lots, ticks, tif = step
                spec = (
                    f.market(IID, side, size_of(lots), time_in_force=tif)
                    if is_market
                    else f.limit(IID, side, size_of(lots), price_of(ticks), time_in_force=tif)
                )
                sent.append(spec)
                with contextlib.suppress(RequestError, TemporaryError):  # refusals are fine
                    await client.submit(spec)
            else:
                open_now = await client.open_orders()
                if open_now:
                    target = open_now[step[1] % len(open_now)]
                    await client.cancel(IID, target.client_order_id)
            for balance in await client.balances():
                assert balance.free.amount >= 0
        fills = await client.fills(IID)
        base, quote = START_BTC, START_USDT
        for fill in fills:
            sign = 1 if fill.side is BUY else -1
            base += sign * fill.last_qty.as_decimal()
            quote -= sign * fill.last_qty.as_decimal() * fill.last_px.as_decimal()
            quote -= fill.commission.amount
        assert len({fill.trade_id for fill in fills}) == len(fills)
        for spec in sent:
            report = await client.order_status(IID, spec.client_order_id)
            mine = [fl for fl in fills if fl.client_order_id == spec.client_order_id]
            if report is None:
                assert mine == []
                continue
            assert report.filled_qty.as_decimal() == sum(fl.last_qty.as_decimal() for fl in mine)
        for report in await client.open_orders():
            await client.cancel(IID, report.client_order_id)
        assert await totals(client) == {"USDT": (quote, 0), "BTC": (base, 0)}

    virtual_time.run(scenario())


# ------------------------------------------------------------------ market feeds


def test_run_feed_pushes_a_random_market_on_the_replay_clock(virtual_time: VirtualTime) -> None:
    async def scenario() -> None:
        clock = ReplayClock(T0)
        client = make_client(clock)
        feed = RandomMarket(INST, seed=3, start_price=Decimal("100"), start_ts_ns=T0)
        book, trades = client.book(IID), client.trades(IID)
        task = asyncio.create_task(
            client.run_feed(feed, interval_ns=100 * MS, stop_ns=T0 + 10 * SECOND)
        )
        await asyncio.sleep(0)
        for step in range(1, 101):
            clock.advance_to(T0 + step * 100 * MS)
        await task  # returned after its last tick
        assert clock.timer_names() == []
        levels: dict[BookSide, dict[Price, Quantity]] = {BookSide.BID: {}, BookSide.ASK: {}}
        for update in await drain(book):
            if isinstance(update, OrderBookSnapshot):
                levels[BookSide.BID] = {lvl.price: lvl.size for lvl in update.bids}
                levels[BookSide.ASK] = {lvl.price: lvl.size for lvl in update.asks}
            elif update.action is BookAction.DELETE:
                del levels[update.side][update.price]
            else:
                levels[update.side][update.price] = update.size
        final = feed.snapshot()
        assert levels[BookSide.BID] == {lvl.price: lvl.size for lvl in final.bids}
        assert levels[BookSide.ASK] == {lvl.price: lvl.size for lvl in final.asks}
        assert len(await drain(trades)) > 10

    run(virtual_time, scenario)


def test_paper_trading_on_a_random_market_fills_a_resting_limit(virtual_time: VirtualTime) -> None:
    async def scenario() -> None:
        clock = LiveClock()
        feed = RandomMarket(INST, seed=11, start_price=Decimal("100"))
        client = make_client(clock, feeds=[feed], feed_interval_ns=100 * MS)
        await client.connect()
        updates = client.order_updates()
        quotes = client.quotes(IID)
        first = await anext(quotes)
        limit = first.bid_price
        spec = orders().limit(IID, BUY, qty("0.500"), limit)
        assert (await client.submit(spec)).status is S.ACCEPTED

        async def filled() -> list[FillReport]:
            fills: list[FillReport] = []
            async for update in updates:
                if isinstance(update, FillReport):
                    fills.append(update)
                elif update.status is S.FILLED:
                    return fills
            raise AssertionError("subscription ended")

        async with asyncio.timeout(600):  # virtual seconds
            fills = await filled()
        assert all(fill.last_px <= limit for fill in fills)
        assert sum(fill.last_qty.as_decimal() for fill in fills) == Decimal("0.5")
        spent = sum(
            f.last_qty.as_decimal() * f.last_px.as_decimal() + f.commission.amount for f in fills
        )
        assert await totals(client) == {
            "USDT": (START_USDT - spent, 0),
            "BTC": (START_BTC + Decimal("0.5"), 0),
        }
        await client.close()
        assert clock.timer_names() == []
        clock.close()

    run(virtual_time, scenario)


def test_a_failing_feed_ends_run_feed_with_its_error(virtual_time: VirtualTime) -> None:
    class Broken:
        instrument: Instrument = INST

        def snapshot(self) -> OrderBookSnapshot:
            return OrderBookSnapshot(
                instrument_id=IID, bids=(), asks=(), sequence=1, ts_event=T0, ts_init=T0
            )

        def advance(self, ts_ns: int) -> list[MarketEvent]:
            raise RuntimeError("feed broke")

    async def scenario() -> None:
        clock = ReplayClock(T0)
        client = make_client(clock)
        task = asyncio.create_task(client.run_feed(Broken(), interval_ns=100 * MS))
        await asyncio.sleep(0)
        clock.advance_to(T0 + SECOND)  # the error goes to the task, not into the clock
        with pytest.raises(RuntimeError, match="feed broke"):
            await task
        assert clock.timer_names() == []

    run(virtual_time, scenario)


# ------------------------------------------------------------------ found in backtest/


def test_two_accounts_at_one_venue_share_a_clock_with_latency(virtual_time: VirtualTime) -> None:
    async def scenario() -> None:
        clock = ReplayClock(T0)
        latency = LatencyModel(submit_ns=MS)
        one = make_client(clock, latency=latency, account_id=None)
        two = SimVenueClient(
            instruments=[INST],
            balances=[Money(START_USDT, USDT)],
            clock=clock,
            latency=latency,
            account_id=AccountId("SIM-two"),
        )
        tasks = [
            asyncio.create_task(c.submit(orders(p).limit(IID, BUY, qty("0.100"), px("90.00"))))
            for c, p in ((one, "A"), (two, "B"))
        ]
        await asyncio.sleep(0)
        clock.advance_to(T0 + MS)
        for task in tasks:
            assert (await task).status is S.ACCEPTED

    run(virtual_time, scenario)

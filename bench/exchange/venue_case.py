"""Orders per second through the in-process ``SimulatedVenue`` (no server, no network).

One cash account, one BTC/USDT pair listed as the simulated exchange lists it (tick 0.01,
lot 0.00001, minimum notional 5, fee 0.1 %), a level-2 book of 20 levels a side 5.00 apart
(the grid the server's random market picks for BTC/USDT). A seeded mix of orders arrives:

* 55 % passive GTC limits, 0 to 9 levels behind the touch: they rest;
* 25 % market orders: they walk the book for size (taker fills);
* 20 % marketable IOC limits one level through the touch: they fill at once (taker).

At most ``MAX_RESTING`` passive orders work at a time: past that the oldest is canceled. Every
``BOOK_EVERY`` orders the feed sends a fresh snapshot whose mid has moved one level down, not
at all, or up (a seeded walk), which restores what the orders took and fills the resting
orders it reaches (maker fills). Quantities are log-normal around 0.01 BTC.

Timed: each ``venue.execute`` (submit or cancel) and each ``venue.on_book`` call, with
``time.perf_counter_ns``; building the commands and the snapshots is outside the clock.
"""

from __future__ import annotations

import gc
import random
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from bench.exchange.stats import Latencies
from tradeforge.backtest import SimulatedVenue, VenueAccount
from tradeforge.bus import ReplayClock
from tradeforge.domain import (
    KNOWN_CURRENCIES,
    AccountId,
    AccountType,
    BookLevel,
    CancelOrder,
    ClientOrderId,
    ClientOrderIdGenerator,
    CurrencyPair,
    InstrumentId,
    LiquiditySide,
    Message,
    Money,
    OrderAccepted,
    OrderBookSnapshot,
    OrderFactory,
    OrderFilled,
    OrderRejected,
    OrderSide,
    OrderSpec,
    Price,
    Quantity,
    StrategyId,
    SubmitOrder,
    TimeInForce,
    Venue,
)

VENUE = Venue("SIM")
USDT, BTC = KNOWN_CURRENCIES["USDT"], KNOWN_CURRENCIES["BTC"]
LEVELS = 20
STEP = Decimal("5.00")  # price between levels
START_MID = Decimal("30002.50")  # best bid 30000.00, best ask 30005.00
MAX_RESTING = 100
BOOK_EVERY = 10
SEED = 7
PASSIVE, MARKET, MARKETABLE = "passive limit (rests)", "market", "marketable IOC limit"
KINDS = (PASSIVE, MARKET, MARKETABLE)
MIX = ((PASSIVE, 0.55), (MARKET, 0.25), (MARKETABLE, 0.20))
TICK_NS = 1_000_000  # the replay clock moves 1 ms per order


def btcusdt() -> CurrencyPair:
    """BTC/USDT as ``tradeforge exchange serve`` lists it."""
    return CurrencyPair(
        id=InstrumentId("BTC/USDT", VENUE),
        raw_symbol="BTCUSDT",
        base_currency=BTC,
        quote_currency=USDT,
        settlement_currency=USDT,
        tick_size=Price("0.01"),
        lot_size=Quantity("0.00001"),
        min_quantity=Quantity("0.00001"),
        min_notional=Money("5", USDT),
        maker_fee=Decimal("0.001"),
        taker_fee=Decimal("0.001"),
    )


@dataclass
class VenueOutcome:
    """What one run of the venue benchmark measured."""

    orders: int
    venue_seconds: float = 0.0  # inside execute() and on_book() only
    loop_seconds: float = 0.0  # the whole loop, harness work included
    loop_cpu_seconds: float = 0.0  # CPU time of the process during the loop
    accepted: int = 0
    rejected: int = 0
    fills: Counter[str] = field(default_factory=Counter)  # "maker" / "taker"
    cancels: int = 0
    book_updates: int = 0
    submit: dict[str, Latencies] = field(  # by order kind
        default_factory=lambda: {kind: Latencies() for kind in KINDS}
    )
    cancel: Latencies = field(default_factory=Latencies)
    book: Latencies = field(default_factory=Latencies)
    events: Counter[str] = field(default_factory=Counter)  # emitted messages by type

    @property
    def all_submits(self) -> Latencies:
        """Every submit call, whatever the kind."""
        out = Latencies()
        for lat in self.submit.values():
            out.extend(lat)
        return out

    @property
    def fill_count(self) -> int:
        """Every fill, maker and taker."""
        return sum(self.fills.values())

    def per_second(self, count: int) -> float:
        """``count`` per second of venue time."""
        return count / self.venue_seconds if self.venue_seconds > 0 else 0.0


class _Workload:
    def __init__(self, orders: int, seed: int) -> None:
        self.orders = orders
        self.rng = random.Random(seed)
        self.inst = btcusdt()
        self.clock = ReplayClock(1_704_067_200_000_000_000)
        self.outcome = VenueOutcome(orders=orders)
        account = VenueAccount(
            AccountId("SIM-bench"),
            AccountType.CASH,
            [Money("1000000000", USDT), Money("100000", BTC)],
        )
        self.venue = SimulatedVenue(
            venue=VENUE,
            account=account,
            instruments=[self.inst],
            clock=self.clock,
            emit=self._emit,
        )
        self.engine = self.venue.engines[self.inst.id]
        self.factory = OrderFactory(StrategyId("bench-001"), ClientOrderIdGenerator("B"))
        self.strategy = StrategyId("bench-001")
        self.mid = START_MID
        self.sequence = 1
        self.resting: deque[ClientOrderId] = deque()
        self.counting = False

    # ------------------------------------------------------------- the venue
    def _emit(self, msg: Message) -> None:
        if not self.counting:
            return
        out = self.outcome
        out.events[type(msg).__name__] += 1
        if type(msg) is OrderFilled:
            maker = msg.liquidity_side is LiquiditySide.MAKER
            out.fills["maker" if maker else "taker"] += 1
        elif type(msg) is OrderAccepted:
            out.accepted += 1
        elif type(msg) is OrderRejected:
            out.rejected += 1

    def _snapshot(self) -> OrderBookSnapshot:
        half = STEP / 2
        bids, asks = [], []
        for depth in range(LEVELS):
            size = Quantity.from_decimal(Decimal("0.5") + Decimal("0.1") * depth, 5)
            bids.append(BookLevel(Price.from_decimal(self.mid - half - depth * STEP, 2), size))
            asks.append(BookLevel(Price.from_decimal(self.mid + half + depth * STEP, 2), size))
        self.sequence += 1
        now = self.clock.timestamp_ns()
        return OrderBookSnapshot(instrument_id=self.inst.id, bids=tuple(bids), asks=tuple(asks),
                                 sequence=self.sequence, ts_event=now, ts_init=now)  # fmt: skip

    # ------------------------------------------------------------ the orders
    def _qty(self) -> Quantity:
        btc = Decimal(0.01 * self.rng.lognormvariate(0, 0.7)).quantize(Decimal("0.00001"))
        return Quantity.from_decimal(max(btc, Decimal("0.0002")), 5)

    def _spec(self, kind: str) -> OrderSpec:
        side = OrderSide.BUY if self.rng.random() < 0.5 else OrderSide.SELL
        sign = 1 if side is OrderSide.BUY else -1
        touch = self.mid - sign * STEP / 2  # best bid for a buy, best ask for a sell
        qty = self._qty()
        iid = self.inst.id
        if kind == MARKET:
            return self.factory.market(iid, side, qty)
        if kind == MARKETABLE:
            through = self.mid + sign * (STEP / 2 + STEP)  # one level beyond the far touch
            return self.factory.limit(iid, side, qty, Price.from_decimal(through, 2),
                                      time_in_force=TimeInForce.IOC)  # fmt: skip
        behind = touch - sign * STEP * self.rng.randrange(10)
        return self.factory.limit(iid, side, qty, Price.from_decimal(behind, 2))

    def _kind(self) -> str:
        draw = self.rng.random()
        for kind, share in MIX:
            if draw < share:
                return kind
            draw -= share
        return MIX[-1][0]

    def _cancel_oldest(self) -> None:
        while self.resting:
            cid = self.resting.popleft()
            if self.engine.get(cid) is None:  # filled by the book meanwhile
                continue
            now = self.clock.timestamp_ns()
            command = CancelOrder(strategy_id=self.strategy, instrument_id=self.inst.id,
                                  client_order_id=cid, ts_event=now, ts_init=now)  # fmt: skip
            t0 = time.perf_counter_ns()
            self.venue.execute(command)
            self.outcome.cancel.add(time.perf_counter_ns() - t0)
            self.outcome.cancels += 1
            return

    def _step_book(self) -> None:
        self.mid += STEP * self.rng.choice((-1, 0, 1))
        snapshot = self._snapshot()
        t0 = time.perf_counter_ns()
        self.venue.on_book(snapshot)
        self.outcome.book.add(time.perf_counter_ns() - t0)
        self.outcome.book_updates += 1

    def run(self, warmup: int, progress: Callable[[int], None] | None) -> VenueOutcome:
        self.venue.on_book(self._snapshot())
        total = warmup + self.orders
        start, cpu0 = 0, 0.0
        for n in range(total):
            if n == warmup:
                self.counting = True
                self.outcome = VenueOutcome(orders=self.orders)
                gc.collect()
                start = time.perf_counter_ns()
                cpu0 = time.process_time()
            self.clock.advance_to(self.clock.timestamp_ns() + TICK_NS)
            kind = self._kind()
            spec = self._spec(kind)
            now = self.clock.timestamp_ns()
            command = SubmitOrder(strategy_id=self.strategy, spec=spec, ts_event=now, ts_init=now)
            t0 = time.perf_counter_ns()
            self.venue.execute(command)
            self.outcome.submit[kind].add(time.perf_counter_ns() - t0)
            if kind == PASSIVE and self.engine.get(spec.client_order_id) is not None:
                self.resting.append(spec.client_order_id)
                if len(self.resting) > MAX_RESTING:
                    self._cancel_oldest()
            if n % BOOK_EVERY == BOOK_EVERY - 1:
                self._step_book()
            if progress is not None and n >= warmup and (n - warmup) % 1000 == 999:
                progress(1000)
        out = self.outcome
        out.loop_seconds = (time.perf_counter_ns() - start) / 1e9
        out.loop_cpu_seconds = time.process_time() - cpu0
        spent = sum(sum(lat.samples) for lat in (*out.submit.values(), out.cancel, out.book))
        out.venue_seconds = spent / 1e9
        return out


def run_venue(
    orders: int, *, warmup: int = 2_000, seed: int = SEED,
    progress: Callable[[int], None] | None = None,
) -> VenueOutcome:  # fmt: skip
    """Run ``warmup`` orders untimed, then ``orders`` timed ones; see the module docstring."""
    return _Workload(orders, seed).run(warmup, progress)

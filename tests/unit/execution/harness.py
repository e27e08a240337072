"""A fake venue for execution-algorithm tests, and builders for instruments and parents.

``FakeVenue`` is the other end of an algorithm's ``submit_child`` / ``cancel_child``: it
records every child with the time it was sent, fills children (at once through ``fill_now``, or
later through ``fill``), answers cancels at once, and can reject or expire a child. Every
answer goes back to the algorithm synchronously, the hardest case for re-entrancy.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from tests.kit.stubs import TS, btcusdt, filled

from tradeforge.bus import ReplayClock
from tradeforge.domain import (
    BookLevel,
    ClientOrderId,
    CurrencyPair,
    OrderBookSnapshot,
    OrderSide,
    OrderSpec,
    Price,
    Quantity,
    StrategyId,
)
from tradeforge.execution import ExecutionAlgorithm, ParentOrder

T0 = TS
SECOND = 1_000_000_000
MINUTE = 60 * SECOND

FillNow = Callable[[OrderSpec], Decimal]
"""How much of a child to fill the moment it arrives."""


def fill_all(spec: OrderSpec) -> Decimal:
    return spec.quantity.as_decimal()


def fill_none(spec: OrderSpec) -> Decimal:
    return Decimal(0)


def instrument(lot: str = "0.001", min_qty: str | None = None, **overrides: Any) -> CurrencyPair:
    """BTC/USDT with the given lot and minimum (default: one lot)."""
    return btcusdt(lot_size=Quantity(lot), min_quantity=Quantity(min_qty or lot), **overrides)


def parent(
    inst: CurrencyPair,
    quantity: str | Quantity,
    *,
    side: OrderSide = OrderSide.BUY,
    limit: str | None = None,
    arrival: str | None = None,
    odd: bool = False,
    order_id: str = "P-1",
) -> ParentOrder:
    return ParentOrder(
        client_order_id=ClientOrderId(order_id),
        strategy_id=StrategyId("algo-test"),
        instrument=inst,
        side=side,
        quantity=quantity if isinstance(quantity, Quantity) else Quantity(quantity),
        limit_price=None if limit is None else Price(limit),
        arrival_price=None if arrival is None else Price(arrival),
        allow_odd_final=odd,
    )


def book(inst: CurrencyPair, bid: str, ask: str, size: str = "100.000") -> OrderBookSnapshot:
    return OrderBookSnapshot(
        instrument_id=inst.id,
        bids=(BookLevel(Price(bid), Quantity(size)),),
        asks=(BookLevel(Price(ask), Quantity(size)),),
        sequence=1,
        ts_event=T0,
        ts_init=T0,
    )


class FakeVenue:
    """Children in, fills and ends out (module docstring)."""

    def __init__(
        self, clock: ReplayClock, *, fill_now: FillNow = fill_all, price: str = "100.00"
    ) -> None:
        self.clock = clock
        self.fill_now = fill_now
        self.price = Price(price)
        self.algo: ExecutionAlgorithm | None = None
        self.sent: list[tuple[int, OrderSpec]] = []
        self.canceled: list[ClientOrderId] = []
        self.open: dict[ClientOrderId, tuple[OrderSpec, Decimal]] = {}
        self.peak_commitment = Decimal(0)  # most filled + open seen right after a submit
        self._trades = 0

    def bind(self, algo: ExecutionAlgorithm) -> ExecutionAlgorithm:
        self.algo = algo
        return algo

    # the algorithm's callbacks

    def submit(self, spec: OrderSpec) -> None:
        assert self.algo is not None
        self.sent.append((self.clock.timestamp_ns(), spec))
        self.open[spec.client_order_id] = (spec, Decimal(0))
        self.peak_commitment = max(self.peak_commitment, self.commitment())
        now = self.fill_now(spec)
        if now:
            self.fill(spec.client_order_id, now)

    def cancel(self, client_order_id: ClientOrderId) -> None:
        assert self.algo is not None
        self.canceled.append(client_order_id)
        if client_order_id in self.open:
            _, done = self.open.pop(client_order_id)
            self.algo.on_child_done(client_order_id, Quantity(done))

    # what the test makes happen

    def fill(
        self,
        client_order_id: ClientOrderId,
        qty: Decimal | str | None = None,
        px: str | None = None,
    ) -> None:
        assert self.algo is not None
        spec, done = self.open[client_order_id]
        amount = spec.quantity.as_decimal() - done if qty is None else Decimal(qty)
        price = Price(px) if px is not None else (spec.price or self.price)
        self._trades += 1
        done += amount
        self.open[client_order_id] = (spec, done)
        self.algo.on_fill(
            filled(
                spec,
                Quantity(amount),
                price,
                trade_id=f"T-{self._trades}",
                ts=self.clock.timestamp_ns(),
            )
        )
        if done >= spec.quantity.as_decimal() and client_order_id in self.open:
            del self.open[client_order_id]
            self.algo.on_child_done(client_order_id, spec.quantity)

    def reject(self, client_order_id: ClientOrderId) -> None:
        assert self.algo is not None
        del self.open[client_order_id]
        self.algo.on_child_done(client_order_id, Quantity("0"), rejected=True)

    def expire(self, client_order_id: ClientOrderId) -> None:
        assert self.algo is not None
        _, done = self.open.pop(client_order_id)
        self.algo.on_child_done(client_order_id, Quantity(done))

    # what the test reads

    def quantities(self) -> list[Decimal]:
        return [spec.quantity.as_decimal() for _, spec in self.sent]

    def times(self) -> list[int]:
        return [ts for ts, _ in self.sent]

    def last(self) -> OrderSpec:
        return self.sent[-1][1]

    def working(self) -> list[OrderSpec]:
        return [spec for spec, _ in self.open.values()]

    def commitment(self) -> Decimal:
        """Filled by all children plus open on the working ones."""
        assert self.algo is not None
        return self.algo.filled.as_decimal() + sum(
            (spec.quantity.as_decimal() - done for spec, done in self.open.values()), Decimal(0)
        )

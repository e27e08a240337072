"""Smart order routing: one order split across the visible books of several venues.

:func:`route_order` takes a side, a quantity, an optional limit price and one
:class:`VenueBook` per venue (its book, instrument and taker fee), and returns a
:class:`RoutingDecision`: per-venue child quantities with the limit price that reaches them,
and a record of the books and effective prices the decision was made on, for the log.

The rule (``docs/execution-algorithms.md``):

1. Fill as much of the order as the visible depth within the limit allows; then
2. pay the least (buy) or receive the most (sell) net of taker fees, where taking ``q`` at a
   level of price ``p`` costs ``p * q * (1 + fee)`` (buy) or brings ``p * q * (1 - fee)``
   (sell): the effective price is ``p * (1 ± fee)``; then
3. use the fewest venues, then the venues given first.

Each venue's share is a whole number of its lots, and 0 or at least its minimum (its
``min_quantity``, raised to cover its ``min_notional``). Within those rules the allocation is
the greedy one, by effective price across all venues' levels, made exact for lots: levels are
taken lot by lot (a lot straddling two levels costs what it takes of each); the lots of the
finest venues are bundled into lots of the next coarser size, cheapest first, after the few
needed to make up the remainder; and each subset of the venues with a minimum above their lot
is tried with that minimum taken first. When every venue's lot divides the next larger one
(0.001 | 0.01 | 1, the usual case) the result is optimal under the rule above. Otherwise a
venue's lot is coarsened to the least common multiple with every finer lot, so the result is
still valid but may miss the optimum.

``RoutingMode.BEST_VENUE`` sends the whole order to the one venue that serves it best under the
same rule.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

import msgspec

from tradeforge.domain import (
    ClientOrderId,
    Instrument,
    InstrumentId,
    InvalidValue,
    OrderBookSnapshot,
    OrderSide,
    OrderSpec,
    OrderType,
    Price,
    Quantity,
    StrategyId,
    TimeInForce,
)
from tradeforge.execution.algos._exact import DIVIDE, EXACT
from tradeforge.execution.algos.lots import Supply, allocate_lots
from tradeforge.execution.algos.schedule import min_child_quantity

__all__ = [
    "LevelView",
    "RoutingDecision",
    "RoutingMode",
    "VenueAllocation",
    "VenueBook",
    "VenueRecord",
    "route_order",
]

_MAX_MIN_VENUES: Final = 12  # venues with a minimum above their lot: 2**n subsets are tried
_ZERO = Decimal(0)
_ONE = Decimal(1)


class RoutingMode(enum.StrEnum):
    """Split across venues, or send everything to the best single venue."""

    SPLIT = "SPLIT"
    BEST_VENUE = "BEST_VENUE"


class VenueBook(msgspec.Struct, frozen=True, kw_only=True):
    """One venue's visible book of the instrument, with the instrument's lot, minimums and
    taker fee (``taker_fee`` overrides the instrument's, e.g. for a fee tier)."""

    instrument: Instrument
    book: OrderBookSnapshot
    taker_fee: Decimal | None = None

    def __post_init__(self) -> None:
        if self.book.instrument_id != self.instrument.id:
            raise InvalidValue(
                f"book of {self.book.instrument_id} given for instrument {self.instrument.id}"
            )
        fee = self.taker_fee
        if fee is not None and (
            not isinstance(fee, Decimal) or not fee.is_finite() or abs(fee) >= 1
        ):
            raise InvalidValue(f"taker_fee must be a Decimal in (-1, 1), got {fee!r}")

    @property
    def fee_rate(self) -> Decimal:
        """The taker fee rate used (negative is a rebate)."""
        return self.instrument.taker_fee if self.taker_fee is None else self.taker_fee


class LevelView(msgspec.Struct, frozen=True, kw_only=True):
    """A book level (or the part of it taken) with its effective price ``p * (1 ± fee)``."""

    price: Price
    size: Quantity
    effective_price: Decimal


class VenueRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What the decision saw of one venue: its fee, lot, minimum and top levels."""

    instrument_id: InstrumentId
    fee_rate: Decimal
    lot_size: Quantity
    min_quantity: Quantity
    sequence: int
    ts_event: int
    top: tuple[LevelView, ...]


class VenueAllocation(msgspec.Struct, frozen=True, kw_only=True):
    """One venue's share: send ``quantity`` as a limit IOC at ``limit_price`` (the worst level
    it reaches). ``net_amount`` is paid (buy) or received (sell) after the fee."""

    instrument_id: InstrumentId
    quantity: Quantity
    limit_price: Price
    average_price: Decimal
    net_amount: Decimal
    fee_rate: Decimal
    levels: tuple[LevelView, ...]


class RoutingDecision(msgspec.Struct, frozen=True, kw_only=True):
    """The allocation and the books it was decided on. ``net_amount`` is the total paid
    (buy) or received (sell) net of fees; ``unfilled`` what the visible depth could not take."""

    side: OrderSide
    quantity: Quantity
    limit_price: Price | None
    mode: RoutingMode
    allocations: tuple[VenueAllocation, ...]
    allocated: Quantity
    unfilled: Quantity
    net_amount: Decimal
    venues: tuple[VenueRecord, ...]
    ts_event: int = 0

    def child_specs(
        self,
        parent_id: ClientOrderId,
        strategy_id: StrategyId,
        *,
        time_in_force: TimeInForce = TimeInForce.IOC,
    ) -> tuple[OrderSpec, ...]:
        """One limit order per allocation, named ``<parent>-r1``, ``<parent>-r2``, ..."""
        return tuple(
            OrderSpec(
                client_order_id=ClientOrderId(f"{parent_id.value}-r{i}"),
                strategy_id=strategy_id,
                instrument_id=alloc.instrument_id,
                side=self.side,
                order_type=OrderType.LIMIT,
                quantity=alloc.quantity,
                price=alloc.limit_price,
                time_in_force=time_in_force,
                tags=(f"parent={parent_id}", "algo=SOR"),
            )
            for i, alloc in enumerate(self.allocations, start=1)
        )

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-ready values (decimals as strings) for the decision log."""

        def levels(views: tuple[LevelView, ...]) -> list[list[str]]:
            return [[str(v.price), str(v.size), str(v.effective_price)] for v in views]

        return {
            "side": str(self.side),
            "quantity": str(self.quantity),
            "limit_price": None if self.limit_price is None else str(self.limit_price),
            "mode": str(self.mode),
            "allocated": str(self.allocated),
            "unfilled": str(self.unfilled),
            "net_amount": str(self.net_amount),
            "ts_event": self.ts_event,
            "allocations": [
                {
                    "instrument_id": str(a.instrument_id),
                    "quantity": str(a.quantity),
                    "limit_price": str(a.limit_price),
                    "average_price": str(a.average_price),
                    "net_amount": str(a.net_amount),
                    "fee_rate": str(a.fee_rate),
                    "levels": levels(a.levels),
                }
                for a in self.allocations
            ],
            "venues": [
                {
                    "instrument_id": str(v.instrument_id),
                    "fee_rate": str(v.fee_rate),
                    "lot_size": str(v.lot_size),
                    "min_quantity": str(v.min_quantity),
                    "sequence": v.sequence,
                    "ts_event": v.ts_event,
                    "top": levels(v.top),
                }
                for v in self.venues
            ],
        }


def route_order(
    side: OrderSide,
    quantity: Quantity,
    books: Sequence[VenueBook],
    *,
    limit_price: Price | None = None,
    mode: RoutingMode = RoutingMode.SPLIT,
    ts_ns: int = 0,
    record_depth: int = 5,
) -> RoutingDecision:
    """Allocate ``quantity`` across ``books`` (module docstring for the rule).

    Raises:
        InvalidValue: no books, a venue given twice, a zero quantity, or more than 12 venues
            whose minimum is above their lot.
    """
    if not books:
        raise InvalidValue("route_order needs at least one venue book")
    ids = [b.instrument.id for b in books]
    if len(set(ids)) != len(ids):
        raise InvalidValue(f"each venue must be given once, got {[str(i) for i in ids]}")
    if quantity.is_zero():
        raise InvalidValue("quantity must be positive")
    scale = _scale(books, side)
    venues = [_Venue.of(b, side, limit_price, scale) for b in books]
    wanted = int(EXACT.divide_int(EXACT.scaleb(quantity.as_decimal(), scale), _ONE))
    best = allocate_lots([v.supply for v in venues], wanted, single=mode is RoutingMode.BEST_VENUE)
    return _decision(
        books,
        venues,
        best.units,
        side=side,
        quantity=quantity,
        limit=limit_price,
        mode=mode,
        scale=scale,
        ts_ns=ts_ns,
        record_depth=record_depth,
    )


# Quantities go to the solver as integer units of 10**-scale, prices as signed costs per unit
# (buy: paid, sell: minus received, fee included), so both sides minimise the same way.


@dataclass(frozen=True, slots=True)
class _Venue:
    supply: Supply
    prices: tuple[Price, ...]  # of the supply's levels
    fee_rate: Decimal
    min_quantity: Quantity

    @classmethod
    def of(cls, src: VenueBook, side: OrderSide, limit: Price | None, scale: int) -> _Venue:
        taken = src.book.asks if side is OrderSide.BUY else src.book.bids
        usable = [lvl for lvl in taken if _within(side, lvl.price, limit) and lvl.size > 0]
        factor = EXACT.multiply(_fee_factor(side, src.fee_rate), Decimal(side.sign))
        levels = tuple(
            (_units(lvl.size.as_decimal(), scale), EXACT.multiply(lvl.price.as_decimal(), factor))
            for lvl in usable
        )
        # The minimum child at the least favourable price a child's limit can have.
        reference = (usable[0] if side is OrderSide.BUY else usable[-1]).price if usable else None
        minimum = min_child_quantity(src.instrument, reference)
        supply = Supply(
            levels=levels,
            lot=_units(src.instrument.lot_size.as_decimal(), scale),
            minimum=_units(minimum.as_decimal(), scale),
        )
        return cls(supply, tuple(lvl.price for lvl in usable), src.fee_rate, minimum)


def _fee_factor(side: OrderSide, fee: Decimal) -> Decimal:
    return EXACT.add(_ONE, fee) if side is OrderSide.BUY else EXACT.subtract(_ONE, fee)


def _within(side: OrderSide, price: Price, limit: Price | None) -> bool:
    if limit is None:
        return True
    return price <= limit if side is OrderSide.BUY else price >= limit


def _scale(books: Sequence[VenueBook], side: OrderSide) -> int:
    precision = 0
    for src in books:
        inst = src.instrument
        precision = max(precision, inst.size_precision, inst.min_quantity.precision)
        for lvl in src.book.asks if side is OrderSide.BUY else src.book.bids:
            precision = max(precision, lvl.size.precision)
    return precision


def _units(value: Decimal, scale: int) -> int:
    return int(EXACT.to_integral_exact(EXACT.scaleb(value, scale)))


def _decision(
    books: Sequence[VenueBook],
    venues: list[_Venue],
    units: tuple[int, ...],
    *,
    side: OrderSide,
    quantity: Quantity,
    limit: Price | None,
    mode: RoutingMode,
    scale: int,
    ts_ns: int,
    record_depth: int,
) -> RoutingDecision:
    allocations: list[VenueAllocation] = []
    allocated = _ZERO
    net = _ZERO
    for v, src, amount in zip(venues, books, units, strict=True):
        if not amount:
            continue
        alloc = _allocation(v, src, side, amount, scale)
        allocations.append(alloc)
        allocated = EXACT.add(allocated, alloc.quantity.as_decimal())
        net = EXACT.add(net, alloc.net_amount)
    precision = max([quantity.precision, *(b.instrument.size_precision for b in books)])
    unfilled = max(EXACT.subtract(quantity.as_decimal(), allocated), _ZERO)
    records = tuple(
        VenueRecord(
            instrument_id=src.instrument.id,
            fee_rate=v.fee_rate,
            lot_size=src.instrument.lot_size,
            min_quantity=v.min_quantity,
            sequence=src.book.sequence,
            ts_event=src.book.ts_event,
            top=tuple(
                _view(lvl.price, lvl.size, side, v.fee_rate)
                for lvl in (src.book.asks if side is OrderSide.BUY else src.book.bids)[
                    :record_depth
                ]
            ),
        )
        for v, src in zip(venues, books, strict=True)
    )
    return RoutingDecision(
        side=side,
        quantity=quantity,
        limit_price=limit,
        mode=mode,
        allocations=tuple(allocations),
        allocated=Quantity.from_decimal(allocated, precision),
        unfilled=Quantity.from_decimal(unfilled, precision),
        net_amount=net,
        venues=records,
        ts_event=ts_ns,
    )


def _allocation(
    v: _Venue, src: VenueBook, side: OrderSide, amount: int, scale: int
) -> VenueAllocation:
    inst = src.instrument
    taken: list[LevelView] = []
    gross = _ZERO
    left = amount
    worst = v.prices[0]
    for (units, _), price in zip(v.supply.levels, v.prices, strict=True):
        if not left:
            break
        take = min(left, units)
        size = Quantity.from_decimal(EXACT.scaleb(Decimal(take), -scale), scale)
        taken.append(_view(price, size, side, v.fee_rate))
        gross = EXACT.add(gross, EXACT.multiply(price.as_decimal(), size.as_decimal()))
        worst = price
        left -= take
    mult = _fee_factor(side, v.fee_rate)
    qty = Quantity.from_decimal(EXACT.scaleb(Decimal(amount), -scale), inst.size_precision)
    return VenueAllocation(
        instrument_id=inst.id,
        quantity=qty,
        limit_price=worst,
        average_price=DIVIDE.divide(gross, qty.as_decimal()),
        net_amount=EXACT.multiply(gross, mult),
        fee_rate=v.fee_rate,
        levels=tuple(taken),
    )


def _view(price: Price, size: Quantity, side: OrderSide, fee: Decimal) -> LevelView:
    mult = _fee_factor(side, fee)
    return LevelView(
        price=price, size=size, effective_price=EXACT.multiply(price.as_decimal(), mult)
    )

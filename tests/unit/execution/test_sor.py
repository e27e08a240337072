"""Smart order routing on constructed books: cheapest net of fees, splits when depth runs out,
lots and minimums respected, and the same result as a brute-force search."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.kit.stubs import STRATEGY, btcusdt

from tradeforge.domain import (
    BookLevel,
    ClientOrderId,
    CurrencyPair,
    InstrumentId,
    InvalidValue,
    OrderBookSnapshot,
    OrderSide,
    OrderType,
    Price,
    Quantity,
    TimeInForce,
)
from tradeforge.execution import RoutingMode, VenueBook, route_order

Levels = list[tuple[str, str]]


def venue(
    name: str, *, lot: str = "0.001", min_qty: str | None = None, fee: str = "0"
) -> CurrencyPair:
    return btcusdt(
        id=InstrumentId("BTC/USDT", name),
        lot_size=Quantity(lot),
        min_quantity=Quantity(min_qty or lot),
        taker_fee=Decimal(fee),
    )


def vbook(inst: CurrencyPair, asks: Levels = (), bids: Levels = ()) -> VenueBook:  # type: ignore[assignment]
    def levels(raw: Levels) -> tuple[BookLevel, ...]:
        return tuple(BookLevel(Price(p), Quantity(s)) for p, s in raw)

    book = OrderBookSnapshot(
        instrument_id=inst.id,
        bids=levels(bids),
        asks=levels(asks),
        sequence=7,
        ts_event=11,
        ts_init=11,
    )
    return VenueBook(instrument=inst, book=book)


def allocation(decision: object) -> dict[str, str]:
    return {str(a.instrument_id.venue): str(a.quantity) for a in decision.allocations}  # type: ignore[attr-defined]


def test_picks_the_cheapest_venue_net_of_fees() -> None:
    # A shows the lower price but its fee makes it dearer: 100.00 x 1.005 > 100.20 x 1.001.
    a = vbook(venue("A", fee="0.005"), asks=[("100.00", "5.000")])
    b = vbook(venue("B", fee="0.001"), asks=[("100.20", "5.000")])

    decision = route_order(OrderSide.BUY, Quantity("1.000"), [a, b])

    assert allocation(decision) == {"B": "1.000"}
    assert decision.net_amount == Decimal("100.3002")
    assert decision.allocations[0].limit_price == Price("100.20")


def test_splits_across_venues_when_depth_runs_out() -> None:
    a = vbook(venue("A", fee="0.005"), asks=[("100.00", "5.000")])
    b = vbook(venue("B", fee="0.001"), asks=[("100.20", "0.400"), ("101.00", "5.000")])

    decision = route_order(OrderSide.BUY, Quantity("1.000"), [a, b])

    assert allocation(decision) == {"A": "0.600", "B": "0.400"}
    assert decision.allocated == Quantity("1.000")
    assert decision.unfilled.is_zero()
    assert decision.net_amount == Decimal("0.600") * Decimal("100.00") * Decimal("1.005") + Decimal(
        "0.400"
    ) * Decimal("100.20") * Decimal("1.001")


def test_walks_the_depth_and_the_limit_price_reaches_the_last_level() -> None:
    a = vbook(venue("A"), asks=[("100.00", "0.300"), ("100.10", "0.300"), ("100.50", "1.000")])
    b = vbook(venue("B"), asks=[("100.05", "0.200"), ("100.40", "1.000")])

    decision = route_order(OrderSide.BUY, Quantity("1.000"), [a, b])

    assert allocation(decision) == {"A": "0.600", "B": "0.400"}
    by_venue = {str(x.instrument_id.venue): x for x in decision.allocations}
    assert by_venue["A"].limit_price == Price("100.10")
    assert by_venue["B"].limit_price == Price("100.40")
    assert [str(level.size) for level in by_venue["B"].levels] == ["0.200", "0.200"]


def test_sells_hit_the_best_bids_net_of_fees() -> None:
    a = vbook(venue("A", fee="0.002"), bids=[("100.10", "0.500"), ("99.00", "5.000")])
    b = vbook(venue("B", fee="0"), bids=[("100.00", "0.300"), ("99.50", "5.000")])

    decision = route_order(OrderSide.SELL, Quantity("1.000"), [a, b])

    # effective: A 100.10 x 0.998 = 99.8998, B 100.00, B 99.50, A 99.00 x 0.998
    assert allocation(decision) == {"A": "0.500", "B": "0.500"}
    assert decision.net_amount == Decimal("0.500") * Decimal("99.8998") + Decimal(
        "0.300"
    ) * Decimal("100.00") + Decimal("0.200") * Decimal("99.50")


def test_respects_each_venues_lot() -> None:
    a = vbook(venue("A", lot="0.1"), asks=[("100.00", "5.0")])
    b = vbook(venue("B", lot="0.001"), asks=[("100.50", "5.000")])

    decision = route_order(OrderSide.BUY, Quantity("0.250"), [a, b])

    assert allocation(decision) == {"A": "0.2", "B": "0.050"}


def test_a_coarse_lot_can_beat_cheaper_fine_lots_that_leave_a_dear_remainder() -> None:
    # Greedy by price would take B's cheap 0.5, then have to buy 0.5 more at 200 on B.
    a = vbook(venue("A", lot="1"), asks=[("100.00", "5")])
    b = vbook(venue("B", lot="0.1"), asks=[("99.00", "0.5"), ("200.00", "5.0")])

    decision = route_order(OrderSide.BUY, Quantity("1"), [a, b])

    assert allocation(decision) == {"A": "1"}


def test_a_venue_below_its_minimum_is_skipped() -> None:
    cheap = vbook(venue("A", lot="0.1", min_qty="1.0"), asks=[("99.00", "5.0")])
    dear = vbook(venue("B", lot="0.1"), asks=[("100.00", "5.0")])

    assert allocation(route_order(OrderSide.BUY, Quantity("0.5"), [cheap, dear])) == {"B": "0.5"}
    assert allocation(route_order(OrderSide.BUY, Quantity("1.3"), [cheap, dear])) == {"A": "1.3"}


def test_levels_beyond_the_limit_are_not_taken_and_the_rest_is_reported() -> None:
    a = vbook(venue("A"), asks=[("100.00", "0.300"), ("101.00", "5.000")])
    b = vbook(venue("B"), asks=[("100.50", "0.200"), ("102.00", "5.000")])

    decision = route_order(OrderSide.BUY, Quantity("1.000"), [a, b], limit_price=Price("100.50"))

    assert allocation(decision) == {"A": "0.300", "B": "0.200"}
    assert decision.unfilled == Quantity("0.500")


def test_best_venue_mode_uses_one_venue() -> None:
    a = vbook(venue("A"), asks=[("100.00", "0.400"), ("100.30", "5.000")])
    b = vbook(venue("B"), asks=[("100.10", "5.000")])

    split = route_order(OrderSide.BUY, Quantity("1.000"), [a, b])
    single = route_order(OrderSide.BUY, Quantity("1.000"), [a, b], mode=RoutingMode.BEST_VENUE)

    assert allocation(split) == {"A": "0.400", "B": "0.600"}
    assert allocation(single) == {"B": "1.000"}
    assert single.mode is RoutingMode.BEST_VENUE


def test_the_decision_record_names_the_books_and_effective_prices() -> None:
    a = vbook(venue("A", fee="0.001"), asks=[("100.00", "1.000"), ("100.10", "1.000")])
    b = vbook(venue("B"), asks=[("100.20", "1.000")])

    decision = route_order(OrderSide.BUY, Quantity("1.500"), [a, b], ts_ns=42, record_depth=1)
    record = decision.to_dict()

    assert record["ts_event"] == 42
    assert record["venues"] == [
        {
            "instrument_id": "BTC/USDT.A",
            "fee_rate": "0.001",
            "lot_size": "0.001",
            "min_quantity": "0.001",
            "sequence": 7,
            "ts_event": 11,
            "top": [["100.00", "1.000", "100.10000"]],
        },
        {
            "instrument_id": "BTC/USDT.B",
            "fee_rate": "0",
            "lot_size": "0.001",
            "min_quantity": "0.001",
            "sequence": 7,
            "ts_event": 11,
            "top": [["100.20", "1.000", "100.20"]],
        },
    ]
    # A's second level is 100.10 x 1.001 = 100.2001, dearer than B's 100.20 without a fee.
    assert [a["levels"] for a in record["allocations"]] == [  # type: ignore[attr-defined]
        [["100.00", "1.000", "100.10000"]],
        [["100.20", "0.500", "100.20"]],
    ]


def test_child_specs_are_limit_ioc_orders_named_after_the_parent() -> None:
    a = vbook(venue("A"), asks=[("100.00", "0.400")])
    b = vbook(venue("B"), asks=[("100.10", "5.000")])
    decision = route_order(OrderSide.BUY, Quantity("1.000"), [a, b])

    specs = decision.child_specs(ClientOrderId("R-9"), STRATEGY)

    assert [str(s.client_order_id) for s in specs] == ["R-9-r1", "R-9-r2"]
    assert [(str(s.instrument_id), str(s.quantity), str(s.price)) for s in specs] == [
        ("BTC/USDT.A", "0.400", "100.00"),
        ("BTC/USDT.B", "0.600", "100.10"),
    ]
    assert all(
        s.order_type is OrderType.LIMIT and s.time_in_force is TimeInForce.IOC for s in specs
    )


def test_bad_requests_are_refused() -> None:
    a = vbook(venue("A"), asks=[("100.00", "1.000")])
    with pytest.raises(InvalidValue, match="at least one"):
        route_order(OrderSide.BUY, Quantity("1"), [])
    with pytest.raises(InvalidValue, match="once"):
        route_order(OrderSide.BUY, Quantity("1"), [a, a])


# brute force


def brute_force(
    side: OrderSide, quantity: Decimal, books: list[VenueBook], limit: Price | None, single: bool
) -> tuple[Decimal, Decimal]:
    """(most filled, least signed cost) over every allocation of whole lots."""
    options: list[list[tuple[Decimal, Decimal]]] = []
    for src in books:
        inst, fee = src.instrument, src.fee_rate
        levels = src.book.asks if side is OrderSide.BUY else src.book.bids
        usable = [
            lvl
            for lvl in levels
            if limit is None
            or (lvl.price <= limit if side is OrderSide.BUY else lvl.price >= limit)
        ]
        lot = inst.lot_size.as_decimal()
        depth = sum((lvl.size.as_decimal() for lvl in usable), Decimal(0))
        factor = (1 + fee if side is OrderSide.BUY else 1 - fee) * side.sign
        choices = [(Decimal(0), Decimal(0))]
        size = lot
        while size <= min(depth, quantity):
            if size >= inst.min_quantity.as_decimal():
                left, cost = size, Decimal(0)
                for lvl in usable:
                    take = min(left, lvl.size.as_decimal())
                    cost += take * lvl.price.as_decimal() * factor
                    left -= take
                choices.append((size, cost))
            size += lot
        options.append(choices)
    best = (Decimal(0), Decimal(0))
    for combo in itertools.product(*options):
        if single and sum(1 for q, _ in combo if q) > 1:
            continue
        filled = sum((q for q, _ in combo), Decimal(0))
        if filled > quantity:
            continue
        cost = sum((c for _, c in combo), Decimal(0))
        if (-filled, cost) < (-best[0], best[1]):
            best = (filled, cost)
    return best


@st.composite
def constructed_books(draw: st.DrawFn, lots: list[str]) -> tuple[OrderSide, list[VenueBook]]:
    side = draw(st.sampled_from(OrderSide))
    count = draw(st.integers(2, 3))
    books = []
    for i in range(count):
        lot = Decimal(draw(st.sampled_from(lots)))
        inst = venue(
            f"V{i}",
            lot=str(lot),
            min_qty=str(lot * draw(st.integers(1, 3))),
            fee=draw(st.sampled_from(["0", "0.001", "0.0025", "-0.0002"])),
        )
        ticks = sorted(draw(st.sets(st.integers(0, 12), min_size=1, max_size=3)))
        prices = [
            Decimal(100) + Decimal(t) / 4
            if side is OrderSide.BUY
            else Decimal(100) - Decimal(t) / 4
            for t in ticks
        ]
        sizes = [Decimal(draw(st.integers(1, 10))) / 10 for _ in ticks]
        levels = [(f"{p:.2f}", str(s)) for p, s in zip(prices, sizes, strict=True)]
        books.append(
            vbook(inst, asks=levels) if side is OrderSide.BUY else vbook(inst, bids=levels)
        )
    return side, books


def signed_cost(decision: object, side: OrderSide) -> Decimal:
    return decision.net_amount * side.sign  # type: ignore[attr-defined,no-any-return]


@settings(max_examples=150, deadline=None)
@given(
    setup=constructed_books(["0.1", "0.5", "1"]),
    tenths=st.integers(1, 40),
    limit_ticks=st.none() | st.integers(0, 12),
    single=st.booleans(),
)
def test_matches_a_brute_force_optimum_when_lots_divide_each_other(
    setup: tuple[OrderSide, list[VenueBook]], tenths: int, limit_ticks: int | None, single: bool
) -> None:
    side, books = setup
    quantity = Decimal(tenths) / 10
    limit = None
    if limit_ticks is not None:
        step = Decimal(limit_ticks) / 4
        limit = Price(
            f"{Decimal(100) + step if side is OrderSide.BUY else Decimal(100) - step:.2f}"
        )
    mode = RoutingMode.BEST_VENUE if single else RoutingMode.SPLIT

    decision = route_order(side, Quantity(quantity), books, limit_price=limit, mode=mode)

    best_filled, best_cost = brute_force(side, quantity, books, limit, single)
    assert decision.allocated.as_decimal() == best_filled
    assert signed_cost(decision, side) == best_cost
    check_valid(decision, books, quantity, single)


@settings(max_examples=60, deadline=None)
@given(setup=constructed_books(["0.2", "0.3", "0.5"]), tenths=st.integers(1, 40))
def test_lots_that_do_not_divide_still_give_a_valid_allocation(
    setup: tuple[OrderSide, list[VenueBook]], tenths: int
) -> None:
    side, books = setup
    quantity = Decimal(tenths) / 10

    decision = route_order(side, Quantity(quantity), books)

    best_filled, best_cost = brute_force(side, quantity, books, None, False)
    assert (-best_filled, best_cost) <= (
        -decision.allocated.as_decimal(),
        signed_cost(decision, side),
    )
    check_valid(decision, books, quantity, False)


def check_valid(decision: object, books: list[VenueBook], quantity: Decimal, single: bool) -> None:
    by_id = {b.instrument.id: b.instrument for b in books}
    allocations = decision.allocations  # type: ignore[attr-defined]
    assert sum((a.quantity.as_decimal() for a in allocations), Decimal(0)) <= quantity
    assert not single or len(allocations) <= 1
    for alloc in allocations:
        inst = by_id[alloc.instrument_id]
        assert inst.is_on_lot(alloc.quantity)
        assert alloc.quantity >= inst.min_quantity
        assert (
            sum((lvl.size.as_decimal() for lvl in alloc.levels), Decimal(0))
            == alloc.quantity.as_decimal()
        )

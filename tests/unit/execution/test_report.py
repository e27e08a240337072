"""Parent reports: progress, exact average price, slippage against arrival, the event dict."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.execution.harness import MINUTE, T0, FakeVenue, book, fill_none, instrument, parent

from tradeforge.bus import ReplayClock
from tradeforge.domain import OrderSide, Price, Quantity
from tradeforge.execution import ExecutionState, Twap, TwapParams
from tradeforge.execution.algos import average_price, slippage_bps


def running_twap(
    side: OrderSide = OrderSide.BUY, arrival: str | None = "100.00"
) -> tuple[Twap, FakeVenue]:
    clock = ReplayClock(T0)
    venue = FakeVenue(clock, fill_now=fill_none)
    algo = Twap(
        parent(instrument(), "4.000", side=side, arrival=arrival),
        TwapParams(start_ns=T0, end_ns=T0 + MINUTE, slices=1),
        clock=clock,
        submit_child=venue.submit,
        cancel_child=venue.cancel,
    )
    venue.bind(algo)
    algo.start()
    return algo, venue


def test_average_price_and_slippage_are_exact() -> None:
    algo, venue = running_twap()
    child = venue.last().client_order_id

    venue.fill(child, "1.000", px="100.00")
    venue.fill(child, "3.000", px="104.00")

    report = algo.report()
    assert report.avg_price == Decimal("103")
    assert report.notional == Decimal("412.00000")
    assert report.slippage_bps == Decimal("300")  # bought 3 % above arrival
    assert report.progress == Decimal(1)
    assert report.is_complete
    assert report.state is ExecutionState.DONE


def test_a_sell_below_arrival_is_positive_slippage() -> None:
    algo, venue = running_twap(OrderSide.SELL)
    venue.fill(venue.last().client_order_id, "1.000", px="99.90")

    report = algo.report()
    assert report.slippage_bps == Decimal("10")
    assert report.progress == Decimal("0.25")
    assert report.filled == Quantity("1.000")
    assert report.working == Quantity("3.000")
    assert report.remaining == Quantity("3.000")


def test_a_fill_delivered_twice_counts_once() -> None:
    algo, venue = running_twap()
    child = venue.last()
    venue.fill(child.client_order_id, "1.000", px="100.00")
    from tests.kit.stubs import filled

    algo.on_fill(filled(child, Quantity("1.000"), Price("100.00"), trade_id="T-1"))

    assert algo.filled == Quantity("1.000")


def test_without_an_arrival_price_the_first_mid_is_taken() -> None:
    algo, venue = running_twap(arrival=None)
    algo.on_book(book(instrument(), "99.00", "101.00"))
    algo.on_book(book(instrument(), "150.00", "151.00"))
    venue.fill(venue.last().client_order_id, "4.000", px="101.00")

    report = algo.report()
    assert report.arrival_price == Price("100.00")
    assert report.slippage_bps == Decimal("100")


def test_the_event_dict_is_plain_text_and_numbers() -> None:
    algo, venue = running_twap()
    venue.fill(venue.last().client_order_id, "1.000", px="100.50")

    event = algo.report().to_dict()

    assert event == {
        "parent_order_id": "P-1",
        "algorithm": "TWAP",
        "instrument_id": "BTC/USDT.BINANCE",
        "side": "BUY",
        "state": "RUNNING",
        "quantity": "4.000",
        "filled": "1.000",
        "remaining": "3.000",
        "working": "3.000",
        "progress": "0.25",
        "notional": "100.50000",
        "avg_price": "100.50",
        "arrival_price": "100.00",
        "slippage_bps": "50",
        "children": 1,
        "reason": "",
        "ts_event": T0,
        "ts_init": T0,
    }


@settings(max_examples=100, deadline=None)
@given(
    fills=st.lists(
        st.tuples(st.integers(1, 10**9), st.integers(1, 10**9)), min_size=1, max_size=30
    ),
    arrival_cents=st.integers(1, 10**9),
    side=st.sampled_from(OrderSide),
)
def test_average_and_slippage_match_exact_fractions(
    fills: list[tuple[int, int]], arrival_cents: int, side: OrderSide
) -> None:
    qty = sum((Decimal(q).scaleb(-3) for q, _ in fills), Decimal(0))
    notional = sum((Decimal(q).scaleb(-3) * Decimal(p).scaleb(-2) for q, p in fills), Decimal(0))
    arrival = Price(Decimal(arrival_cents).scaleb(-2))

    avg = average_price(notional, qty)
    slip = slippage_bps(side, notional, qty, arrival)

    exact_avg = Fraction(notional) / Fraction(qty)
    exact_slip = (exact_avg - Fraction(arrival.as_decimal())) / Fraction(arrival.as_decimal())
    exact_slip *= 10_000 * side.sign
    assert avg is not None
    assert slip is not None
    assert abs(Fraction(avg) - exact_avg) <= abs(exact_avg) * Fraction(1, 10**58)
    assert abs(Fraction(slip) - exact_slip) <= abs(exact_slip) * Fraction(1, 10**58) + Fraction(
        1, 10**50
    )
    if (exact_avg * 10**40).denominator == 1:  # a terminating average is given exactly
        assert Fraction(avg) == exact_avg

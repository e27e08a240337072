"""Positions from fills, with exact cost, PnL and the cash reconciliation of position.py.

The identity pinned here follows from position.py's docstring. Cash moves by each fill's
notional (minus for a buy, plus for a sell); opening adds the notional to ``cost``, reducing
removes a share of ``cost`` and realizes proceeds minus that share (sign reversed for a short).
Summing over the fills gives, for a linear instrument::

    realized_pnl == cash_flows + sign * cost      (sign: +1 long, -1 short, 0 flat)

and for an inverse instrument, whose PnL sign is reversed once more::

    realized_pnl == -(cash_flows + sign * cost)

so a flat position has realized exactly the cash it moved (fees are kept apart).
"""

import re
from decimal import Decimal

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.kit.stubs import (
    ACCOUNT,
    BTC,
    STRATEGY,
    TS,
    USD,
    USDT,
    btcusdt,
    es_future,
    trade,
    xbtusd_inverse,
)

from tradeforge.domain import (
    KNOWN_CURRENCIES,
    Instrument,
    InvalidValue,
    Money,
    OrderFilled,
    OrderSide,
    Position,
    PositionChanged,
    PositionId,
    PositionSide,
    Price,
    Quantity,
    TradeId,
)

BUY, SELL = OrderSide.BUY, OrderSide.SELL
BNB = KNOWN_CURRENCIES["BNB"]


def position(instrument: Instrument | None = None, *, allow_flip: bool = True) -> Position:
    return Position(
        PositionId("P-1"),
        instrument or btcusdt(),
        STRATEGY,
        account_id=ACCOUNT,
        allow_flip=allow_flip,
    )


def usdt(amount: str) -> Money:
    return Money(amount, USDT)


# netting: open, add, reduce, close, flip


def test_new_position_is_flat() -> None:
    flat = position()

    assert flat.side is PositionSide.FLAT
    assert flat.is_flat
    assert flat.quantity == Quantity("0")
    assert flat.avg_px_open is None
    assert flat.cost == usdt("0")
    assert flat.realized_pnl == usdt("0")
    assert flat.unrealized_pnl(Price("100.00")) == usdt("0")


def test_buy_opens_a_long_at_the_fill_notional() -> None:
    long = position()

    realized = long.apply(trade(long.instrument, BUY, "1", "100", ts=TS + 1))

    assert realized == usdt("0")
    assert long.side is PositionSide.LONG
    assert str(long.quantity) == "1.000"
    assert long.cost == usdt("100")
    assert long.avg_px_open == Decimal("100")
    assert long.ts_opened == TS + 1
    assert long.fill_count == 1


def test_adding_to_a_long_adds_notional_to_cost_and_averages_the_entry() -> None:
    long = position()
    long.apply(trade(long.instrument, BUY, "1", "100", trade_id="T-1"))

    long.apply(trade(long.instrument, BUY, "1", "110", trade_id="T-2"))

    assert long.cost == usdt("210")
    assert long.avg_px_open == Decimal("105")
    assert long.quantity == Quantity("2")


def test_reducing_removes_a_share_of_cost_and_realizes_the_difference() -> None:
    long = position()
    long.apply(trade(long.instrument, BUY, "2", "105", trade_id="T-1"))

    realized = long.apply(trade(long.instrument, SELL, "0.5", "120", trade_id="T-2"))

    # removed 210 x 0.5 / 2 = 52.5; proceeds 0.5 x 120 = 60
    assert realized == usdt("7.5")
    assert long.realized_pnl == usdt("7.5")
    assert long.cost == usdt("157.5")
    assert long.quantity == Quantity("1.5")
    assert long.avg_px_open == Decimal("105")


def test_partial_reduce_rounds_the_removed_cost_and_closing_takes_the_rest() -> None:
    long = position()
    long.apply(trade(long.instrument, BUY, "0.001", "100.01", trade_id="T-1"))
    long.apply(trade(long.instrument, BUY, "0.002", "100.02", trade_id="T-2"))
    assert long.cost == usdt("0.30005")

    first = long.apply(trade(long.instrument, SELL, "0.001", "100.00", trade_id="T-3"))
    # removed 0.30005 / 3 = 0.1000166... -> 0.10001667; proceeds 0.1
    assert first == usdt("-0.00001667")
    assert long.cost == usdt("0.20003333")

    second = long.apply(trade(long.instrument, SELL, "0.002", "100.00", trade_id="T-4"))
    assert second == usdt("-0.00003333")

    # nothing lost to rounding: -0.30005 + 0.1 + 0.2
    assert long.realized_pnl == usdt("-0.00005")
    assert long.cost == usdt("0")
    assert long.is_flat


def test_closing_exactly_realizes_everything_and_leaves_no_cost() -> None:
    long = position()
    long.apply(trade(long.instrument, BUY, "1", "100", trade_id="T-1"))

    realized = long.apply(trade(long.instrument, SELL, "1", "90", trade_id="T-2"))

    assert realized == usdt("-10")
    assert long.is_flat
    assert long.cost == usdt("0")
    assert long.avg_px_open is None


def test_fill_larger_than_the_position_flips_it() -> None:
    book = position()
    book.apply(trade(book.instrument, BUY, "1.5", "105", trade_id="T-1"))

    realized = book.apply(trade(book.instrument, SELL, "2", "100", trade_id="T-2", ts=TS + 9))

    # closes 1.5: proceeds 150 - cost 157.5; opens a 0.5 short at 100
    assert realized == usdt("-7.5")
    assert book.side is PositionSide.SHORT
    assert book.quantity == Quantity("0.5")
    assert book.cost == usdt("50")
    assert book.avg_px_open == Decimal("100")
    assert book.ts_opened == TS + 9


def test_full_netting_cycle_realizes_the_cash_it_moved() -> None:
    book = position()
    fills = [
        trade(book.instrument, BUY, "1", "100", trade_id="T-1"),
        trade(book.instrument, BUY, "1", "110", trade_id="T-2"),
        trade(book.instrument, SELL, "0.5", "120", trade_id="T-3"),
        trade(book.instrument, SELL, "2", "100", trade_id="T-4"),
        trade(book.instrument, BUY, "0.5", "90", trade_id="T-5"),
    ]

    realized = [book.apply(fill) for fill in fills]

    assert realized == [usdt("0"), usdt("0"), usdt("7.5"), usdt("-7.5"), usdt("5")]
    assert book.is_flat
    # cash: -100 - 110 + 60 + 200 - 45
    assert book.realized_pnl == usdt("5")


def test_short_gains_when_price_falls() -> None:
    short = position()
    short.apply(trade(short.instrument, SELL, "2", "100", trade_id="T-1"))
    assert short.side is PositionSide.SHORT
    assert short.cost == usdt("200")

    realized = short.apply(trade(short.instrument, BUY, "1", "90", trade_id="T-2"))

    assert realized == usdt("10")
    assert short.cost == usdt("100")
    assert short.quantity == Quantity("1")


def test_multiplier_scales_cost_and_pnl() -> None:
    future = position(es_future())
    future.apply(trade(future.instrument, BUY, "2", "4500.25", trade_id="T-1"))
    assert future.cost == Money("450025", USD)
    assert future.avg_px_open == Decimal("4500.25")

    realized = future.apply(trade(future.instrument, SELL, "2", "4510.00", trade_id="T-2"))

    # 2 x 50 x (4510.00 - 4500.25)
    assert realized == Money("975", USD)


# inverse instruments


def test_inverse_long_gains_in_the_base_currency_when_price_rises() -> None:
    inverse = position(xbtusd_inverse())
    inverse.apply(trade(inverse.instrument, BUY, "1000", "40000", trade_id="T-1"))
    assert inverse.cost == Money("0.025", BTC)
    assert inverse.avg_px_open == Decimal("40000")

    realized = inverse.apply(trade(inverse.instrument, SELL, "1000", "50000", trade_id="T-2"))

    # 1000/40000 - 1000/50000 = 0.025 - 0.02
    assert realized == Money("0.005", BTC)


def test_inverse_short_gains_when_price_falls() -> None:
    inverse = position(xbtusd_inverse())
    inverse.apply(trade(inverse.instrument, SELL, "1000", "50000", trade_id="T-1"))

    realized = inverse.apply(trade(inverse.instrument, BUY, "1000", "40000", trade_id="T-2"))

    assert realized == Money("0.005", BTC)


# fees, unrealized PnL, events


def test_fees_accumulate_per_currency_and_stay_out_of_realized_pnl() -> None:
    long = position()
    long.apply(trade(long.instrument, BUY, "1", "100", trade_id="T-1", commission=usdt("0.04")))
    long.apply(
        trade(long.instrument, BUY, "1", "100", trade_id="T-2", commission=Money("0.0001", BNB))
    )

    long.apply(trade(long.instrument, SELL, "2", "101", trade_id="T-3", commission=usdt("0.08")))

    assert long.fees == {USDT: usdt("0.12"), BNB: Money("0.0001", BNB)}
    assert long.realized_pnl == usdt("2")


@pytest.mark.parametrize(
    ("side", "mark", "expected"),
    [(BUY, "105", "10"), (BUY, "95", "-10"), (SELL, "105", "-10"), (SELL, "95", "10")],
)
def test_unrealized_pnl_at_a_mark(side: OrderSide, mark: str, expected: str) -> None:
    open_position = position()
    open_position.apply(trade(open_position.instrument, side, "2", "100"))

    assert open_position.unrealized_pnl(Price(mark)) == usdt(expected)


def test_inverse_unrealized_pnl_at_a_mark() -> None:
    inverse = position(xbtusd_inverse())
    inverse.apply(trade(inverse.instrument, BUY, "1000", "40000"))

    assert inverse.unrealized_pnl(Price("50000")) == Money("0.005", BTC)


def test_to_event_reports_the_position() -> None:
    long = position()
    long.apply(
        trade(long.instrument, BUY, "2", "100", trade_id="T-1", commission=usdt("0.08"), ts=TS)
    )
    long.apply(trade(long.instrument, SELL, "1", "110", trade_id="T-2", ts=TS + 5))

    event = long.to_event(ts_init=TS + 6)

    assert event == PositionChanged(
        position_id=PositionId("P-1"),
        instrument_id=long.instrument.id,
        strategy_id=STRATEGY,
        account_id=ACCOUNT,
        side=PositionSide.LONG,
        quantity=Quantity("1.000"),
        avg_px_open=Decimal("100"),
        cost=usdt("100"),
        realized_pnl=usdt("10"),
        fees=(usdt("0.08"),),
        last_trade_id=TradeId("T-2"),
        ts_opened=TS,
        ts_event=TS + 5,
        ts_init=TS + 6,
    )


def test_fill_for_another_instrument_is_refused() -> None:
    spot = position()

    with pytest.raises(
        InvalidValue, match=re.escape("fill for XBTUSD.BITMEX, expected BTC/USDT.BINANCE")
    ):
        spot.apply(trade(xbtusd_inverse(), BUY, "1", "100"))


def test_position_that_may_not_flip_refuses_a_fill_through_zero_and_is_unchanged() -> None:
    long = position(allow_flip=False)
    long.apply(trade(long.instrument, BUY, "1", "100", trade_id="T-1"))

    with pytest.raises(InvalidValue, match=re.escape("would take LONG 1.000 through zero")):
        long.apply(trade(long.instrument, SELL, "2", "100", trade_id="T-2"))

    assert long.quantity == Quantity("1")
    assert long.cost == usdt("100")
    assert long.fill_count == 1


def test_fill_off_the_lot_is_refused_and_the_position_stays_readable() -> None:
    spot = position()
    off_lot = msgspec.structs.replace(
        trade(spot.instrument, BUY, "1", "100"), last_qty=Quantity("0.0005")
    )

    with pytest.raises(InvalidValue, match="lot"):
        spot.apply(off_lot)

    assert spot.to_event(ts_init=TS).quantity == Quantity("0")


def test_repr() -> None:
    long = position()
    long.apply(trade(long.instrument, BUY, "1", "100"))

    assert repr(long) == (
        "Position(P-1, LONG 1.000, cost=100.00000000 USDT, realized=0.00000000 USDT)"
    )


# the reconciliation identity, for random fills


def cash_flow(instrument: Instrument, fill: OrderFilled) -> Money:
    notional = instrument.notional(fill.last_qty, fill.last_px)
    return -notional if fill.order_side is BUY else notional


def sign(side: PositionSide) -> int:
    return {PositionSide.LONG: 1, PositionSide.SHORT: -1, PositionSide.FLAT: 0}[side]


_legs = st.lists(
    st.tuples(
        st.sampled_from([BUY, SELL]),
        st.integers(min_value=1, max_value=5_000),  # lots
        st.integers(min_value=1, max_value=10**7),  # ticks
    ),
    min_size=1,
    max_size=15,
)


def replay(
    instrument: Instrument, legs: list[tuple[OrderSide, int, int]]
) -> tuple[Position, Money]:
    """Apply the legs as fills; return the position and the cash the fills moved."""
    subject = position(instrument)
    cash = Money.zero(instrument.settlement_currency)
    returned = Money.zero(instrument.settlement_currency)
    for n, (side, lots, ticks) in enumerate(legs):
        fill = trade(
            instrument,
            side,
            str(instrument.lot_size.as_decimal() * lots),
            str(instrument.tick_size.as_decimal() * ticks),
            trade_id=f"T-{n}",
        )
        returned = returned + subject.apply(fill)
        cash = cash + cash_flow(instrument, fill)
    assert returned == subject.realized_pnl
    return subject, cash


def flatten(subject: Position, ticks: int) -> OrderFilled:
    side = SELL if subject.side is PositionSide.LONG else BUY
    price = subject.instrument.tick_size.as_decimal() * ticks
    return trade(subject.instrument, side, str(subject.quantity), str(price), trade_id="T-end")


@settings(deadline=None)
@given(legs=_legs)
def test_realized_pnl_is_cash_flows_plus_signed_cost(
    legs: list[tuple[OrderSide, int, int]],
) -> None:
    subject, cash = replay(btcusdt(), legs)

    assert subject.realized_pnl == cash + Money(subject.cost.amount * sign(subject.side), USDT)


@settings(deadline=None)
@given(legs=_legs, exit_ticks=st.integers(min_value=1, max_value=10**7))
def test_flat_position_realized_exactly_the_cash_it_moved(
    legs: list[tuple[OrderSide, int, int]], exit_ticks: int
) -> None:
    subject, cash = replay(btcusdt(), legs)
    if not subject.is_flat:
        last = flatten(subject, exit_ticks)
        subject.apply(last)
        cash = cash + cash_flow(subject.instrument, last)

    assert subject.is_flat
    assert subject.cost.is_zero()
    assert subject.realized_pnl == cash


@settings(deadline=None)
@given(legs=_legs)
def test_inverse_realized_pnl_is_minus_cash_flows_plus_signed_cost(
    legs: list[tuple[OrderSide, int, int]],
) -> None:
    subject, cash = replay(xbtusd_inverse(), legs)

    signed_cost = Money(subject.cost.amount * sign(subject.side), BTC)
    assert subject.realized_pnl == -(cash + signed_cost)

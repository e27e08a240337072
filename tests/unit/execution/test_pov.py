"""POV: participation stays within one child of ``rate`` x the volume seen since start."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.kit.stubs import BTCUSDT
from tests.unit.execution.harness import SECOND, T0, FakeVenue, fill_none, instrument, parent

from tradeforge.bus import ReplayClock
from tradeforge.domain import (
    AggressorSide,
    InstrumentId,
    InvalidValue,
    Price,
    Quantity,
    TimeInForce,
    TradeId,
    TradeTick,
)
from tradeforge.execution import ExecutionState, ParentOrder, Pov, PovParams

_trade_ids = iter(range(1, 10**9))


def tape(size: str | Decimal, *, ts: int = T0, instrument_id: InstrumentId = BTCUSDT) -> TradeTick:
    return TradeTick(
        instrument_id=instrument_id,
        price=Price("100.00"),
        size=Quantity(size),
        aggressor_side=AggressorSide.BUYER,
        trade_id=TradeId(f"M-{next(_trade_ids)}"),
        ts_event=ts,
        ts_init=ts,
    )


def pov(clock: ReplayClock, venue: FakeVenue, the_parent: ParentOrder, params: PovParams) -> Pov:
    algo = Pov(
        the_parent, params, clock=clock, submit_child=venue.submit, cancel_child=venue.cancel
    )
    venue.bind(algo)
    return algo


def test_children_follow_the_volume() -> None:
    clock = ReplayClock(T0)
    venue = FakeVenue(clock)
    algo = pov(clock, venue, parent(instrument(), "1.000"), PovParams(rate=Decimal("0.1")))
    algo.start()

    algo.on_trade(tape("2.000"))
    algo.on_trade(tape("0.005"))  # 0.0005 behind: below a lot, wait
    algo.on_trade(tape("1.000"))

    assert venue.quantities() == [Decimal("0.200"), Decimal("0.100")]
    assert all(spec.time_in_force is TimeInForce.IOC for _, spec in venue.sent)
    assert algo.market_volume == Quantity("3.005")


def test_other_instruments_and_trades_before_start_are_not_counted() -> None:
    clock = ReplayClock(T0)
    venue = FakeVenue(clock)
    algo = pov(clock, venue, parent(instrument(), "1.000"), PovParams(rate=Decimal("0.5")))

    algo.on_trade(tape("1.000"))
    algo.start()
    algo.on_trade(tape("1.000", instrument_id=InstrumentId.from_str("ETH/USDT.BINANCE")))

    assert venue.sent == []
    assert algo.market_volume == Quantity("0")


def test_max_child_caps_each_child_and_min_interval_spaces_them() -> None:
    clock = ReplayClock(T0)
    venue = FakeVenue(clock)
    params = PovParams(
        rate=Decimal("0.5"), max_child=Quantity("0.100"), min_interval_ns=10 * SECOND
    )
    algo = pov(clock, venue, parent(instrument(), "1.000"), params)
    algo.start()

    algo.on_trade(tape("1.000"))  # 0.5 due: one child of 0.100
    algo.on_trade(tape("0.010", ts=T0 + SECOND))  # too soon: waits for T0 + 10 s
    clock.advance_to(T0 + 30 * SECOND)

    assert venue.times() == [T0, T0 + 10 * SECOND, T0 + 20 * SECOND, T0 + 30 * SECOND]
    assert venue.quantities() == [Decimal("0.100")] * 4


def test_min_child_waits_for_enough_shortfall() -> None:
    clock = ReplayClock(T0)
    venue = FakeVenue(clock)
    params = PovParams(rate=Decimal("0.1"), min_child=Quantity("0.050"))
    algo = pov(clock, venue, parent(instrument(), "1.000"), params)
    algo.start()

    algo.on_trade(tape("0.400"))  # 0.040 due: below min_child
    assert venue.sent == []
    algo.on_trade(tape("0.100"))  # 0.050 due
    assert venue.quantities() == [Decimal("0.050")]


def test_volume_while_paused_is_not_counted() -> None:
    clock = ReplayClock(T0)
    venue = FakeVenue(clock)
    algo = pov(clock, venue, parent(instrument(), "1.000"), PovParams(rate=Decimal("0.1")))
    algo.start()
    algo.pause()
    algo.on_trade(tape("5.000"))
    algo.resume()
    algo.on_trade(tape("1.000"))
    assert venue.quantities() == [Decimal("0.100")]


def test_cancel_cancels_the_working_child() -> None:
    clock = ReplayClock(T0)
    venue = FakeVenue(clock, fill_now=fill_none)
    algo = pov(
        clock, venue, parent(instrument(), "1.000", limit="99.00"), PovParams(rate=Decimal("0.1"))
    )
    algo.start()
    algo.on_trade(tape("1.000"))
    child = venue.last()

    algo.cancel()
    algo.on_trade(tape("5.000"))

    assert child.price == Price("99.00")  # a limit IOC at the parent's limit
    assert venue.canceled == [child.client_order_id]
    assert len(venue.sent) == 1
    assert algo.state is ExecutionState.CANCELED


def test_bad_rates_are_refused() -> None:
    with pytest.raises(InvalidValue, match="rate"):
        PovParams(rate=Decimal("1.5"))
    with pytest.raises(InvalidValue, match="max_child"):
        PovParams(rate=Decimal("0.1"), min_child=Quantity("2"), max_child=Quantity("1"))


@settings(max_examples=80, deadline=None)
@given(
    lot=st.sampled_from(["1", "0.1", "0.01", "0.001"]),
    total_lots=st.integers(1, 500),
    min_lots=st.integers(1, 5),
    max_lots=st.none() | st.integers(5, 100),
    rate=st.sampled_from(["0.01", "0.05", "0.1", "0.25", "0.5", "1"]),
    trades=st.lists(st.integers(1, 400), min_size=1, max_size=120),
    partial=st.booleans(),
)
def test_participation_never_exceeds_the_rate_by_more_than_one_child(
    *,
    lot: str,
    total_lots: int,
    min_lots: int,
    max_lots: int | None,
    rate: str,
    trades: list[int],
    partial: bool,
) -> None:
    step = Decimal(lot)
    inst = instrument(lot=lot, min_qty=str(step * min_lots))
    total_lots = max(total_lots, min_lots)
    clock = ReplayClock(T0)
    # Children fill in full, or (partial) half of them only, the rest ending unfilled.
    venue = FakeVenue(
        clock,
        fill_now=lambda spec: (
            spec.quantity.as_decimal()
            if not partial
            else (spec.quantity.as_decimal() / 2 // step) * step
        ),
    )
    max_child = None if max_lots is None else Quantity(step * max_lots)
    algo = pov(
        clock,
        venue,
        parent(inst, Quantity(step * total_lots)),
        PovParams(rate=Decimal(rate), max_child=max_child),
    )
    algo.start()
    volume = Decimal(0)
    for i, size in enumerate(trades):
        volume += step * size
        algo.on_trade(tape(step * size, ts=T0 + i))
        for client_order_id in [spec.client_order_id for spec in venue.working()]:
            venue.expire(client_order_id)  # an IOC's unfilled rest ends at once
        largest = max(venue.quantities(), default=Decimal(0))
        assert venue.commitment() <= Decimal(rate) * volume + largest
        assert venue.peak_commitment <= step * total_lots
    for size in venue.quantities()[:-1]:
        assert size % step == 0
        assert size >= step * min_lots
        assert max_child is None or size <= max_child.as_decimal() + step * min_lots
    if not partial and Decimal(rate) * volume >= step * total_lots:
        assert algo.state is ExecutionState.DONE
        assert sum(venue.quantities()) == step * total_lots

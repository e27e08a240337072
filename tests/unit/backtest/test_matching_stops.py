"""Stops: a stop-market triggers where the bar path reaches its trigger and fills there as taker
(plus slippage), or at the open when the market gaps through it; stop-limits and if-touched
orders become limits when triggered; trailing stops follow the best price of the path."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.kit.stubs import BTCUSDT
from tests.kit.venue import (
    MAKER,
    MINUTE,
    TAKER,
    Accepted,
    D,
    Filled,
    Triggered,
    make_engine,
    order_factory,
)

from tradeforge.backtest import FillModel, MatchingEngine, SlippageModel
from tradeforge.domain import ClientOrderId, OrderSide, Price, Quantity, TrailingOffsetType

BUY, SELL = OrderSide.BUY, OrderSide.SELL
ONE = Quantity("1.000")
THIRD = MINUTE // 3


# stop-market


def test_a_sell_stop_triggers_where_the_path_reaches_it_then_fills_there_as_taker() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.stop_market(BTCUSDT, SELL, ONE, Price("95.00")), tape.now)

    the_bar = tape.bar("100.00", "101.00", "94.00", "96.00")  # O->H->L->C

    assert listener.calls == [
        Accepted("O-1"),
        Triggered("O-1"),
        Filled("O-1", D("1.000"), D("95.00"), TAKER),
    ]
    assert listener.calls[1].ts == listener.calls[2].ts == the_bar.ts_open + 2 * THIRD


def test_a_buy_stop_triggers_on_the_rise_and_fills_at_its_trigger() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.stop_market(BTCUSDT, BUY, ONE, Price("104.00")), tape.now)

    the_bar = tape.bar("100.00", "105.00", "99.00", "103.00")  # O->L->H->C

    assert listener.calls == [
        Accepted("O-1"),
        Triggered("O-1"),
        Filled("O-1", D("1.000"), D("104.00"), TAKER),
    ]
    assert listener.calls[-1].ts == the_bar.ts_open + 2 * THIRD


def test_a_stop_not_reached_stays_untriggered() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.stop_market(BTCUSDT, SELL, ONE, Price("95.00")), tape.now)

    tape.bar("100.00", "101.00", "95.01", "96.00")

    assert listener.calls == [Accepted("O-1")]
    order = engine.get(ClientOrderId("O-1"))
    assert order is not None
    assert not order.triggered


def test_fixed_slippage_moves_a_stop_fill_against_the_order() -> None:
    slipping = FillModel(slippage=SlippageModel(fixed_ticks=2))
    engine, listener, tape = make_engine(fill_model=slipping)
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.stop_market(BTCUSDT, SELL, ONE, Price("95.00")), tape.now)
    engine.submit(orders.stop_market(BTCUSDT, BUY, ONE, Price("104.00")), tape.now)

    tape.bar("100.00", "105.00", "94.00", "104.50")  # low first: the sell stop, then the buy

    assert listener.fills() == [
        Filled("O-1", D("1.000"), D("94.98"), TAKER),
        Filled("O-2", D("1.000"), D("104.02"), TAKER),
    ]


class _OneTickWorse(SlippageModel, frozen=True):
    """A model of the user's own: one tick against every taker fill."""

    def ticks(self, quantity: Decimal, bar_volume: Decimal | None) -> int:
        return 1


def test_a_slippage_model_of_ones_own_is_called_even_with_no_ticks_configured() -> None:
    engine, listener, tape = make_engine(fill_model=FillModel(slippage=_OneTickWorse()))
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.stop_market(BTCUSDT, SELL, ONE, Price("95.00")), tape.now)

    tape.bar("100.00", "101.00", "94.00", "96.00")

    assert listener.fills() == [Filled("O-1", D("1.000"), D("94.99"), TAKER)]


def test_volume_slippage_grows_with_the_share_of_the_bar_taken() -> None:
    slipping = FillModel(slippage=SlippageModel(volume_ticks=D("10")))
    engine, listener, tape = make_engine(fill_model=slipping)
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.stop_market(BTCUSDT, BUY, Quantity("2.000"), Price("104.00")), tape.now)

    tape.bar("100.00", "105.00", "99.00", "103.00", volume="10")  # 20 % of volume: 2 ticks

    assert listener.fills() == [Filled("O-1", D("2.000"), D("104.02"), TAKER)]


def test_maker_fills_have_no_slippage() -> None:
    slipping = FillModel(slippage=SlippageModel(fixed_ticks=5))
    engine, listener, tape = make_engine(fill_model=slipping)
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("98.00")), tape.now)

    tape.bar("100.00", "100.00", "97.00", "99.00")

    assert listener.fills() == [Filled("O-1", D("1.000"), D("98.00"), MAKER)]


def test_sell_slippage_never_takes_the_price_below_one_tick() -> None:
    slipping = FillModel(slippage=SlippageModel(fixed_ticks=50))
    engine, listener, tape = make_engine(fill_model=slipping)
    orders = order_factory()
    tape.flat("1.00")
    engine.submit(orders.stop_market(BTCUSDT, SELL, ONE, Price("0.30")), tape.now)

    tape.bar("1.00", "1.00", "0.10", "0.20")

    assert listener.fills() == [Filled("O-1", D("1.000"), D("0.01"), TAKER)]


def test_a_gap_through_a_sell_stop_fills_at_the_open() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.stop_market(BTCUSDT, SELL, ONE, Price("95.00")), tape.now)

    gap = tape.bar("93.00", "94.00", "92.00", "93.50")

    assert listener.calls == [
        Accepted("O-1"),
        Triggered("O-1"),
        Filled("O-1", D("1.000"), D("93.00"), TAKER),
    ]
    assert listener.calls[1].ts == listener.calls[2].ts == gap.ts_open


def test_a_gap_through_a_buy_stop_fills_at_the_open() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.stop_market(BTCUSDT, BUY, ONE, Price("104.00")), tape.now)

    tape.bar("106.00", "107.00", "105.00", "106.50")

    assert listener.fills() == [Filled("O-1", D("1.000"), D("106.00"), TAKER)]


def test_an_open_exactly_at_the_trigger_fills_at_the_trigger() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.stop_market(BTCUSDT, SELL, ONE, Price("95.00")), tape.now)

    tape.bar("95.00", "96.00", "94.00", "95.50")

    assert listener.fills() == [Filled("O-1", D("1.000"), D("95.00"), TAKER)]


def test_a_stop_already_through_its_trigger_on_arrival_triggers_at_once_and_fills_next_open() -> (
    None
):
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")

    engine.submit(orders.stop_market(BTCUSDT, SELL, ONE, Price("101.00")), tape.now)
    on_arrival = list(listener.calls)
    tape.bar("99.00", "100.00", "98.00", "99.50")

    assert on_arrival == [Accepted("O-1"), Triggered("O-1")]
    assert listener.fills() == [Filled("O-1", D("1.000"), D("99.00"), TAKER)]


def test_a_buy_stop_sent_before_any_data_triggers_when_the_first_bar_opens_above_it() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    engine.submit(orders.stop_market(BTCUSDT, BUY, ONE, Price("100.00")), tape.now)

    tape.bar("105.00", "110.00", "104.00", "108.00")

    assert listener.fills() == [Filled("O-1", D("1.000"), D("105.00"), TAKER)]


# stop-limit


def test_a_stop_limit_whose_limit_is_not_marketable_rests_once_triggered() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    spec = orders.stop_limit(
        BTCUSDT, BUY, ONE, price=Price("104.00"), trigger_price=Price("105.00")
    )
    engine.submit(spec, tape.now)

    # O->L->H->C: triggered at 105 on the way up to 107, filled at 104 on the way down to 103
    the_bar = tape.bar("100.00", "107.00", "99.00", "103.00")

    assert listener.calls == [
        Accepted("O-1"),
        Triggered("O-1"),
        Filled("O-1", D("1.000"), D("104.00"), MAKER),
    ]
    assert listener.calls[1].ts == the_bar.ts_open + 2 * THIRD
    assert listener.calls[2].ts == the_bar.ts_event


def test_a_triggered_stop_limit_keeps_resting_when_the_market_runs_away() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    spec = orders.stop_limit(
        BTCUSDT, BUY, ONE, price=Price("104.00"), trigger_price=Price("105.00")
    )
    engine.submit(spec, tape.now)

    tape.bar("100.00", "107.00", "99.00", "106.00")  # closes above the limit

    assert listener.calls == [Accepted("O-1"), Triggered("O-1")]
    order = engine.get(ClientOrderId("O-1"))
    assert order is not None
    assert order.triggered
    assert order.is_resting_limit


def test_a_stop_limit_marketable_at_its_trigger_fills_at_the_trigger_as_taker() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    spec = orders.stop_limit(
        BTCUSDT, BUY, ONE, price=Price("106.00"), trigger_price=Price("105.00")
    )
    engine.submit(spec, tape.now)

    tape.bar("100.00", "107.00", "99.00", "103.00")

    assert listener.calls == [
        Accepted("O-1"),
        Triggered("O-1"),
        Filled("O-1", D("1.000"), D("105.00"), TAKER),
    ]


def test_a_gap_through_a_stop_limit_and_its_limit_leaves_a_resting_limit() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    spec = orders.stop_limit(BTCUSDT, SELL, ONE, price=Price("94.00"), trigger_price=Price("95.00"))
    engine.submit(spec, tape.now)

    gap = tape.bar("90.00", "93.00", "89.00", "92.00")
    later = tape.bar("92.00", "94.50", "91.00", "93.00")

    assert listener.calls == [
        Accepted("O-1"),
        Triggered("O-1"),
        Filled("O-1", D("1.000"), D("94.00"), MAKER),
    ]
    assert listener.calls[1].ts == gap.ts_open
    assert listener.calls[2].ts == later.ts_open + 2 * THIRD


def test_a_stop_limit_triggered_by_a_gap_and_filled_at_the_open_takes_liquidity() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    spec = orders.stop_limit(BTCUSDT, SELL, ONE, price=Price("94.00"), trigger_price=Price("95.00"))
    engine.submit(spec, tape.now)

    tape.bar("94.50", "95.00", "94.00", "94.50")

    assert listener.fills() == [Filled("O-1", D("1.000"), D("94.50"), TAKER)]


# limit-if-touched


def test_a_buy_if_touched_marketable_at_its_trigger_fills_there_as_taker() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    spec = orders.limit_if_touched(
        BTCUSDT, BUY, ONE, price=Price("96.00"), trigger_price=Price("95.00")
    )
    engine.submit(spec, tape.now)

    tape.bar("100.00", "101.00", "94.00", "97.00")

    assert listener.calls == [
        Accepted("O-1"),
        Triggered("O-1"),
        Filled("O-1", D("1.000"), D("95.00"), TAKER),
    ]


def test_a_buy_if_touched_with_a_lower_limit_rests_and_fills_at_the_limit_on_the_same_leg() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    spec = orders.limit_if_touched(
        BTCUSDT, BUY, ONE, price=Price("94.00"), trigger_price=Price("95.00")
    )
    engine.submit(spec, tape.now)

    the_bar = tape.bar("100.00", "101.00", "93.00", "97.00")  # O->H->L->C

    assert listener.calls == [
        Accepted("O-1"),
        Triggered("O-1"),
        Filled("O-1", D("1.000"), D("94.00"), MAKER),
    ]
    assert {call.ts for call in listener.calls[1:]} == {the_bar.ts_open + 2 * THIRD}


def test_a_sell_if_touched_take_profit_fills_at_its_trigger() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    spec = orders.limit_if_touched(
        BTCUSDT, SELL, ONE, price=Price("104.50"), trigger_price=Price("105.00")
    )
    engine.submit(spec, tape.now)

    tape.bar("100.00", "106.00", "99.00", "105.50")

    assert listener.fills() == [Filled("O-1", D("1.000"), D("105.00"), TAKER)]


def test_a_sell_if_touched_is_not_triggered_by_a_fall() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    spec = orders.limit_if_touched(
        BTCUSDT, SELL, ONE, price=Price("104.50"), trigger_price=Price("105.00")
    )
    engine.submit(spec, tape.now)

    tape.bar("100.00", "104.99", "90.00", "95.00")

    assert listener.calls == [Accepted("O-1")]


# trailing stops


def _trigger(engine: MatchingEngine, order_id: str = "O-1") -> Decimal | None:
    order = engine.get(ClientOrderId(order_id))
    assert order is not None
    return order.trigger


def test_a_sell_trailing_stop_by_amount_follows_the_high_and_triggers_on_the_pullback() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.trailing_stop(BTCUSDT, SELL, ONE, D("2.00")), tape.now)
    at_start = _trigger(engine)

    tape.bar("100.00", "104.00", "99.00", "103.00")  # O->L->H->C: trails to 104
    after_first = _trigger(engine)
    tape.bar("103.00", "103.50", "102.50", "103.00")  # no new high
    after_second = _trigger(engine)
    last = tape.bar("103.00", "106.00", "101.00", "102.00")  # O->H->L->C: 106, then 104 is hit

    assert (at_start, after_first, after_second) == (D("98.00"), D("102.00"), D("102.00"))
    assert listener.calls == [
        Accepted("O-1"),
        Triggered("O-1"),
        Filled("O-1", D("1.000"), D("104.00"), TAKER),
    ]
    assert listener.calls[-1].ts == last.ts_open + 2 * THIRD


def test_a_sell_trailing_stop_by_percent_follows_the_high() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    spec = orders.trailing_stop(BTCUSDT, SELL, ONE, D("1"), TrailingOffsetType.PERCENT)
    engine.submit(spec, tape.now)
    at_start = _trigger(engine)

    tape.bar("100.00", "101.37", "99.50", "101.00")  # 101.37 - 1 % = 100.3563 -> 100.35
    after_first = _trigger(engine)
    tape.bar("101.00", "110.00", "100.50", "108.50")  # 110 - 1.10 = 108.90, hit on H->C

    assert (at_start, after_first) == (D("99.00"), D("100.35"))
    assert listener.fills() == [Filled("O-1", D("1.000"), D("108.90"), TAKER)]


def test_a_buy_trailing_stop_follows_the_low_and_triggers_on_the_bounce() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.trailing_stop(BTCUSDT, BUY, ONE, D("1.50")), tape.now)
    at_start = _trigger(engine)

    tape.bar("100.00", "100.50", "96.00", "96.50")  # O->H->L->C: trails down to 96
    after_first = _trigger(engine)
    tape.bar("96.50", "98.00", "95.00", "97.80")  # O->L->H->C: 95, then 96.50 is hit

    assert (at_start, after_first) == (D("101.50"), D("97.50"))
    assert listener.fills() == [Filled("O-1", D("1.000"), D("96.50"), TAKER)]


def test_a_gap_down_through_a_trailing_stop_fills_at_the_open() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    engine.submit(orders.trailing_stop(BTCUSDT, SELL, ONE, D("2.00")), tape.now)
    tape.bar("100.00", "105.00", "100.00", "104.00")

    tape.bar("101.00", "102.00", "100.00", "101.50")  # the stop sits at 103

    assert listener.fills() == [Filled("O-1", D("1.000"), D("101.00"), TAKER)]


def test_a_trailing_stop_does_not_trail_before_its_activation_price() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    spec = orders.trailing_stop(BTCUSDT, SELL, ONE, D("1.00"), activation_price=Price("110.00"))
    engine.submit(spec, tape.now)

    tape.bar("100.00", "100.00", "98.00", "98.00")  # never reaches the activation price

    assert listener.fills() == []


@settings(max_examples=150, deadline=None)
@given(
    offset=st.integers(1, 500),
    bars=st.lists(st.lists(st.integers(9_000, 11_000), min_size=4, max_size=4), max_size=10),
)
def test_a_sell_trailing_stop_sits_offset_below_the_highest_price_seen(
    offset: int, bars: list[list[int]]
) -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    amount = D(offset).scaleb(-2)
    engine.submit(orders.trailing_stop(BTCUSDT, SELL, ONE, amount), tape.now)
    best = D("100.00")

    for points in bars:
        o, c = (D(p).scaleb(-2) for p in (points[0], points[3]))
        high, low = (D(p).scaleb(-2) for p in (max(points), min(points)))
        tape.bar(str(o), str(high), str(low), str(c))
        best = max(best, high)
        if listener.fills():
            fill = listener.fills()[0]
            assert fill.price <= best - amount
            assert fill.price >= low
            break
        assert _trigger(engine) == best - amount

"""``SimulatedVenue``: commands in, events out, on a replay clock with latency.

Each test drives the venue through ``VenueHarness`` (a real venue, account and matching engines
on a ``ReplayClock``) and reads the events it emitted, in order.
"""

import pytest
from tests.kit.stubs import ACCOUNT, BTC, BTCUSDT, USD, USDT, aapl, btcusdt, xbtusd_inverse
from tests.kit.venue import MINUTE, T0, VenueHarness, order_factory

from tradeforge.backtest import FillModel, LatencyModel, SimulatedVenue, VenueAccount
from tradeforge.bus import ReplayClock
from tradeforge.domain import (
    AccountStateChanged,
    AccountType,
    ClientOrderId,
    InstrumentId,
    InvalidValue,
    LiquiditySide,
    Money,
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderFilled,
    OrderModifyRejected,
    OrderRejected,
    OrderSide,
    OrderType,
    OrderUpdated,
    Price,
    Quantity,
    QueryOrder,
    RejectReason,
    StrategyId,
    TradeId,
    Venue,
    VenueOrderId,
)

BUY, SELL = OrderSide.BUY, OrderSide.SELL
ONE = Quantity("1.000")
R = RejectReason


def rejection(harness: VenueHarness) -> RejectReason:
    (rejected,) = harness.of_type(OrderRejected)
    return rejected.reason


# submit, accept, fill


def test_a_market_order_is_accepted_then_filled_at_the_next_open_with_the_exact_taker_fee() -> None:
    harness = VenueHarness()
    orders = order_factory()
    harness.tape.flat("100.00")
    spec = orders.market(BTCUSDT, BUY, ONE)
    sent = harness.clock.timestamp_ns()

    harness.submit(spec)
    after_submit = harness.kinds()
    nxt = harness.tape.bar("101.00", "102.00", "100.00", "101.50")

    assert after_submit == ["OrderAccepted"]
    assert harness.kinds() == ["OrderAccepted", "OrderFilled", "AccountStateChanged"]
    accepted = harness.of_type(OrderAccepted)[0]
    assert accepted.venue_order_id == VenueOrderId("BINANCE-1")
    assert accepted.account_id == ACCOUNT
    assert accepted.ts_event == sent
    fill = harness.of_type(OrderFilled)[0]
    assert fill.client_order_id == spec.client_order_id
    assert fill.strategy_id == spec.strategy_id
    assert fill.venue_order_id == VenueOrderId("BINANCE-1")
    assert fill.trade_id == TradeId("BINANCE-T1")
    assert (fill.order_side, fill.order_type) == (BUY, OrderType.MARKET)
    assert (fill.last_qty, fill.last_px) == (Quantity("1.000"), Price("101.00"))
    assert fill.last_px.precision == 2
    assert fill.last_qty.precision == 3
    assert fill.liquidity_side is LiquiditySide.TAKER
    assert fill.commission == Money("0.0404", USDT)  # 101.00 x 0.0004
    assert fill.commission == harness.instrument.fee(
        fill.last_qty, fill.last_px, fill.liquidity_side
    )
    assert fill.ts_event == fill.ts_init == nxt.ts_open


def test_a_resting_limit_fill_pays_the_maker_fee() -> None:
    harness = VenueHarness()
    orders = order_factory()
    harness.tape.flat("100.00")
    harness.submit(orders.limit(BTCUSDT, BUY, ONE, Price("99.00")))

    harness.tape.bar("100.00", "100.00", "98.00", "99.50")

    fill = harness.of_type(OrderFilled)[0]
    assert (fill.last_px, fill.liquidity_side) == (Price("99.00"), LiquiditySide.MAKER)
    assert fill.commission == Money("0.0198", USDT)  # 99.00 x 0.0002


def test_the_balance_report_after_a_fill_names_the_currencies_that_changed() -> None:
    harness = VenueHarness()
    orders = order_factory()
    harness.tape.flat("100.00")
    harness.submit(orders.market(BTCUSDT, BUY, ONE))

    harness.tape.flat("100.00")

    report = harness.of_type(AccountStateChanged)[0]
    assert report.account_id == ACCOUNT
    assert report.account_type is AccountType.CASH
    assert report.reported
    assert {b.total.currency: b.total for b in report.balances} == {
        BTC: Money("1", BTC),
        USDT: Money("9899.96", USDT),
    }


def test_trade_ids_count_up_across_fills() -> None:
    harness = VenueHarness()
    orders = order_factory()
    harness.tape.flat("100.00")
    harness.submit(orders.market(BTCUSDT, BUY, ONE))
    harness.submit(orders.market(BTCUSDT, BUY, ONE))

    harness.tape.flat("100.00")

    assert [fill.trade_id.value for fill in harness.of_type(OrderFilled)] == [
        "BINANCE-T1",
        "BINANCE-T2",
    ]


# refusals


def test_a_buy_the_free_quote_balance_cannot_pay_is_rejected() -> None:
    harness = VenueHarness(balances=[Money("100.03", USDT)])
    orders = order_factory()
    harness.tape.flat("100.00")

    harness.submit(orders.market(BTCUSDT, BUY, ONE))  # needs 100.00 + 0.04 fee

    assert harness.kinds() == ["OrderRejected"]
    assert rejection(harness) is R.INSUFFICIENT_BALANCE
    assert not harness.engine.has_orders
    assert harness.free(USDT) == Money("100.03", USDT).amount


def test_a_sell_of_base_the_account_does_not_hold_is_rejected() -> None:
    harness = VenueHarness()
    orders = order_factory()
    harness.tape.flat("100.00")

    harness.submit(orders.limit(BTCUSDT, SELL, ONE, Price("105.00")))

    assert rejection(harness) is R.INSUFFICIENT_BALANCE


def test_a_reduce_only_order_that_would_open_a_position_is_rejected() -> None:
    harness = VenueHarness()
    orders = order_factory()
    harness.tape.flat("100.00")

    harness.submit(orders.market(BTCUSDT, SELL, ONE, reduce_only=True))

    assert rejection(harness) is R.REDUCE_ONLY_WOULD_INCREASE


def test_a_reduce_only_order_may_close_but_not_flip_the_position() -> None:
    harness = VenueHarness()
    orders = order_factory()
    harness.tape.flat("100.00")
    harness.submit(orders.market(BTCUSDT, BUY, ONE))
    harness.tape.flat("100.00")
    harness.events.clear()

    harness.submit(
        orders.limit(BTCUSDT, SELL, Quantity("1.001"), Price("105.00"), reduce_only=True)
    )
    harness.submit(orders.limit(BTCUSDT, SELL, ONE, Price("105.00"), reduce_only=True))

    assert harness.kinds() == ["OrderRejected", "OrderAccepted"]
    assert rejection(harness) is R.REDUCE_ONLY_WOULD_INCREASE


def test_a_market_order_before_any_price_is_rejected_for_no_liquidity() -> None:
    harness = VenueHarness()
    orders = order_factory()

    harness.submit(orders.market(BTCUSDT, BUY, ONE))
    harness.submit(orders.limit(BTCUSDT, BUY, ONE, Price("99.00")))  # a limit names its price

    assert harness.kinds() == ["OrderRejected", "OrderAccepted"]
    assert rejection(harness) is R.NO_LIQUIDITY


def test_an_order_for_an_instrument_the_venue_does_not_trade_is_rejected() -> None:
    harness = VenueHarness()
    orders = order_factory()
    harness.tape.flat("100.00")

    harness.submit(orders.market(InstrumentId.from_str("ETH/USDT.BINANCE"), BUY, ONE))

    assert rejection(harness) is R.UNKNOWN_INSTRUMENT


def test_an_order_the_engine_rejects_releases_its_lock() -> None:
    harness = VenueHarness()
    orders = order_factory()
    harness.tape.flat("100.00")

    harness.submit(orders.limit(BTCUSDT, BUY, ONE, Price("99.995")))

    assert rejection(harness) is R.PRICE_OFF_TICK
    assert harness.free(USDT) == harness.total(USDT) == 10_000


def test_a_fill_the_balance_cannot_pay_at_the_fill_price_is_refused_and_cancels_the_order() -> None:
    harness = VenueHarness(balances=[Money("100.05", USDT)])
    orders = order_factory()
    harness.tape.flat("100.00")
    harness.submit(orders.market(BTCUSDT, BUY, ONE))  # locks 100.04 at the last close

    harness.tape.bar("120.00", "121.00", "119.00", "120.00")

    assert harness.kinds() == ["OrderAccepted", "OrderCanceled"]
    assert harness.of_type(OrderCanceled)[0].reason == "fill refused: INSUFFICIENT_BALANCE"
    assert harness.free(USDT) == harness.total(USDT) == Money("100.05", USDT).amount


def test_a_venue_refuses_instruments_of_another_venue() -> None:
    with pytest.raises(InvalidValue, match="not at venue"):
        SimulatedVenue(
            venue=Venue("SIM"),
            account=VenueAccount(ACCOUNT, AccountType.CASH, [Money("1", USDT)]),
            instruments=[btcusdt()],
            clock=ReplayClock(T0),
            emit=lambda _: None,
        )


# latency


def test_an_order_is_not_seen_by_the_engine_until_its_latency_has_passed() -> None:
    harness = VenueHarness(latency=LatencyModel(submit_ns=5_000))
    orders = order_factory()
    harness.tape.flat("100.00")
    spec = orders.limit(BTCUSDT, BUY, ONE, Price("99.00"))
    sent = harness.clock.timestamp_ns()

    harness.submit(spec)
    at_once = (harness.engine.get(spec.client_order_id), list(harness.events))
    harness.clock.advance_to(sent + 4_999)
    just_before = (harness.engine.get(spec.client_order_id), list(harness.events))
    harness.clock.advance_to(sent + 5_000)

    assert at_once == (None, [])
    assert just_before == (None, [])
    assert harness.engine.get(spec.client_order_id) is not None
    accepted = harness.of_type(OrderAccepted)[0]
    assert accepted.ts_event == sent + 5_000


def test_an_order_arriving_inside_a_bar_fills_at_the_following_open() -> None:
    harness = VenueHarness(latency=LatencyModel(submit_ns=30 * 10**9))
    orders = order_factory()
    harness.tape.flat("100.00")
    harness.submit(orders.market(BTCUSDT, BUY, ONE))

    inside = harness.tape.bar("101.00", "102.00", "100.00", "101.50")  # arrives at +30 s
    after = harness.tape.bar("103.00", "104.00", "102.00", "103.00")

    assert harness.of_type(OrderAccepted)[0].ts_event == inside.ts_open + 30 * 10**9
    fill = harness.of_type(OrderFilled)[0]
    assert (fill.last_px, fill.ts_event) == (Price("103.00"), after.ts_open)


def test_a_delayed_order_never_fills_at_a_price_printed_after_it() -> None:
    harness = VenueHarness(
        fill_model=FillModel(fill_at="close"), latency=LatencyModel(submit_ns=30 * 10**9)
    )
    orders = order_factory()
    harness.tape.flat("100.00")
    harness.submit(orders.market(BTCUSDT, BUY, ONE))

    inside = harness.tape.bar("101.00", "102.00", "100.00", "101.50")

    fill = harness.of_type(OrderFilled)[0]
    assert fill.last_px != Price("101.50") or fill.ts_event >= inside.ts_event


def test_a_cancel_with_latency_comes_too_late_for_a_fill_before_it() -> None:
    harness = VenueHarness(latency=LatencyModel(cancel_ns=MINUTE))
    orders = order_factory()
    harness.tape.flat("100.00")
    spec = orders.market(BTCUSDT, BUY, ONE)
    harness.submit(spec)

    harness.cancel(spec.client_order_id)
    harness.tape.flat("101.00")  # fills at this open; the cancel lands at its close

    assert harness.kinds() == [
        "OrderAccepted",
        "OrderFilled",
        "AccountStateChanged",
        "OrderCancelRejected",
    ]


# cancel and modify


def test_cancel_ends_the_order_and_answers_with_order_canceled() -> None:
    harness = VenueHarness()
    orders = order_factory()
    harness.tape.flat("100.00")
    spec = orders.limit(BTCUSDT, BUY, ONE, Price("99.00"))
    harness.submit(spec)

    harness.cancel(spec.client_order_id)

    canceled = harness.of_type(OrderCanceled)
    assert [(c.client_order_id, c.reason) for c in canceled] == [(spec.client_order_id, "canceled")]
    assert not harness.engine.has_orders


def test_cancel_of_a_finished_order_is_rejected_as_unknown() -> None:
    harness = VenueHarness()
    orders = order_factory()
    harness.tape.flat("100.00")
    spec = orders.market(BTCUSDT, BUY, ONE)
    harness.submit(spec)
    harness.tape.flat("100.00")

    harness.cancel(spec.client_order_id)

    rejected = harness.of_type(OrderCancelRejected)
    assert [(r.client_order_id, r.reason) for r in rejected] == [
        (spec.client_order_id, R.UNKNOWN_ORDER)
    ]


def test_cancel_of_an_order_the_venue_never_saw_is_answered() -> None:
    harness = VenueHarness()
    harness.tape.flat("100.00")

    harness.cancel(ClientOrderId("NEVER-SENT"))

    assert harness.kinds() == ["OrderCancelRejected"]


def test_modify_answers_with_order_updated_at_the_instrument_precision() -> None:
    harness = VenueHarness()
    orders = order_factory()
    harness.tape.flat("100.00")
    spec = orders.limit(BTCUSDT, BUY, ONE, Price("99.00"))
    harness.submit(spec)

    harness.modify(spec.client_order_id, quantity=Quantity("2"), price=Price("98"))

    (updated,) = harness.of_type(OrderUpdated)
    assert (updated.quantity, updated.price, updated.trigger_price) == (
        Quantity("2.000"),
        Price("98.00"),
        None,
    )
    assert (updated.quantity.precision, updated.price.precision) == (3, 2)  # type: ignore[union-attr]


def test_modify_of_a_finished_order_is_rejected() -> None:
    harness = VenueHarness()
    orders = order_factory()
    harness.tape.flat("100.00")
    spec = orders.market(BTCUSDT, BUY, ONE)
    harness.submit(spec)
    harness.tape.flat("100.00")

    harness.modify(spec.client_order_id, quantity=Quantity("2.000"))

    (rejected,) = harness.of_type(OrderModifyRejected)
    assert rejected.reason is R.UNKNOWN_ORDER


def test_cancel_all_orders_cancels_only_the_strategys_orders_of_the_side() -> None:
    harness = VenueHarness(balances=[Money("10000", USDT), Money("5", BTC)])
    mine, theirs = order_factory(), order_factory("X", strategy=StrategyId("other-001"))
    harness.tape.flat("100.00")
    buy = mine.limit(BTCUSDT, BUY, ONE, Price("99.00"))
    sell = mine.limit(BTCUSDT, SELL, ONE, Price("101.00"))
    other = theirs.limit(BTCUSDT, BUY, ONE, Price("98.00"))
    for spec in (buy, sell, other):
        harness.submit(spec)
    harness.events.clear()

    harness.cancel_all(side=BUY)
    harness.cancel_all()

    assert [(c.client_order_id, c.reason) for c in harness.of_type(OrderCanceled)] == [
        (buy.client_order_id, "canceled (all)"),
        (sell.client_order_id, "canceled (all)"),
    ]
    assert [o.id for o in harness.engine.orders()] == [other.client_order_id]


def test_cancel_all_orders_with_an_oco_pair_emits_no_cancel_rejection() -> None:
    harness = VenueHarness()
    orders = order_factory()
    harness.tape.flat("100.00")
    harness.submit_list(
        orders.oco(BTCUSDT, BUY, ONE, limit_price=Price("95.00"), stop_trigger=Price("105.00"))
    )

    harness.cancel_all()

    assert harness.kinds() == ["OrderAccepted", "OrderAccepted", "OrderCanceled", "OrderCanceled"]


def test_a_query_is_answered_by_nothing_new() -> None:
    harness = VenueHarness()
    harness.tape.flat("100.00")
    now = harness.clock.timestamp_ns()

    harness.venue.execute(
        QueryOrder(
            strategy_id=StrategyId("ema_cross-001"),
            instrument_id=BTCUSDT,
            client_order_id=ClientOrderId("O-1"),
            ts_event=now,
            ts_init=now,
        )
    )

    assert harness.events == []


# order lists


def test_a_bracket_is_accepted_whole_and_its_exits_work_once_the_entry_fills() -> None:
    harness = VenueHarness()
    orders = order_factory()
    harness.tape.flat("100.00")
    bracket = orders.bracket(
        BTCUSDT, BUY, ONE, stop_loss=Price("95.00"), take_profit=Price("105.00")
    )
    entry, stop, target = (spec.client_order_id for spec in bracket.orders)

    harness.submit_list(bracket)
    accepted = [e.client_order_id for e in harness.of_type(OrderAccepted)]
    harness.tape.flat("100.00")  # the entry fills at the open
    harness.tape.bar("100.00", "106.00", "99.00", "105.50")

    assert accepted == [stop, target, entry]  # the held exits first, then the entry
    fills = harness.of_type(OrderFilled)
    assert [(f.client_order_id, f.last_px) for f in fills] == [
        (entry, Price("100.00")),
        (target, Price("105.00")),
    ]
    assert [(c.client_order_id, c.reason) for c in harness.of_type(OrderCanceled)] == [
        (stop, "OCO sibling filled")
    ]
    # 10000 - 100.00 - 0.04 (taker) + 105.00 - 0.021 (maker)
    assert harness.total(USDT) == Money("10004.939", USDT).amount
    assert harness.total(BTC) == 0


# instruments the account cannot hold


def test_an_inverse_contract_locks_margin_in_the_base_currency() -> None:
    inverse = xbtusd_inverse()
    harness = VenueHarness(
        instruments=[inverse], balances=[Money("1", BTC)], account_type=AccountType.MARGIN
    )
    orders = order_factory()
    harness.tape.flat("50000.0")

    harness.submit(orders.limit(inverse.id, BUY, Quantity("100"), Price("50000.0")))

    assert harness.kinds() == ["OrderAccepted"]


def test_a_cash_account_trading_shares_does_not_crash() -> None:
    shares = aapl()
    harness = VenueHarness(instruments=[shares], balances=[Money("10000", USD)])
    orders = order_factory()
    harness.tape.flat("100.00")
    harness.submit(orders.market(shares.id, BUY, Quantity("10")))

    harness.tape.flat("100.00")

    assert harness.kinds()[-1] in {"OrderFilled", "AccountStateChanged", "OrderRejected"}

"""Quotes, level-2 books and trades: market orders take the quote (or walk the book) up to its
size; resting orders fill when a quote crosses them or a trade reaches them, up to its size."""

from tests.kit.stubs import BTCUSDT, order_spec
from tests.kit.venue import (
    MAKER,
    T0,
    TAKER,
    Accepted,
    Canceled,
    D,
    Expired,
    Filled,
    Triggered,
    make_engine,
    order_factory,
)

from tradeforge.backtest import MatchingEngine
from tradeforge.domain import (
    BookAction,
    BookLevel,
    BookSide,
    ClientOrderId,
    ContingencyType,
    OrderBookDelta,
    OrderBookSnapshot,
    OrderList,
    OrderListId,
    OrderSide,
    OrderType,
    Price,
    Quantity,
    TimeInForce,
)

BUY, SELL = OrderSide.BUY, OrderSide.SELL
ONE = Quantity("1.000")


def quote(engine: MatchingEngine, bid: tuple[str, str], ask: tuple[str, str], ts: int) -> None:
    """Best bid and ask, each as (price, size)."""
    engine.on_quote(Price(bid[0]), Price(ask[0]), Quantity(bid[1]), Quantity(ask[1]), ts)


def trade(engine: MatchingEngine, price: str, size: str, ts: int) -> None:
    engine.on_trade(Price(price), Quantity(size), ts)


# quotes


def test_a_market_buy_takes_the_ask_up_to_its_size_and_waits_for_more() -> None:
    engine, listener, _ = make_engine()
    orders = order_factory()
    engine.submit(orders.market(BTCUSDT, BUY, ONE), T0)

    quote(engine, ("99.90", "5"), ("100.10", "0.400"), T0 + 1)
    quote(engine, ("100.00", "5"), ("100.20", "5"), T0 + 2)

    assert listener.calls == [
        Accepted("O-1"),
        Filled("O-1", D("0.400"), D("100.10"), TAKER),
        Filled("O-1", D("0.600"), D("100.20"), TAKER),
    ]
    assert [fill.ts for fill in listener.fills()] == [T0 + 1, T0 + 2]


def test_a_market_sell_takes_the_bid() -> None:
    engine, listener, _ = make_engine()
    orders = order_factory()
    engine.submit(orders.market(BTCUSDT, SELL, ONE), T0)

    quote(engine, ("99.90", "5"), ("100.10", "5"), T0 + 1)

    assert listener.fills() == [Filled("O-1", D("1.000"), D("99.90"), TAKER)]


def test_once_a_price_is_known_a_market_order_takes_the_standing_quote_at_once() -> None:
    engine, listener, tape = make_engine()
    orders = order_factory()
    tape.flat("100.00")
    quote(engine, ("99.90", "5"), ("100.10", "0.400"), tape.now + 1)

    engine.submit(orders.market(BTCUSDT, BUY, ONE), tape.now + 2)

    assert listener.calls == [Accepted("O-1"), Filled("O-1", D("0.400"), D("100.10"), TAKER)]
    assert engine.has_orders  # the rest waits for the next quote


def test_a_market_order_on_a_quote_only_stream_takes_the_standing_ask_at_once() -> None:
    engine, listener, _ = make_engine()
    orders = order_factory()
    quote(engine, ("99.90", "5"), ("100.10", "5"), T0)

    engine.submit(orders.market(BTCUSDT, BUY, ONE), T0 + 1)

    assert listener.calls == [Accepted("O-1"), Filled("O-1", D("1.000"), D("100.10"), TAKER)]


def test_one_quote_size_is_shared_by_orders_in_arrival_order() -> None:
    engine, listener, _ = make_engine()
    orders = order_factory()
    engine.submit(orders.market(BTCUSDT, BUY, ONE), T0)  # no price yet: both wait
    engine.submit(orders.market(BTCUSDT, BUY, ONE), T0)

    quote(engine, ("99.90", "5"), ("100.10", "1.500"), T0 + 1)

    assert listener.fills() == [
        Filled("O-1", D("1.000"), D("100.10"), TAKER),
        Filled("O-2", D("0.500"), D("100.10"), TAKER),
    ]


def test_an_ioc_market_order_against_a_thin_quote_cancels_its_remainder() -> None:
    engine, listener, _ = make_engine()
    orders = order_factory()
    quote(engine, ("99.90", "5"), ("100.10", "0.250"), T0)

    engine.submit(orders.market(BTCUSDT, BUY, ONE, time_in_force=TimeInForce.IOC), T0 + 1)

    assert listener.calls == [
        Accepted("O-1"),
        Filled("O-1", D("0.250"), D("100.10"), TAKER),
        Canceled("O-1", "IOC remainder"),
    ]


def test_a_marketable_limit_takes_the_better_ask() -> None:
    engine, listener, _ = make_engine()
    orders = order_factory()
    quote(engine, ("99.90", "5"), ("100.10", "5"), T0)

    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("100.50")), T0 + 1)

    assert listener.fills() == [Filled("O-1", D("1.000"), D("100.10"), TAKER)]


def test_a_resting_limit_crossed_by_a_quote_fills_at_its_price_as_maker() -> None:
    engine, listener, _ = make_engine()
    orders = order_factory()
    quote(engine, ("99.90", "5"), ("100.10", "5"), T0)
    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("99.50")), T0 + 1)

    quote(engine, ("99.60", "5"), ("99.70", "5"), T0 + 2)  # not yet
    quote(engine, ("99.30", "5"), ("99.40", "0.300"), T0 + 3)

    assert listener.calls == [Accepted("O-1"), Filled("O-1", D("0.300"), D("99.50"), MAKER)]
    assert listener.calls[-1].ts == T0 + 3


def test_a_stop_triggered_by_the_quote_takes_the_quote() -> None:
    engine, listener, _ = make_engine()
    orders = order_factory()
    quote(engine, ("99.90", "5"), ("100.10", "5"), T0)
    engine.submit(orders.stop_market(BTCUSDT, BUY, ONE, Price("101.00")), T0 + 1)

    quote(engine, ("100.80", "5"), ("100.90", "5"), T0 + 2)  # ask below the trigger
    quote(engine, ("101.40", "5"), ("101.50", "5"), T0 + 3)

    assert listener.calls == [
        Accepted("O-1"),
        Triggered("O-1"),
        Filled("O-1", D("1.000"), D("101.50"), TAKER),
    ]


def test_a_sell_stop_is_triggered_by_the_bid() -> None:
    engine, listener, _ = make_engine()
    orders = order_factory()
    quote(engine, ("99.90", "5"), ("100.10", "5"), T0)
    engine.submit(orders.stop_market(BTCUSDT, SELL, ONE, Price("99.00")), T0 + 1)

    quote(engine, ("98.90", "5"), ("99.10", "5"), T0 + 2)

    assert listener.fills() == [Filled("O-1", D("1.000"), D("98.90"), TAKER)]


def test_quotes_expire_gtd_orders() -> None:
    engine, listener, _ = make_engine()
    orders = order_factory()
    quote(engine, ("99.90", "5"), ("100.10", "5"), T0)
    spec = orders.limit(
        BTCUSDT, BUY, ONE, Price("99.00"), time_in_force=TimeInForce.GTD, expire_time_ns=T0 + 10
    )
    engine.submit(spec, T0 + 1)

    quote(engine, ("99.80", "5"), ("100.00", "5"), T0 + 10)

    assert listener.calls == [Accepted("O-1"), Expired("O-1")]


def test_a_stop_limit_triggered_by_the_quote_takes_the_ask() -> None:
    engine, listener, _ = make_engine()
    orders = order_factory()
    quote(engine, ("99.00", "5"), ("100.00", "5"), T0)
    spec = orders.stop_limit(
        BTCUSDT, BUY, ONE, price=Price("106.00"), trigger_price=Price("105.00")
    )
    engine.submit(spec, T0 + 1)

    quote(engine, ("104.00", "5"), ("105.00", "5"), T0 + 2)

    assert listener.fills() == [Filled("O-1", D("1.000"), D("105.00"), TAKER)]


def test_a_sell_trailing_stop_does_not_trigger_on_an_unchanged_quote() -> None:
    engine, listener, _ = make_engine()
    orders = order_factory()
    quote(engine, ("99.00", "5"), ("101.00", "5"), T0)
    engine.submit(orders.trailing_stop(BTCUSDT, SELL, ONE, D("1.50")), T0 + 1)

    quote(engine, ("99.00", "5"), ("101.00", "5"), T0 + 2)

    assert listener.calls == [Accepted("O-1")]


# level-2 books


def book(bids: list[tuple[str, str]], asks: list[tuple[str, str]], ts: int) -> OrderBookSnapshot:
    return OrderBookSnapshot(
        instrument_id=BTCUSDT,
        bids=tuple(BookLevel(Price(p), Quantity(q)) for p, q in bids),
        asks=tuple(BookLevel(Price(p), Quantity(q)) for p, q in asks),
        sequence=1,
        ts_event=ts,
        ts_init=ts,
    )


ASKS = [("100.10", "1.000"), ("100.20", "1.000"), ("100.30", "5.000")]


def test_a_market_order_walks_the_book_best_level_first() -> None:
    engine, listener, _ = make_engine()
    orders = order_factory()
    engine.on_book(book([("99.90", "5")], ASKS, T0))

    engine.submit(orders.market(BTCUSDT, BUY, Quantity("2.500")), T0 + 1)

    assert listener.fills() == [
        Filled("O-1", D("1.000"), D("100.10"), TAKER),
        Filled("O-1", D("1.000"), D("100.20"), TAKER),
        Filled("O-1", D("0.500"), D("100.30"), TAKER),
    ]


def test_liquidity_taken_from_the_book_is_not_taken_twice() -> None:
    engine, listener, _ = make_engine()
    orders = order_factory()
    engine.submit(orders.market(BTCUSDT, BUY, Quantity("1.500")), T0)
    engine.submit(orders.market(BTCUSDT, BUY, ONE), T0)

    engine.on_book(book([("99.90", "5")], ASKS, T0 + 1))

    assert [(f.order_id, f.qty, f.price) for f in listener.fills()] == [
        ("O-1", D("1.000"), D("100.10")),
        ("O-1", D("0.500"), D("100.20")),
        ("O-2", D("0.500"), D("100.20")),
        ("O-2", D("0.500"), D("100.30")),
    ]


def test_a_marketable_limit_walks_the_book_only_up_to_its_limit() -> None:
    engine, listener, _ = make_engine()
    orders = order_factory()
    engine.on_book(book([("99.90", "5")], ASKS, T0))

    engine.submit(orders.limit(BTCUSDT, BUY, Quantity("3.000"), Price("100.20")), T0 + 1)

    assert listener.fills() == [
        Filled("O-1", D("1.000"), D("100.10"), TAKER),
        Filled("O-1", D("1.000"), D("100.20"), TAKER),
    ]
    working = engine.get(ClientOrderId("O-1"))
    assert working is not None
    assert working.leaves == D("1.000")


def test_a_book_delta_that_removes_the_best_ask_moves_the_fill() -> None:
    engine, listener, _ = make_engine()
    orders = order_factory()
    engine.on_book(book([("99.90", "5")], ASKS, T0))
    delete = OrderBookDelta(
        instrument_id=BTCUSDT,
        action=BookAction.DELETE,
        side=BookSide.ASK,
        price=Price("100.10"),
        size=Quantity("0"),
        sequence=2,
        ts_event=T0 + 1,
        ts_init=T0 + 1,
    )
    engine.on_book(delete)

    engine.submit(orders.market(BTCUSDT, BUY, ONE), T0 + 2)

    assert listener.fills() == [Filled("O-1", D("1.000"), D("100.20"), TAKER)]


def test_a_fok_order_fills_across_book_levels_when_the_book_holds_enough() -> None:
    engine, listener, _ = make_engine()
    orders = order_factory()
    engine.on_book(book([("99.90", "5")], ASKS, T0))

    spec = orders.market(BTCUSDT, BUY, Quantity("1.500"), time_in_force=TimeInForce.FOK)
    engine.submit(spec, T0 + 1)

    assert listener.filled_qty("O-1") == D("1.500")


# trades


def test_a_trade_through_a_resting_limit_fills_it_up_to_the_trade_size() -> None:
    engine, listener, _ = make_engine()
    orders = order_factory()
    trade(engine, "100.00", "5", T0)
    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("99.00")), T0 + 1)

    trade(engine, "98.50", "0.300", T0 + 2)
    trade(engine, "100.00", "5", T0 + 3)
    trade(engine, "99.00", "5", T0 + 4)  # falls to the price again: the rest fills

    assert listener.fills() == [
        Filled("O-1", D("0.300"), D("99.00"), MAKER),
        Filled("O-1", D("0.700"), D("99.00"), MAKER),
    ]
    assert [fill.ts for fill in listener.fills()] == [T0 + 2, T0 + 4]


def test_the_rest_of_a_partly_filled_limit_fills_on_later_trades_below_it() -> None:
    engine, listener, _ = make_engine()
    orders = order_factory()
    trade(engine, "100.00", "5", T0)
    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("99.00")), T0 + 1)

    trade(engine, "98.50", "0.300", T0 + 2)
    trade(engine, "98.50", "5", T0 + 3)

    assert listener.filled_qty("O-1") == D("1.000")


def test_a_trade_that_does_not_reach_the_limit_leaves_it() -> None:
    engine, listener, _ = make_engine()
    orders = order_factory()
    trade(engine, "100.00", "5", T0)
    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("99.00")), T0 + 1)

    trade(engine, "99.01", "5", T0 + 2)

    assert listener.fills() == []


def test_a_waiting_market_order_fills_at_the_next_trade() -> None:
    engine, listener, _ = make_engine()
    orders = order_factory()
    trade(engine, "100.00", "5", T0)
    engine.submit(orders.market(BTCUSDT, BUY, ONE), T0 + 1)
    waiting = list(listener.calls)

    trade(engine, "100.25", "0.600", T0 + 2)
    trade(engine, "100.50", "5", T0 + 3)

    assert waiting == [Accepted("O-1")]
    assert listener.fills() == [
        Filled("O-1", D("0.600"), D("100.25"), TAKER),
        Filled("O-1", D("0.400"), D("100.50"), TAKER),
    ]


def test_a_trade_through_a_stop_triggers_it_and_fills_at_the_trigger() -> None:
    engine, listener, _ = make_engine()
    orders = order_factory()
    trade(engine, "100.00", "5", T0)
    engine.submit(orders.stop_market(BTCUSDT, SELL, ONE, Price("95.00")), T0 + 1)

    trade(engine, "96.00", "5", T0 + 2)
    trade(engine, "94.00", "5", T0 + 3)

    assert listener.calls == [
        Accepted("O-1"),
        Triggered("O-1"),
        Filled("O-1", D("1.000"), D("95.00"), TAKER),
    ]


def test_a_trade_sets_the_last_price() -> None:
    engine, _, _ = make_engine()

    trade(engine, "100.25", "1", T0)

    assert engine.last_price == D("100.25")
    assert engine.reference_price(is_buy=True) == D("100.25")


def test_a_marketable_limit_fills_on_the_next_trade() -> None:
    engine, listener, _ = make_engine()
    orders = order_factory()
    trade(engine, "100.00", "5", T0)
    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("101.00")), T0 + 1)

    trade(engine, "100.00", "5", T0 + 2)
    trade(engine, "100.50", "5", T0 + 3)

    assert listener.fills() == [Filled("O-1", D("1.000"), D("100.00"), TAKER)]


def test_an_ioc_market_order_on_trades_cancels_its_remainder() -> None:
    engine, listener, _ = make_engine()
    orders = order_factory()
    trade(engine, "100.00", "5", T0)
    engine.submit(
        orders.market(BTCUSDT, BUY, Quantity("3.000"), time_in_force=TimeInForce.IOC), T0 + 1
    )

    trade(engine, "100.00", "1", T0 + 2)
    trade(engine, "100.00", "1", T0 + 3)

    assert listener.calls == [
        Accepted("O-1"),
        Filled("O-1", D("1.000"), D("100.00"), TAKER),
        Canceled("O-1", "IOC remainder"),
    ]


def test_a_limit_sent_before_any_data_fills_on_a_first_trade_through_it() -> None:
    engine, listener, _ = make_engine()
    orders = order_factory()
    engine.submit(orders.limit(BTCUSDT, BUY, ONE, Price("101.00")), T0)

    trade(engine, "100.00", "5", T0 + 1)

    # It was resting at 101 before the market traded down through it: hit at its price.
    assert listener.fills() == [Filled("O-1", D("1.000"), D("101.00"), MAKER)]


def test_a_trade_at_an_unchanged_price_fills_only_one_leg_of_an_oco() -> None:
    engine, listener, _ = make_engine()
    first, second = ClientOrderId("A"), ClientOrderId("B")
    list_id = OrderListId("L-1")
    legs = [
        order_spec(
            OrderType.LIMIT,
            client_order_id=me,
            price=Price("99.00"),
            contingency_type=ContingencyType.OCO,
            order_list_id=list_id,
            linked_order_ids=(other,),
        )
        for me, other in ((first, second), (second, first))
    ]
    OrderList(order_list_id=list_id, orders=tuple(legs))  # a valid OCO pair
    trade(engine, "99.00", "5", T0)
    for leg in legs:
        engine.submit(leg, T0 + 1)

    trade(engine, "99.00", "5", T0 + 2)  # the same price again: every leg at 99 is touched

    assert listener.calls[2:] == [
        Filled("A", D("1.000"), D("99.00"), TAKER),  # marketable vs the last trade on arrival
        Canceled("B", "OCO sibling filled"),
    ]

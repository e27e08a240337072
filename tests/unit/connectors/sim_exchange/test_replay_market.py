"""``ReplayMarket`` and ``make_feed``: catalog bars replayed as trades along the backtester's
path, with their volume, at a chosen speed, and a book kept around the last trade."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.kit.stubs import btcusdt, order_spec
from tests.kit.venue import RecordingListener

from tradeforge.backtest import MatchingEngine
from tradeforge.backtest.book import L2Book
from tradeforge.connectors.sim_exchange.market import FIRST_SEQUENCE, MarketEvent
from tradeforge.connectors.sim_exchange.random_market import RandomMarket
from tradeforge.connectors.sim_exchange.replay_market import (
    BarRow,
    ReplayMarket,
    catalog_bars,
    make_feed,
)
from tradeforge.data import BarArrays, Catalog, generate_bars
from tradeforge.domain import (
    AggressorSide,
    InstrumentId,
    InvalidValue,
    OrderBookDelta,
    OrderSide,
    Price,
    Timeframe,
    TradeTick,
)

T0 = 1_704_067_200_000_000_000  # 2024-01-01T00:00:00Z
SECOND = 1_000_000_000
MINUTE = 60 * SECOND
ONE_MINUTE = Timeframe(1, "m")
SIM_BTC = InstrumentId.from_str("BTC/USDT.SIM")


def rows(bars: BarArrays) -> list[BarRow]:
    columns = (bars.open, bars.high, bars.low, bars.close, bars.volume)
    return list(zip(bars.ts.tolist(), *(col.tolist() for col in columns), strict=True))


def synthetic(count: int = 40, seed: int = 3) -> list[BarRow]:
    return rows(generate_bars(bars=count, seed=seed, timeframe=ONE_MINUTE, start_ns=T0))


def replay(bars: list[BarRow], speed: float = 10, **kwargs: Any) -> ReplayMarket:
    return ReplayMarket(btcusdt(), bars, timeframe_ns=MINUTE, speed=speed, start_ts_ns=T0, **kwargs)


def bar(minute: int, ohlc: str, volume: str) -> BarRow:
    """A one-minute bar from ``"open high low close"`` and its volume."""
    o, h, low, c = ohlc.split()
    return (T0 + minute * MINUTE, o, h, low, c, volume)


def trades_by_bar(feed: ReplayMarket, bars: int, speed: int) -> Iterator[list[TradeTick]]:
    """The trades of each bar: what comes out until the next bar opens on the caller's clock."""
    for k in range(bars):
        events = feed.advance(T0 + (k + 1) * MINUTE // speed - 1)
        yield [event for event in events if isinstance(event, TradeTick)]


def everything(feed: ReplayMarket) -> list[MarketEvent]:
    return feed.advance(T0 + 10**6 * MINUTE)


# trades


def test_trades_stay_within_each_bar_and_add_up_to_its_volume_exactly() -> None:
    bars = synthetic(40)
    instrument = btcusdt()
    feed = replay(bars, speed=10)

    for (_, o, h, low, c, volume), trades in zip(bars, trades_by_bar(feed, 40, 10), strict=True):
        prices = [t.price for t in trades]
        high, low_ = instrument.make_price(h), instrument.make_price(low)
        assert all(low_ <= p <= high for p in prices)
        assert prices[0] == instrument.make_price(o)
        assert prices[-1] == instrument.make_price(c)
        assert high in prices
        assert low_ in prices
        assert sum((t.size.as_decimal() for t in trades), Decimal(0)) == (
            instrument.make_qty(volume).as_decimal()
        )
        assert len(trades) == 12
    assert feed.finished


def test_a_bar_is_walked_as_the_backtester_walks_it() -> None:
    up = bar(0, "100.00 110.00 95.00 108.00", "4.000")  # closed up: low first
    down = bar(1, "108.00 112.00 90.00 91.00", "4.000")  # closed down: high first
    feed = replay([up, down], trades_per_bar=4)

    first, second = trades_by_bar(feed, 2, 10)

    assert [str(t.price) for t in first] == ["100.00", "95.00", "110.00", "108.00"]
    assert [str(t.price) for t in second] == ["108.00", "112.00", "90.00", "91.00"]
    assert [t.aggressor_side for t in second] == [
        AggressorSide.SELLER,  # no change from the last trade (110 -> 108): its aggressor
        AggressorSide.BUYER,
        AggressorSide.SELLER,
        AggressorSide.BUYER,
    ]
    assert {str(t.size) for t in first + second} == {"1.000"}


def test_more_trades_are_spread_along_the_legs_by_their_length() -> None:
    feed = replay([bar(0, "100.00 101.00 90.00 100.00", "1.000")], trades_per_bar=8)

    (trades,) = trades_by_bar(feed, 1, 10)

    prices = [t.price.as_decimal() for t in trades]
    assert prices[0] == Decimal(100)
    assert prices[-1] == Decimal(100)
    assert len(prices) == 8
    assert prices.index(Decimal(90)) < prices.index(Decimal(101))
    down_leg = prices[: prices.index(Decimal(90)) + 1]
    assert len(down_leg) > 3  # the long legs get the extra trades
    assert down_leg == sorted(down_leg, reverse=True)


def test_a_bar_of_few_lots_prints_as_many_trades_and_its_remainder_goes_last() -> None:
    feed = replay(
        [
            bar(0, "100.00 101.00 99.00 100.50", "0.002"),
            bar(1, "100.50 101.00 99.00 100.00", "0.014"),
        ],
        trades_per_bar=4,
    )

    few, split = trades_by_bar(feed, 2, 10)

    assert [(str(t.price), str(t.size)) for t in few] == [("101.00", "0.001"), ("100.50", "0.001")]
    assert [str(t.size) for t in split] == ["0.003", "0.003", "0.003", "0.005"]


def test_a_bar_without_volume_moves_the_book_and_prints_nothing() -> None:
    feed = replay(
        [
            bar(0, "100.00 100.00 100.00 100.00", "1"),
            bar(1, "100 105 99 104", "0"),
        ]
    )
    next(trades_by_bar(feed, 1, 10))

    events = feed.advance(T0 + MINUTE)

    assert events
    assert not [e for e in events if isinstance(e, TradeTick)]
    snapshot = feed.snapshot()
    assert snapshot.best_ask is not None
    assert snapshot.best_ask.price == Price("104.00")


def test_speed_maps_the_callers_clock_onto_bar_time() -> None:
    bars = synthetic(5)
    fast, slow = replay(bars, speed=10), replay(bars, speed=0.5)

    fast_trades = [e for e in fast.advance(T0 + 6 * SECOND - 1) if isinstance(e, TradeTick)]
    slow_trades = [e for e in slow.advance(T0 + 6 * SECOND - 1) if isinstance(e, TradeTick)]

    assert len(fast_trades) == 12  # one bar: 60 bar-seconds in 6 s
    assert fast_trades[-1].ts_event == T0 + 11 * MINUTE // 12 // 10
    assert len(slow_trades) == 1  # 6 s is 3 bar-seconds: only the open so far
    assert [e.ts_event for e in slow.advance(T0 + 120 * SECOND)][-1] == T0 + 120 * SECOND


def test_the_same_bars_replay_the_same_events() -> None:
    bars = synthetic(10)

    assert everything(replay(bars, seed=4)) == everything(replay(bars, seed=4))


# the book


def test_the_book_follows_the_last_trade_and_is_never_crossed() -> None:
    feed = replay(synthetic(30))
    book = L2Book()
    book.apply_snapshot(feed.snapshot())
    last: TradeTick | None = None

    for event in everything(feed):
        if isinstance(event, TradeTick):
            if last is not None:
                check_touch(book, last)
            last = event
            continue
        book.apply_delta(event)
        assert book.bid is not None
        assert book.ask is not None
        assert book.bid < book.ask
    assert last is not None
    check_touch(book, last)


def check_touch(book: L2Book, trade: TradeTick) -> None:
    touch = book.ask if trade.aggressor_side is AggressorSide.BUYER else book.bid
    assert touch == trade.price.as_decimal()


def test_the_snapshot_and_every_delta_rebuild_the_last_snapshot_exactly() -> None:
    feed = replay(synthetic(30), levels=10)
    start = feed.snapshot()
    book = L2Book()
    book.apply_snapshot(start)

    events = everything(feed)
    deltas = [e for e in events if isinstance(e, OrderBookDelta)]
    for delta in deltas:
        book.apply_delta(delta)

    end = feed.snapshot()
    assert start.sequence == FIRST_SEQUENCE
    assert [d.sequence for d in deltas] == list(range(start.sequence + 1, end.sequence + 1))
    assert book.levels(is_buy=False) == [
        (x.price.as_decimal(), x.size.as_decimal()) for x in end.bids
    ]
    assert book.levels(is_buy=True) == [
        (x.price.as_decimal(), x.size.as_decimal()) for x in end.asks
    ]
    assert len(end.bids) == len(end.asks) == 10
    ids = [int(e.trade_id.value) for e in events if isinstance(e, TradeTick)]
    assert ids == list(range(1, len(ids) + 1))


def test_prices_off_the_instruments_tick_are_rounded_to_it() -> None:
    feed = replay(
        [
            bar(0, "100.004 100.016 99.996 100.006", "0.0044"),
            bar(1, "100.006 100.006 100.006 100.006", "0.0014"),
        ],
        trades_per_bar=4,
    )

    rounded, one_lot = trades_by_bar(feed, 2, 10)

    assert [str(t.price) for t in rounded] == ["100.00", "100.00", "100.02", "100.01"]
    assert {str(t.size) for t in rounded} == {"0.001"}
    assert [str(t.size) for t in one_lot] == ["0.001"]  # 0.0014 rounds to one lot
    snapshot = feed.snapshot()
    assert all(lvl.price.as_decimal() % Decimal("0.01") == 0 for lvl in snapshot.bids)
    assert all(lvl.price.as_decimal() % Decimal("0.01") == 0 for lvl in snapshot.asks)


# a user's order


def test_a_resting_limit_order_fills_when_the_replay_reaches_it() -> None:
    bars = [
        bar(0, "100.00 100.50 99.80 100.20", "1.000"),
        bar(1, "100.20 100.40 98.50 99.00", "1.000"),
    ]
    feed = replay(bars)
    engine = MatchingEngine(feed.instrument, listener := RecordingListener())
    engine.on_book(feed.snapshot())
    engine.submit(order_spec(side=OrderSide.BUY, price=Price("99.00")), T0)

    for event in everything(feed):
        if isinstance(event, TradeTick):
            engine.on_trade(event.price, event.size, event.ts_event)
        else:
            engine.on_book(event)

    assert {fill.price for fill in listener.fills()} == {Decimal("99.00")}
    assert listener.fills()[0].ts >= T0 + 6 * SECOND  # in the second bar, not the first


# bad input


@pytest.mark.parametrize(
    ("bars", "kwargs", "named"),
    [
        ([], {}, "no bars"),
        ([bar(1, "1 1 1 1", "1"), bar(0, "1 1 1 1", "1")], {}, "time order"),
        ([bar(0, "100 99 101 100", "1")], {}, "low <= open"),
        ([bar(0, "0.001 0.001 0.001 0.001", "1")], {}, "below one tick"),
        (synthetic(2), {"speed": 0}, "speed"),
        (synthetic(2), {"speed": float("nan")}, "speed"),
        (synthetic(2), {"trades_per_bar": 0}, "trades_per_bar"),
    ],
)
def test_bad_bars_and_settings_are_refused_by_name(
    bars: list[BarRow], kwargs: dict[str, Any], named: str
) -> None:
    with pytest.raises(InvalidValue, match=named):
        everything(replay(bars, **kwargs))


# make_feed


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    catalog = Catalog(tmp_path)
    bars = generate_bars(bars=30, seed=5, timeframe=ONE_MINUTE, start_ns=T0)
    catalog.write_bars(SIM_BTC, ONE_MINUTE, bars)
    return catalog


@pytest.mark.parametrize(
    "spec", ["replay:BTC/USDT.SIM:1m", "replay:BTC/USDT.SIM 1m", " replay:BTC/USDT.SIM "]
)
def test_a_catalog_dataset_is_replayed_by_its_name(catalog: Catalog, spec: str) -> None:
    feed = make_feed(spec, btcusdt(), catalog=catalog, speed=60, start_ts_ns=T0)

    events = feed.advance(T0 + 30 * SECOND)

    assert isinstance(feed, ReplayMarket)
    trades = [e for e in events if isinstance(e, TradeTick)]
    assert len(trades) == 30 * 12
    assert feed.finished


def test_catalog_bars_are_the_datasets_rows(catalog: Catalog) -> None:
    expected = rows(catalog.load_bars(SIM_BTC, ONE_MINUTE))

    assert list(catalog_bars(catalog, SIM_BTC, ONE_MINUTE)) == expected


def test_random_makes_a_seeded_random_market() -> None:
    feed = make_feed(
        "random", btcusdt(), catalog=None, seed=9, start_price=Decimal(2000), start_ts_ns=T0
    )
    again = RandomMarket(btcusdt(), seed=9, start_price=Decimal(2000), start_ts_ns=T0)

    assert isinstance(feed, RandomMarket)
    assert feed.advance(T0 + 5 * SECOND) == again.advance(T0 + 5 * SECOND)
    default = make_feed("random", btcusdt(), catalog=None, start_ts_ns=T0).snapshot()
    assert default.best_bid is not None
    assert Decimal(99) < default.best_bid.price.as_decimal() <= Decimal(100)


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ("", "got ''"),
        ("randomly", "got 'randomly'"),
        ("random:fast", "got 'random:fast'"),
        ("replay", "got 'replay'"),
        ("replay:", "name a dataset"),
        ("replay:BTCUSDT", "SYMBOL.VENUE"),
        ("replay:BTC/USDT.SIM:5m", "no dataset BTC/USDT.SIM 5m .*datasets: BTC/USDT.SIM 1m"),
        ("replay:ETH/USDT.SIM", "no dataset of ETH/USDT.SIM .*BTC/USDT.SIM:1m"),
        ("replay:BTC/USDT.SIM:1x", "1x"),
    ],
)
def test_bad_feed_specs_say_what_is_wrong(catalog: Catalog, spec: str, named: str) -> None:
    with pytest.raises(ValueError, match=named) as caught:
        make_feed(spec, btcusdt(), catalog=catalog)

    assert isinstance(caught.value, InvalidValue)


def test_a_dataset_of_another_symbol_is_refused(catalog: Catalog) -> None:
    eth = btcusdt(id=InstrumentId.from_str("ETH/USDT.SIM"), raw_symbol="ETHUSDT")

    with pytest.raises(InvalidValue, match="is for BTC/USDT, not ETH/USDT"):
        make_feed("replay:BTC/USDT.SIM:1m", eth, catalog=catalog)


def test_an_instrument_with_several_timeframes_needs_one_named(catalog: Catalog) -> None:
    catalog.resample(SIM_BTC, ONE_MINUTE, Timeframe(5, "m"))

    with pytest.raises(InvalidValue, match="several timeframes"):
        make_feed("replay:BTC/USDT.SIM", btcusdt(), catalog=catalog)
    assert isinstance(make_feed("replay:BTC/USDT.SIM:5m", btcusdt(), catalog=catalog), ReplayMarket)


def test_replay_needs_a_catalog() -> None:
    with pytest.raises(InvalidValue, match="catalog"):
        make_feed("replay:BTC/USDT.SIM:1m", btcusdt(), catalog=None)

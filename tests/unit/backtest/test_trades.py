"""Round trips from fills: a trade opens when a position leaves flat and closes when it returns;
a flip closes one and opens the next, its commission split by quantity so fees add up exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.kit.stubs import BTC, USDT, btcusdt, trade

from tradeforge.backtest import run
from tradeforge.backtest.trades import TradeRecorder
from tradeforge.data import generate_bars
from tradeforge.domain import (
    AccountType,
    InstrumentId,
    Money,
    OrderFilled,
    OrderSide,
    PerpetualContract,
    PositionBook,
    PositionMode,
    PositionSide,
    Price,
    Quantity,
    StrategyId,
    Timeframe,
)
from tradeforge.strategy import BarLike, Strategy

BUY, SELL = OrderSide.BUY, OrderSide.SELL
PAIR = btcusdt()
T0 = 1_700_000_000_000_000_000


def usdt(amount: str) -> Money:
    return Money(amount, USDT)


class Books:
    """A position book and a trade recorder fed the same fills, as the engine does."""

    def __init__(self) -> None:
        self.positions = PositionBook(PositionMode.NETTING, {PAIR.id: PAIR})
        self.trades = TradeRecorder({PAIR.id: PAIR})
        self.fills: list[OrderFilled] = []

    def fill(self, side: OrderSide, qty: str, price: str, fee: str, minute: int) -> None:
        fill = trade(
            PAIR,
            side,
            qty,
            price,
            trade_id=f"T{len(self.fills) + 1}",
            commission=usdt(fee),
            ts=T0 + minute * 60_000_000_000,
        )
        position = self.positions.get(self.positions.position_id(PAIR.id, fill.strategy_id))
        before = position.signed_qty if position is not None else Decimal(0)
        _, realized = self.positions.apply(fill)
        self.trades.on_fill(fill, before, realized)
        self.fills.append(fill)

    def total_fees(self) -> Money:
        return sum((f.commission for f in self.fills), usdt("0"))


def test_a_flip_closes_one_trade_and_opens_the_next_with_its_fee_split_by_quantity() -> None:
    books = Books()

    books.fill(BUY, "1", "100.00", "0.10000000", minute=0)
    books.fill(SELL, "2", "110.00", "0.22000000", minute=1)  # closes the long, opens a short
    books.fill(BUY, "1", "105.00", "0.10500000", minute=2)

    long, short = books.trades.trades
    assert (long.side, long.quantity, long.entry_price, long.exit_price) == (
        PositionSide.LONG,
        Quantity("1.000"),
        Decimal("100.00"),
        Decimal("110.00"),
    )
    assert (long.pnl, long.fees) == (usdt("10"), usdt("0.21"))  # 0.10 + half of 0.22
    assert (short.side, short.quantity, short.entry_price, short.exit_price) == (
        PositionSide.SHORT,
        Quantity("1.000"),
        Decimal("110.00"),
        Decimal("105.00"),
    )
    assert (short.pnl, short.fees) == (usdt("5"), usdt("0.215"))  # the other half + 0.105
    assert (long.entry_ts, long.exit_ts, short.entry_ts, short.exit_ts) == (
        T0,
        T0 + 60_000_000_000,
        T0 + 60_000_000_000,
        T0 + 120_000_000_000,
    )
    assert long.fees + short.fees == books.total_fees()
    assert books.trades.open_count == 0


def test_a_fee_that_does_not_split_evenly_still_adds_up_exactly() -> None:
    books = Books()

    books.fill(BUY, "1", "100.00", "0.00000001", minute=0)
    books.fill(SELL, "3", "100.00", "0.00000010", minute=1)  # 1/3 closes, 2/3 opens a short
    books.fill(BUY, "2", "100.00", "0.00000007", minute=2)

    long, short = books.trades.trades
    # 0.00000010 / 3 = 0.0000000333.. rounds to 0.00000003; the remainder opens the short.
    assert long.fees == usdt("0.00000004")
    assert short.fees == usdt("0.00000014")
    assert long.fees + short.fees == books.total_fees()


def test_adding_to_a_position_averages_the_entry_and_partial_exits_average_the_exit() -> None:
    books = Books()

    books.fill(BUY, "1", "100.00", "0.01", minute=0)
    books.fill(BUY, "3", "104.00", "0.03", minute=1)
    books.fill(SELL, "2", "110.00", "0.02", minute=2)
    books.fill(SELL, "2", "120.00", "0.02", minute=3)

    [only] = books.trades.trades
    assert only.quantity == Quantity("4.000")
    assert (only.entry_price, only.exit_price) == (Decimal(103), Decimal(115))
    assert only.pnl == usdt("48")  # (115 - 103) x 4
    assert only.fees == usdt("0.08")
    assert only.net_pnl == usdt("47.92")
    assert (only.entry_ts, only.exit_ts) == (T0, T0 + 180_000_000_000)


def test_an_open_trade_is_not_reported_until_it_closes() -> None:
    books = Books()

    books.fill(SELL, "1", "100.00", "0", minute=0)
    books.fill(BUY, "0.5", "90.00", "0", minute=1)

    assert books.trades.trades == []
    assert books.trades.open_count == 1


def test_a_short_round_trip_gains_when_the_price_falls() -> None:
    books = Books()

    books.fill(SELL, "2", "100.00", "0", minute=0)
    books.fill(BUY, "2", "90.00", "0", minute=1)

    [short] = books.trades.trades
    assert (short.side, short.pnl) == (PositionSide.SHORT, usdt("20"))
    assert short.return_pct == pytest.approx(10.0)


def test_trades_are_kept_apart_per_strategy() -> None:
    recorder = TradeRecorder({PAIR.id: PAIR})
    zero = usdt("0")
    for sid in ("a", "b"):
        recorder.on_fill(
            trade(PAIR, BUY, "1", "100", strategy_id=StrategyId(sid)), Decimal(0), zero
        )
    recorder.on_fill(
        trade(PAIR, SELL, "1", "101", strategy_id=StrategyId("b")), Decimal(1), usdt("1")
    )

    [closed] = recorder.trades
    assert closed.strategy_id == StrategyId("b")
    assert recorder.open_count == 1


# --------------------------------------------------------- through a run


def test_a_flip_in_a_backtest_gives_two_round_trips_whose_fees_add_up() -> None:
    perp_id = InstrumentId.from_str("BTCUSDT-PERP.SIM")
    perp = PerpetualContract(
        id=perp_id,
        raw_symbol="BTCUSDT",
        base_currency=BTC,
        quote_currency=USDT,
        settlement_currency=USDT,
        tick_size=Price("0.01"),
        lot_size=Quantity("0.001"),
        min_quantity=Quantity("0.001"),
        maker_fee=Decimal("0.0007"),
        taker_fee=Decimal("0.0007"),
    )

    class Flipper(Strategy):
        def on_start(self) -> None:
            self.n = -1
            self.fills: list[OrderFilled] = []

        def on_bar(self, bar: BarLike) -> None:
            self.n += 1
            if self.n == 2:
                self.buy("1")
            elif self.n == 5:
                self.sell("2")
            elif self.n == 8:
                self.buy("1")

        def on_fill(self, fill: OrderFilled) -> None:
            self.fills.append(fill)

    strategy = Flipper()
    bars = generate_bars(bars=20, seed=1, timeframe=Timeframe.from_str("1m"), start_ns=T0)

    result = run(
        strategy,
        bars={perp_id: bars},
        instruments=[perp],
        account_type=AccountType.MARGIN,
    )

    assert result.errors == []
    buy1, sell2, buy1_again = strategy.fills
    long, short = result.trades
    assert (long.side, short.side) == (PositionSide.LONG, PositionSide.SHORT)
    assert long.quantity == short.quantity == Quantity("1.000")
    half = Money.rounded(sell2.commission.amount / 2, USDT)
    assert long.fees == buy1.commission + half
    assert short.fees == sell2.commission - half + buy1_again.commission
    assert long.fees + short.fees == result.fees
    assert long.pnl + short.pnl == result.realized_pnl
    assert (
        result.initial_cash + result.realized_pnl - result.fees - result.open_cost
        == result.final_cash
    )


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([BUY, SELL]),
            st.integers(min_value=1, max_value=5_000),  # lots of 0.001
            st.integers(min_value=9_000, max_value=11_000),  # price in cents
            st.integers(min_value=0, max_value=99_999),  # fee in 1e-8 USDT
        ),
        min_size=1,
        max_size=25,
    )
)
def test_round_trips_carry_every_fee_and_all_realized_pnl(
    fills: list[tuple[OrderSide, int, int, int]],
) -> None:
    books = Books()
    net = Decimal(0)
    for minute, (side, lots, cents, fee) in enumerate(fills):
        qty = Decimal(lots) / 1_000
        books.fill(side, str(qty), str(Decimal(cents) / 100), str(Decimal(fee) / 10**8), minute)
        net += qty if side is BUY else -qty
    if net:  # flatten, so every fill belongs to a finished trade
        books.fill(SELL if net > 0 else BUY, str(abs(net)), "100.00", "0.00000003", len(fills))

    trades = books.trades.trades
    assert books.trades.open_count == 0
    assert sum((t.fees for t in trades), usdt("0")) == books.total_fees()
    position = next(iter(books.positions))
    assert sum((t.pnl for t in trades), usdt("0")) == position.realized_pnl
    assert all(t.quantity.as_decimal() > 0 for t in trades)

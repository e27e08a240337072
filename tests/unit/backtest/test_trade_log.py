"""``TradeLog`` stores round trips compactly and gives back exactly what was recorded."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeforge.backtest import spot_pair
from tradeforge.backtest.metrics import _TradeStats
from tradeforge.backtest.results import RoundTrip
from tradeforge.backtest.trade_log import TradeLog
from tradeforge.domain import KNOWN_CURRENCIES, InstrumentId, Money, PositionSide, StrategyId

PAIR = spot_pair(InstrumentId.from_str("BTC/USDT.SIM"), price_precision=2, size_precision=5)
USDT = KNOWN_CURRENCIES["USDT"]
BNB = KNOWN_CURRENCIES["BNB"]


def record(log: TradeLog, strategy: str, k: int, fee_currency: str = "USDT") -> None:
    currency = KNOWN_CURRENCIES[fee_currency]
    log.append(
        instrument=PAIR,
        strategy_id=StrategyId(strategy),
        side=PositionSide.SHORT if k % 2 else PositionSide.LONG,
        quantity=Decimal("0.12345"),
        entry_ts=k,
        exit_ts=k + 60,
        entry_notional=Decimal("0.12345") * Decimal("30000.01"),
        exit_notional=Decimal("0.12345") * Decimal("31234.57"),
        pnl=Money("152.40563625", USDT) if k else Money("-0.00000001", USDT),
        fees=Money("7.4512345", currency),
    )


def test_a_recorded_trade_reads_back_exactly() -> None:
    log = TradeLog()
    record(log, "a", 0)

    trade = log[0]

    assert trade.instrument_id == PAIR.id
    assert trade.strategy_id == StrategyId("a")
    assert trade.side is PositionSide.LONG
    assert str(trade.quantity) == "0.12345"
    assert trade.entry_price == Decimal("30000.01")
    assert trade.exit_price == Decimal("31234.57")
    assert trade.pnl == Money("-0.00000001", USDT)
    assert trade.fees == Money("7.4512345", USDT)


def test_it_is_a_read_only_sequence() -> None:
    log = TradeLog()
    for k in range(5):
        record(log, "a", k)

    assert len(log) == 5
    assert [t.entry_ts for t in log] == [0, 1, 2, 3, 4]
    assert log[-1].entry_ts == 4
    assert [t.entry_ts for t in log[1:3]] == [1, 2]
    assert log == list(log)
    with pytest.raises(IndexError):
        log[5]


def test_trades_of_one_strategy_are_a_view_and_fees_keep_their_currency() -> None:
    log = TradeLog()
    record(log, "a", 0)
    record(log, "b", 1, fee_currency="BNB")
    record(log, "a", 2)

    mine = log.of_strategy(StrategyId("a"))

    assert [t.entry_ts for t in mine] == [0, 2]
    assert log.of_strategy(StrategyId("b"))[0].fees == Money("7.4512345", BNB)
    assert len(log.of_strategy(StrategyId("nobody"))) == 0
    assert [t.entry_ts for t in mine + log.of_strategy(StrategyId("b"))] == [0, 2, 1]


def test_amounts_too_big_for_64_bits_are_kept_exactly() -> None:
    log = TradeLog()
    record(log, "a", 0)
    huge = Decimal("123456789012.34567")  # x 10**7 (price + size decimals) > 2**63
    log.append(
        instrument=PAIR,
        strategy_id=StrategyId("a"),
        side=PositionSide.LONG,
        quantity=Decimal("0.00001"),
        entry_ts=1,
        exit_ts=2,
        entry_notional=huge,
        exit_notional=huge + Decimal("0.01"),
        pnl=Money("0.01", USDT),
        fees=Money("0", USDT),
    )

    assert log[1].entry_price == huge / Decimal("0.00001")
    assert log[0].entry_price == Decimal("30000.01")


# ------------------------------------------------ the statistics' fast path


def trade_stats(trades: Sequence[RoundTrip]) -> tuple[object, ...]:
    stats = _TradeStats.of(trades)
    return (stats.wins, stats.gross_win, stats.gross_loss, stats.mean, stats.best, stats.worst)


def exact_form(values: tuple[object, ...]) -> list[object]:
    """The values with each Decimal's digits and exponent (equal is not enough: 0 != 0.00 here)."""
    return [v.as_tuple() if isinstance(v, Decimal) else v for v in values]


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=-(10**12), max_value=10**12),  # PnL, in units of 10**-8
            st.integers(min_value=0, max_value=10**9),  # fees
            st.sampled_from(["a", "b"]),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_statistics_from_scaled_integers_equal_those_from_each_trades_decimals(
    rows: list[tuple[int, int, str]],
) -> None:
    log = TradeLog()
    for k, (pnl, fees, strategy) in enumerate(rows):
        log.append(
            instrument=PAIR,
            strategy_id=StrategyId(strategy),
            side=PositionSide.LONG,
            quantity=Decimal("0.12345"),
            entry_ts=k,
            exit_ts=k + 1,
            entry_notional=Decimal("3703.5"),
            exit_notional=Decimal("3703.5"),
            pnl=Money(Decimal(pnl).scaleb(-8), USDT),
            fees=Money(Decimal(fees).scaleb(-8), USDT),
        )

    assert log.net_pnl_scaled() is not None  # the fast path is the one tested
    assert exact_form(trade_stats(log)) == exact_form(trade_stats(list(log)))
    for strategy in ("a", "b"):
        mine = log.of_strategy(StrategyId(strategy))
        if len(mine):
            assert exact_form(trade_stats(mine)) == exact_form(trade_stats(list(mine)))


def with_pnl(log: TradeLog, pnl: Money) -> TradeLog:
    """``log`` with one more trade of ``pnl`` and no fees."""
    log.append(
        instrument=PAIR,
        strategy_id=StrategyId("a"),
        side=PositionSide.LONG,
        quantity=Decimal("0.00001"),
        entry_ts=1,
        exit_ts=2,
        entry_notional=Decimal("1"),
        exit_notional=Decimal("2"),
        pnl=pnl,
        fees=Money("0", USDT),
    )
    return log


def test_statistics_fall_back_to_decimals_when_integers_would_not_do() -> None:
    mixed = TradeLog()
    record(mixed, "a", 1)
    record(mixed, "a", 2, fee_currency="BNB")
    assert mixed.net_pnl_scaled() is None  # two currencies: refused by the metrics anyway

    big, smallest = TradeLog(), TradeLog()
    record(big, "a", 1)
    record(smallest, "a", 1)
    # 3e18 units: sums could leave 64 bits
    with_pnl(big, Money("30000000000.00000001", USDT))
    # -2**63 units: fits the int64 column, but |x| would not
    with_pnl(smallest, Money(Decimal(-(2**63)).scaleb(-USDT.precision), USDT))

    assert big.net_pnl_scaled() is None
    assert smallest.net_pnl_scaled() is None
    assert exact_form(trade_stats(smallest)) == exact_form(trade_stats(list(smallest)))
    stats = trade_stats(big)
    assert stats[0] == 2
    assert stats[4] == Decimal("30000000000.00000001")
    assert exact_form(stats) == exact_form(trade_stats(list(big)))

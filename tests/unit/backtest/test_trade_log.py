"""``TradeLog`` stores round trips compactly and gives back exactly what was recorded."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradeforge.backtest import spot_pair
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

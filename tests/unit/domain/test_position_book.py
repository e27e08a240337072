import re

import pytest
from tests.kit.stubs import ACCOUNT, USDT, btcusdt, trade, xbtusd_inverse

from tradeforge.domain import (
    InvalidValue,
    Money,
    OrderSide,
    PositionBook,
    PositionId,
    PositionMode,
    PositionSide,
    Quantity,
    StrategyId,
    UnknownInstrument,
)

BUY, SELL = OrderSide.BUY, OrderSide.SELL
LONG, SHORT = PositionSide.LONG, PositionSide.SHORT
SPOT = btcusdt()
INVERSE = xbtusd_inverse()
OTHER_STRATEGY = StrategyId("mean_revert-002")


def book(mode: PositionMode) -> PositionBook:
    return PositionBook(mode, {SPOT.id: SPOT, INVERSE.id: INVERSE}, account_id=ACCOUNT)


# netting


def test_netting_keeps_one_position_per_instrument_and_strategy() -> None:
    netting = book(PositionMode.NETTING)

    first, _ = netting.apply(trade(SPOT, BUY, "1", "100", trade_id="T-1"))
    second, _ = netting.apply(trade(SPOT, BUY, "1", "100", trade_id="T-2"))

    assert first is second
    assert first.id == PositionId("BTC/USDT.BINANCE-ema_cross-001")
    assert first.quantity == Quantity("2")
    assert first.account_id == ACCOUNT
    assert len(netting) == 1


def test_netting_separates_strategies_and_instruments() -> None:
    netting = book(PositionMode.NETTING)

    netting.apply(trade(SPOT, BUY, "1", "100", trade_id="T-1"))
    netting.apply(trade(SPOT, SELL, "1", "100", trade_id="T-2", strategy_id=OTHER_STRATEGY))
    netting.apply(trade(INVERSE, BUY, "10", "40000", trade_id="T-3"))

    assert len(netting) == 3
    assert [p.side for p in netting.for_instrument(SPOT.id)] == [LONG, SHORT]
    assert len(netting.open_positions()) == 3


def test_netting_position_flips_and_returns_the_realized_pnl() -> None:
    netting = book(PositionMode.NETTING)
    netting.apply(trade(SPOT, BUY, "1", "100", trade_id="T-1"))

    position, realized = netting.apply(trade(SPOT, SELL, "3", "110", trade_id="T-2"))

    assert realized == Money("10", USDT)
    assert position.side is SHORT
    assert position.quantity == Quantity("2")


def test_closed_positions_stay_in_the_book_but_are_not_open() -> None:
    netting = book(PositionMode.NETTING)
    netting.apply(trade(SPOT, BUY, "1", "100", trade_id="T-1"))
    position, _ = netting.apply(trade(SPOT, SELL, "1", "100", trade_id="T-2"))

    assert position.is_flat
    assert netting.open_positions() == []
    assert list(netting) == [position]
    assert netting.get(position.id) is position


def test_netting_ignores_the_position_side_of_a_fill() -> None:
    netting = book(PositionMode.NETTING)

    position, _ = netting.apply(trade(SPOT, SELL, "1", "100", position_side=LONG))

    assert position.side is SHORT


def test_fill_for_an_unknown_instrument_is_refused() -> None:
    netting = PositionBook(PositionMode.NETTING, {SPOT.id: SPOT})

    with pytest.raises(
        UnknownInstrument, match=re.escape("no instrument XBTUSD.BITMEX for fill T-1")
    ):
        netting.apply(trade(INVERSE, BUY, "1", "40000"))


def test_unknown_position_id_is_none() -> None:
    assert book(PositionMode.NETTING).get(PositionId("nope")) is None


# hedging


def test_hedging_keeps_a_long_and_a_short_side_by_side() -> None:
    hedging = book(PositionMode.HEDGING)

    long, _ = hedging.apply(trade(SPOT, BUY, "1", "100", trade_id="T-1", position_side=LONG))
    short, _ = hedging.apply(trade(SPOT, SELL, "2", "101", trade_id="T-2", position_side=SHORT))

    assert long.id == PositionId("BTC/USDT.BINANCE-ema_cross-001-LONG")
    assert short.id == PositionId("BTC/USDT.BINANCE-ema_cross-001-SHORT")
    assert (long.side, long.quantity) == (LONG, Quantity("1"))
    assert (short.side, short.quantity) == (SHORT, Quantity("2"))
    assert hedging.open_positions() == [long, short]


def test_hedging_sell_reduces_the_long_and_buy_reduces_the_short() -> None:
    hedging = book(PositionMode.HEDGING)
    hedging.apply(trade(SPOT, BUY, "2", "100", trade_id="T-1", position_side=LONG))
    hedging.apply(trade(SPOT, SELL, "2", "100", trade_id="T-2", position_side=SHORT))

    long, long_pnl = hedging.apply(
        trade(SPOT, SELL, "1", "110", trade_id="T-3", position_side=LONG)
    )
    short, short_pnl = hedging.apply(
        trade(SPOT, BUY, "1", "110", trade_id="T-4", position_side=SHORT)
    )

    assert (long.quantity, long_pnl) == (Quantity("1"), Money("10", USDT))
    assert (short.quantity, short_pnl) == (Quantity("1"), Money("-10", USDT))


@pytest.mark.parametrize("side", [None, PositionSide.FLAT])
def test_hedging_fill_without_a_long_or_short_position_side_is_refused(
    side: PositionSide | None,
) -> None:
    hedging = book(PositionMode.HEDGING)

    with pytest.raises(InvalidValue, match="a fill must name position_side LONG or SHORT"):
        hedging.apply(trade(SPOT, BUY, "1", "100", position_side=side))

    assert len(hedging) == 0


def test_hedging_reduce_through_zero_is_refused_and_changes_nothing() -> None:
    hedging = book(PositionMode.HEDGING)
    long, _ = hedging.apply(trade(SPOT, BUY, "1", "100", trade_id="T-1", position_side=LONG))

    with pytest.raises(InvalidValue, match="may not flip"):
        hedging.apply(trade(SPOT, SELL, "2", "100", trade_id="T-2", position_side=LONG))

    assert long.quantity == Quantity("1")
    assert long.side is LONG
    assert long.fill_count == 1


@pytest.mark.parametrize(("order_side", "position_side"), [(SELL, LONG), (BUY, SHORT)])
def test_hedging_fill_reducing_a_flat_side_is_refused(
    order_side: OrderSide, position_side: PositionSide
) -> None:
    hedging = book(PositionMode.HEDGING)

    with pytest.raises(InvalidValue, match=f"is flat: a {order_side} cannot reduce it"):
        hedging.apply(trade(SPOT, order_side, "1", "100", position_side=position_side))

    assert len(hedging) == 0


def test_hedging_side_closed_to_flat_refuses_a_further_reduce() -> None:
    hedging = book(PositionMode.HEDGING)
    hedging.apply(trade(SPOT, BUY, "1", "100", trade_id="T-1", position_side=LONG))
    hedging.apply(trade(SPOT, SELL, "1", "100", trade_id="T-2", position_side=LONG))

    with pytest.raises(InvalidValue, match="is flat"):
        hedging.apply(trade(SPOT, SELL, "1", "100", trade_id="T-3", position_side=LONG))


def test_position_id_needs_a_side_only_when_hedging() -> None:
    instrument, strategy = SPOT.id, OTHER_STRATEGY

    assert book(PositionMode.NETTING).position_id(instrument, strategy) == PositionId(
        "BTC/USDT.BINANCE-mean_revert-002"
    )
    assert book(PositionMode.HEDGING).position_id(instrument, strategy, SHORT) == PositionId(
        "BTC/USDT.BINANCE-mean_revert-002-SHORT"
    )
    with pytest.raises(InvalidValue, match="position_side"):
        book(PositionMode.HEDGING).position_id(instrument, strategy)

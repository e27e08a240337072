"""The ``Strategy`` base: identity, instruments, the context it is bound to, and the trading
helpers (``buy``, ``sell``, ``close_position``) as a backtest runs them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradeforge.backtest import run
from tradeforge.data import generate_bars
from tradeforge.domain import (
    InstrumentId,
    InvalidValue,
    OrderFilled,
    OrderSide,
    OrderType,
    Price,
    Quantity,
    StrategyId,
    Timeframe,
)
from tradeforge.strategy import BarLike, IntParam, Strategy
from tradeforge.strategy.examples.sma_cross import SmaCross

BTC = InstrumentId.from_str("BTC/USDT.SIM")
START = 1_577_836_800_000_000_000


def test_a_strategy_is_named_after_its_class_unless_it_says_otherwise() -> None:
    class Momentum(Strategy):
        pass

    assert Momentum.name == "Momentum"
    assert SmaCross.name == "sma_cross"
    assert Momentum().id == StrategyId("Momentum-1")
    assert SmaCross(strategy_id="mine").id == StrategyId("mine")


def test_instruments_may_be_given_as_text() -> None:
    strategy = SmaCross(instruments=["BTC/USDT.SIM", InstrumentId.from_str("ETH/USDT.SIM")])

    assert strategy.instrument_ids == (BTC, InstrumentId.from_str("ETH/USDT.SIM"))
    assert strategy.instrument_id == BTC


def test_a_strategy_without_instruments_says_so() -> None:
    with pytest.raises(InvalidValue, match="Momentum-1 has no instrument"):
        _ = type("Momentum", (Strategy,), {})().instrument_id


def test_the_context_is_there_only_once_the_strategy_runs() -> None:
    strategy = SmaCross()

    with pytest.raises(InvalidValue, match="strategy sma_cross-1 is not running: no context yet"):
        _ = strategy.ctx


def test_repr_shows_the_id_and_the_parameters() -> None:
    class Momentum(Strategy):
        lookback = IntParam(5)

    assert repr(Momentum({"lookback": "8"})) == "Momentum(Momentum-1, {'lookback': 8})"


class Trader(Strategy):
    """Runs the helpers at fixed bars: buy 2 (str), buy 0.5 (Decimal) as a limit, sell 1 (int),
    close the rest, then close again while flat."""

    def on_start(self) -> None:
        self.n = -1
        self.fills: list[OrderFilled] = []
        self.closed_when_flat: object = "not yet"

    def on_bar(self, bar: BarLike) -> None:
        self.n += 1
        if self.n == 1:
            self.buy("2")
        elif self.n == 3:
            limit = Price(str(bar.close.as_decimal() + 1000))  # marketable: fills at the open
            self.buy(Decimal("0.5"), price=limit)
        elif self.n == 5:
            self.sell(1)
        elif self.n == 7:
            self.close_position()
        elif self.n == 9:
            self.closed_when_flat = self.close_position()

    def on_fill(self, fill: OrderFilled) -> None:
        self.fills.append(fill)


def test_the_trading_helpers_send_what_they_say() -> None:
    strategy = Trader()
    bars = generate_bars(bars=12, seed=1, timeframe=Timeframe.from_str("1m"), start_ns=START)

    result = run(strategy, bars={BTC: bars})

    assert result.errors == []
    assert [(f.order_side, f.order_type, f.last_qty) for f in strategy.fills] == [
        (OrderSide.BUY, OrderType.MARKET, Quantity("2.000")),
        (OrderSide.BUY, OrderType.LIMIT, Quantity("0.500")),
        (OrderSide.SELL, OrderType.MARKET, Quantity("1.000")),
        (OrderSide.SELL, OrderType.MARKET, Quantity("1.500")),
    ]
    assert strategy.closed_when_flat is None
    assert strategy.position_qty() == 0
    position = strategy.position()
    assert position is not None
    assert position.is_flat


def test_a_quantity_off_the_lot_is_refused_inside_the_hook() -> None:
    class Clumsy(Strategy):
        def on_bar(self, bar: BarLike) -> None:
            self.buy("0.0001")

    bars = generate_bars(bars=3, seed=1, timeframe=Timeframe.from_str("1m"), start_ns=START)

    result = run(Clumsy(), bars={BTC: bars})

    [error] = result.errors
    assert error.hook == "on_bar"
    assert isinstance(error.cause, InvalidValue)
    assert "not a multiple of lot size 0.001" in str(error.cause)

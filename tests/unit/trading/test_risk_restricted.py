"""R11: restricted instruments: 100 % denied, per node, account or strategy, live and backtest."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from tests.unit.trading.risk_kit import ACCOUNT, BTC, BTCUSDT, ETHUSDT, STRATEGY, engine, eth, spec

from tradeforge.backtest import run, spot_pair
from tradeforge.data import BarArrays
from tradeforge.domain import DenyReason, InstrumentId, OrderDenied, OrderEvent, StrategyId
from tradeforge.strategy import BarLike, Strategy
from tradeforge.trading import Limits, RiskConfig


def test_a_restricted_instrument_is_denied_every_time_at_every_level() -> None:
    configs = [
        (RiskConfig(restricted_instruments=frozenset({str(BTC)})), STRATEGY),
        (
            RiskConfig(
                accounts={str(ACCOUNT): Limits(restricted_instruments=frozenset({str(BTC)}))}
            ),
            STRATEGY,
        ),
        (
            RiskConfig(
                strategies={str(STRATEGY): Limits(restricted_instruments=frozenset({str(BTC)}))}
            ),
            STRATEGY,
        ),
    ]
    for config, sid in configs:
        risk, _ = engine(config, track=None)
        denials = [risk.check(spec(strategy=sid), BTCUSDT, account_id=ACCOUNT) for _ in range(100)]
        assert all(d == (DenyReason.RESTRICTED_INSTRUMENT, f"{BTC} is restricted") for d in denials)
        assert risk.check(spec(instrument=ETHUSDT, qty="1.00"), eth(), account_id=ACCOUNT) is None
    # a strategy's list does not restrict another strategy
    risk, _ = engine(configs[2][0], track=None)
    assert risk.check(spec(strategy=StrategyId("other-1")), BTCUSDT) is None


SIM = InstrumentId.from_str("BTC/USDT.SIM")
SIM_PAIR = spot_pair(SIM, price_precision=2, size_precision=3)


class BuyEveryBar(Strategy):
    def __init__(self) -> None:
        super().__init__(instruments=[SIM])
        self.events: list[OrderEvent] = []

    def on_bar(self, bar: BarLike) -> None:
        self.buy("0.01")

    def on_order(self, event: OrderEvent) -> None:
        self.events.append(event)


def bars(n: int) -> BarArrays:
    start = 1_577_836_800_000_000_000
    close = np.full(n, 100.0)
    return BarArrays(
        start + np.arange(n, dtype=np.int64) * 60_000_000_000,
        close,
        close + 1,
        close - 1,
        close,
        np.full(n, 10.0),
    )


def test_a_backtest_denies_a_restricted_instrument_every_time() -> None:
    strategy = BuyEveryBar()

    run(
        strategy,
        bars={SIM: bars(50)},
        instruments=[SIM_PAIR],
        risk=RiskConfig(restricted_instruments=frozenset({str(SIM)})),
    )

    assert len(strategy.events) == 50
    assert all(
        isinstance(e, OrderDenied) and e.reason is DenyReason.RESTRICTED_INSTRUMENT
        for e in strategy.events
    )


def test_a_backtest_feeds_risk_its_order_events_when_risk_tracks() -> None:
    # The position limit counts open orders and fills: 0.01 a bar, at most 0.05 held.
    strategy = BuyEveryBar()

    result = run(
        strategy,
        bars={SIM: bars(50)},
        instruments=[SIM_PAIR],
        risk=RiskConfig(max_position=Decimal("0.05")),
    )

    denied = [e for e in strategy.events if isinstance(e, OrderDenied)]
    assert result.fills == 5
    assert len(denied) == 45
    assert {e.reason for e in denied} == {DenyReason.MAX_POSITION}

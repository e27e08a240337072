"""Issue 5: the same strategy on the same data makes the same decisions in a backtest and in
paper trading.

The bars are one catalog dataset. The backtest reads it as bars; the paper run is a
``TradingNode`` with the simulated venue in process (``SimVenueClient``, what ``tradeforge run``
builds for a paper venue) fed a ``ReplayMarket`` of the same dataset: trades along each bar's
path, corners included, volume split in whole lots. The node rebuilds bars from those trades
(``TradeBarAggregator``), so its strategies see bars equal to the catalog's, and feed its
indicators the same values. The node runs on a replay clock moved timer by timer, so the run is
deterministic and takes seconds, not the 400 minutes of market time.

What must match, and why:

- **Decisions**, always: every order (side, type, quantity, limit and trigger price) and the
  bar on whose close it was decided. They depend only on the bars, the indicators and the
  strategy's position and open orders at each bar, which the two runs must agree on.
- **Fills and PnL**, when the venue sees trades only (no book): a market order decided on a bar
  reaches the venue before the next bar's first trade, which is printed at that bar's open, and
  fills there as the backtester's default fill model (``fill_at="open"``) fills it. A resting
  limit fills at its own price when the path reaches it in both, a stop at its trigger level
  inside a bar. Fees are the taker and maker rates of one instrument. So every fill (bar, side,
  type, quantity, price, fee, liquidity side) and the realised PnL are equal to the last unit.
- **With the replayed book**, a market order fills against the book the moment it arrives (the
  ask or bid left by the decision bar's last trade), not at the next open: the price differs by
  the gap and half the spread, so only decisions are compared there.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from tests.kit.parity import backtest, fills_by_bar, paper, recorded

from tradeforge.backtest import spot_pair
from tradeforge.data import BarArrays, Catalog, generate_bars
from tradeforge.domain import InstrumentId, Timeframe
from tradeforge.strategy import Strategy
from tradeforge.strategy.examples.bollinger_breakout import BollingerBreakout
from tradeforge.strategy.examples.sma_cross import SmaCross

IID = InstrumentId.from_str("BTC/USDT.SIM")
ONE_MINUTE = Timeframe.from_str("1m")
START = 1_699_999_980_000_000_000  # a minute edge (2023-11-14)
BARS = 400
CASH = "100000"
INSTRUMENT = spot_pair(IID, price_precision=2, size_precision=3, fee=Decimal("0.001"))


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """400 one-minute bars; each opens a few ticks away from the previous close (the generator
    opens at it), so orders meet gaps at the open as on a real market."""
    catalog = Catalog(tmp_path_factory.mktemp("catalog"))
    bars = generate_bars(bars=BARS, seed=11, timeframe=ONE_MINUTE, start_ns=START)
    opens = bars.open.copy()
    opens[1:] = np.round(opens[1:] + np.random.default_rng(3).normal(0, 8, BARS - 1), 2)
    gapped = BarArrays(
        bars.ts, opens, np.maximum(bars.high, opens), np.minimum(bars.low, opens),
        bars.close, bars.volume,
    )  # fmt: skip
    catalog.write_bars(IID, ONE_MINUTE, gapped, price_precision=2, size_precision=3)
    return catalog


def build(cls: type[Strategy], params: dict[str, object]) -> Strategy:
    return recorded(cls)(params, strategy_id=f"{cls.name}-parity", instruments=[IID])


# The account holds CASH only, as the backtest's: a bracket's two exits go to the simulated
# venue as one native OCO list (SimVenueClient's capabilities), which locks the position's base
# once, as the backtester's venue does.
STRATEGIES = [
    (SmaCross, {"fast": 5, "slow": 20, "size": "0.001"}),
    (BollingerBreakout, {"period": 20, "nbdev": 2.0, "reward_risk": "1", "size": "0.001"}),
]


@pytest.mark.parametrize(("cls", "params"), STRATEGIES, ids=lambda v: getattr(v, "name", ""))
def test_backtest_and_paper_make_the_same_decisions_and_fills(
    catalog: Catalog, tmp_path: Path, cls: type[Strategy], params: dict[str, object]
) -> None:
    in_backtest = build(cls, params)
    result = backtest(in_backtest, catalog, INSTRUMENT, ONE_MINUTE, CASH)
    on_paper = build(cls, params)
    node = asyncio.run(paper(on_paper, catalog, INSTRUMENT, ONE_MINUTE, cash=CASH, tmp=tmp_path))

    assert result.errors == []
    assert node.errors == []
    decided = in_backtest.decisions  # type: ignore[attr-defined]
    assert len(decided) >= 10  # enough round trips for the comparison to mean something
    assert on_paper.decisions == decided  # type: ignore[attr-defined]

    filled = fills_by_bar(in_backtest.fills, ONE_MINUTE)  # type: ignore[attr-defined]
    assert len(filled) >= 10
    assert fills_by_bar(on_paper.fills, ONE_MINUTE) == filled  # type: ignore[attr-defined]
    position = node.position(on_paper.id, IID)
    assert position is not None
    assert position.realized_pnl == result.realized_pnl


def test_decisions_match_on_the_replayed_book_too(catalog: Catalog, tmp_path: Path) -> None:
    params = {"fast": 5, "slow": 20, "size": "0.001"}
    in_backtest = build(SmaCross, params)
    backtest(in_backtest, catalog, INSTRUMENT, ONE_MINUTE, CASH)
    on_paper = build(SmaCross, params)
    node = asyncio.run(
        paper(on_paper, catalog, INSTRUMENT, ONE_MINUTE, cash=CASH, tmp=tmp_path, with_book=True)
    )

    assert node.errors == []
    assert len(in_backtest.decisions) >= 10  # type: ignore[attr-defined]
    assert on_paper.decisions == in_backtest.decisions  # type: ignore[attr-defined]
    # Every decision filled in both, in the same bar it was decided on or the next one.
    assert len(on_paper.fills) == len(in_backtest.fills)  # type: ignore[attr-defined]

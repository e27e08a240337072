"""The workload every framework runs: one definition, shared by the harness and the child.

``sma_cross`` (fast 10 / slow 30 SMA of closes), fixed size 1, fee 0.1 % of notional per fill,
over seeded synthetic 1-minute bars. The signal is taken at a bar's close and the market order
fills at the next bar's open; a position is opened only while flat and closed on the opposite
cross. A cross is strict: ``prev fast < prev slow and cur fast > cur slow`` (and the mirror).

Cash is 100,000,000 in every framework so none of them runs out of money: at 0.1 % per fill and
a price near 30,000, each round trip costs about 60 in fees, and a 1,000,000-bar run makes
about 19,000 round trips.
"""

from __future__ import annotations

from typing import Final

INSTRUMENT: Final = "BTC/USDT.SIM"
TIMEFRAME: Final = "1m"
SEED: Final = 7
START_NS: Final = 1_577_836_800_000_000_000  # 2020-01-01T00:00:00Z
FAST: Final = 10
SLOW: Final = 30
SIZE: Final = 1
FEE: Final = 0.001
CASH: Final = 100_000_000

Trade = tuple[int, float, int, float]
"""(entry time, entry price, exit time, exit price); times are bar open times, UTC ns."""

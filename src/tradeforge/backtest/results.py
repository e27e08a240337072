"""What a backtest produces: round-trip trades, the equity curve, metrics, and the result object."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import numpy as np
import numpy.typing as npt

from tradeforge.domain import InstrumentId, Money, PositionSide, Quantity, StrategyId

__all__ = ["EquityCurve", "RoundTrip"]


class RoundTrip(msgspec.Struct, frozen=True, kw_only=True):
    """One trade from opening a position to closing it (a flip closes one and opens another).

    ``entry_price``/``exit_price`` are quantity-weighted averages of the fills; ``pnl`` is the
    realized PnL before fees (exact, settlement currency); ``fees`` the commissions of the
    entry and exit fills that belong to this trade.
    """

    instrument_id: InstrumentId
    strategy_id: StrategyId
    side: PositionSide
    quantity: Quantity
    entry_ts: int
    exit_ts: int
    entry_price: Decimal
    exit_price: Decimal
    pnl: Money
    fees: Money

    @property
    def net_pnl(self) -> Money:
        """PnL after fees."""
        return self.pnl - self.fees

    @property
    def return_pct(self) -> float:
        """Net PnL as a percent of the entry notional (float, for display and statistics)."""
        notional = float(self.entry_price) * self.quantity.as_float()
        return 100.0 * self.net_pnl.as_float() / notional if notional else 0.0


class EquityCurve(msgspec.Struct, frozen=True):
    """Account equity (cash + marked positions) at each bar's close (``ts``, UTC ns).

    Float64 for charts and statistics; the exact final figures are in the result's metrics.
    """

    ts: npt.NDArray[np.int64]
    equity: npt.NDArray[np.float64]
    invested: npt.NDArray[np.bool_]  # a position was open at that bar's close (for exposure)

"""The day's loss and drawdown of one scope (R10), from the PnL marks the portfolio sends.

A mark is the scope's cumulative PnL (realised + unrealised, any origin). The day opens at the
last mark of the previous UTC day (or the first mark ever), so losses made before the first mark
of a day still count; the drawdown is measured from the day's highest mark.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

__all__ = ["DAY_NS", "PnlTrack"]

DAY_NS = 86_400 * 1_000_000_000


class PnlTrack(msgspec.Struct, kw_only=True, gc=False):
    """The current UTC day's opening, highest and last PnL mark (persistable as is)."""

    day: int
    day_open: Decimal
    peak: Decimal
    last: Decimal

    @classmethod
    def first(cls, now_ns: int, pnl: Decimal) -> PnlTrack:
        """A track starting with ``pnl`` at ``now_ns``."""
        return cls(day=now_ns // DAY_NS, day_open=pnl, peak=pnl, last=pnl)

    def mark(self, now_ns: int, pnl: Decimal) -> None:
        """Take the mark ``pnl`` made at ``now_ns``."""
        day = now_ns // DAY_NS
        if day != self.day:
            self.day, self.day_open, self.peak = day, self.last, self.last
        self.last = pnl
        self.peak = max(self.peak, pnl)

    @property
    def day_loss(self) -> Decimal:
        """How much the day lost so far (0 when it made money)."""
        return max(Decimal(0), self.day_open - self.last)

    @property
    def drawdown(self) -> Decimal:
        """How far the last mark is below the day's highest."""
        return self.peak - self.last

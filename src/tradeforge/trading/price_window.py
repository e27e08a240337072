"""Recent accepted orders of one strategy and instrument: the price range of one side over a
period (R3) and the typical order size (R16).
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal

__all__ = ["PriceRange", "SizeStats"]


class PriceRange:
    """Lowest and highest accepted price within a sliding time window (amortised O(1))."""

    __slots__ = ("_highs", "_lows")

    def __init__(self) -> None:
        # Monotonic queues of (time, price): lows rise from the front, highs fall.
        self._lows: deque[tuple[int, Decimal]] = deque()
        self._highs: deque[tuple[int, Decimal]] = deque()

    def bounds(self, now_ns: int, window_ns: int) -> tuple[Decimal, Decimal] | None:
        """(lowest, highest) of the prices at ``now - window < t <= now``; None if none."""
        cutoff = now_ns - window_ns
        lows, highs = self._lows, self._highs
        while lows and lows[0][0] <= cutoff:
            lows.popleft()
        while highs and highs[0][0] <= cutoff:
            highs.popleft()
        if not lows:
            return None
        return lows[0][1], highs[0][1]

    def add(self, ts_ns: int, price: Decimal) -> None:
        """An order at ``price`` was accepted at ``ts_ns``."""
        lows, highs = self._lows, self._highs
        while lows and lows[-1][1] >= price:
            lows.pop()
        lows.append((ts_ns, price))
        while highs and highs[-1][1] <= price:
            highs.pop()
        highs.append((ts_ns, price))


class SizeStats:
    """Mean quantity of the last ``size`` accepted orders."""

    __slots__ = ("_sizes", "_sum", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self._sizes: deque[Decimal] = deque()
        self._sum = Decimal(0)

    def typical(self) -> Decimal | None:
        """The mean once ``size`` orders were seen, else None (too few to judge)."""
        if len(self._sizes) < self.size:
            return None
        return self._sum / self.size

    def add(self, quantity: Decimal) -> None:
        """An order of ``quantity`` was accepted."""
        self._sizes.append(quantity)
        self._sum += quantity
        while len(self._sizes) > self.size:
            self._sum -= self._sizes.popleft()

"""Latency samples and their percentiles."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class Latencies:
    """Durations of one kind of call, in nanoseconds."""

    samples: list[int] = field(default_factory=list)
    _sorted: list[int] | None = field(default=None, repr=False)

    def add(self, ns: int) -> None:
        """Record one call."""
        self.samples.append(ns)
        self._sorted = None

    def extend(self, other: Latencies) -> None:
        """Take in another set's samples."""
        self.samples.extend(other.samples)
        self._sorted = None

    def __len__(self) -> int:
        return len(self.samples)

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile (0-100, nearest rank), in ns; 0 when empty."""
        if not self.samples:
            return 0.0
        if self._sorted is None:
            self._sorted = sorted(self.samples)
        rank = max(0, min(len(self._sorted) - 1, math.ceil(q / 100 * len(self._sorted)) - 1))
        return float(self._sorted[rank])

    def mean(self) -> float:
        """The mean, in ns; 0 when empty."""
        return sum(self.samples) / len(self.samples) if self.samples else 0.0

    def us(self, q: float) -> float:
        """The ``q``-th percentile in microseconds."""
        return self.percentile(q) / 1_000

    def ms(self, q: float) -> float:
        """The ``q``-th percentile in milliseconds."""
        return self.percentile(q) / 1_000_000

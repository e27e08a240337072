"""Trade lists side by side: exact equality, count difference, the first mismatch."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bench.workload import Trade


@dataclass(frozen=True)
class Comparison:
    """TradeForge's trades (``reference``) against a peer's."""

    reference_count: int
    other_count: int
    identical: bool
    common: int  # trades present in both lists (as a multiset)
    first_mismatch: int | None  # index of the first differing trade, None when identical
    reference_trade: Trade | None  # TradeForge's trade at that index (None: list ended)
    other_trade: Trade | None  # the peer's trade at that index (None: list ended)

    @property
    def count_diff_pct(self) -> float:
        """|peer count - TradeForge count| as a percent of TradeForge's count."""
        if not self.reference_count:
            return 0.0 if not self.other_count else 100.0
        return 100.0 * abs(self.other_count - self.reference_count) / self.reference_count


def compare(reference: list[Trade], other: list[Trade]) -> Comparison:
    """Compare two trade lists exactly (times and prices as the same floats)."""
    first: int | None = None
    for index, (mine, theirs) in enumerate(zip(reference, other, strict=False)):
        if mine != theirs:
            first = index
            break
    if first is None and len(reference) != len(other):
        first = min(len(reference), len(other))
    common = sum((Counter(reference) & Counter(other)).values())
    return Comparison(
        reference_count=len(reference),
        other_count=len(other),
        identical=first is None,
        common=common,
        first_mismatch=first,
        reference_trade=reference[first] if first is not None and first < len(reference) else None,
        other_trade=other[first] if first is not None and first < len(other) else None,
    )

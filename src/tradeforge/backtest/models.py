"""Fill, slippage and latency models of the simulated venue.

- ``FillModel``: when market orders fill on bar data (the next bar's open by default, or the
  close of the bar they were decided on) and how much of a bar's volume the venue lets orders
  take (unlimited by default).
- ``SlippageModel``: how far taker fills move against the order, in whole ticks: a fixed number,
  and/or in proportion to the order's share of the bar's volume.
- ``LatencyModel``: how long an order, modify or cancel takes to reach the venue.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal
from typing import Literal

import msgspec

from tradeforge.domain import InvalidValue

__all__ = ["FillModel", "LatencyModel", "SlippageModel"]


class SlippageModel(msgspec.Struct, frozen=True, kw_only=True):
    """Adverse price move for taker fills: ``fixed_ticks`` plus ``volume_ticks`` per 100% of bar
    volume taken (rounded up to whole ticks)."""

    fixed_ticks: int = 0
    volume_ticks: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if self.fixed_ticks < 0:
            raise InvalidValue(f"slippage fixed_ticks must be >= 0, got {self.fixed_ticks}")
        if not self.volume_ticks.is_finite() or self.volume_ticks < 0:
            raise InvalidValue(f"slippage volume_ticks must be >= 0, got {self.volume_ticks}")

    def apply(
        self, price: Decimal, quantity: Decimal, is_buy: bool, tick: Decimal, volume: Decimal | None
    ) -> Decimal:
        """``price`` moved against a taker order of ``quantity`` (never below one tick)."""
        ticks = self.ticks(quantity, volume)
        if not ticks:
            return price
        move = ticks * tick
        return price + move if is_buy else max(price - move, tick)

    def ticks(self, quantity: Decimal, bar_volume: Decimal | None) -> int:
        """Ticks of slippage for a taker fill of ``quantity``."""
        ticks = self.fixed_ticks
        if self.volume_ticks and bar_volume:
            share = quantity / bar_volume
            ticks += int((share * self.volume_ticks).to_integral_value(rounding=ROUND_CEILING))
        return ticks


class FillModel(msgspec.Struct, frozen=True, kw_only=True):
    """How the venue fills orders on bar data."""

    fill_at: Literal["open", "close"] = "open"
    max_volume_fraction: Decimal | None = None
    slippage: SlippageModel = SlippageModel()

    def __post_init__(self) -> None:
        if self.fill_at not in ("open", "close"):
            raise InvalidValue(f"fill_at must be 'open' or 'close', got {self.fill_at!r}")
        fraction = self.max_volume_fraction
        if fraction is not None and not (fraction.is_finite() and 0 < fraction <= 1):
            raise InvalidValue(f"max_volume_fraction must be in (0, 1], got {fraction}")


class LatencyModel(msgspec.Struct, frozen=True, kw_only=True):
    """Delay in nanoseconds before a command reaches the venue."""

    submit_ns: int = 0
    modify_ns: int = 0
    cancel_ns: int = 0

    def __post_init__(self) -> None:
        for field in ("submit_ns", "modify_ns", "cancel_ns"):
            if getattr(self, field) < 0:
                raise InvalidValue(f"latency {field} must be >= 0, got {getattr(self, field)}")

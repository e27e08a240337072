"""POV: trade a fixed share of the market's volume, as it prints.

Every public trade of the instrument seen while RUNNING adds to ``V``, the volume since start
(trades while paused do not count; the tape includes our own fills, as venues print them).
Whenever nothing is working, the target is ``rate * V``; when what is filled falls behind it by
at least ``min_child`` (or by all that is left), one taking child is sent for the shortfall,
at most ``max_child``, and at most one per ``min_interval_ns`` (the maximum child rate).

Because a child is never larger than the shortfall, filled + working stays at or below
``rate * V``, except when a child is grown to take a tail below the minimum size (module
``base``): then it is above by less than that one child. So the parent never gets ahead of its
share of the volume by more than one child.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from tradeforge.bus import Clock, TimeEvent
from tradeforge.domain import InvalidValue, Quantity, TimeInForce, TradeTick
from tradeforge.execution.algos._exact import EXACT
from tradeforge.execution.algos.base import (
    CancelChild,
    ExecutionAlgorithm,
    ReportListener,
    SubmitChild,
)
from tradeforge.execution.algos.parent import ParentOrder
from tradeforge.execution.algos.report import ExecutionState

__all__ = ["Pov", "PovParams"]


class PovParams(msgspec.Struct, frozen=True, kw_only=True):
    """``rate`` in (0, 1]; child sizes between ``min_child`` (default: the venue's minimum
    child) and ``max_child`` (default: no cap); at most one child per ``min_interval_ns``."""

    rate: Decimal
    min_child: Quantity | None = None
    max_child: Quantity | None = None
    min_interval_ns: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.rate, Decimal) or not self.rate.is_finite():
            raise InvalidValue(f"rate must be a finite Decimal, got {self.rate!r}")
        if not 0 < self.rate <= 1:
            raise InvalidValue(f"rate must be in (0, 1], got {self.rate}")
        if self.min_child is not None and self.min_child.is_zero():
            raise InvalidValue("min_child must be positive")
        if (
            self.min_child is not None
            and self.max_child is not None
            and self.max_child < self.min_child
        ):
            raise InvalidValue(f"max_child {self.max_child} is below min_child {self.min_child}")
        if self.min_interval_ns < 0:
            raise InvalidValue(f"min_interval_ns must be >= 0, got {self.min_interval_ns}")


class Pov(ExecutionAlgorithm):
    """Percent of volume (module docstring)."""

    algorithm = "POV"

    def __init__(
        self,
        parent: ParentOrder,
        params: PovParams,
        *,
        clock: Clock,
        submit_child: SubmitChild,
        cancel_child: CancelChild,
        on_report: ReportListener | None = None,
        max_rejections: int = 3,
    ) -> None:
        super().__init__(
            parent,
            clock=clock,
            submit_child=submit_child,
            cancel_child=cancel_child,
            on_report=on_report,
            max_rejections=max_rejections,
        )
        inst = parent.instrument
        for field in ("min_child", "max_child"):
            size: Quantity | None = getattr(params, field)
            if size is not None and not inst.is_on_lot(size):
                raise InvalidValue(f"{field} {size} is not a multiple of lot {inst.lot_size}")
        floor = self.min_child.as_decimal()
        if params.min_child is not None:
            floor = max(floor, params.min_child.as_decimal())
        if params.max_child is not None and params.max_child.as_decimal() < floor:
            raise InvalidValue(
                f"max_child {params.max_child} is below the minimum child size {self._qty(floor)}"
            )
        self._params = params
        self._floor = floor
        self._volume = Decimal(0)
        self._last_child_ns: int | None = None

    @property
    def params(self) -> PovParams:
        """The participation parameters."""
        return self._params

    @property
    def market_volume(self) -> Quantity:
        """Volume seen while running, ``V``."""
        return Quantity(self._volume)

    def _on_trade(self, trade: TradeTick) -> bool:
        if self._state is not ExecutionState.RUNNING:
            return False
        self._volume = EXACT.add(self._volume, trade.size.as_decimal())
        return True

    def _step(self) -> None:
        if self._has_working():
            return
        rest = self._uncommitted
        target = EXACT.multiply(self._params.rate, self._volume)
        shortfall = EXACT.subtract(target, self._ledger.filled())
        if shortfall < min(self._floor, rest):
            return
        now = self._clock.timestamp_ns()
        if self._last_child_ns is not None:
            ready = self._last_child_ns + self._params.min_interval_ns
            if now < ready:
                self._set_alert(ready, self._on_alert)
                return
        cap = self._params.max_child
        size = self._sized(shortfall if cap is None else min(shortfall, cap.as_decimal()))
        if not size:
            return
        self._last_child_ns = now
        self._send(size, self._parent.limit_price, TimeInForce.IOC)

    def _on_alert(self, event: TimeEvent) -> None:
        self._kick()

"""Iceberg: show at most ``display_qty`` at a limit price, and show the next piece when the
visible one has ended (filled, or ended by the venue), until the parent is done.

One child works at a time, sized by :func:`iceberg_child`: ``display_qty`` while at least the
minimum child would stay hidden, else cut so that exactly the minimum stays behind; never more
than ``display_qty``. When no such cut exists (only if ``display_qty`` is below twice the
minimum child) the last piece is below the minimum: allowed only with the parent's
``allow_odd_final``, otherwise the parent is refused at construction.
"""

from __future__ import annotations

import msgspec

from tradeforge.bus import Clock
from tradeforge.domain import InvalidOrder, InvalidValue, Price, Quantity, TimeInForce
from tradeforge.execution.algos.base import (
    CancelChild,
    ExecutionAlgorithm,
    ReportListener,
    SubmitChild,
)
from tradeforge.execution.algos.parent import ParentOrder
from tradeforge.execution.algos.schedule import iceberg_child, iceberg_tail_is_odd

__all__ = ["Iceberg", "IcebergParams"]


class IcebergParams(msgspec.Struct, frozen=True, kw_only=True):
    """``display_qty`` shown at a time at ``price`` (default: the parent's limit price);
    ``time_in_force`` GTC or DAY."""

    display_qty: Quantity
    price: Price | None = None
    time_in_force: TimeInForce = TimeInForce.GTC

    def __post_init__(self) -> None:
        if self.display_qty.is_zero():
            raise InvalidValue("display_qty must be positive")
        if self.time_in_force not in (TimeInForce.GTC, TimeInForce.DAY):
            raise InvalidValue(f"time_in_force must be GTC or DAY, got {self.time_in_force}")


class Iceberg(ExecutionAlgorithm):
    """Iceberg order (module docstring)."""

    algorithm = "ICEBERG"

    def __init__(
        self,
        parent: ParentOrder,
        params: IcebergParams,
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
        name = self._name
        price = params.price if params.price is not None else parent.limit_price
        if price is None:
            raise InvalidOrder(f"{name}: needs a price (params.price or the parent's limit)")
        if not inst.is_on_tick(price):
            raise InvalidOrder(f"{name}: price {price} is not a multiple of {inst.tick_size}")
        if not parent.within_limit(price):
            raise InvalidOrder(f"{name}: price {price} is beyond the limit {parent.limit_price}")
        display = params.display_qty
        if not inst.is_on_lot(display):
            raise InvalidOrder(f"{name}: display_qty {display} is not a multiple of the lot")
        if display < self.min_child:
            raise InvalidOrder(
                f"{name}: display_qty {display} is below the minimum child size {self.min_child}"
            )
        if not parent.allow_odd_final and iceberg_tail_is_odd(
            parent.quantity, display, self.min_child
        ):
            raise InvalidOrder(
                f"{name}: {parent.quantity} cannot be shown in pieces of {self.min_child} to "
                f"{display}; raise display_qty or allow an odd final child"
            )
        self._params = params
        self._price = price

    @property
    def params(self) -> IcebergParams:
        """The iceberg's parameters."""
        return self._params

    @property
    def price(self) -> Price:
        """The price every child shows at."""
        return self._price

    def _step(self) -> None:
        if self._has_working():
            return
        rest = self._qty(self._uncommitted)
        if rest.is_zero():
            return
        size = iceberg_child(rest, self._params.display_qty, self.min_child)
        if size < self.min_child and not self._parent.allow_odd_final:
            return  # a tail left by a partial fill; the base finishes the parent
        self._send(size, self._price, self._params.time_in_force)

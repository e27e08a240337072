"""``AlgoOrder``: what a strategy asks the node to work as a parent order.

A strategy does not build an algorithm object itself (that needs the node's clock and its order
path); it describes the parent — instrument, side, quantity, optional limit and arrival price —
and how to work it: ``TwapParams``, ``VwapParams``, ``PovParams``, ``IcebergParams``, or
``RouteParams`` for smart order routing across the venues that trade the same symbol. The node
gives the parent an id (unless the strategy chose one), runs it on its clock and sends every
child through its normal order path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from tradeforge.domain import (
    ClientOrderId,
    InstrumentId,
    InvalidValue,
    OrderSide,
    Price,
    Quantity,
    TimeInForce,
    Venue,
)
from tradeforge.execution.algos.iceberg import IcebergParams
from tradeforge.execution.algos.pov import PovParams
from tradeforge.execution.algos.twap import TwapParams
from tradeforge.execution.algos.vwap import VwapParams

__all__ = ["AlgoOrder", "AlgoParams", "RouteParams"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteParams:
    """Smart order routing: split the parent across the visible books of ``venues`` (default:
    every venue of the node that trades the parent's symbol), best price net of taker fees
    first (``tradeforge.execution.sor``). ``best_venue``: send it all to the single best venue.
    Children are limit orders with ``time_in_force`` (IOC by default: take what is visible, do
    not rest)."""

    venues: tuple[Venue, ...] = ()
    best_venue: bool = False
    time_in_force: TimeInForce = TimeInForce.IOC
    record_depth: int = 5

    def __post_init__(self) -> None:
        if len(set(self.venues)) != len(self.venues):
            raise InvalidValue(f"route venues must differ, got {[str(v) for v in self.venues]}")
        if self.record_depth < 1:
            raise InvalidValue(f"record_depth must be at least 1, got {self.record_depth}")


AlgoParams: TypeAlias = TwapParams | VwapParams | PovParams | IcebergParams | RouteParams


@dataclass(frozen=True, slots=True, kw_only=True)
class AlgoOrder:
    """A parent order for the node to work with ``params`` (module docstring).

    ``client_order_id``: the parent's id (at most 29 characters, so children fit); None lets
    the node make one from the strategy's id prefix. ``arrival_price``: the slippage benchmark;
    None takes the mid of the venue's book when the node keeps one, else the last trade price,
    else the first mid seen after the start.
    """

    instrument_id: InstrumentId
    side: OrderSide
    quantity: Quantity
    params: AlgoParams
    limit_price: Price | None = None
    arrival_price: Price | None = None
    allow_odd_final: bool = False
    client_order_id: ClientOrderId | None = None

    @property
    def algorithm(self) -> str:
        """TWAP, VWAP, POV, ICEBERG or SOR."""
        params = self.params
        if isinstance(params, VwapParams):
            return "VWAP"
        if isinstance(params, TwapParams):
            return "TWAP"
        if isinstance(params, PovParams):
            return "POV"
        if isinstance(params, IcebergParams):
            return "ICEBERG"
        return "SOR"

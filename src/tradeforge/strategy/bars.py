"""``BarLike``: what strategies and matching engines read of a closed bar."""

from __future__ import annotations

from typing import Protocol

from tradeforge.domain import InstrumentId, Price, Quantity, Timeframe

__all__ = ["BarLike"]


class BarLike(Protocol):
    """A closed bar as hooks receive it (a domain ``Bar`` or the backtester's lazy view)."""

    @property
    def instrument_id(self) -> InstrumentId: ...
    @property
    def timeframe(self) -> Timeframe: ...
    @property
    def open(self) -> Price: ...
    @property
    def high(self) -> Price: ...
    @property
    def low(self) -> Price: ...
    @property
    def close(self) -> Price: ...
    @property
    def volume(self) -> Quantity: ...
    @property
    def ts_event(self) -> int: ...
    @property
    def ts_open(self) -> int: ...

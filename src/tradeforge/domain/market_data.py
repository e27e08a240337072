"""Market data events: bars, quotes, trades, order book deltas and snapshots.

Prices and sizes are exact. A bar's ``ts_event`` is the time it closed (its open time plus its
timeframe), so a strategy never sees a bar before it could have known it.
"""

from __future__ import annotations

import itertools
import re
from decimal import Decimal
from typing import Final

import msgspec

from tradeforge.domain.enums import AggressorSide, BookAction, BookSide
from tradeforge.domain.errors import InvalidValue
from tradeforge.domain.exact import EXACT
from tradeforge.domain.identifiers import InstrumentId, TradeId
from tradeforge.domain.messages import Message
from tradeforge.domain.values import Price, Quantity

__all__ = [
    "Bar",
    "BookLevel",
    "OrderBookDelta",
    "OrderBookSnapshot",
    "QuoteTick",
    "Timeframe",
    "TradeTick",
]

_UNITS: Final = {"s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000}
_UNITS["d"] = 24 * _UNITS["h"]
_UNITS["w"] = 7 * _UNITS["d"]
_TIMEFRAME = re.compile(r"^([1-9][0-9]*)([smhdw])$")


class Timeframe:
    """A bar length such as ``1m``, ``15m``, ``4h``, ``1d`` (s, m, h, d, w)."""

    __slots__ = ("_step", "_unit")
    _step: int
    _unit: str

    def __init__(self, step: int, unit: str) -> None:
        if isinstance(step, bool) or not isinstance(step, int) or step <= 0:
            raise InvalidValue(f"timeframe step must be a positive int, got {step!r}")
        if unit not in _UNITS:
            raise InvalidValue(f"timeframe unit must be one of s, m, h, d, w; got {unit!r}")
        object.__setattr__(self, "_step", step)
        object.__setattr__(self, "_unit", unit)

    @classmethod
    def from_str(cls, value: str) -> Timeframe:
        """Parse ``1m``, ``4h`` and the like."""
        match = _TIMEFRAME.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            raise InvalidValue(f"timeframe must look like 1m, 5m, 1h or 1d; got {value!r}")
        return cls(int(match.group(1)), match.group(2))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Timeframe is immutable")

    @property
    def nanos(self) -> int:
        """Length in nanoseconds."""
        return self._step * _UNITS[self._unit]

    def __str__(self) -> str:
        return f"{self._step}{self._unit}"

    def __repr__(self) -> str:
        return f"Timeframe('{self}')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Timeframe) and other.nanos == self.nanos

    def __hash__(self) -> int:
        return hash(self.nanos)

    def __lt__(self, other: Timeframe) -> bool:
        return self.nanos < other.nanos

    def __reduce__(self) -> tuple[type[Timeframe], tuple[int, str]]:
        return (Timeframe, (self._step, self._unit))


class Bar(Message, frozen=True, kw_only=True, tag=True):
    """OHLCV over one timeframe; ``ts_event`` is the close time."""

    instrument_id: InstrumentId
    timeframe: Timeframe
    open: Price
    high: Price
    low: Price
    close: Price
    volume: Quantity

    @property
    def ts_open(self) -> int:
        """When the bar opened: ``ts_event`` minus the timeframe."""
        return self.ts_event - self.timeframe.nanos

    def __post_init__(self) -> None:
        if self.high < self.low:
            raise InvalidValue(
                f"bar {self.instrument_id} {self.timeframe} at {self.ts_event}: "
                f"high {self.high} is below low {self.low}"
            )
        for field in ("open", "close"):
            value: Price = getattr(self, field)
            if not self.low <= value <= self.high:
                raise InvalidValue(
                    f"bar {self.instrument_id} {self.timeframe} at {self.ts_event}: {field} "
                    f"{value} is outside low {self.low} .. high {self.high}"
                )


class QuoteTick(Message, frozen=True, kw_only=True, tag=True):
    """Best bid and ask with their sizes. Crossed quotes are kept: real feeds send them."""

    instrument_id: InstrumentId
    bid_price: Price
    ask_price: Price
    bid_size: Quantity
    ask_size: Quantity

    @property
    def mid(self) -> Price:
        """Mid price, exact (one more decimal than the quotes when needed)."""
        total = (self.bid_price + self.ask_price).as_decimal()
        return Price(EXACT.divide(total, Decimal(2)))


class TradeTick(Message, frozen=True, kw_only=True, tag=True):
    """One trade printed by the venue."""

    instrument_id: InstrumentId
    price: Price
    size: Quantity
    aggressor_side: AggressorSide
    trade_id: TradeId

    def __post_init__(self) -> None:
        if self.size.is_zero():
            raise InvalidValue(f"trade {self.trade_id} on {self.instrument_id}: size must be > 0")


class BookLevel(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """One price level of a book snapshot: ``[price, size]`` on the wire."""

    price: Price
    size: Quantity


class OrderBookDelta(Message, frozen=True, kw_only=True, tag=True):
    """One change to a level-2 (by price) or level-3 (by order, ``order_id`` > 0) book.

    ``sequence`` is the venue's update id; a gap means the local book must be rebuilt.
    """

    instrument_id: InstrumentId
    action: BookAction
    side: BookSide
    price: Price
    size: Quantity
    sequence: int
    order_id: int = 0

    def __post_init__(self) -> None:
        if self.action is BookAction.ADD and self.size.is_zero():
            raise InvalidValue(f"book delta on {self.instrument_id}: ADD needs a positive size")


class OrderBookSnapshot(Message, frozen=True, kw_only=True, tag=True):
    """A whole book: bids best (highest) first, asks best (lowest) first."""

    instrument_id: InstrumentId
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    sequence: int

    def __post_init__(self) -> None:
        for name, levels, sign in (("bids", self.bids, 1), ("asks", self.asks, -1)):
            for first, second in itertools.pairwise(levels):
                if (first.price - second.price) * sign <= 0:
                    raise InvalidValue(
                        f"book snapshot {self.instrument_id}: {name} must be strictly ordered "
                        f"best first, got {first.price} then {second.price}"
                    )

    @property
    def best_bid(self) -> BookLevel | None:
        """The highest bid, if any."""
        return self.bids[0] if self.bids else None

    @property
    def best_ask(self) -> BookLevel | None:
        """The lowest ask, if any."""
        return self.asks[0] if self.asks else None

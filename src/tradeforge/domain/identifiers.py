"""Typed identifiers: each id is parsed and formatted here and nowhere else.

An id is a tiny immutable value holding one validated string. Different id types never compare
equal, so a ``ClientOrderId`` cannot be passed where a ``VenueOrderId`` is expected by accident.
"""

from __future__ import annotations

import re
from typing import ClassVar, Final, Self

from mypy_extensions import mypyc_attr

from tradeforge.domain.errors import InvalidValue
from tradeforge.domain.frozen import freeze

__all__ = [
    "AccountId",
    "ClientOrderId",
    "Identifier",
    "InstrumentId",
    "OrderListId",
    "PositionId",
    "StrategyId",
    "Symbol",
    "TradeId",
    "Venue",
    "VenueOrderId",
]

# Printable ASCII without whitespace: what every venue we know accepts in an id.
_PRINTABLE: Final = re.compile(r"^[!-~]+$")
_VENUE: Final = re.compile(r"^[A-Z0-9][A-Z0-9_-]*$")


@mypyc_attr(acyclic=True)
class Identifier:
    """Base of every id: a validated, immutable string value."""

    __slots__ = ("_hash", "_value")
    field: ClassVar[str] = "id"
    max_length: ClassVar[int] = 64
    pattern: ClassVar[re.Pattern[str]] = _PRINTABLE

    def __init__(self, value: object, *, _checked: bool = False) -> None:
        # Any object is taken and checked here (a wrong one is ``InvalidValue``, not TypeError).
        # ``_checked``: built here from parts already checked (a checked prefix and a counter);
        # skips the pattern match. Only this package passes it.
        if not isinstance(value, str):
            raise InvalidValue(f"{self.field} must be a str, got {type(value).__name__}")
        if not _checked:
            if not 0 < len(value) <= self.max_length:
                raise InvalidValue(
                    f"{self.field} must have 1 to {self.max_length} characters, got {value!r}"
                )
            if not self.pattern.fullmatch(value):
                raise InvalidValue(f"{self.field} has characters that are not allowed: {value!r}")
        self._value: Final[str] = value
        self._hash: Final[int] = hash((type(self).__name__, value))

    @classmethod
    def _trusted(cls, value: str) -> Self:
        return cls(value, _checked=True)

    @property
    def value(self) -> str:
        """The id as a string."""
        return self._value

    @classmethod
    def from_str(cls, value: str) -> Self:
        """Parse an id from its string form."""
        return cls(value)

    def __str__(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._value!r})"

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and isinstance(other, Identifier)
            and other._value == self._value
        )

    def __hash__(self) -> int:
        return self._hash

    def __lt__(self, other: object) -> bool:
        if type(other) is not type(self) or not isinstance(other, Identifier):
            return NotImplemented
        return self._value < other._value

    def __reduce__(self) -> tuple[type[Self], tuple[str]]:
        return (type(self), (self._value,))


@mypyc_attr(acyclic=True)
class Symbol(Identifier):
    """A venue's name for an instrument, e.g. ``BTC/USDT`` or ``BRK.B``."""

    __slots__ = ()
    field = "symbol"


@mypyc_attr(acyclic=True)
class Venue(Identifier):
    """A trading venue, upper case, e.g. ``BINANCE`` or ``SIM``."""

    __slots__ = ()
    field = "venue"
    max_length = 32
    pattern = _VENUE


@mypyc_attr(acyclic=True)
class ClientOrderId(Identifier):
    """The id we choose for an order; at most 36 characters so every venue accepts it."""

    __slots__ = ()
    field = "client_order_id"
    max_length = 36


@mypyc_attr(acyclic=True)
class VenueOrderId(Identifier):
    """The id a venue gave an order."""

    __slots__ = ()
    field = "venue_order_id"


@mypyc_attr(acyclic=True)
class StrategyId(Identifier):
    """A strategy instance, e.g. ``sma_cross-001``."""

    __slots__ = ()
    field = "strategy_id"


@mypyc_attr(acyclic=True)
class AccountId(Identifier):
    """An account at a venue, e.g. ``BINANCE-main``."""

    __slots__ = ()
    field = "account_id"


@mypyc_attr(acyclic=True)
class TradeId(Identifier):
    """A venue's id for one execution (fill or market trade)."""

    __slots__ = ()
    field = "trade_id"


@mypyc_attr(acyclic=True)
class PositionId(Identifier):
    """A position: one per instrument and strategy when netting, one per side when hedging."""

    __slots__ = ()
    field = "position_id"
    max_length = 128


@mypyc_attr(acyclic=True)
class OrderListId(Identifier):
    """A contingent group of orders (OCO, OTO, bracket)."""

    __slots__ = ()
    field = "order_list_id"


@mypyc_attr(acyclic=True)
class InstrumentId:
    """An instrument at a venue: ``SYMBOL.VENUE``, e.g. ``BTC/USDT.BINANCE``.

    The venue is what follows the last dot, so symbols may themselves contain dots
    (``BRK.B.NYSE`` is symbol ``BRK.B`` at venue ``NYSE``).
    """

    __slots__ = ("_hash", "_symbol", "_venue")

    def __init__(self, symbol: object, venue: object) -> None:
        # Any object is taken: a str is checked as a ``Symbol`` / ``Venue``.
        self._symbol: Final[Symbol] = symbol if isinstance(symbol, Symbol) else Symbol(symbol)
        self._venue: Final[Venue] = venue if isinstance(venue, Venue) else Venue(venue)
        self._hash: Final[int] = hash((self._symbol.value, self._venue.value))

    @classmethod
    def from_str(cls, value: object) -> InstrumentId:
        """Parse ``SYMBOL.VENUE``; the message names the value when it has no venue."""
        if not isinstance(value, str):
            raise InvalidValue(f"instrument_id must be a str, got {type(value).__name__}")
        symbol, dot, venue = value.rpartition(".")
        if not dot or not symbol or not venue:
            raise InvalidValue(
                f"instrument_id must look like SYMBOL.VENUE (e.g. BTC/USDT.BINANCE), got {value!r}"
            )
        return cls(symbol, venue)

    @property
    def symbol(self) -> Symbol:
        """The venue's symbol."""
        return self._symbol

    @property
    def venue(self) -> Venue:
        """The venue."""
        return self._venue

    @property
    def value(self) -> str:
        """The id as a string, ``SYMBOL.VENUE``."""
        return f"{self._symbol.value}.{self._venue.value}"

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"InstrumentId({self.value!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, InstrumentId)
            and other._symbol == self._symbol
            and other._venue == self._venue
        )

    def __hash__(self) -> int:
        return self._hash

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, InstrumentId):
            return NotImplemented
        return self.value < other.value

    def __reduce__(self) -> tuple[type[InstrumentId], tuple[str, str]]:
        return (InstrumentId, (self._symbol.value, self._venue.value))


freeze(
    Identifier,
    Symbol,
    Venue,
    ClientOrderId,
    VenueOrderId,
    StrategyId,
    AccountId,
    TradeId,
    PositionId,
    OrderListId,
    InstrumentId,
)

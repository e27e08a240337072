"""``Currency`` and exact ``Money``.

A currency has a code and a precision (decimals it is booked in). Money is an amount in one currency
with at most that many decimals; adding or subtracting two amounts needs the same currency. Amounts
that come out of a multiplication (fees, notionals) are rounded explicitly with ``Money.rounded``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from types import MappingProxyType
from typing import Final

from mypy_extensions import mypyc_attr

from tradeforge.domain.errors import InvalidValue
from tradeforge.domain.exact import (
    MAX_PRECISION,
    ROUNDING,
    exact_add,
    exact_multiply,
    exact_subtract,
    fit_precision,
    quantum,
    rounding_quantize,
    to_decimal,
)
from tradeforge.domain.frozen import freeze

__all__ = ["Currency", "CurrencyKind", "Money", "KNOWN_CURRENCIES"]

_CODE: Final = re.compile(r"^[A-Z0-9]{1,16}$")


class CurrencyKind(enum.StrEnum):
    """What a currency is."""

    FIAT = "FIAT"
    CRYPTO = "CRYPTO"


@mypyc_attr(acyclic=True)
class Currency:
    """A currency code and the number of decimals it is booked in."""

    __slots__ = ("_code", "_hash", "_kind", "_precision")

    def __init__(self, code: object, precision: object, kind: object = CurrencyKind.CRYPTO) -> None:
        # Any object is taken and checked here (a wrong one is ``InvalidValue``, not TypeError).
        if not isinstance(code, str) or not _CODE.fullmatch(code):
            raise InvalidValue(
                f"currency code must be 1-16 upper-case letters/digits, got {code!r}"
            )
        if isinstance(precision, bool) or not isinstance(precision, int):
            raise InvalidValue(f"currency {code} precision must be an int, got {precision!r}")
        if not 0 <= precision <= MAX_PRECISION:
            raise InvalidValue(
                f"currency {code} precision must be 0..{MAX_PRECISION}, got {precision}"
            )
        self._code: Final[str] = code
        # Kept: computed per call, a 64-bit string hash is boxed into an int object and freed
        # again half the time in compiled code, and currencies key the account's dicts.
        self._hash: Final[int] = hash(code)
        self._precision: Final[int] = precision
        if not isinstance(kind, str):
            raise InvalidValue(f"currency {code} kind must be FIAT or CRYPTO, got {kind!r}")
        self._kind: Final[CurrencyKind] = CurrencyKind(kind)

    @property
    def code(self) -> str:
        """ISO 4217 or exchange code, e.g. ``USD``, ``BTC``."""
        return self._code

    @property
    def precision(self) -> int:
        """Decimals amounts in this currency are booked in."""
        return self._precision

    @property
    def kind(self) -> CurrencyKind:
        """Fiat or crypto."""
        return self._kind

    @classmethod
    def from_str(cls, value: str) -> Currency:
        """Parse ``CODE`` (a known currency) or ``CODE:PRECISION`` (any currency)."""
        code, colon, precision = value.partition(":")
        if colon:
            if not precision.isdigit():
                raise InvalidValue(f"currency precision must be a number, got {value!r}")
            known = KNOWN_CURRENCIES.get(code)
            kind = known.kind if known is not None else CurrencyKind.CRYPTO
            return cls(code, int(precision), kind)
        known = KNOWN_CURRENCIES.get(code)
        if known is None:
            raise InvalidValue(
                f"unknown currency {value!r}: write it as CODE:PRECISION, e.g. {value}:8"
            )
        return known

    def to_str(self) -> str:
        """``CODE`` when it is the known currency of that code, else ``CODE:PRECISION``."""
        return (
            self._code
            if KNOWN_CURRENCIES.get(self._code) == self
            else f"{self._code}:{self._precision}"
        )

    def __str__(self) -> str:
        return self._code

    def __repr__(self) -> str:
        return f"Currency({self._code!r}, {self._precision})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Currency)
            and other._code == self._code
            and other._precision == self._precision
        )

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[type[Currency], tuple[str, int, CurrencyKind]]:
        return (Currency, (self._code, self._precision, self._kind))


def _known(*entries: tuple[str, int, CurrencyKind]) -> Mapping[str, Currency]:
    return MappingProxyType({code: Currency(code, p, kind) for code, p, kind in entries})


_F, _C = CurrencyKind.FIAT, CurrencyKind.CRYPTO
KNOWN_CURRENCIES: Final[Mapping[str, Currency]] = _known(
    ("USD", 2, _F), ("EUR", 2, _F), ("GBP", 2, _F), ("JPY", 0, _F), ("CHF", 2, _F),
    ("CAD", 2, _F), ("AUD", 2, _F), ("HKD", 2, _F), ("CNY", 2, _F), ("SGD", 2, _F),
    ("BTC", 8, _C), ("ETH", 8, _C), ("USDT", 8, _C), ("USDC", 8, _C), ("BNB", 8, _C),
    ("SOL", 8, _C), ("XRP", 8, _C), ("ADA", 8, _C), ("DOGE", 8, _C), ("LTC", 8, _C),
    ("DOT", 8, _C), ("AVAX", 8, _C), ("LINK", 8, _C), ("TRX", 8, _C), ("FDUSD", 8, _C),
)  # fmt: skip


@mypyc_attr(acyclic=True)
class Money:
    """An exact amount in one currency, with at most the currency's decimals."""

    __slots__ = ("_amount", "_currency")

    def __init__(self, amount: object, currency: object, *, _exact: bool = False) -> None:
        # ``_exact``: ``amount`` is a Decimal already at the currency's precision (e.g. the
        # result of exact arithmetic on valid amounts); nothing is checked. Only this package
        # passes it.
        if not isinstance(currency, Currency):
            raise InvalidValue(f"money currency must be a Currency, got {currency!r}")
        if _exact and type(amount) is Decimal:
            exact = amount
        else:
            value = to_decimal("money amount", amount)
            exact = fit_precision(f"money amount ({currency.code})", value, currency.precision)
        self._amount: Final[Decimal] = exact
        self._currency: Final[Currency] = currency

    @classmethod
    def _trusted(cls, amount: Decimal, currency: Currency) -> Money:
        return Money(amount, currency, _exact=True)

    @classmethod
    def zero(cls, currency: Currency) -> Money:
        """Zero in ``currency``."""
        if not isinstance(currency, Currency):
            raise InvalidValue(f"money currency must be a Currency, got {currency!r}")
        return _money(_ZEROS[currency._precision], currency)

    @classmethod
    def rounded(
        cls, amount: Decimal | int | str, currency: Currency, rounding: str = ROUND_HALF_EVEN
    ) -> Money:
        """Round ``amount`` to the currency's precision with the named rounding mode."""
        value = (
            amount
            if type(amount) is Decimal and amount.is_finite()
            else to_decimal("money amount", amount)
        )
        quantum_ = _QUANTA[currency._precision]
        exact = (
            rounding_quantize(value, quantum_)  # ROUNDING's own mode: no keyword arguments
            if rounding == ROUND_HALF_EVEN
            else value.quantize(quantum_, rounding=rounding, context=ROUNDING)
        )
        return _money(exact, currency)

    @classmethod
    def from_str(cls, value: str) -> Money:
        """Parse ``"AMOUNT CURRENCY"``, e.g. ``"1.50 USD"`` or ``"0.1 XYZ:6"``."""
        amount, _, currency = value.strip().partition(" ")
        if not currency:
            raise InvalidValue(f"money must look like '1.50 USD', got {value!r}")
        return cls(amount, Currency.from_str(currency.strip()))

    @property
    def amount(self) -> Decimal:
        """The exact amount."""
        return self._amount

    @property
    def currency(self) -> Currency:
        """The currency."""
        return self._currency

    def as_float(self) -> float:
        """A float for charts; never feed it back into money arithmetic."""
        return float(self._amount)

    def is_zero(self) -> bool:
        """True for a zero amount."""
        return not self._amount

    def _same(self, other: Money, op: str) -> None:
        if other._currency != self._currency:
            raise InvalidValue(
                f"cannot {op} {other._currency.code} and {self._currency.code} money"
            )

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        currency = self._currency
        if other._currency is not currency:
            self._same(other, "add")
        return _money(exact_add(self._amount, other._amount), currency)

    def __sub__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        currency = self._currency
        if other._currency is not currency:
            self._same(other, "subtract")
        return _money(exact_subtract(self._amount, other._amount), currency)

    def __neg__(self) -> Money:
        return _money(-self._amount if self._amount else self._amount, self._currency)

    def __abs__(self) -> Money:
        return _money(abs(self._amount), self._currency)

    def __mul__(self, other: object) -> Decimal:
        if isinstance(other, Decimal):
            return exact_multiply(self._amount, other)
        if isinstance(other, int) and not isinstance(other, bool):
            return exact_multiply(self._amount, Decimal(other))
        return NotImplemented

    def __rmul__(self, other: object) -> Decimal:
        return self.__mul__(other)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Money)
            and other._currency == self._currency
            and other._amount == self._amount
        )

    def __hash__(self) -> int:
        return hash((self._amount, self._currency.code))

    def _cmp(self, other: object) -> Decimal:
        if not isinstance(other, Money):
            raise TypeError(f"cannot compare Money with {type(other).__name__}")
        self._same(other, "compare")
        return other._amount

    def __lt__(self, other: object) -> bool:
        return self._amount < self._cmp(other)

    def __le__(self, other: object) -> bool:
        return self._amount <= self._cmp(other)

    def __gt__(self, other: object) -> bool:
        return self._amount > self._cmp(other)

    def __ge__(self, other: object) -> bool:
        return self._amount >= self._cmp(other)

    def __str__(self) -> str:
        return f"{self._amount:f} {self._currency.to_str()}"

    def __repr__(self) -> str:
        return f"Money('{self._amount:f}', {self._currency.code})"

    def __reduce__(self) -> tuple[type[Money], tuple[str, Currency]]:
        return (Money, (f"{self._amount:f}", self._currency))


_QUANTA: Final = tuple(quantum(p) for p in range(MAX_PRECISION + 1))
_ZEROS: Final = tuple(q * 0 for q in _QUANTA)


def _money(amount: Decimal, currency: Currency) -> Money:
    """A ``Money`` from an amount already exact at the currency's precision (no checks)."""
    return Money(amount, currency, _exact=True)


freeze(Currency, Money)

"""Account balances: what an account holds per currency, checked to add up when built."""

from __future__ import annotations

import msgspec

from tradeforge.domain.errors import InvalidValue
from tradeforge.domain.identifiers import InstrumentId
from tradeforge.domain.money import Currency, Money

__all__ = ["AccountBalance", "MarginBalance"]


class AccountBalance(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """``total = free + locked`` in one currency; ``locked`` backs open orders."""

    total: Money
    locked: Money
    free: Money

    def __post_init__(self) -> None:
        currency = self.total.currency
        for field in ("locked", "free"):
            if getattr(self, field).currency != currency:
                raise InvalidValue(
                    f"balance {field} must be in {currency}, got {getattr(self, field)}"
                )
        if self.locked.amount < 0:
            raise InvalidValue(f"balance locked must not be negative, got {self.locked}")
        if self.free + self.locked != self.total:
            raise InvalidValue(
                f"balance total {self.total} must equal free {self.free} + locked {self.locked}"
            )

    @classmethod
    def of(cls, total: Money, locked: Money | None = None) -> AccountBalance:
        """A balance with ``locked`` (default zero) and free computed."""
        held = locked if locked is not None else Money.zero(total.currency)
        return cls(total=total, locked=held, free=total - held)

    @property
    def currency(self) -> Currency:
        """The currency of the balance."""
        return self.total.currency


class MarginBalance(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Margin held for positions (and orders) in one instrument, or account-wide when None."""

    initial: Money
    maintenance: Money
    instrument_id: InstrumentId | None = None

    def __post_init__(self) -> None:
        if self.initial.currency != self.maintenance.currency:
            raise InvalidValue(
                f"margin initial {self.initial} and maintenance {self.maintenance} "
                "must be in one currency"
            )
        if self.initial.amount < 0 or self.maintenance.amount < 0:
            raise InvalidValue(
                f"margin must not be negative: initial {self.initial}, "
                f"maintenance {self.maintenance}"
            )

    @property
    def currency(self) -> Currency:
        """The currency margin is held in."""
        return self.initial.currency

"""``VenueAccount``: the simulated venue's books for one account: balances, locks and settlement.

Cash (spot) accounts hold every currency: a buy pays notional + fee in the quote currency and
receives the base; a sell does the reverse. Margin accounts hold the settlement currency only: a
fill moves the balance by its realized PnL minus its fee, and open orders lock initial margin
(notional / leverage). Orders lock what they may spend when they are accepted; the lock shrinks as
they fill and is released when they end. An OCO group shares one lock (once one leg fills,
the others are canceled).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Final

from tradeforge.domain import (
    AccountBalance,
    AccountId,
    AccountStateChanged,
    AccountType,
    Currency,
    InstrumentKind,
    Money,
)

__all__ = ["VenueAccount"]

_ZERO: Final = Decimal(0)  # shared: building a Decimal costs more than reading one


class _Lock:
    __slots__ = ("amount", "currency", "members")

    def __init__(self, currency: Currency, amount: Decimal) -> None:
        self.currency = currency
        self.amount = amount
        self.members = 1


class VenueAccount:
    """Balances of one account at the simulated venue, exact to each currency's precision."""

    def __init__(
        self,
        account_id: AccountId,
        account_type: AccountType,
        balances: Iterable[Money],
        *,
        leverage: Decimal = Decimal(1),
        base_currency: Currency | None = None,
    ) -> None:
        self.id = account_id
        self.type = account_type
        self.leverage = leverage
        self.base_currency = base_currency
        self._total: dict[Currency, Decimal] = {}
        self._locked: dict[Currency, Decimal] = {}
        self._locks: dict[str, _Lock] = {}
        for money in balances:
            self._total[money.currency] = self._total.get(money.currency, _ZERO) + money.amount
            self._locked.setdefault(money.currency, _ZERO)

    def total(self, currency: Currency) -> Decimal:
        """Total balance in ``currency``."""
        return self._total.get(currency, _ZERO)

    def free(self, currency: Currency) -> Decimal:
        """Balance not locked by open orders."""
        return self._total.get(currency, _ZERO) - self._locked.get(currency, _ZERO)

    def currencies(self) -> list[Currency]:
        """Currencies the account has held, in first-seen order."""
        return list(self._total)

    # ---------------------------------------------------------------- locks
    def lock(self, key: str, currency: Currency, amount: Decimal) -> bool:
        """Lock ``amount`` under ``key`` if it is free; a second lock under an existing key joins
        it (an OCO group) and raises it to the larger amount. False when funds are short."""
        existing = self._locks.get(key)
        extra = amount if existing is None else max(_ZERO, amount - existing.amount)
        if extra > self.free(currency):
            return False
        if existing is None:
            self._locks[key] = _Lock(currency, amount)
        else:
            existing.amount += extra
            existing.members += 1
        self._locked[currency] = self._locked.get(currency, _ZERO) + extra
        return True

    def can_relock(self, key: str, amount: Decimal) -> bool:
        """Whether the lock under ``key`` could be set to ``amount`` (see ``relock``)."""
        lock = self._locks.get(key)
        if lock is None:
            return True
        return amount - lock.amount <= self.free(lock.currency)

    def relock(self, key: str, currency: Currency, amount: Decimal) -> bool:
        """Set the lock under ``key`` to ``amount`` (an order was changed); False when the
        extra is not free, in which case nothing changes."""
        lock = self._locks.get(key)
        if lock is None:
            return self.lock(key, currency, amount)
        extra = amount - lock.amount
        if extra > self.free(lock.currency):
            return False
        lock.amount = amount
        self._locked[lock.currency] += extra
        return True

    def use(self, key: str, amount: Decimal) -> None:
        """Part of a lock was spent by a fill: shrink it (never below zero)."""
        lock = self._locks.get(key)
        if lock is None:
            return
        used = min(amount, lock.amount)
        lock.amount -= used
        self._locked[lock.currency] -= used

    def release(self, key: str) -> None:
        """An order under ``key`` ended: release the lock when no member is left."""
        lock = self._locks.get(key)
        if lock is None:
            return
        lock.members -= 1
        if lock.members <= 0:
            self._locked[lock.currency] -= lock.amount
            del self._locks[key]

    def locked_under(self, key: str) -> Decimal:
        """What is still locked under ``key``."""
        lock = self._locks.get(key)
        return lock.amount if lock is not None else _ZERO

    # ----------------------------------------------------------- settlement
    def settle_spot(
        self, base: Currency | None, is_buy: bool, qty: Decimal, notional: Money, fee: Money
    ) -> list[Currency]:
        """Book a spot fill; returns the currencies that changed. ``base`` is None for
        instruments held as a position rather than a currency (shares)."""
        sign = 1 if is_buy else -1
        quote = notional.currency
        changed = [quote, fee.currency]
        if base is not None:
            self._add(base, sign * qty)
            changed.insert(0, base)
        self._add(quote, -sign * notional.amount)
        self._add(fee.currency, -fee.amount)
        return list(dict.fromkeys(changed))

    def settle_margin(self, realized: Money, fee: Money) -> list[Currency]:
        """Book a derivatives fill: realized PnL minus fee in the settlement currency."""
        self._add(realized.currency, realized.amount)
        self._add(fee.currency, -fee.amount)
        return (
            [realized.currency]
            if fee.currency == realized.currency
            else [realized.currency, fee.currency]
        )

    def _add(self, currency: Currency, amount: Decimal) -> None:
        self._total[currency] = self._total.get(currency, _ZERO) + amount
        self._locked.setdefault(currency, _ZERO)

    def _settle_spot_pair(
        self,
        base: Currency,
        quote: Currency,
        *,
        is_buy: bool,
        qty: Decimal,
        notional: Decimal,
        fee: Decimal,
    ) -> None:
        """``settle_spot`` of a currency pair whose fee is in the quote currency, both already
        held, without the report of what changed (the same operations, in the same order)."""
        total = self._total
        if is_buy:
            total[base] = total[base] + qty
            total[quote] = total[quote] - notional - fee
        else:
            total[base] = total[base] - qty
            total[quote] = total[quote] + notional - fee

    def uses_margin(self, kind: InstrumentKind) -> bool:
        """True when fills in ``kind`` settle PnL instead of exchanging currencies."""
        return self.type is AccountType.MARGIN and kind is not InstrumentKind.SPOT

    # -------------------------------------------------------------- reports
    def balance(self, currency: Currency) -> AccountBalance:
        """The balance in ``currency`` as a domain value."""
        total = Money.rounded(self.total(currency), currency)
        locked = Money.rounded(self._locked.get(currency, _ZERO), currency)
        return AccountBalance(total=total, locked=locked, free=total - locked)

    def to_event(
        self, ts: int, currencies: Iterable[Currency] | None = None
    ) -> AccountStateChanged:
        """Balances (all, or just ``currencies``) as an ``AccountStateChanged`` event."""
        chosen = list(self._total) if currencies is None else list(dict.fromkeys(currencies))
        return AccountStateChanged(
            account_id=self.id,
            account_type=self.type,
            base_currency=self.base_currency,
            balances=tuple(self.balance(c) for c in chosen),
            reported=True,
            ts_event=ts,
            ts_init=ts,
        )

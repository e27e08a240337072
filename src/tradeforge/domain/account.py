"""Accounts: balances per currency (and margins for margin accounts) with their invariants.

A cash account may never hold a negative total or free balance. A margin account may borrow, so
its balances may go negative, and it records margin held per instrument and its leverage.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from tradeforge.domain.balances import AccountBalance, MarginBalance
from tradeforge.domain.enums import AccountType
from tradeforge.domain.errors import InvalidValue
from tradeforge.domain.identifiers import AccountId, InstrumentId
from tradeforge.domain.money import Currency, Money
from tradeforge.domain.portfolio_events import AccountStateChanged

__all__ = ["Account", "CashAccount", "MarginAccount"]


class Account:
    """Balances of one account at one venue. Use ``CashAccount`` or ``MarginAccount``."""

    account_type: AccountType

    def __init__(
        self,
        account_id: AccountId,
        balances: Iterable[AccountBalance],
        *,
        base_currency: Currency | None = None,
    ) -> None:
        self.id = account_id
        self.base_currency = base_currency
        self._balances: dict[Currency, AccountBalance] = {}
        self.update_balances(balances)

    def update_balances(self, balances: Iterable[AccountBalance]) -> None:
        """Replace the balances of the currencies given; others stay."""
        new = list(balances)
        for balance in new:
            self._check(balance)
        for balance in new:
            self._balances[balance.currency] = balance

    def _check(self, balance: AccountBalance) -> None:
        del balance

    def balance(self, currency: Currency) -> AccountBalance | None:
        """The balance in ``currency`` (None if the account never held it)."""
        return self._balances.get(currency)

    def total(self, currency: Currency) -> Money:
        """Total in ``currency`` (zero if none)."""
        balance = self._balances.get(currency)
        return balance.total if balance is not None else Money.zero(currency)

    def free(self, currency: Currency) -> Money:
        """Free (not locked) in ``currency``."""
        balance = self._balances.get(currency)
        return balance.free if balance is not None else Money.zero(currency)

    def locked(self, currency: Currency) -> Money:
        """Locked for open orders in ``currency``."""
        balance = self._balances.get(currency)
        return balance.locked if balance is not None else Money.zero(currency)

    @property
    def balances(self) -> tuple[AccountBalance, ...]:
        """Every balance, in the order currencies first appeared."""
        return tuple(self._balances.values())

    def margins(self) -> tuple[MarginBalance, ...]:
        """Margins held (none for a cash account)."""
        return ()

    def to_event(self, ts_event: int, ts_init: int, *, reported: bool) -> AccountStateChanged:
        """The account as an ``AccountStateChanged`` event."""
        return AccountStateChanged(
            account_id=self.id,
            account_type=self.account_type,
            base_currency=self.base_currency,
            balances=self.balances,
            margins=self.margins(),
            reported=reported,
            ts_event=ts_event,
            ts_init=ts_init,
        )


class CashAccount(Account):
    """No borrowing: totals and free balances never go below zero."""

    account_type = AccountType.CASH

    def _check(self, balance: AccountBalance) -> None:
        if balance.total.amount < 0 or balance.free.amount < 0:
            raise InvalidValue(
                f"cash account {self.id}: {balance.currency} balance may not go negative "
                f"(total {balance.total}, free {balance.free})"
            )


class MarginAccount(Account):
    """Borrowing allowed; margin is held per instrument at a leverage."""

    account_type = AccountType.MARGIN

    def __init__(
        self,
        account_id: AccountId,
        balances: Iterable[AccountBalance],
        *,
        base_currency: Currency | None = None,
        default_leverage: Decimal = Decimal(1),
    ) -> None:
        super().__init__(account_id, balances, base_currency=base_currency)
        self._check_leverage(default_leverage)
        self.default_leverage = default_leverage
        self._leverages: dict[InstrumentId, Decimal] = {}
        self._margins: dict[InstrumentId | None, MarginBalance] = {}

    def _check_leverage(self, leverage: Decimal) -> None:
        if not isinstance(leverage, Decimal):
            raise InvalidValue(
                f"margin account {self.id}: leverage must be a Decimal, got {leverage!r}"
            )
        if not leverage.is_finite() or leverage < 1:
            raise InvalidValue(f"margin account {self.id}: leverage must be >= 1, got {leverage}")

    def set_leverage(self, instrument_id: InstrumentId, leverage: Decimal) -> None:
        """Use ``leverage`` for ``instrument_id``."""
        self._check_leverage(leverage)
        self._leverages[instrument_id] = leverage

    def leverage(self, instrument_id: InstrumentId) -> Decimal:
        """Leverage for ``instrument_id`` (the default unless set)."""
        return self._leverages.get(instrument_id, self.default_leverage)

    def update_margin(self, margin: MarginBalance) -> None:
        """Replace the margin held for ``margin.instrument_id``."""
        self._margins[margin.instrument_id] = margin

    def margin(self, instrument_id: InstrumentId | None) -> MarginBalance | None:
        """Margin held for ``instrument_id`` (None for account-wide)."""
        return self._margins.get(instrument_id)

    def margins(self) -> tuple[MarginBalance, ...]:
        """Every margin held."""
        return tuple(self._margins.values())

"""Credit (R5): what an order costs, the funds each account has left, and capital budgets.

The balance of an account in a currency comes from its last report (``AccountStateChanged``:
the total) and moves with our fills in between. Every open order reserves its cost from the
moment it passes the checks until it fills, is cancelled or dies, so what is left for a new order
is the balance minus every reservation. Using the total (not the venue's free amount, which
already excludes our accepted orders) counts each of our orders exactly once.

What an order costs:
- spot pair, buy: quantity x price x (1 + taker fee) of the quote currency;
- spot pair, sell: the quantity of the base currency;
- anything else: notional x ``margin_ratio`` of the settlement currency, nothing when the order
  only reduces the account's position.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from tradeforge.domain import (
    AccountId,
    AccountStateChanged,
    Currency,
    CurrencyPair,
    DenyReason,
    Instrument,
    InstrumentId,
    Money,
    OrderFilled,
    OrderSide,
)
from tradeforge.trading.risk_state import ScopeRuntime

if TYPE_CHECKING:  # risk_checks imports raw_notional from here
    from tradeforge.trading.risk_checks import Denial

__all__ = ["CashLedger", "check_budget", "order_cost", "raw_notional"]

_ZERO = Decimal(0)
_Key = tuple[AccountId | None, Currency]


def raw_notional(instrument: Instrument, quantity: Decimal, price: Decimal) -> Decimal:
    """Exact notional in the settlement currency (inverse: quantity x multiplier / price)."""
    size = quantity * instrument.multiplier.as_decimal()
    if instrument.is_inverse:
        return size / price if price > 0 else _ZERO
    return size * price


def order_cost(
    instrument: Instrument,
    side: OrderSide,
    quantity: Decimal,
    price: Decimal,
    *,
    margin_ratio: Decimal,
    reducing: bool,
) -> tuple[Currency, Decimal]:
    """The currency and amount an order reserves (see the module docstring)."""
    if isinstance(instrument, CurrencyPair):
        if side is OrderSide.SELL:
            return instrument.base_currency, quantity
        fee = max(_ZERO, instrument.taker_fee)
        return instrument.quote_currency, raw_notional(instrument, quantity, price) * (1 + fee)
    if reducing:
        return instrument.settlement_currency, _ZERO
    return instrument.settlement_currency, raw_notional(instrument, quantity, price) * margin_ratio


class CashLedger:
    """Balances per account and currency, and what open orders reserve of them."""

    def __init__(self) -> None:
        self._balances: dict[_Key, Decimal] = {}
        self._reserved: dict[_Key, Decimal] = {}

    def set_balance(self, account_id: AccountId | None, balance: Money) -> None:
        """The account's total in ``balance.currency`` is now ``balance``."""
        self._balances[(account_id, balance.currency)] = balance.amount

    def on_account_state(self, event: AccountStateChanged) -> None:
        """Take the reported totals as the account's balances."""
        for balance in event.balances:
            self.set_balance(event.account_id, balance.total)

    def balance(self, account_id: AccountId | None, currency: Currency) -> Decimal | None:
        """The balance, or None when none was reported."""
        return self._balances.get((account_id, currency))

    def reserved(self, account_id: AccountId | None, currency: Currency) -> Decimal:
        """What open orders reserve."""
        return self._reserved.get((account_id, currency), _ZERO)

    def available(self, account_id: AccountId | None, currency: Currency) -> Decimal | None:
        """Balance minus reservations; None when no balance is known."""
        key = (account_id, currency)
        balance = self._balances.get(key)
        if balance is None:
            return None
        return balance - self._reserved.get(key, _ZERO)

    def reserve(self, account_id: AccountId | None, currency: Currency, amount: Decimal) -> None:
        """Set ``amount`` aside for an order (a negative amount gives it back)."""
        if amount:
            key = (account_id, currency)
            self._reserved[key] = max(_ZERO, self._reserved.get(key, _ZERO) + amount)

    def on_fill(
        self, account_id: AccountId | None, instrument: Instrument | None, fill: OrderFilled
    ) -> None:
        """Move the balances by what the fill exchanged and the commission paid."""
        if isinstance(instrument, CurrencyPair):
            qty = fill.last_qty.as_decimal()
            value = raw_notional(instrument, qty, fill.last_px.as_decimal())
            sign = 1 if fill.order_side is OrderSide.BUY else -1
            self._move(account_id, instrument.base_currency, sign * qty)
            self._move(account_id, instrument.quote_currency, -sign * value)
        commission = fill.commission
        if commission.amount:
            self._move(account_id, commission.currency, -commission.amount)

    def _move(self, account_id: AccountId | None, currency: Currency, amount: Decimal) -> None:
        key = (account_id, currency)
        balance = self._balances.get(key)
        if balance is not None:
            self._balances[key] = balance + amount


def check_budget(
    runtime: ScopeRuntime,
    budget: Decimal,
    *,
    instrument: Instrument,
    side: OrderSide,
    quantity: Decimal,
    price: Decimal,
    instruments: Mapping[InstrumentId, Instrument],
    marks: Mapping[InstrumentId, Decimal],
) -> Denial | None:
    """R5, capital budget: the scope's worst-case exposure, valued at the latest prices (this
    order's price for its instrument), must stay within ``budget`` unless the order lowers it.

    Exposure per instrument is the larger of |position + open buys| and |position - open sells|;
    notionals of every instrument are summed as they are (one settlement currency assumed).
    """
    iid = instrument.id
    before = after = _ZERO
    seen = False
    for other, exposure in runtime.exposures.items():
        long, short = exposure.worst_long(), exposure.worst_short()
        worst = max(abs(long), abs(short))
        if other == iid:
            seen = True
            if side is OrderSide.BUY:
                long += quantity
            else:
                short -= quantity
            before += raw_notional(instrument, worst, price)
            after += raw_notional(instrument, max(abs(long), abs(short)), price)
            continue
        inst, mark = instruments.get(other), marks.get(other)
        if inst is not None and mark is not None:
            value = raw_notional(inst, worst, mark)
            before += value
            after += value
    if not seen:
        after += raw_notional(instrument, quantity, price)
    if after > budget and after > before:
        return DenyReason.STRATEGY_BUDGET, (
            f"{runtime.scope} worst-case exposure would be {after:f}, above its capital budget "
            f"{budget}"
        )
    return None

"""Portfolio valuation: what the account is worth now, in one base currency, exactly.

``value_portfolio`` turns the account's balances, the positions and the last prices into a
:class:`Valuation`:

- ``equity`` is every balance priced in the base currency: the base currency itself at 1, any
  other currency at the last price of an instrument trading it against the base (``BTC`` at
  ``BTC/USDT``'s last price, or ``1 / price`` of ``USDT/BTC``). A spot account holds its
  positions as balances, so they are in ``equity`` already; a currency with no such price yet
  is listed in ``unpriced`` and left out (never valued at 0 or a guess);
- ``positions_value`` is the open positions marked to the last price (part of ``equity``, not
  added to it), ``realized_pnl``, ``unrealized_pnl`` and ``fees`` are summed over every
  position, each converted the same way.

``ValuePoint`` is one point of the value time series the engine records, and
``ValuationStore`` the port it is kept through (``tradeforge.store`` implements it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Protocol

import msgspec

from tradeforge.domain import (
    AccountBalance,
    Currency,
    Instrument,
    InstrumentId,
    Money,
    Position,
    Price,
)

__all__ = ["Valuation", "ValuationStore", "ValuePoint", "convert", "value_portfolio"]

_ZERO = Decimal(0)


class Valuation(msgspec.Struct, frozen=True, kw_only=True):
    """The account's value at ``ts_ns`` (amounts in ``base_currency``, exact)."""

    ts_ns: int
    base_currency: str
    equity: Decimal
    cash: dict[str, Decimal]
    """Each currency's total balance (free + locked), in its own currency."""
    positions_value: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    fees: Decimal
    unpriced: tuple[str, ...] = ()
    """Currencies held with no price against the base yet (left out of the amounts)."""


class ValuePoint(msgspec.Struct, frozen=True, kw_only=True):
    """One point of the account's value time series."""

    ts_ns: int
    equity: Decimal


class ValuationStore(Protocol):
    """Where the value time series is kept across restarts."""

    def append_value(self, point: ValuePoint) -> None:
        """Keep one point."""
        ...

    def values(
        self, *, start_ns: int | None, end_ns: int | None, limit: int, newest: bool = False
    ) -> list[ValuePoint]:
        """Points with ``start_ns <= ts < end_ns``, oldest first: the first ``limit``, or the
        last ``limit`` with ``newest``."""
        ...


def convert(
    amount: Decimal,
    currency: Currency,
    base: Currency,
    instruments: Iterable[Instrument],
    last_price: Mapping[InstrumentId, Price],
) -> Decimal | None:
    """``amount`` of ``currency`` in ``base`` at the last prices, or None without a price."""
    if currency == base or amount == 0:
        return amount
    for inst in instruments:
        price = last_price.get(inst.id)
        if price is None or price.as_decimal() <= 0:
            continue
        held = getattr(inst, "base_currency", None)
        if held == currency and inst.quote_currency == base:
            return amount * price.as_decimal()
        if held == base and inst.quote_currency == currency:
            return amount / price.as_decimal()
    return None


def value_portfolio(
    *,
    ts_ns: int,
    base: Currency,
    balances: Mapping[str, AccountBalance],
    positions: Iterable[Position],
    instruments: Iterable[Instrument],
    last_price: Mapping[InstrumentId, Price],
) -> Valuation:
    """The account's value now (see the module docstring)."""
    known = list(instruments)
    unpriced: set[str] = set()

    def in_base(money: Money) -> Decimal:
        value = convert(money.amount, money.currency, base, known, last_price)
        if value is None:
            unpriced.add(money.currency.code)
            return _ZERO
        return value

    cash = {code: b.total.amount for code, b in sorted(balances.items())}
    equity = sum((in_base(b.total) for b in balances.values()), _ZERO)
    positions_value = realized = unrealized = fees = _ZERO
    for position in positions:
        realized += in_base(position.realized_pnl)
        fees += sum((in_base(fee) for fee in position.fees.values()), _ZERO)
        mark = last_price.get(position.instrument.id)
        if position.is_flat or mark is None:
            continue
        unrealized += in_base(position.unrealized_pnl(mark))
        notional = position.instrument.notional(position.quantity, mark)
        sign = 1 if position.signed_qty > 0 else -1
        positions_value += sign * in_base(notional)
    step = Decimal(1).scaleb(-base.precision)
    return Valuation(
        ts_ns=ts_ns,
        base_currency=base.code,
        equity=equity.quantize(step),
        cash=cash,
        positions_value=positions_value.quantize(step),
        realized_pnl=realized.quantize(step),
        unrealized_pnl=unrealized.quantize(step),
        fees=fees.quantize(step),
        unpriced=tuple(sorted(unpriced)),
    )

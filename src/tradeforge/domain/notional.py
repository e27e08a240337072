"""Notional and fee of a fill: the arithmetic behind ``Instrument.notional`` and ``.fee``.

Linear instruments: quantity x price x multiplier; inverse ones: quantity x multiplier / price
(inexact, rounded once). Both are rounded to the settlement currency's precision; a fee is the
exact notional times the maker or taker rate, rounded once. Compiled with mypyc (the backtest's
venue and positions call it on every fill); ``Instrument`` delegates here.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Final

from tradeforge.domain.enums import LiquiditySide
from tradeforge.domain.errors import InvalidValue
from tradeforge.domain.exact import (
    ROUNDING,
    exact_multiply,
    quantum,
    rounding_divide,
    rounding_multiply,
    rounding_quantize,
)
from tradeforge.domain.money import Money

if TYPE_CHECKING:
    from tradeforge.domain.instruments import Instrument

__all__ = ["fill_amounts", "fee", "notional", "raw_notional"]

_ONE: Final = Decimal(1)


def raw_notional(inst: Instrument, quantity: Decimal, price: Decimal) -> Decimal:
    """The exact (linear) or 60-digit (inverse) notional of ``quantity`` at ``price``."""
    multiplier = inst.multiplier.as_decimal()
    size = quantity if multiplier == _ONE else exact_multiply(quantity, multiplier)
    if not inst.is_inverse:
        return exact_multiply(size, price)
    if price <= 0:
        raise InvalidValue(f"{inst.id}: inverse notional needs a positive price, got {price}")
    return rounding_divide(size, price)  # inexact: the caller rounds once


def notional(
    inst: Instrument, quantity: Decimal, price: Decimal, rounding: str = ROUND_HALF_EVEN
) -> Money:
    """``raw_notional`` rounded to the settlement currency."""
    currency = inst.settlement_currency
    raw = _rounded(raw_notional(inst, quantity, price), currency.precision, rounding)
    return Money(raw, currency, _exact=True)


def fee(
    inst: Instrument,
    quantity: Decimal,
    price: Decimal,
    liquidity: LiquiditySide,
    rounding: str = ROUND_HALF_EVEN,
) -> Money:
    """Commission of a fill: exact notional x the maker or taker rate, rounded once."""
    return _fee_of(inst, raw_notional(inst, quantity, price), liquidity, rounding)


def fill_amounts(
    inst: Instrument, quantity: Decimal, price: Decimal, liquidity: LiquiditySide
) -> tuple[Money, Money]:
    """(notional, fee) of one fill, from one notional: what ``notional`` and ``fee`` give."""
    raw = raw_notional(inst, quantity, price)
    currency = inst.settlement_currency
    rounded = _rounded(raw, currency.precision, ROUND_HALF_EVEN)
    return Money(rounded, currency, _exact=True), _fee_of(inst, raw, liquidity, ROUND_HALF_EVEN)


def _fee_of(inst: Instrument, raw: Decimal, liquidity: LiquiditySide, rounding: str) -> Money:
    rate = inst.maker_fee if liquidity is LiquiditySide.MAKER else inst.taker_fee
    currency = inst.settlement_currency
    return Money(
        _rounded(rounding_multiply(raw, rate), currency.precision, rounding), currency, _exact=True
    )


def _rounded(value: Decimal, precision: int, rounding: str) -> Decimal:
    if rounding == ROUND_HALF_EVEN:  # ROUNDING's own mode: no keyword arguments to pass
        return rounding_quantize(value, quantum(precision))
    return value.quantize(quantum(precision), rounding=rounding, context=ROUNDING)

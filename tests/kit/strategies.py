"""Hypothesis strategies for exact values: ``Price``, ``Quantity``, ``Currency`` and ``Money``.

Values are drawn as a whole number of units at a precision, so they are exact by construction
and carry exactly that precision (``Decimal(123).scaleb(-2)`` is ``1.23``).
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

from tradeforge.domain import KNOWN_CURRENCIES, Currency, Instrument, Money, Price, Quantity

__all__ = [
    "MAX_UNITS",
    "currencies",
    "decimals_at",
    "instrument_prices",
    "instrument_quantities",
    "money",
    "precisions",
    "prices",
    "quantities",
]

# Values stay below 10**15 units: large enough to matter, small enough that any sum or product
# fits the 60 digits exact arithmetic allows.
MAX_UNITS = 10**15


def precisions(max_value: int = 9) -> st.SearchStrategy[int]:
    """Decimals after the point, 0..max_value."""
    return st.integers(min_value=0, max_value=max_value)


def decimals_at(
    precision: int, *, min_units: int = -MAX_UNITS, max_units: int = MAX_UNITS
) -> st.SearchStrategy[Decimal]:
    """Decimals with exactly ``precision`` decimals, between the given numbers of units."""
    return st.integers(min_value=min_units, max_value=max_units).map(
        lambda units: Decimal(units).scaleb(-precision)
    )


def prices(precision: int | None = None) -> st.SearchStrategy[Price]:
    """Prices (possibly negative) at ``precision``, or at a drawn precision."""
    chosen = st.just(precision) if precision is not None else precisions()
    return chosen.flatmap(lambda p: decimals_at(p).map(lambda d: Price(d, p)))


def quantities(precision: int | None = None) -> st.SearchStrategy[Quantity]:
    """Non-negative quantities at ``precision``, or at a drawn precision."""
    chosen = st.just(precision) if precision is not None else precisions()
    return chosen.flatmap(lambda p: decimals_at(p, min_units=0).map(lambda d: Quantity(d, p)))


_CODES = st.from_regex(r"\A[A-Z0-9]{1,16}\Z")


def currencies() -> st.SearchStrategy[Currency]:
    """Known currencies and made-up ones (any code, any precision)."""
    made_up = st.builds(Currency, _CODES, st.integers(min_value=0, max_value=18))
    return st.one_of(st.sampled_from(sorted(KNOWN_CURRENCIES.values(), key=str)), made_up)


def money(currency: Currency | None = None) -> st.SearchStrategy[Money]:
    """Amounts (possibly negative) in ``currency``, or in a drawn currency."""
    chosen = st.just(currency) if currency is not None else currencies()
    return chosen.flatmap(lambda c: decimals_at(c.precision).map(lambda amount: Money(amount, c)))


def instrument_prices(
    instrument: Instrument, *, min_ticks: int = 1, max_ticks: int = 10**7
) -> st.SearchStrategy[Price]:
    """Prices on ``instrument``'s tick."""
    tick = instrument.tick_size.as_decimal()
    return st.integers(min_value=min_ticks, max_value=max_ticks).map(
        lambda n: instrument.make_price(tick * n)
    )


def instrument_quantities(
    instrument: Instrument, *, min_lots: int = 1, max_lots: int = 10**5
) -> st.SearchStrategy[Quantity]:
    """Quantities on ``instrument``'s lot."""
    lot = instrument.lot_size.as_decimal()
    return st.integers(min_value=min_lots, max_value=max_lots).map(
        lambda n: instrument.make_qty(lot * n)
    )

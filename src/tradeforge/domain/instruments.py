"""Tradable instruments and the rounding rules they impose on prices, quantities and money.

An instrument is the one place where a float may become a ``Price`` or ``Quantity``: it rounds to
its tick or lot. Exact inputs (str, Decimal, int) that are off tick or lot are refused unless a
rounding mode is named. Notionals and fees are rounded to the settlement currency's precision.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

import msgspec

from tradeforge.domain.enums import InstrumentKind, LiquiditySide
from tradeforge.domain.errors import InvalidValue
from tradeforge.domain.exact import EXACT, round_to, to_decimal
from tradeforge.domain.identifiers import InstrumentId
from tradeforge.domain.money import Currency, Money
from tradeforge.domain.notional import fee as fee_of
from tradeforge.domain.notional import notional as notional_of
from tradeforge.domain.values import Price, Quantity

__all__ = [
    "AnyInstrument",
    "CurrencyPair",
    "Equity",
    "FuturesContract",
    "Instrument",
    "PerpetualContract",
]

_ONE = Quantity("1")


def _exact_input(field: str, value: float | str | int | Decimal) -> Decimal:
    if isinstance(value, float):
        # repr gives the shortest string that reads back as the same float: 0.1 -> "0.1".
        return to_decimal(field, repr(value))
    return to_decimal(field, value)


class Instrument(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag_field="type"):
    """What every instrument has. Use a concrete subclass."""

    id: InstrumentId
    raw_symbol: str
    quote_currency: Currency
    settlement_currency: Currency
    tick_size: Price
    lot_size: Quantity
    min_quantity: Quantity
    max_quantity: Quantity | None = None
    min_notional: Money | None = None
    multiplier: Quantity = _ONE
    maker_fee: Decimal = Decimal(0)
    taker_fee: Decimal = Decimal(0)
    is_inverse: bool = False
    ts_event: int = 0
    ts_init: int = 0

    def __post_init__(self) -> None:
        name = str(self.id)
        if self.tick_size <= 0:
            raise InvalidValue(f"{name}: tick_size must be positive, got {self.tick_size}")
        if self.lot_size <= 0:
            raise InvalidValue(f"{name}: lot_size must be positive, got {self.lot_size}")
        if self.multiplier <= 0:
            raise InvalidValue(f"{name}: multiplier must be positive, got {self.multiplier}")
        if not self._on_step(self.min_quantity.as_decimal(), self.lot_size.as_decimal()):
            raise InvalidValue(
                f"{name}: min_quantity {self.min_quantity} is not a multiple of "
                f"lot_size {self.lot_size}"
            )
        if self.max_quantity is not None and self.max_quantity < self.min_quantity:
            raise InvalidValue(
                f"{name}: max_quantity {self.max_quantity} is below min_quantity "
                f"{self.min_quantity}"
            )
        if self.min_notional is not None and self.min_notional.currency != self.quote_currency:
            raise InvalidValue(
                f"{name}: min_notional must be in {self.quote_currency}, got {self.min_notional}"
            )
        for field in ("maker_fee", "taker_fee"):
            rate = getattr(self, field)
            if not isinstance(rate, Decimal) or not rate.is_finite() or not -1 < rate < 1:
                raise InvalidValue(f"{name}: {field} must be a Decimal in (-1, 1), got {rate!r}")

    @property
    def kind(self) -> InstrumentKind:
        """Spot, perpetual, future or equity."""
        raise NotImplementedError

    @staticmethod
    def _on_step(value: Decimal, step: Decimal) -> bool:
        return not EXACT.remainder(value, step)

    @property
    def price_precision(self) -> int:
        """Decimals of a price (those of the tick size)."""
        return self.tick_size.precision

    @property
    def size_precision(self) -> int:
        """Decimals of a quantity (those of the lot size)."""
        return self.lot_size.precision

    def make_price(
        self, value: float | str | int | Decimal, *, rounding: str | None = None
    ) -> Price:
        """A price on this instrument's tick.

        Floats are rounded to the nearest tick (half-even unless ``rounding`` is given); exact
        inputs off the tick are refused unless ``rounding`` names a mode (e.g. ``ROUND_DOWN``).
        """
        raw = _exact_input("price", value)
        tick = self.tick_size.as_decimal()
        if isinstance(value, float) or rounding is not None:
            raw = round_to(raw, tick, rounding or ROUND_HALF_EVEN)
        elif not self._on_step(raw, tick):
            raise InvalidValue(
                f"price {value} is not a multiple of tick size {self.tick_size} for {self.id}"
            )
        return Price.from_decimal(raw, self.price_precision)

    def make_qty(
        self, value: float | str | int | Decimal, *, rounding: str | None = None
    ) -> Quantity:
        """A quantity on this instrument's lot; floats and ``rounding`` as for ``make_price``."""
        raw = _exact_input("quantity", value)
        lot = self.lot_size.as_decimal()
        if isinstance(value, float) or rounding is not None:
            raw = round_to(raw, lot, rounding or ROUND_HALF_EVEN)
        elif not self._on_step(raw, lot):
            raise InvalidValue(
                f"quantity {value} is not a multiple of lot size {self.lot_size} for {self.id}"
            )
        return Quantity.from_decimal(raw, self.size_precision)

    def is_on_tick(self, price: Price) -> bool:
        """True when ``price`` is a whole number of ticks."""
        return self._on_step(price.as_decimal(), self.tick_size.as_decimal())

    def is_on_lot(self, quantity: Quantity) -> bool:
        """True when ``quantity`` is a whole number of lots."""
        return self._on_step(quantity.as_decimal(), self.lot_size.as_decimal())

    def notional(
        self, quantity: Quantity, price: Price, *, rounding: str = ROUND_HALF_EVEN
    ) -> Money:
        """Value of ``quantity`` at ``price`` in the settlement currency, rounded to its precision.

        Linear: quantity x price x multiplier. Inverse: quantity x multiplier / price.
        """
        return notional_of(self, quantity.as_decimal(), price.as_decimal(), rounding)

    def fee_rate(self, liquidity: LiquiditySide) -> Decimal:
        """The maker or taker fee rate (negative is a rebate)."""
        return self.maker_fee if liquidity is LiquiditySide.MAKER else self.taker_fee

    def fee(
        self,
        quantity: Quantity,
        price: Price,
        liquidity: LiquiditySide,
        *,
        rounding: str = ROUND_HALF_EVEN,
    ) -> Money:
        """Commission for a fill: exact notional x fee rate, rounded once to the currency."""
        return fee_of(self, quantity.as_decimal(), price.as_decimal(), liquidity, rounding)


class CurrencyPair(Instrument, frozen=True, kw_only=True, tag=True):
    """A spot pair: buy ``base_currency`` with ``quote_currency``, e.g. BTC/USDT."""

    base_currency: Currency

    @property
    def kind(self) -> InstrumentKind:
        """Always SPOT."""
        return InstrumentKind.SPOT


class PerpetualContract(Instrument, frozen=True, kw_only=True, tag=True):
    """A perpetual swap on ``base_currency``; inverse when settled in the base."""

    base_currency: Currency

    @property
    def kind(self) -> InstrumentKind:
        """Always PERPETUAL."""
        return InstrumentKind.PERPETUAL


class FuturesContract(Instrument, frozen=True, kw_only=True, tag=True):
    """A dated future that trades from ``activation_ns`` and expires at ``expiration_ns``."""

    underlying: str
    activation_ns: int
    expiration_ns: int

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.expiration_ns <= self.activation_ns:
            raise InvalidValue(
                f"{self.id}: expiration_ns {self.expiration_ns} must be after "
                f"activation_ns {self.activation_ns}"
            )

    @property
    def kind(self) -> InstrumentKind:
        """Always FUTURE."""
        return InstrumentKind.FUTURE


class Equity(Instrument, frozen=True, kw_only=True, tag=True):
    """A listed share, quoted and settled in ``quote_currency``."""

    isin: str | None = None

    @property
    def kind(self) -> InstrumentKind:
        """Always EQUITY."""
        return InstrumentKind.EQUITY


AnyInstrument = CurrencyPair | PerpetualContract | FuturesContract | Equity

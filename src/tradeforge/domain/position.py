"""``Position``: quantity, cost basis and PnL of one instrument for one strategy, from its fills.

Money stays exact. Each fill's notional is the instrument's (rounded once to the settlement
currency), the same figure cash moves by, so realized PnL always reconciles with cash:

- opening or adding: ``cost += notional``;
- reducing by part: the cost removed is ``cost x closed / open`` rounded to the currency; closing
  the rest removes what is left, so nothing is lost to rounding;
- realized PnL is proceeds minus cost removed (sign reversed for a short, and for inverse
  instruments, whose notional is in the base currency);
- a fill larger than the position closes it and opens the other side with the remainder (netting);
  positions that may not flip (hedging) refuse such a fill.

Fees are kept apart from PnL: ``cash = initial + realized - fees``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from mypy_extensions import mypyc_attr

from tradeforge.domain.enums import OrderSide, PositionSide
from tradeforge.domain.errors import InvalidValue
from tradeforge.domain.exact import (
    exact_add,
    exact_remainder,
    exact_subtract,
    rounding_divide,
    rounding_multiply,
)
from tradeforge.domain.identifiers import AccountId, PositionId, StrategyId, TradeId
from tradeforge.domain.instruments import Instrument
from tradeforge.domain.money import Currency, Money
from tradeforge.domain.notional import notional as notional_of
from tradeforge.domain.orders.events import OrderFilled
from tradeforge.domain.portfolio_events import PositionChanged
from tradeforge.domain.values import Price, Quantity

__all__ = ["Position"]

_ZERO: Final = Decimal(
    0
)  # compared with a Decimal, not an int (which would be converted each time)


@mypyc_attr(acyclic=True)
class Position:
    """One position; change it only with ``apply(fill)``."""

    def __init__(
        self,
        position_id: PositionId,
        instrument: Instrument,
        strategy_id: StrategyId,
        *,
        account_id: AccountId | None = None,
        allow_flip: bool = True,
    ) -> None:
        self.id = position_id
        self.instrument = instrument
        self.strategy_id = strategy_id
        self.account_id = account_id
        self.allow_flip = allow_flip
        currency = instrument.settlement_currency
        self.signed_qty = Decimal(0)
        self._zero = Money.zero(currency)
        self.cost = self._zero
        self.realized_pnl = self._zero
        self.fees: dict[Currency, Money] = {}
        self.last_trade_id: TradeId | None = None
        self.ts_opened = 0
        self.ts_last = 0
        self.fill_count = 0

    @property
    def side(self) -> PositionSide:
        """LONG, SHORT or FLAT."""
        if self.signed_qty > 0:
            return PositionSide.LONG
        if self.signed_qty < 0:
            return PositionSide.SHORT
        return PositionSide.FLAT

    @property
    def quantity(self) -> Quantity:
        """Absolute size."""
        return Quantity(abs(self.signed_qty), self.instrument.size_precision)

    @property
    def is_flat(self) -> bool:
        """True with no open quantity."""
        return not self.signed_qty

    @property
    def avg_px_open(self) -> Decimal | None:
        """Average entry price (cost / size, to 28 digits), None when flat."""
        if not self.signed_qty:
            return None
        size = abs(self.signed_qty) * self.instrument.multiplier.as_decimal()
        if self.instrument.is_inverse:
            return size / self.cost.amount
        return self.cost.amount / size

    def apply(self, fill: OrderFilled) -> Money:
        """Book ``fill``; return the PnL it realized (zero when it only opened or added)."""
        instrument = self.instrument
        if fill.instrument_id is not instrument.id and fill.instrument_id != instrument.id:
            raise InvalidValue(
                f"position {self.id}: fill for {fill.instrument_id}, expected {instrument.id}"
            )
        qty = fill.last_qty.as_decimal()
        if exact_remainder(qty, instrument.lot_size.as_decimal()):
            raise InvalidValue(
                f"position {self.id}: fill quantity {fill.last_qty} is not a multiple of lot size "
                f"{instrument.lot_size}"
            )
        sign = 1 if fill.order_side is OrderSide.BUY else -1
        open_qty = abs(self.signed_qty)
        reducing = self.signed_qty and (self.signed_qty > _ZERO) != (sign > 0)
        if reducing and qty > open_qty and not self.allow_flip:
            raise InvalidValue(
                f"position {self.id}: fill of {fill.last_qty} would take {self.side} "
                f"{open_qty} through zero, and this position may not flip"
            )
        notional = notional_of(instrument, qty, fill.last_px.as_decimal())
        realized = self._zero
        if not reducing:
            if not self.signed_qty:
                self.ts_opened = fill.ts_event
            self.cost = self.cost + notional
        else:
            closed = min(qty, open_qty)
            realized = self._close(closed, open_qty, fill.last_px, notional, qty)
            if qty > open_qty:
                self.ts_opened = fill.ts_event
        # Exactly signed_qty + sign x qty.
        self.signed_qty = (
            exact_add(self.signed_qty, qty) if sign > 0 else exact_subtract(self.signed_qty, qty)
        )
        fee = fill.commission
        fees = self.fees
        held = fees.get(fee.currency)
        fees[fee.currency] = fee if held is None else held + fee
        if realized is not self._zero:
            self.realized_pnl = self.realized_pnl + realized
        self.last_trade_id = fill.trade_id
        self.ts_last = fill.ts_event
        self.fill_count += 1
        return realized

    def _close(
        self, closed: Decimal, open_qty: Decimal, price: Price, notional: Money, qty: Decimal
    ) -> Money:
        was_long = self.signed_qty > _ZERO
        if closed == open_qty:
            removed = self.cost
        else:
            share = rounding_divide(rounding_multiply(self.cost.amount, closed), open_qty)
            removed = Money.rounded(share, self.cost.currency)
        if closed == qty:
            proceeds = notional
            reopened = None
        else:  # flip: the closing part's notional, the rest opens the other side
            proceeds = notional_of(self.instrument, closed, price.as_decimal())
            reopened = notional - proceeds
        gain = proceeds - removed
        if not was_long:
            gain = -gain
        if self.instrument.is_inverse:
            gain = -gain
        self.cost = self.cost - removed
        if reopened is not None:
            self.cost = reopened
        return gain

    def unrealized_pnl(self, mark: Price) -> Money:
        """PnL if the open quantity were closed at ``mark`` (zero when flat)."""
        if not self.signed_qty:
            return Money.zero(self.cost.currency)
        value = self.instrument.notional(self.quantity, mark)
        gain = value - self.cost
        if self.signed_qty < 0:
            gain = -gain
        return -gain if self.instrument.is_inverse else gain

    def to_event(self, ts_init: int) -> PositionChanged:
        """The position as a ``PositionChanged`` event."""
        return PositionChanged(
            position_id=self.id,
            instrument_id=self.instrument.id,
            strategy_id=self.strategy_id,
            account_id=self.account_id,
            side=self.side,
            quantity=self.quantity,
            avg_px_open=self.avg_px_open,
            cost=self.cost,
            realized_pnl=self.realized_pnl,
            fees=tuple(self.fees.values()),
            last_trade_id=self.last_trade_id,
            ts_opened=self.ts_opened,
            ts_event=self.ts_last,
            ts_init=ts_init,
        )

    def __repr__(self) -> str:
        return (
            f"Position({self.id}, {self.side} {self.quantity}, cost={self.cost}, "
            f"realized={self.realized_pnl})"
        )

"""``TradeRecorder``: turns fills into round-trip trades, per strategy and instrument.

A trade opens when a position leaves flat and closes when it returns to flat; a fill that flips
the position closes one trade and opens the next, its commission split by quantity (rounded to
the currency, the remainder to the new trade, so fees still add up exactly).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Final

from tradeforge.backtest.trade_log import TradeLog
from tradeforge.domain import (
    Instrument,
    InstrumentId,
    Money,
    OrderFilled,
    OrderSide,
    PositionSide,
    StrategyId,
)
from tradeforge.domain.exact import rounding_divide, rounding_multiply

__all__ = ["TradeRecorder"]

_ZERO: Final = Decimal(0)  # shared: building a Decimal costs more than reading one


class _Open:
    __slots__ = (
        "entry_notional",
        "entry_qty",
        "exit_notional",
        "exit_qty",
        "fees",
        "pnl",
        "side",
        "ts",
    )

    def __init__(self, side: PositionSide, ts: int, fee: Money, pnl: Money) -> None:
        self.side = side
        self.ts = ts
        self.entry_notional = _ZERO
        self.entry_qty = _ZERO
        self.exit_notional = _ZERO
        self.exit_qty = _ZERO
        self.fees = fee
        self.pnl = pnl


class TradeRecorder:
    """Round trips from a stream of fills and the PnL each realized."""

    def __init__(self, instruments: Mapping[InstrumentId, Instrument]) -> None:
        self.trades = TradeLog()
        self._instruments = instruments
        self._open: dict[tuple[StrategyId, InstrumentId], _Open] = {}

    def on_fill(self, fill: OrderFilled, before: Decimal, realized: Money) -> None:
        """Book ``fill``; ``before`` is the signed position before it, ``realized`` its PnL."""
        key = (fill.strategy_id, fill.instrument_id)
        qty = fill.last_qty.as_decimal()
        px = fill.last_px.as_decimal()
        is_buy = fill.order_side is OrderSide.BUY
        fee = fill.commission
        increases = not before or (before > _ZERO) == is_buy
        if increases:
            trade = self._open.get(key)
            if trade is None:
                side = PositionSide.LONG if is_buy else PositionSide.SHORT
                trade = self._open[key] = _Open(side, fill.ts_event, fee, realized - realized)
            else:
                trade.fees = trade.fees + fee
            trade.entry_notional += qty * px
            trade.entry_qty += qty
            return
        trade = self._open[key]
        closed = min(qty, abs(before))
        closing_fee = fee
        if closed < qty:
            share = rounding_divide(rounding_multiply(fee.amount, closed), qty)
            closing_fee = Money.rounded(share, fee.currency)
        trade.exit_notional += closed * px
        trade.exit_qty += closed
        trade.fees = trade.fees + closing_fee
        trade.pnl = trade.pnl + realized
        if closed == abs(before):
            self._finish(key, trade, fill)
        if closed < qty:
            side = PositionSide.LONG if is_buy else PositionSide.SHORT
            fresh = self._open[key] = _Open(
                side, fill.ts_event, fee - closing_fee, realized - realized
            )
            fresh.entry_notional = (qty - closed) * px
            fresh.entry_qty = qty - closed

    def _finish(
        self, key: tuple[StrategyId, InstrumentId], trade: _Open, fill: OrderFilled
    ) -> None:
        del self._open[key]
        self.trades.append(
            instrument=self._instruments[fill.instrument_id],
            strategy_id=fill.strategy_id,
            side=trade.side,
            quantity=trade.entry_qty,
            entry_ts=trade.ts,
            exit_ts=fill.ts_event,
            entry_notional=trade.entry_notional,
            exit_notional=trade.exit_notional,
            pnl=trade.pnl,
            fees=trade.fees,
        )

    @property
    def open_count(self) -> int:
        """Trades still open."""
        return len(self._open)

"""``strategy_performance``: how one strategy of a node is doing, live.

Read from the node's positions (marked to the last price) and OMS: per instrument the signed
position, its average open price, realised and unrealised PnL and fees; in total (in the
node's base currency, converted at the last prices like the portfolio) realised and
unrealised PnL and fees, the fills and orders, and the orders open now.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import msgspec

from tradeforge.domain import StrategyId
from tradeforge.trading.valuation import convert

if TYPE_CHECKING:
    from tradeforge.engine.node import TradingNode

__all__ = ["InstrumentPerformance", "StrategyPerformance", "strategy_performance"]

_ZERO = Decimal(0)


class InstrumentPerformance(msgspec.Struct, frozen=True, kw_only=True):
    """A strategy's position in one instrument (amounts in the instrument's settlement
    currency)."""

    instrument_id: str
    quantity: Decimal
    avg_px_open: Decimal | None
    last_price: Decimal | None
    realized_pnl: Decimal
    unrealized_pnl: Decimal | None
    fees: Decimal
    currency: str


class StrategyPerformance(msgspec.Struct, frozen=True, kw_only=True):
    """A strategy's live performance (totals in ``base_currency``)."""

    strategy_id: str
    ts_ns: int
    base_currency: str
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    fees: Decimal
    fills: int
    orders: int
    open_orders: int
    positions: list[InstrumentPerformance]


def strategy_performance(node: TradingNode, strategy_id: StrategyId) -> StrategyPerformance:
    """The strategy's performance now (see the module docstring)."""
    base = node.base_currency
    instruments = list(node.instruments.values())
    prices = node.last_prices
    realized = unrealized = fees = _ZERO
    fills = 0
    rows = []
    for position in node.positions or []:
        if position.strategy_id != strategy_id:
            continue
        mark = prices.get(position.instrument.id)
        fills += position.fill_count
        own_fees = sum((f.amount for f in position.fees.values()), _ZERO)
        upnl = position.unrealized_pnl(mark) if mark is not None and not position.is_flat else None
        currency = position.realized_pnl.currency
        rows.append(
            InstrumentPerformance(
                instrument_id=str(position.instrument.id),
                quantity=position.signed_qty,
                avg_px_open=None if position.is_flat else position.avg_px_open,
                last_price=mark.as_decimal() if mark is not None else None,
                realized_pnl=position.realized_pnl.amount,
                unrealized_pnl=upnl.amount if upnl is not None else None,
                fees=own_fees,
                currency=currency.code,
            )
        )
        realized += convert(position.realized_pnl.amount, currency, base, instruments, prices) or 0
        if upnl is not None:
            unrealized += convert(upnl.amount, currency, base, instruments, prices) or 0
        for fee in position.fees.values():
            fees += convert(fee.amount, fee.currency, base, instruments, prices) or 0
    orders = [o for o in node.oms if o.strategy_id == strategy_id]
    step = Decimal(1).scaleb(-base.precision)
    return StrategyPerformance(
        strategy_id=strategy_id.value,
        ts_ns=node.clock.timestamp_ns(),
        base_currency=base.code,
        realized_pnl=realized.quantize(step),
        unrealized_pnl=unrealized.quantize(step),
        fees=fees.quantize(step),
        fills=fills,
        orders=len(orders),
        open_orders=sum(1 for o in orders if o.is_open),
        positions=sorted(rows, key=lambda r: r.instrument_id),
    )

"""The bodies of the ``positions`` and ``portfolio`` resources: positions, the account's value
and its time series.
"""

from __future__ import annotations

from tradeforge.gateway.schema_base import DecimalStr, FrozenOut

__all__ = ["PortfolioOut", "PortfolioPointOut", "PositionOut"]


class PositionOut(FrozenOut):
    """A strategy's position in an instrument."""

    strategy_id: str
    instrument_id: str
    quantity: DecimalStr
    avg_px_open: DecimalStr | None
    realized_pnl: DecimalStr
    unrealized_pnl: DecimalStr | None
    last_price: DecimalStr | None


class PortfolioOut(FrozenOut):
    """The account's value now, in ``base_currency``: ``equity`` is every balance priced at the
    last prices (positions are held as balances, so they are in it); ``cash`` is each
    currency's total balance in that currency; ``positions_value`` the open positions marked to
    the last price (part of ``equity``); PnL and ``fees`` summed over every position;
    ``unpriced`` lists currencies with no price against the base yet (left out)."""

    base_currency: str
    equity: DecimalStr
    cash: dict[str, DecimalStr]
    positions_value: DecimalStr
    realized_pnl: DecimalStr
    unrealized_pnl: DecimalStr
    fees: DecimalStr
    unpriced: list[str]
    ts: str


class PortfolioPointOut(FrozenOut):
    """One point of the value time series (``ts`` ISO-8601 UTC, whole milliseconds)."""

    ts: str
    equity: DecimalStr

"""Events about holdings: a position changed, an account's balances changed."""

from __future__ import annotations

from decimal import Decimal

from tradeforge.domain.balances import AccountBalance, MarginBalance
from tradeforge.domain.enums import AccountType, PositionSide
from tradeforge.domain.identifiers import (
    AccountId,
    InstrumentId,
    PositionId,
    StrategyId,
    TradeId,
)
from tradeforge.domain.messages import Message
from tradeforge.domain.money import Currency, Money
from tradeforge.domain.values import Quantity

__all__ = ["AccountStateChanged", "PositionChanged"]


class PositionChanged(Message, frozen=True, kw_only=True, tag=True):
    """A position after a fill; ``side`` FLAT means it closed."""

    position_id: PositionId
    instrument_id: InstrumentId
    strategy_id: StrategyId
    account_id: AccountId | None
    side: PositionSide
    quantity: Quantity
    avg_px_open: Decimal | None
    cost: Money
    realized_pnl: Money
    fees: tuple[Money, ...]
    last_trade_id: TradeId | None
    ts_opened: int

    @property
    def is_flat(self) -> bool:
        """True when the position is closed."""
        return self.side is PositionSide.FLAT

    @property
    def signed_qty(self) -> Decimal:
        """Quantity, negative when short."""
        qty = self.quantity.as_decimal()
        return -qty if self.side is PositionSide.SHORT else qty


class AccountStateChanged(Message, frozen=True, kw_only=True, tag=True):
    """An account's balances (and margins) now; ``reported`` is True when the venue said so."""

    account_id: AccountId
    account_type: AccountType
    base_currency: Currency | None
    balances: tuple[AccountBalance, ...]
    margins: tuple[MarginBalance, ...] = ()
    reported: bool = True

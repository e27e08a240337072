"""The runtime state pre-trade risk keeps per scope, and its persistable form.

``ScopeRuntime`` holds, for the node, one account or one strategy: its exposure per instrument
(position and open orders), its open-order count, its message and fill logs, its trading state,
its kill switch, whether the execution throttle disabled it, and its PnL track.

``RiskState`` is what must survive a restart: trading states, kill switches, disabled scopes,
recent fill times and PnL tracks. Positions and open orders are not in it: after a restart they
come back from the journal and the venue (``RiskEngine.adopt_order`` / ``set_position``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal

import msgspec

from tradeforge.domain import (
    AccountId,
    ClientOrderId,
    Currency,
    DenyReason,
    InstrumentId,
    OrderSide,
    StrategyId,
)
from tradeforge.trading.pnl_guard import PnlTrack
from tradeforge.trading.price_window import PriceRange, SizeStats
from tradeforge.trading.scope import Scope
from tradeforge.trading.throttle import SECOND_NS, RollingLog

__all__ = [
    "Activation",
    "Exposure",
    "OpenOrder",
    "OpenOrderRef",
    "RiskState",
    "ScopeRecord",
    "ScopeRuntime",
    "TradingState",
]

_ZERO = Decimal(0)


class TradingState(enum.StrEnum):
    """ACTIVE: every order; REDUCING: only exposure-reducing ones; HALTED: only cancels."""

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


class Activation(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """When, by whom and why something was switched on."""

    ts_ns: int
    by: str
    reason: str


@dataclass(slots=True)
class Exposure:
    """A scope's position in one instrument and the leaves of its open orders (all >= 0 but
    ``position``, which is signed)."""

    position: Decimal = _ZERO
    open_buy: Decimal = _ZERO
    open_sell: Decimal = _ZERO

    def worst_long(self) -> Decimal:
        """The position if every open buy fills."""
        return self.position + self.open_buy

    def worst_short(self) -> Decimal:
        """The position if every open sell fills."""
        return self.position - self.open_sell

    def reduces(self, side: OrderSide, quantity: Decimal) -> bool:
        """True when ``quantity`` more on ``side`` cannot grow the position or flip it, even
        with every open order of that side filled."""
        if side is OrderSide.SELL:
            return self.position > 0 and self.open_sell + quantity <= self.position
        return self.position < 0 and self.open_buy + quantity <= -self.position


class ScopeRuntime:
    """Everything risk tracks for one scope."""

    __slots__ = (
        "cancels",
        "disabled",
        "exposures",
        "fills",
        "kill",
        "modifies",
        "open_orders",
        "pnl",
        "prices",
        "scope",
        "sizes",
        "state",
        "state_cause",
        "state_since",
        "submits",
    )

    def __init__(self, scope: Scope, execution_window_ns: int) -> None:
        self.scope = scope
        self.open_orders = 0
        self.exposures: dict[InstrumentId, Exposure] = {}
        self.submits = RollingLog(SECOND_NS)
        self.modifies = RollingLog(SECOND_NS)
        self.cancels = RollingLog(SECOND_NS)
        self.fills = RollingLog(execution_window_ns)
        self.state = TradingState.ACTIVE
        self.state_since: Activation | None = None
        self.state_cause: DenyReason | None = None
        self.kill: Activation | None = None
        self.disabled: Activation | None = None
        self.pnl: PnlTrack | None = None
        # per strategy: recent accepted prices per (instrument, side) and order sizes
        self.prices: dict[tuple[InstrumentId, OrderSide], PriceRange] = {}
        self.sizes: dict[InstrumentId, SizeStats] = {}

    def exposure(self, instrument_id: InstrumentId) -> Exposure:
        """The scope's exposure in ``instrument_id`` (created flat)."""
        found = self.exposures.get(instrument_id)
        if found is None:
            found = self.exposures[instrument_id] = Exposure()
        return found

    @property
    def blocked(self) -> bool:
        """True when something other than ACTIVE applies to new orders."""
        return (
            self.kill is not None
            or self.disabled is not None
            or self.state is not TradingState.ACTIVE
        )

    def record(self) -> ScopeRecord | None:
        """The persistable part, or None when there is nothing to keep."""
        fills = self.fills.times()
        if not (self.blocked or fills or self.pnl is not None):
            return None
        return ScopeRecord(
            scope=str(self.scope),
            trading_state=self.state,
            state_since=self.state_since,
            state_cause=self.state_cause,
            kill_switch=self.kill,
            disabled=self.disabled,
            fills=fills,
            pnl=None if self.pnl is None else msgspec.structs.replace(self.pnl),
        )

    def load(self, record: ScopeRecord) -> None:
        """Take the persisted part back."""
        self.state = record.trading_state
        self.state_since = record.state_since
        self.state_cause = record.state_cause
        self.kill = record.kill_switch
        self.disabled = record.disabled
        self.fills = RollingLog(self.fills.window_ns, list(record.fills))
        self.pnl = None if record.pnl is None else msgspec.structs.replace(record.pnl)


class ScopeRecord(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One scope's persisted risk state."""

    scope: str
    trading_state: TradingState = TradingState.ACTIVE
    state_since: Activation | None = None
    state_cause: DenyReason | None = None
    kill_switch: Activation | None = None
    disabled: Activation | None = None  # by the execution throttle, until re-enabled
    fills: list[int] = msgspec.field(default_factory=list)
    pnl: PnlTrack | None = None


class RiskState(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What pre-trade risk must keep across a restart (see the module docstring)."""

    version: int = 1
    scopes: list[ScopeRecord] = msgspec.field(default_factory=list)


class OpenOrderRef(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """An open order the kill switch wants cancelled: enough to build its ``CancelOrder``."""

    client_order_id: ClientOrderId
    strategy_id: StrategyId
    instrument_id: InstrumentId
    account_id: AccountId | None


@dataclass(slots=True, eq=False)
class OpenOrder:
    """An order risk counts as open: from passing the checks until its last event."""

    client_order_id: ClientOrderId
    strategy_id: StrategyId
    instrument_id: InstrumentId
    account_id: AccountId | None
    side: OrderSide
    quantity: Decimal  # what is counted: the venue's quantity, or more while a modify is pending
    confirmed: Decimal  # the quantity the venue last confirmed
    filled: Decimal
    price: Decimal | None
    reserved: Decimal  # funds reserved for the leaves (R5), in ``currency``
    currency: Currency | None
    runtimes: tuple[ScopeRuntime, ScopeRuntime, ScopeRuntime]

    @property
    def leaves(self) -> Decimal:
        """Counted quantity not filled yet."""
        return self.quantity - self.filled

    def ref(self) -> OpenOrderRef:
        """The reference handed out for cancelling."""
        return OpenOrderRef(
            client_order_id=self.client_order_id,
            strategy_id=self.strategy_id,
            instrument_id=self.instrument_id,
            account_id=self.account_id,
        )

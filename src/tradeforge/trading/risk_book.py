"""``RiskBook``: the state pre-trade risk reads, kept up to date by what the node feeds it.

Open orders and exposure per scope (``ExposureLedger``), balances and reservations
(``CashLedger``), reference prices, trading states, kill switches, throttle windows and PnL
tracks (``ScopeRegistry``), the audit log, and the configuration in force with its limits
resolved per route. ``RiskEngine`` adds the checks on top; use that class.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from decimal import Decimal
from typing import Any

import msgspec

from tradeforge.bus import Clock
from tradeforge.domain import (
    AccountId,
    AccountStateChanged,
    ClientOrderId,
    ConfigurationError,
    Currency,
    DenyReason,
    Instrument,
    InstrumentId,
    Money,
    Order,
    OrderCanceled,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderModifyRejected,
    OrderRejected,
    OrderSide,
    OrderUpdated,
    OrderView,
    Price,
    QuoteTick,
    StrategyId,
    TradeTick,
)
from tradeforge.trading.audit import AuditCallback, AuditEntry, AuditLog
from tradeforge.trading.credit import CashLedger, order_cost
from tradeforge.trading.exposure import ExposureLedger
from tradeforge.trading.kill_switch import KillSwitch
from tradeforge.trading.pnl_guard import PnlTrack
from tradeforge.trading.risk_checks import Denial
from tradeforge.trading.risk_config import Limits, RiskConfig, config_changes
from tradeforge.trading.risk_limits import (
    ConfigTraits,
    Levels,
    ResolvedLimits,
    resolve,
    scope_limits,
)
from tradeforge.trading.risk_state import Exposure, OpenOrder, RiskState, ScopeRuntime
from tradeforge.trading.scope import GLOBAL, Scope, ScopeKind
from tradeforge.trading.scope_registry import ScopeRegistry
from tradeforge.trading.trading_state import TradingStates

__all__ = ["MS", "Route", "RiskBook"]

MS = 1_000_000  # nanoseconds per millisecond
_MS = MS
_ZERO = Decimal(0)
_TWO = Decimal(2)
_CLOSING = frozenset({OrderDenied, OrderRejected, OrderCanceled, OrderExpired})


class Route:
    """An (account, strategy) pair: its three scope runtimes and the limits of each level."""

    __slots__ = ("account_id", "levels", "runtimes", "strategy_id")

    def __init__(
        self,
        account_id: AccountId | None,
        strategy_id: StrategyId,
        levels: Levels,
        runtimes: tuple[ScopeRuntime, ScopeRuntime, ScopeRuntime],
    ) -> None:
        self.account_id = account_id
        self.strategy_id = strategy_id
        self.levels = levels
        self.runtimes = runtimes


class RiskBook:
    """The state the checks read; see the module docstring."""

    def __init__(
        self,
        config: RiskConfig | None = None,
        *,
        clock: Clock | None = None,
        track: bool | None = None,
        on_audit: AuditCallback | None = None,
    ) -> None:
        config = config or RiskConfig()
        self._clock = clock
        self._track = track
        self._audit = AuditLog(on_audit)
        self._registry = ScopeRegistry(config.execution_window_ms * _MS)
        self._ledger = ExposureLedger()
        self._cash = CashLedger()
        self.kill_switch = KillSwitch(self._registry, self._ledger, self._now, self._audit)
        """Kill switches: ``activate(scope, by=, reason=)``, ``release``, ``open_orders``."""
        self.states = TradingStates(self._registry, self._now, self._audit)
        """Trading states: ``set(scope, state, by=, reason=)``, ``get``, ``enable``."""
        self._references: dict[InstrumentId, tuple[Decimal, int]] = {}
        self._marks: dict[InstrumentId, Decimal] = {}
        self._instruments: dict[InstrumentId, Instrument] = {}
        self._seen: set[ClientOrderId] = set()
        self._seen_order: deque[ClientOrderId] = deque()
        self._routes: dict[tuple[AccountId | None, StrategyId], Route] = {}
        self._resolved: dict[tuple[AccountId | None, StrategyId, InstrumentId], ResolvedLimits]
        self._resolved = {}
        self._install(config)

    # ------------------------------------------------------------------ configuration
    def _install(self, config: RiskConfig) -> None:
        traits = ConfigTraits(config)
        tracking = traits.stateful if self._track is None else self._track
        if self._clock is None and (tracking or config.reference_max_age_ms is not None):
            raise ConfigurationError(
                "risk: the configured controls (rates, windows, positions, stale references) "
                "need a clock: pass RiskEngine(config, clock=...)"
            )
        self._config = config
        self._tracking = tracking
        self._quiet = not (tracking or traits.limited)
        self._needs_reference = traits.needs_reference
        self._routes.clear()
        self._resolved.clear()
        self._registry.set_execution_window(config.execution_window_ms * _MS)

    @property
    def config(self) -> RiskConfig:
        """The limits in force."""
        return self._config

    @property
    def tracking(self) -> bool:
        """True when the engine counts orders and must be fed their events."""
        return self._tracking

    @property
    def needs_reference(self) -> bool:
        """True when some check needs a reference price (the backtester passes its last price)."""
        return self._needs_reference

    def update_config(self, config: RiskConfig, *, by: str, reason: str) -> AuditEntry:
        """R18: new limits from the next order on, without a restart; audited with the changes.

        Orders already open stay counted; a control that starts tracking now counts orders
        from now on (run the node with ``track=True`` so that every control sees them all).
        """
        changes = config_changes(self._config, config)
        self._install(config)
        return self._audit.record(
            AuditEntry(
                ts_ns=self._now(),
                actor=by,
                action="limits.update",
                scope=str(GLOBAL),
                reason=reason,
                details=changes,
            )
        )

    # ------------------------------------------------------------------ what the node feeds
    def on_order_event(self, event: OrderEvent) -> None:
        """Follow an order's life: fills move exposure to positions and count executions (R8);
        cancels, rejections, expiries and denials release what the order held."""
        if not self._tracking:
            return
        kind = type(event)
        if kind is OrderFilled:
            self._on_fill(event)  # type: ignore[arg-type]
        elif kind in _CLOSING:
            self.release(event.client_order_id)
        elif kind is OrderUpdated:
            self._on_updated(event)  # type: ignore[arg-type]
        elif kind is OrderModifyRejected:
            order = self._ledger.get(event.client_order_id)
            if order is not None:  # back to what the venue holds
                self._ledger.resize(order, order.confirmed)
                self._reserve_leaves(order)

    def release(self, client_order_id: ClientOrderId) -> None:
        """Stop counting an order that passed but will not work (not sent, or it ended)."""
        order = self._ledger.close(client_order_id)
        if order is not None and order.currency is not None:
            self._cash.reserve(order.account_id, order.currency, -order.reserved)
            order.reserved = _ZERO

    def _set_reserve(self, order: OpenOrder, currency: Currency, amount: Decimal) -> None:
        if order.currency is not None:
            self._cash.reserve(order.account_id, order.currency, -order.reserved)
        order.currency, order.reserved = currency, amount
        self._cash.reserve(order.account_id, currency, amount)

    def _on_updated(self, event: OrderUpdated) -> None:
        order = self._ledger.get(event.client_order_id)
        if order is None:
            return
        quantity = event.quantity.as_decimal()
        order.confirmed = quantity
        self._ledger.resize(order, quantity)
        moved = event.price or event.trigger_price
        if moved is not None:
            order.price = moved.as_decimal()
        self._reserve_leaves(order)

    def _reserve_leaves(self, order: OpenOrder) -> None:
        """Reserve exactly what the order's leaves cost at its price."""
        instrument = self._instruments.get(order.instrument_id)
        if instrument is not None and order.price is not None:
            route = self._route(order.account_id, order.strategy_id)
            currency, cost = self._cost(route, instrument, order.side, order.leaves, order.price)
            self._set_reserve(order, currency, cost)

    def _on_fill(self, fill: OrderFilled) -> None:
        qty = fill.last_qty.as_decimal()
        iid = fill.instrument_id
        order = self._ledger.get(fill.client_order_id)
        if order is not None:
            account_id = order.account_id
            runtimes = order.runtimes
            leaves = order.leaves
            if order.currency is not None and order.reserved:
                freed = order.reserved if qty >= leaves else order.reserved * qty / leaves
                order.reserved -= freed
                self._cash.reserve(account_id, order.currency, -freed)
            if self._ledger.fill(order, qty) and order.reserved and order.currency is not None:
                self._cash.reserve(account_id, order.currency, -order.reserved)
                order.reserved = _ZERO
        else:
            account_id = fill.account_id
            runtimes = self._route(account_id, fill.strategy_id).runtimes
            self._ledger.move_position(runtimes, iid, fill.order_side, qty)
        self._cash.on_fill(account_id, self._instruments.get(iid), fill)
        self._marks[iid] = fill.last_px.as_decimal()
        route = self._route(account_id, fill.strategy_id)
        window_ms = self._config.execution_window_ms
        for runtime, limits in zip(route.runtimes, route.levels, strict=True):
            count = runtime.fills.record(fill.ts_event)
            most = None if limits is None else limits.max_executions
            if most is not None and count >= most and runtime.disabled is None:
                self.states.disable(runtime, fill.ts_event, count, window_ms)

    def on_account_state(self, event: AccountStateChanged) -> None:
        """A balance report: the account's totals per currency (R5)."""
        self._cash.on_account_state(event)

    def set_balance(self, account_id: AccountId | None, balance: Money) -> None:
        """Set an account's total in one currency (R5), e.g. at start-up."""
        self._cash.set_balance(account_id, balance)

    def available(self, account_id: AccountId | None, currency: Currency) -> Decimal | None:
        """What new orders may still use of the account's balance (None when unknown)."""
        return self._cash.available(account_id, currency)

    def set_reference(
        self, instrument_id: InstrumentId, price: Price | Decimal, ts_ns: int | None = None
    ) -> None:
        """The reference price (mid or last) of ``instrument_id`` as of ``ts_ns`` (default now)."""
        value = price.as_decimal() if isinstance(price, Price) else price
        self._references[instrument_id] = (value, self._now() if ts_ns is None else ts_ns)
        self._marks[instrument_id] = value

    def on_quote(self, quote: QuoteTick) -> None:
        """The mid of a quote becomes the reference, as of the quote's time."""
        mid = (quote.bid_price.as_decimal() + quote.ask_price.as_decimal()) / _TWO
        self.set_reference(quote.instrument_id, mid, quote.ts_event)

    def on_trade(self, trade: TradeTick) -> None:
        """The last trade price becomes the reference, as of the trade's time."""
        self.set_reference(trade.instrument_id, trade.price, trade.ts_event)

    def _reference(
        self, instrument_id: InstrumentId, given: Price | None, now: int
    ) -> tuple[Decimal | None, Denial | None]:
        if given is not None:
            return given.as_decimal(), None
        known = self._references.get(instrument_id)
        if known is None:
            return None, (DenyReason.REFERENCE_STALE, f"no reference price for {instrument_id}")
        price, ts = known
        max_age = self._config.reference_max_age_ms
        if max_age is not None and now - ts > max_age * _MS:
            return None, (
                DenyReason.REFERENCE_STALE,
                f"the reference price of {instrument_id} is {(now - ts) // _MS} ms old "
                f"(limit {max_age} ms)",
            )
        return price, None

    def set_position(
        self,
        strategy_id: StrategyId,
        instrument_id: InstrumentId,
        quantity: Decimal,
        *,
        account_id: AccountId | None = None,
    ) -> None:
        """The strategy's signed position (from the portfolio or the venue, e.g. at start-up);
        the account's and the node's move with it."""
        route = self._route(account_id, strategy_id)
        delta = quantity - route.runtimes[2].exposure(instrument_id).position
        if delta:
            side = OrderSide.BUY if delta > 0 else OrderSide.SELL
            self._ledger.move_position(route.runtimes, instrument_id, side, abs(delta))

    def adopt_order(
        self,
        order: Order | OrderView,
        instrument: Instrument,
        *,
        account_id: AccountId | None = None,
    ) -> None:
        """Count an order that is open without having passed here (after a restart, or one
        reconciliation adopted); no check runs."""
        if not self._tracking or order.is_closed or order.client_order_id in self._ledger.orders:
            return
        spec = order.spec
        route = self._route(account_id, spec.strategy_id)
        qty = order.quantity.as_decimal()
        filled = order.filled_qty.as_decimal()
        own = order.price if order.price is not None else order.trigger_price
        price = None if own is None else own.as_decimal()
        self._remember(spec.client_order_id)
        self._instruments[instrument.id] = instrument
        open_order = OpenOrder(
            client_order_id=spec.client_order_id,
            strategy_id=spec.strategy_id,
            instrument_id=spec.instrument_id,
            account_id=account_id,
            side=spec.side,
            quantity=qty,
            confirmed=qty,
            filled=filled,
            price=price,
            reserved=_ZERO,
            currency=None,
            runtimes=route.runtimes,
        )
        self._ledger.add(open_order)
        if price is not None:
            currency, cost = self._cost(route, instrument, spec.side, qty - filled, price)
            self._set_reserve(open_order, currency, cost)

    def mark_pnl(self, scope: Scope, pnl: Decimal) -> AuditEntry | None:
        """R10: the scope's cumulative PnL now; a breach of its daily loss or drawdown limit
        switches it to REDUCING (the audit entry of the breach comes back)."""
        now = self._now()
        runtime = self._registry.get(scope)
        track = runtime.pnl
        if track is None:
            track = runtime.pnl = PnlTrack.first(now, pnl)
        else:
            track.mark(now, pnl)
        limits = self._scope_limits(scope)
        if limits is None:
            return None
        if limits.max_daily_loss is not None and track.day_loss > limits.max_daily_loss:
            reason = f"daily loss {track.day_loss:f} above the limit {limits.max_daily_loss}"
            return self.states.breach(runtime, now, reason)
        if limits.max_drawdown is not None and track.drawdown > limits.max_drawdown:
            reason = f"drawdown {track.drawdown:f} above the limit {limits.max_drawdown}"
            return self.states.breach(runtime, now, reason)
        return None

    # ------------------------------------------------------------------ queries and state
    def exposure(self, scope: Scope, instrument_id: InstrumentId) -> Exposure:
        """A copy of the scope's position and open leaves in ``instrument_id``."""
        runtime = self._registry.find(scope)
        found = None if runtime is None else runtime.exposures.get(instrument_id)
        return Exposure() if found is None else dataclasses.replace(found)

    def open_order_count(self, scope: Scope = GLOBAL) -> int:
        """How many open orders risk counts in ``scope``."""
        runtime = self._registry.find(scope)
        return 0 if runtime is None else runtime.open_orders

    def state(self) -> RiskState:
        """What must survive a restart (kill switches, states, disabled scopes, windows)."""
        return self._registry.export()

    def restore(self, state: RiskState) -> None:
        """Take saved state back, before the first order of the new process."""
        self._registry.load(state)

    def export_state(self) -> dict[str, Any]:
        """``state()`` as plain data (for ``journal.save_state``)."""
        result: dict[str, Any] = msgspec.to_builtins(self.state())
        return result

    def import_state(self, body: dict[str, Any]) -> None:
        """``restore`` from the plain data ``export_state`` made."""
        self.restore(msgspec.convert(body, RiskState))

    def pending_audit(self) -> tuple[AuditEntry, ...]:
        """Audit entries made and not drained yet."""
        return self._audit.pending()

    def drain_audit(self) -> list[AuditEntry]:
        """Audit entries made since the last drain, for the node to store."""
        return self._audit.drain()

    # ------------------------------------------------------------------ internals
    def _now(self) -> int:
        clock = self._clock
        return 0 if clock is None else clock.timestamp_ns()

    def _resolve(
        self, account_id: AccountId | None, strategy_id: StrategyId, instrument_id: InstrumentId
    ) -> ResolvedLimits:
        key = (account_id, strategy_id, instrument_id)
        found = self._resolved.get(key)
        if found is None:
            account_key = None if account_id is None else account_id.value
            found = self._resolved[key] = resolve(
                self._config, account_key, strategy_id.value, instrument_id.value
            )
        return found

    def _route(self, account_id: AccountId | None, strategy_id: StrategyId) -> Route:
        key = (account_id, strategy_id)
        route = self._routes.get(key)
        if route is None:
            registry = self._registry
            levels = scope_limits(
                self._config, None if account_id is None else account_id.value, strategy_id.value
            )
            runtimes = (
                registry.get(GLOBAL),
                registry.get(Scope.account(account_id)),
                registry.get(Scope.strategy(strategy_id)),
            )
            route = self._routes[key] = Route(account_id, strategy_id, levels, runtimes)
        return route

    def _scope_limits(self, scope: Scope) -> Limits | None:
        config = self._config
        if scope.kind is ScopeKind.GLOBAL:
            return config
        if scope.kind is ScopeKind.ACCOUNT:
            return config.accounts.get(scope.id)
        return config.strategies.get(scope.id)

    def _cost(
        self, route: Route, instrument: Instrument, side: OrderSide, qty: Decimal, price: Decimal
    ) -> tuple[Currency, Decimal]:
        reducing = route.runtimes[1].exposure(instrument.id).reduces(side, qty)
        return order_cost(
            instrument,
            side,
            qty,
            price,
            margin_ratio=self._config.margin_ratio,
            reducing=reducing,
        )

    def _remember(self, client_order_id: ClientOrderId) -> None:
        self._seen.add(client_order_id)
        order = self._seen_order
        order.append(client_order_id)
        if len(order) > self._config.remember_client_order_ids:
            self._seen.discard(order.popleft())

"""``RiskEngine``: every pre-trade check an order meets before it leaves the node.

One engine serves backtest, paper and live alike: time comes only from the ``Clock`` it is
given (and from the events it is fed), so the same intents at the same times get the same
answers in every mode (R17). A refusal is a ``(DenyReason, message)`` pair for the caller's
``OrderDenied``; nothing here raises for a refused order.

How the node uses it (``track=True``):

- ``check(spec, instrument, ...)`` before sending; a passing order is counted at once (open
  orders, exposure, reserved funds, message and price windows). If the node does not send it
  after all, it calls ``release(client_order_id)`` (or feeds the ``OrderDenied``).
- ``check_modify`` / ``check_cancel`` before sending a modify or cancel.
- ``on_order_event`` with every order event, ``on_account_state`` with balance reports,
  ``on_quote`` / ``on_trade`` / ``set_reference`` with reference prices, ``mark_pnl`` with
  each scope's PnL.
- ``kill_switch``, ``states`` and ``update_config`` for operators; ``drain_audit`` to store the
  audit entries; ``export_state`` / ``import_state`` around a restart, then ``adopt_order`` and
  ``set_position`` for what the journal and the venue say is open and held.

With ``track`` left to None, the engine tracks only when its configuration has a control that
needs state (so a backtest with only per-order limits pays nothing for it).
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import Final

from tradeforge.bus import Clock
from tradeforge.domain import (
    AccountId,
    ClientOrderId,
    Currency,
    DenyReason,
    Instrument,
    InstrumentId,
    Order,
    OrderEvent,
    OrderSide,
    OrderSpec,
    OrderType,
    OrderUpdated,
    OrderView,
    Price,
    Quantity,
    StrategyId,
)
from tradeforge.trading.audit import AuditCallback
from tradeforge.trading.credit import check_budget, raw_notional
from tradeforge.trading.price_window import PriceRange, SizeStats
from tradeforge.trading.risk_book import MS, RiskBook, Route
from tradeforge.trading.risk_checks import (
    Denial,
    check_collars,
    check_order_prices,
    check_order_size,
    check_position,
    gate_modify,
    gate_new,
)
from tradeforge.trading.risk_config import RiskConfig
from tradeforge.trading.risk_limits import ResolvedLimits
from tradeforge.trading.risk_state import OpenOrder
from tradeforge.trading.self_trade import RestingOrders

__all__ = ["RiskEngine"]

_MS: Final = MS
_ZERO: Final = Decimal(0)
_DupKey = tuple[StrategyId, InstrumentId, OrderSide, OrderType, Decimal, Decimal | None]


class RiskEngine(RiskBook):
    """Pre-trade risk checks (R1-R14, R16-R18) over the state the node feeds it.

    ``RiskEngine(config, clock=..., track=True, on_audit=...)``; see the module docstring.
    """

    def __init__(
        self,
        config: RiskConfig | None = None,
        *,
        clock: Clock | None = None,
        track: bool | None = None,
        on_audit: AuditCallback | None = None,
    ) -> None:
        self._recent: dict[_DupKey, int] = {}
        self._recent_order: deque[tuple[int, _DupKey]] = deque()
        self._resting = RestingOrders()  # R14: every account's resting limit orders
        super().__init__(config, clock=clock, track=track, on_audit=on_audit)

    # ------------------------------------------------------------------ the checks
    def check(
        self,
        spec: OrderSpec,
        instrument: Instrument,
        reference: Price | None = None,
        *,
        account_id: AccountId | None = None,
    ) -> Denial | None:
        """Why ``spec`` must not be sent, or None when it may go (and is now counted).

        ``reference`` is a current reference price when the caller has one (taken as fresh);
        without it the engine uses the latest one it was fed (R2: refused when stale).
        """
        if self._quiet and not self._registry.any_blocked:
            return None
        config = self._config
        if config.halted:
            return DenyReason.KILL_SWITCH, "trading is halted by configuration (risk.halted)"
        sid, iid = spec.strategy_id, spec.instrument_id
        lim = self._resolved.get((account_id, sid, iid)) or self._resolve(account_id, sid, iid)
        if lim.restricted:
            return DenyReason.RESTRICTED_INSTRUMENT, f"{iid} is restricted"
        tracking = self._tracking
        if tracking and spec.client_order_id in self._seen:
            return DenyReason.DUPLICATE_CLIENT_ORDER_ID, (
                f"client order id {spec.client_order_id} was already used"
            )
        route = self._routes.get((account_id, sid)) or self._route(account_id, sid)
        runtimes = route.runtimes
        side = spec.side
        qty = spec.quantity.as_decimal()
        if self._registry.any_blocked:
            denial = gate_new(
                runtimes, iid, side, qty, kill_allows_reducing=config.kill_switch_allows_reducing
            )
            if denial is not None:
                return denial
        if lim.max_order_quantity is not None and qty > lim.max_order_quantity:
            return DenyReason.MAX_ORDER_QUANTITY, (
                f"quantity {qty} exceeds the limit {lim.max_order_quantity}"
            )
        now = self._now()
        own = spec.price if spec.price is not None else spec.trigger_price
        own_px = None if own is None else own.as_decimal()
        ref: Decimal | None = None
        price = own_px
        confirmed: bool | None = None
        if lim.needs_price:
            if (
                own_px is None
                or lim.collar_pct is not None
                or lim.collar_passive_pct is not None
                or lim.fat_finger_pct is not None
            ):
                ref, denial = self._reference(iid, reference, now)
                if denial is not None:
                    return denial
                if price is None:
                    price = ref
            denial = check_order_prices(
                spec,
                instrument,
                lim,
                qty=qty,
                price=price,
                ref=ref,
                now=now,
                drift_window_ns=config.drift_window_ms * _MS,
                prices=runtimes[2].prices,
            )
            if denial is not None:
                return denial
        if lim.fat_finger_multiple is not None or lim.fat_finger_pct is not None:
            confirmed = config.confirm_tag in spec.tags
            if not confirmed:
                denial = check_order_size(
                    lim, runtimes[2], iid, qty=qty, own_px=own_px, ref=ref, tag=config.confirm_tag
                )
                if denial is not None:
                    return denial
        dup_key: _DupKey | None = None
        if config.duplicate_window_ms is not None:
            dup_key = (sid, iid, side, spec.order_type, qty, own_px)
            if confirmed is None:
                confirmed = config.confirm_tag in spec.tags
            last = self._recent.get(dup_key)
            if not confirmed and last is not None and now - last < config.duplicate_window_ms * _MS:
                return DenyReason.DUPLICATE_ORDER, (
                    f"same {side} {qty} {iid} at {own_px or 'market'} {(now - last) // _MS} ms "
                    f"ago (window {config.duplicate_window_ms} ms); tag {config.confirm_tag!r} "
                    "to send it anyway"
                )
        if tracking:
            denial = self._self_trade(route, spec, own_px)
            if denial is not None:
                return denial
            cost = None if price is None else self._cost(route, instrument, side, qty, price)
            denial = self._totals(
                route, lim, instrument, side=side, qty=qty, price=price, cost=cost, now=now
            )
            if denial is not None:
                return denial
            self._register(
                spec, instrument, route, qty=qty, price=price, cost=cost, now=now, dup_key=dup_key
            )
        return None

    def _totals(
        self,
        route: Route,
        lim: ResolvedLimits,
        instrument: Instrument,
        *,
        side: OrderSide,
        qty: Decimal,
        price: Decimal | None,
        cost: tuple[Currency, Decimal] | None,
        now: int,
    ) -> Denial | None:
        """R7 submits, R6 open orders, R4 position, R5 budget and free balance."""
        runtimes, levels = route.runtimes, route.levels
        for runtime, limits in zip(runtimes, levels, strict=True):
            if limits is None:
                continue
            rate = limits.max_submits_per_s
            if rate is not None and runtime.submits.count(now) >= rate:
                return DenyReason.THROTTLED, (
                    f"{runtime.scope} sent {rate} orders within the last second (limit {rate}/s)"
                )
            most = limits.max_open_orders
            if most is not None and runtime.open_orders >= most:
                return DenyReason.MAX_OPEN_ORDERS, (
                    f"{runtime.scope} has {runtime.open_orders} open orders (limit {most})"
                )
        iid = instrument.id
        denial = check_position(runtimes, lim.max_position, iid, side, qty)
        if denial is not None or price is None:
            return denial
        for runtime, limits in zip(runtimes, levels, strict=True):
            if limits is not None and limits.capital_budget is not None:
                denial = check_budget(
                    runtime,
                    limits.capital_budget,
                    instrument=instrument,
                    side=side,
                    quantity=qty,
                    price=price,
                    instruments=self._instruments,
                    marks=self._marks,
                )
                if denial is not None:
                    return denial
        if self._config.check_free_balance and cost is not None:
            return self._credit(route, cost, _ZERO)
        return None

    def _credit(
        self, route: Route, cost: tuple[Currency, Decimal], already: Decimal
    ) -> Denial | None:
        """R5 free balance: what the order needs beyond ``already`` (reserved for it)."""
        currency, amount = cost
        extra = amount - already
        if extra <= 0:
            return None
        available = self._cash.available(route.account_id, currency)
        if available is None:
            return DenyReason.INSUFFICIENT_FUNDS, (
                f"no {currency.code} balance known for account {route.account_id}"
            )
        if extra > available:
            return DenyReason.INSUFFICIENT_FUNDS, (
                f"needs {extra.normalize():f} {currency.code}, {available.normalize():f} free "
                f"in account {route.account_id}"
            )
        return None

    def _register(
        self,
        spec: OrderSpec,
        instrument: Instrument,
        route: Route,
        *,
        qty: Decimal,
        price: Decimal | None,
        cost: tuple[Currency, Decimal] | None,
        now: int,
        dup_key: _DupKey | None,
    ) -> None:
        """Count a passing order at once: open orders, exposure, funds, windows."""
        config = self._config
        cid, iid, side = spec.client_order_id, spec.instrument_id, spec.side
        self._remember(cid)
        currency: Currency | None = None
        reserved = _ZERO
        if price is not None and cost is not None:
            currency, reserved = cost
            self._cash.reserve(route.account_id, currency, reserved)
            self._marks[iid] = price
            prices = route.runtimes[2].prices
            window = prices.get((iid, side))
            if window is None:
                window = prices[(iid, side)] = PriceRange()
            window.add(now, price)
        self._instruments[iid] = instrument
        if spec.order_type is OrderType.LIMIT and spec.price is not None:
            self._resting.add(cid, route.account_id, iid, side, spec.price.as_decimal())
        self._ledger.add(
            OpenOrder(
                client_order_id=cid,
                strategy_id=spec.strategy_id,
                instrument_id=iid,
                account_id=route.account_id,
                side=side,
                quantity=qty,
                confirmed=qty,
                filled=_ZERO,
                price=price,
                reserved=reserved,
                currency=currency,
                runtimes=route.runtimes,
            )
        )
        for runtime in route.runtimes:
            runtime.submits.add(now)
        sizes = route.runtimes[2].sizes
        stats = sizes.get(iid)
        if stats is None or stats.size != config.fat_finger_samples:
            stats = sizes[iid] = SizeStats(config.fat_finger_samples)
        stats.add(qty)
        if dup_key is not None and config.duplicate_window_ms is not None:
            self._recent[dup_key] = now
            recent = self._recent_order
            recent.append((now, dup_key))
            cutoff = now - config.duplicate_window_ms * _MS
            while recent and recent[0][0] <= cutoff:
                ts, key = recent.popleft()
                if self._recent.get(key) == ts:
                    del self._recent[key]

    def check_modify(
        self,
        client_order_id: ClientOrderId,
        *,
        quantity: Quantity | None = None,
        price: Price | None = None,
        trigger_price: Price | None = None,
        reference: Price | None = None,
    ) -> Denial | None:
        """Why a modify of an open order must not be sent, or None (and it is counted).

        States and kill switches (R12, R13), size (R1), collar (R2), the modify rate (R7), and
        for added quantity the position (R4), budget and free balance (R5).
        """
        if not self._tracking:
            return None
        order = self._ledger.get(client_order_id)
        if order is None:
            return DenyReason.INVALID_ORDER, f"{client_order_id} is not an open order"
        iid, side = order.instrument_id, order.side
        new_qty = order.quantity if quantity is None else quantity.as_decimal()
        if new_qty <= order.filled:
            return DenyReason.INVALID_ORDER, (
                f"quantity {new_qty} is not above the filled {order.filled}"
            )
        added = new_qty - order.quantity
        route = self._route(order.account_id, order.strategy_id)
        runtimes = route.runtimes
        if self._registry.any_blocked:
            denial = gate_modify(runtimes, iid, side, order.leaves, new_qty - order.filled)
            if denial is not None:
                return denial
        lim = self._resolve(order.account_id, order.strategy_id, iid)
        if lim.max_order_quantity is not None and new_qty > lim.max_order_quantity:
            return DenyReason.MAX_ORDER_QUANTITY, (
                f"quantity {new_qty} exceeds the limit {lim.max_order_quantity}"
            )
        now = self._now()
        new_price = price or trigger_price
        px = new_price.as_decimal() if new_price is not None else order.price
        instrument = self._instruments.get(iid)
        if lim.max_order_notional is not None and instrument is not None and px is not None:
            notional = raw_notional(instrument, new_qty, px)
            if notional > lim.max_order_notional:
                return DenyReason.MAX_ORDER_NOTIONAL, (
                    f"notional {notional:f} exceeds the limit {lim.max_order_notional}"
                )
        if new_price is not None and (
            lim.collar_pct is not None or lim.collar_passive_pct is not None
        ):
            ref, denial = self._reference(iid, reference, now)
            if denial is not None or ref is None:
                return denial
            changed = (("price", price), ("trigger price", trigger_price))
            denial = check_collars(side, changed, ref, lim)
            if denial is not None:
                return denial
        for runtime, limits in zip(runtimes, route.levels, strict=True):
            rate = None if limits is None else limits.max_modifies_per_s
            if rate is not None and runtime.modifies.count(now) >= rate:
                return DenyReason.THROTTLED, (
                    f"{runtime.scope} sent {rate} modifies within the last second (limit {rate}/s)"
                )
        if added > 0:
            denial = check_position(runtimes, lim.max_position, iid, side, added)
            if denial is not None:
                return denial
        if price is not None and client_order_id in self._resting and _stp(route):
            denial = self._resting.check(
                order.account_id, iid, side, price.as_decimal(), skip=client_order_id
            )
            if denial is not None:
                return denial
        reserve: tuple[Currency, Decimal] | None = None
        if instrument is not None and px is not None:
            reserve = self._cost(route, instrument, side, new_qty - order.filled, px)
            if self._config.check_free_balance:
                denial = self._credit(route, reserve, order.reserved)
                if denial is not None:
                    return denial
        for runtime in runtimes:
            runtime.modifies.add(now)
        if added > 0:
            self._ledger.resize(order, new_qty)
        if reserve is not None and reserve[1] > order.reserved:
            self._set_reserve(order, reserve[0], reserve[1])
        return None

    def check_cancel(
        self,
        client_order_id: ClientOrderId,
        *,
        strategy_id: StrategyId | None = None,
        account_id: AccountId | None = None,
    ) -> Denial | None:
        """Why a cancel must not be sent, or None: only the cancel rate (R7) can refuse one;
        no trading state or kill switch does. ``strategy_id`` (and ``account_id``) place a
        cancel of an order risk does not know."""
        if not self._tracking:
            return None
        order = self._ledger.get(client_order_id)
        if order is not None:
            route = self._route(order.account_id, order.strategy_id)
        elif strategy_id is not None:
            route = self._route(account_id, strategy_id)
        else:
            return None
        now = self._now()
        for runtime, limits in zip(route.runtimes, route.levels, strict=True):
            rate = None if limits is None else limits.max_cancels_per_s
            if rate is not None and runtime.cancels.count(now) >= rate:
                return DenyReason.THROTTLED, (
                    f"{runtime.scope} sent {rate} cancels within the last second (limit {rate}/s)"
                )
        for runtime in route.runtimes:
            runtime.cancels.add(now)
        return None

    # ------------------------------------------------------------------ R14
    def _self_trade(self, route: Route, spec: OrderSpec, own_px: Decimal | None) -> Denial | None:
        if not _stp(route):
            return None
        price = own_px if spec.order_type is not OrderType.MARKET else None
        return self._resting.check(route.account_id, spec.instrument_id, spec.side, price)

    def on_order_event(self, event: OrderEvent) -> None:
        """As ``RiskBook.on_order_event``; also keeps the resting orders R14 checks against."""
        super().on_order_event(event)
        cid = event.client_order_id
        if cid not in self._resting:
            return
        if cid not in self._ledger.orders:  # filled, cancelled, expired or rejected
            self._resting.remove(cid)
        elif type(event) is OrderUpdated and event.price is not None:
            self._resting.move(cid, event.price.as_decimal())

    def release(self, client_order_id: ClientOrderId) -> None:
        """As ``RiskBook.release``; the order no longer rests either."""
        super().release(client_order_id)
        self._resting.remove(client_order_id)

    def adopt_order(
        self,
        order: Order | OrderView,
        instrument: Instrument,
        *,
        account_id: AccountId | None = None,
    ) -> None:
        """As ``RiskBook.adopt_order``; an adopted limit order rests for R14."""
        known = order.client_order_id in self._ledger.orders
        super().adopt_order(order, instrument, account_id=account_id)
        spec = order.spec
        if (
            not known
            and order.client_order_id in self._ledger.orders
            and spec.order_type is OrderType.LIMIT
            and order.price is not None
        ):
            self._resting.add(
                spec.client_order_id, account_id, spec.instrument_id, spec.side,
                order.price.as_decimal(),
            )  # fmt: skip


def _stp(route: Route) -> bool:
    """R14 applies to the route's orders when any of its scopes turns it on."""
    return any(lim is not None and lim.self_trade_prevention for lim in route.levels)

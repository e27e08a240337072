"""The individual pre-trade checks, as pure functions of an order and the state they read.

Each returns None when the order may go, or a ``(DenyReason, message)`` pair: what the caller
puts into ``OrderDenied``. Boundaries are inclusive: a value at its limit passes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from tradeforge.domain import DenyReason, Instrument, InstrumentId, OrderSide, OrderSpec, Price
from tradeforge.trading.credit import raw_notional
from tradeforge.trading.price_window import PriceRange
from tradeforge.trading.risk_state import ScopeRuntime, TradingState

if TYPE_CHECKING:  # risk_limits imports (through risk_config) this module's Denial
    from tradeforge.trading.risk_limits import ResolvedLimits

__all__ = [
    "Denial",
    "check_collar",
    "check_collars",
    "check_drift",
    "check_fat_finger",
    "check_order_prices",
    "check_order_size",
    "check_position",
    "gate_modify",
    "gate_new",
]

Denial = tuple[DenyReason, str]
_HUNDRED: Final = Decimal(100)


def gate_new(
    runtimes: Sequence[ScopeRuntime],
    instrument_id: InstrumentId,
    side: OrderSide,
    quantity: Decimal,
    *,
    kill_allows_reducing: bool,
) -> Denial | None:
    """Kill switches, disabled scopes and trading states, for a new order (R8, R12, R13)."""
    for runtime in runtimes:
        if not runtime.blocked:
            continue
        kill = runtime.kill
        if kill is not None and not (
            kill_allows_reducing and runtime.exposure(instrument_id).reduces(side, quantity)
        ):
            return DenyReason.KILL_SWITCH, (
                f"kill switch on {runtime.scope} since {kill.ts_ns} by {kill.by}: {kill.reason}"
            )
        denial = _disabled_or_halted(runtime)
        if denial is not None:
            return denial
        if runtime.state is TradingState.REDUCING and not runtime.exposure(instrument_id).reduces(
            side, quantity
        ):
            return _reducing_denial(runtime, f"{side} {quantity} would not reduce")
    return None


def gate_modify(
    runtimes: Sequence[ScopeRuntime],
    instrument_id: InstrumentId,
    side: OrderSide,
    old_leaves: Decimal,
    new_leaves: Decimal,
) -> Denial | None:
    """The same gates for a modify: never under a kill switch, a disabled scope or HALTED;
    under REDUCING only when it adds no quantity or leaves a reducing order."""
    for runtime in runtimes:
        if not runtime.blocked:
            continue
        kill = runtime.kill
        if kill is not None:
            return DenyReason.KILL_SWITCH, (
                f"kill switch on {runtime.scope} since {kill.ts_ns} by {kill.by}: {kill.reason}"
            )
        denial = _disabled_or_halted(runtime)
        if denial is not None:
            return denial
        if (
            runtime.state is TradingState.REDUCING
            and new_leaves > old_leaves
            and not runtime.exposure(instrument_id).reduces(side, new_leaves - old_leaves)
        ):
            return _reducing_denial(runtime, f"raising {side} leaves to {new_leaves}")
    return None


def _disabled_or_halted(runtime: ScopeRuntime) -> Denial | None:
    disabled = runtime.disabled
    if disabled is not None:
        return DenyReason.EXECUTION_THROTTLE, (
            f"{runtime.scope} disabled since {disabled.ts_ns} ({disabled.reason}) "
            "until an operator re-enables it"
        )
    if runtime.state is TradingState.HALTED:
        since = runtime.state_since
        why = f" by {since.by}: {since.reason}" if since is not None else ""
        return DenyReason.TRADING_HALTED, f"{runtime.scope} is HALTED{why}"
    return None


def _reducing_denial(runtime: ScopeRuntime, what: str) -> Denial:
    since = runtime.state_since
    why = f" by {since.by}: {since.reason}" if since is not None else ""
    cause = runtime.state_cause or DenyReason.REDUCE_ONLY_MODE
    return cause, f"{runtime.scope} is REDUCING{why}; {what} its exposure"


def check_collar(
    side: OrderSide,
    field: str,
    price: Decimal,
    reference: Decimal,
    *,
    aggressive_pct: Decimal | None,
    passive_pct: Decimal | None,
) -> Denial | None:
    """R2: a buy at most ``aggressive_pct`` above the reference and ``passive_pct`` below it;
    a sell the other way round."""
    buy = side is OrderSide.BUY
    scaled = price * _HUNDRED
    if aggressive_pct is not None:
        too_far = (
            scaled > reference * (_HUNDRED + aggressive_pct)
            if buy
            else scaled < reference * (_HUNDRED - aggressive_pct)
        )
        if too_far:
            way = "above" if buy else "below"
            return DenyReason.PRICE_COLLAR, (
                f"{side} {field} {price} is more than {aggressive_pct}% {way} "
                f"the reference {reference}"
            )
    if passive_pct is not None:
        too_far = (
            scaled < reference * (_HUNDRED - passive_pct)
            if buy
            else scaled > reference * (_HUNDRED + passive_pct)
        )
        if too_far:
            way = "below" if buy else "above"
            return DenyReason.PRICE_COLLAR, (
                f"{side} {field} {price} is more than {passive_pct}% {way} "
                f"the reference {reference}"
            )
    return None


def check_drift(
    window: PriceRange | None,
    side: OrderSide,
    price: Decimal,
    *,
    now_ns: int,
    window_ns: int,
    pct: Decimal,
) -> Denial | None:
    """R3: with this order, the side's accepted prices in the window would span more than
    ``pct`` (up from the lowest or down from the highest)."""
    if window is None:
        return None
    bounds = window.bounds(now_ns, window_ns)
    if bounds is None:
        return None
    low, high = bounds
    scaled = price * _HUNDRED
    if scaled > low * (_HUNDRED + pct):
        return DenyReason.PRICE_DRIFT, (
            f"{side} at {price} is more than {pct}% above {low}, "
            f"accepted within the last {window_ns // 1_000_000} ms"
        )
    if scaled < high * (_HUNDRED - pct):
        return DenyReason.PRICE_DRIFT, (
            f"{side} at {price} is more than {pct}% below {high}, "
            f"accepted within the last {window_ns // 1_000_000} ms"
        )
    return None


def check_fat_finger(
    quantity: Decimal,
    price: Decimal | None,
    *,
    typical: Decimal | None,
    multiple: Decimal | None,
    reference: Decimal | None,
    pct: Decimal | None,
    confirm_tag: str,
) -> Denial | None:
    """R16: a soft block: too large against the typical size, or too far off the reference."""
    if multiple is not None and typical is not None and quantity > typical * multiple:
        return DenyReason.FAT_FINGER, (
            f"quantity {quantity} is more than {multiple}x the typical {typical.normalize()}; "
            f"resend with the tag {confirm_tag!r} to confirm"
        )
    if (
        pct is not None
        and price is not None
        and reference is not None
        and abs(price - reference) * _HUNDRED > reference * pct
    ):
        return DenyReason.FAT_FINGER, (
            f"price {price} is more than {pct}% off the reference {reference}; "
            f"resend with the tag {confirm_tag!r} to confirm"
        )
    return None


def check_position(
    runtimes: Sequence[ScopeRuntime],
    limits: Sequence[Decimal | None],
    instrument_id: InstrumentId,
    side: OrderSide,
    quantity: Decimal,
) -> Denial | None:
    """R4: the worst-case position of each scope (open orders filled) stays within its limit."""
    for runtime, limit in zip(runtimes, limits, strict=True):
        if limit is None:
            continue
        exposure = runtime.exposures.get(instrument_id)
        if side is OrderSide.BUY:
            worst = quantity + (exposure.worst_long() if exposure is not None else 0)
            if worst > limit:
                return DenyReason.MAX_POSITION, (
                    f"{runtime.scope} worst-case position in {instrument_id} would be "
                    f"{worst} (position + open buys), above the limit {limit}"
                )
        else:
            worst = (exposure.worst_short() if exposure is not None else 0) - quantity
            if worst < -limit:
                return DenyReason.MAX_POSITION, (
                    f"{runtime.scope} worst-case position in {instrument_id} would be "
                    f"{worst} (position - open sells), beyond the limit -{limit}"
                )
    return None


def check_collars(
    side: OrderSide,
    prices: Sequence[tuple[str, Price | None]],
    reference: Decimal,
    limits: ResolvedLimits,
) -> Denial | None:
    """The collar (R2) of each price an order sets or changes (its limit, its trigger)."""
    for field, value in prices:
        if value is not None:
            denial = check_collar(
                side,
                field,
                value.as_decimal(),
                reference,
                aggressive_pct=limits.collar_pct,
                passive_pct=limits.collar_passive_pct,
            )
            if denial is not None:
                return denial
    return None


def check_order_prices(
    spec: OrderSpec,
    instrument: Instrument,
    limits: ResolvedLimits,
    *,
    qty: Decimal,
    price: Decimal | None,
    ref: Decimal | None,
    now: int,
    drift_window_ns: int,
    prices: Mapping[tuple[InstrumentId, OrderSide], PriceRange],
) -> Denial | None:
    """A new order's notional (R1), collar (R2) and drift (R3); ``prices`` are the
    strategy's recent prices per instrument and side."""
    side = spec.side
    if limits.max_order_notional is not None and price is not None:
        notional = raw_notional(instrument, qty, price)
        if notional > limits.max_order_notional:
            return DenyReason.MAX_ORDER_NOTIONAL, (
                f"notional {notional:f} {instrument.settlement_currency.code} exceeds "
                f"the limit {limits.max_order_notional}"
            )
    if ref is not None and (limits.collar_pct is not None or limits.collar_passive_pct is not None):
        denial = check_collars(
            side, (("price", spec.price), ("trigger price", spec.trigger_price)), ref, limits
        )
        if denial is not None:
            return denial
    if limits.drift_pct is not None and price is not None:
        return check_drift(
            prices.get((spec.instrument_id, side)),
            side,
            price,
            now_ns=now,
            window_ns=drift_window_ns,
            pct=limits.drift_pct,
        )
    return None


def check_order_size(
    limits: ResolvedLimits,
    strategy: ScopeRuntime,
    instrument_id: InstrumentId,
    *,
    qty: Decimal,
    own_px: Decimal | None,
    ref: Decimal | None,
    tag: str,
) -> Denial | None:
    """The fat-finger check (R9) against the typical size: configured, or the strategy's own."""
    typical = limits.typical_quantity
    if typical is None and limits.fat_finger_multiple is not None:
        stats = strategy.sizes.get(instrument_id)
        typical = None if stats is None else stats.typical()
    return check_fat_finger(
        qty,
        own_px,
        typical=typical,
        multiple=limits.fat_finger_multiple,
        reference=ref,
        pct=limits.fat_finger_pct,
        confirm_tag=tag,
    )

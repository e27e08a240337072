"""``VenueFunds``: what a simulated venue's account must have free before it takes an order, and
what the order locks until it fills or ends.

A buy locks its notional at the reference price plus the largest fee, rounded up to the quote
currency; a spot sell locks the base it sells; margin orders lock initial margin in the
settlement currency. Reduce-only orders must reduce the venue's net position, and a cash account
cannot sell shares it does not hold. Each instrument's constants for these checks are worked out
once (``_Terms``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_CEILING, Context, Decimal, InvalidOperation, Overflow
from typing import Final

from tradeforge.backtest.matching import MatchingEngine
from tradeforge.backtest.venue_account import VenueAccount
from tradeforge.domain import (
    ContingencyType,
    Currency,
    CurrencyPair,
    Instrument,
    InstrumentId,
    OrderSide,
    OrderSpec,
    Price,
    Quantity,
    RejectReason,
)
from tradeforge.domain.exact import quantum

__all__ = ["VenueFunds"]

_ZERO: Final = Decimal(0)  # shared: building a Decimal costs more than reading one
# Funds to lock are rounded up, in the exact arithmetic's precision.
_UP: Final = Context(prec=60, rounding=ROUND_CEILING, traps=[InvalidOperation, Overflow])
_up_quantize: Final = _UP.quantize  # bound once (see ``exact_add``)


class _Terms:
    """An instrument's constants for funds checks in one account."""

    __slots__ = (
        "account_type",
        "base",
        "buy_factor",
        "multiplier",
        "price_precision",
        "quote",
        "quote_step",
        "size_precision",
        "spot",
    )

    def __init__(self, inst: Instrument, account: VenueAccount) -> None:
        self.account_type = account.type
        self.spot = not account.uses_margin(inst.kind)
        self.multiplier = inst.multiplier.as_decimal()
        self.buy_factor = 1 + max(inst.taker_fee, inst.maker_fee, _ZERO)
        self.quote = inst.quote_currency
        self.quote_step = Decimal(1).scaleb(-inst.quote_currency.precision)
        self.base = inst.base_currency if isinstance(inst, CurrencyPair) else None
        # (The instrument's own properties are interpreted code: read them once.)
        self.size_precision = inst.size_precision
        self.price_precision = inst.price_precision


class VenueFunds:
    """Funds checks and locks of one account: ``check`` before an order is taken, ``cost`` of
    what it locks, and the venue's net position per instrument (``net``), which the venue keeps
    as fills arrive."""

    def __init__(
        self, account: VenueAccount, instruments: Mapping[InstrumentId, Instrument]
    ) -> None:
        self.account = account
        self.net: dict[InstrumentId, Decimal] = dict.fromkeys(instruments, _ZERO)
        self.terms = {iid: _Terms(inst, account) for iid, inst in instruments.items()}

    @staticmethod
    def lock_key(spec: OrderSpec) -> str:
        """The key an order's funds are locked under (an OCO pair shares its list's)."""
        if spec.contingency_type is ContingencyType.OCO and spec.order_list_id is not None:
            return f"list:{spec.order_list_id}"
        return f"order:{spec.client_order_id}"

    def check(self, engine: MatchingEngine, spec: OrderSpec) -> tuple[RejectReason, str] | None:
        """Why the account cannot take ``spec`` now, or None once its funds are locked."""
        inst = engine.instrument
        qty = spec.quantity.as_decimal()
        net = self.net[inst.id]
        is_buy = spec.side is OrderSide.BUY
        if spec.reduce_only and self.increases(spec, qty):
            msg = f"reduce-only {spec.side} {qty} would increase position {net}"
            return RejectReason.REDUCE_ONLY_WOULD_INCREASE, msg
        px = spec.price or spec.trigger_price
        ref = px.as_decimal() if px is not None else engine.reference_price(is_buy)
        if ref is None:
            return RejectReason.NO_LIQUIDITY, f"no market price yet for {inst.id}"
        if self.sells_more_than_held(inst, is_buy, qty):
            return RejectReason.INSUFFICIENT_BALANCE, f"sells {qty} but holds {net} of {inst.id}"
        currency, amount = self.cost(inst, is_buy, qty, ref, spec.reduce_only)
        if amount <= 0:
            return None
        if not self.account.lock(self.lock_key(spec), currency, amount):
            free = self.account.free(currency)
            msg = f"needs {amount} {currency}, free {free} {currency}"
            return RejectReason.INSUFFICIENT_BALANCE, msg
        return None

    def increases(self, spec: OrderSpec, qty: Decimal) -> bool:
        """True for a reduce-only order of ``qty`` that would not just reduce the position."""
        if not spec.reduce_only:
            return False
        net = self.net[spec.instrument_id]
        reduces = (net < 0) if spec.is_buy else (net > 0)
        return not reduces or qty > abs(net)

    def sells_more_than_held(self, inst: Instrument, is_buy: bool, qty: Decimal) -> bool:
        """True for a cash account's sell of shares (or another spot instrument without a base
        currency) beyond the venue's position: it cannot go short."""
        if is_buy:
            return False
        terms = self.terms.get(inst.id)
        if terms is not None and terms.account_type is self.account.type:
            spot_holding = terms.spot and terms.base is None
        else:
            spot_holding = not self.account.uses_margin(inst.kind) and not isinstance(
                inst, CurrencyPair
            )
        return spot_holding and qty > self.net[inst.id]

    def cost(
        self, inst: Instrument, is_buy: bool, qty: Decimal, price: Decimal, reduce_only: bool
    ) -> tuple[Currency, Decimal]:
        """What an order of ``qty`` at ``price`` must lock, and in which currency."""
        terms = self.terms.get(inst.id)
        if terms is not None and terms.account_type is self.account.type and terms.spot:
            # A cash account's spot fill, with the instrument's constants worked out once.
            if is_buy:
                amount = qty * terms.multiplier * price * terms.buy_factor
                return terms.quote, _up_quantize(amount, terms.quote_step)
            if terms.base is not None:
                return terms.base, qty
            return terms.quote, _ZERO
        if self.account.uses_margin(inst.kind):
            # In the settlement currency; inverse contracts' notional is in the base.
            notional = inst.notional(Quantity(qty), Price(price)).amount
            margin = _ZERO if reduce_only else notional / self.account.leverage
            amount = margin + notional * max(inst.taker_fee, _ZERO)
            return inst.settlement_currency, self._up(amount, inst.settlement_currency)
        notional = qty * inst.multiplier.as_decimal() * price
        if is_buy:
            amount = notional * (1 + max(inst.taker_fee, inst.maker_fee, _ZERO))
            return inst.quote_currency, self._up(amount, inst.quote_currency)
        if isinstance(inst, CurrencyPair):
            return inst.base_currency, qty
        return inst.quote_currency, _ZERO  # selling held shares locks no cash

    @staticmethod
    def _up(amount: Decimal, currency: Currency) -> Decimal:
        return _up_quantize(amount, quantum(currency.precision))

"""``TradeLog``: the round trips of a run, stored as columns of integers.

A ``RoundTrip`` object holds a dozen small objects (about 0.9 KB); a long backtest makes hundreds
of thousands. The log keeps each trade as integers instead (times, indexes, and exact amounts
scaled to their precision, about 0.2 KB) and builds the ``RoundTrip`` when it is read, with
exactly the same values. It is a read-only sequence: ``len``, indexing, slicing, iteration.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar, overload

from tradeforge.backtest.results import RoundTrip
from tradeforge.domain import (
    Currency,
    Instrument,
    InstrumentId,
    Money,
    PositionSide,
    Quantity,
    StrategyId,
)
from tradeforge.domain.exact import EXACT

__all__ = ["TradeLog"]

_K = TypeVar("_K")
_V = TypeVar("_V")

_SIDES = (PositionSide.LONG, PositionSide.SHORT)


if TYPE_CHECKING:
    _Ints = array[int] | list[int]


def _push(column: _Ints, value: int) -> _Ints:
    try:
        column.append(value)
    except OverflowError:  # too big for 64 bits: the column becomes a list of Python ints
        column = [*column, value]
    return column


# Exact: every amount stored here has at most as many decimals as it is scaled by.
_scaleb = EXACT.scaleb


class _Trades(Sequence[RoundTrip]):
    """What every sequence of trades here shares: it compares and adds like a list."""

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __add__(self, other: Sequence[RoundTrip]) -> list[RoundTrip]:
        return [*self, *other]

    def __radd__(self, other: Sequence[RoundTrip]) -> list[RoundTrip]:
        return [*other, *self]


class TradeLog(_Trades):
    """Round trips in the order they closed."""

    def __init__(self) -> None:
        self._instruments: dict[InstrumentId, int] = {}
        self._strategies: dict[StrategyId, int] = {}
        self._currencies: dict[Currency, int] = {}
        self._instrument_list: list[Instrument] = []
        self._strategy_list: list[StrategyId] = []
        self._currency_list: list[Currency] = []
        self._inst = array("H")
        self._strat = array("H")
        self._side = array("b")
        self._cur = array("H")
        self._fee_cur = array("H")
        self._entry_ts = array("q")
        self._exit_ts = array("q")
        # Exact amounts as scaled integers: 8 bytes each while they fit in 64 bits, as Python
        # ints (any size) once one does not.
        self._qty: _Ints = array("q")
        self._entry_notional: _Ints = array("q")
        self._exit_notional: _Ints = array("q")
        self._pnl: _Ints = array("q")
        self._fees: _Ints = array("q")
        # (instrument, strategy, pnl currency, fee currency) -> their numbers and precisions.
        self._keys: dict[
            tuple[InstrumentId, StrategyId, Currency, Currency], tuple[int, int, int, int, int, int]
        ] = {}

    @staticmethod
    def _number(pool: dict[_K, int], items: list[_V], key: _K, item: _V) -> int:
        at = pool.get(key)
        if at is None:
            at = pool[key] = len(items)
            items.append(item)
        return at

    def append(
        self,
        *,
        instrument: Instrument,
        strategy_id: StrategyId,
        side: PositionSide,
        quantity: Decimal,
        entry_ts: int,
        exit_ts: int,
        entry_notional: Decimal,
        exit_notional: Decimal,
        pnl: Money,
        fees: Money,
    ) -> None:
        """Record one closed round trip (notionals are sums of quantity x price)."""
        pnl_currency, fee_currency = pnl.currency, fees.currency
        key = (instrument.id, strategy_id, pnl_currency, fee_currency)
        numbers = self._keys.get(key)
        if numbers is None:
            numbers = self._keys[key] = self._numbers(instrument, strategy_id, pnl, fees)
        inst, strat, cur, fee_cur, size_p, notional_p = numbers
        self._inst.append(inst)
        self._strat.append(strat)
        self._side.append(0 if side is PositionSide.LONG else 1)
        self._cur.append(cur)
        self._fee_cur.append(fee_cur)
        self._entry_ts.append(entry_ts)
        self._exit_ts.append(exit_ts)
        qty = int(_scaleb(quantity, size_p))
        entry = int(_scaleb(entry_notional, notional_p))
        exit_ = int(_scaleb(exit_notional, notional_p))
        pnl_raw = int(_scaleb(pnl.amount, pnl_currency.precision))
        fees_raw = int(_scaleb(fees.amount, fee_currency.precision))
        try:  # the common case: every amount fits in 64 bits
            self._qty.append(qty)
            self._entry_notional.append(entry)
            self._exit_notional.append(exit_)
            self._pnl.append(pnl_raw)
            self._fees.append(fees_raw)
        except OverflowError:
            self._push_slow(qty, entry, exit_, pnl_raw, fees_raw)

    def _push_slow(self, qty: int, entry: int, exit_: int, pnl: int, fees: int) -> None:
        # Some columns may already hold this trade's value: add it only where it is missing.
        n = len(self._entry_ts)
        if len(self._qty) < n:
            self._qty = _push(self._qty, qty)
        if len(self._entry_notional) < n:
            self._entry_notional = _push(self._entry_notional, entry)
        if len(self._exit_notional) < n:
            self._exit_notional = _push(self._exit_notional, exit_)
        if len(self._pnl) < n:
            self._pnl = _push(self._pnl, pnl)
        if len(self._fees) < n:
            self._fees = _push(self._fees, fees)

    def _numbers(
        self, instrument: Instrument, strategy_id: StrategyId, pnl: Money, fees: Money
    ) -> tuple[int, int, int, int, int, int]:
        currencies, listed = self._currencies, self._currency_list
        return (
            self._number(self._instruments, self._instrument_list, instrument.id, instrument),
            self._number(self._strategies, self._strategy_list, strategy_id, strategy_id),
            self._number(currencies, listed, pnl.currency, pnl.currency),
            self._number(currencies, listed, fees.currency, fees.currency),
            instrument.size_precision,
            instrument.size_precision + instrument.price_precision,  # of a notional
        )

    def _build(self, i: int) -> RoundTrip:
        inst = self._instrument_list[self._inst[i]]
        size_p, price_p = inst.size_precision, inst.price_precision
        currency = self._currency_list[self._cur[i]]
        fee_currency = self._currency_list[self._fee_cur[i]]
        qty = Decimal(self._qty[i]).scaleb(-size_p, context=EXACT)
        entry = Decimal(self._entry_notional[i]).scaleb(-(size_p + price_p), context=EXACT)
        exit_ = Decimal(self._exit_notional[i]).scaleb(-(size_p + price_p), context=EXACT)
        return RoundTrip(
            instrument_id=inst.id,
            strategy_id=self._strategy_list[self._strat[i]],
            side=_SIDES[self._side[i]],
            quantity=Quantity.from_raw(self._qty[i], size_p),
            entry_ts=self._entry_ts[i],
            exit_ts=self._exit_ts[i],
            entry_price=entry / qty,
            exit_price=exit_ / qty,
            pnl=Money.rounded(Decimal(self._pnl[i]).scaleb(-currency.precision), currency),
            fees=Money.rounded(
                Decimal(self._fees[i]).scaleb(-fee_currency.precision), fee_currency
            ),
        )

    def __len__(self) -> int:
        return len(self._entry_ts)

    @overload
    def __getitem__(self, index: int) -> RoundTrip: ...
    @overload
    def __getitem__(self, index: slice) -> list[RoundTrip]: ...
    def __getitem__(self, index: int | slice) -> RoundTrip | list[RoundTrip]:
        if isinstance(index, slice):
            return [self._build(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("trade index out of range")
        return self._build(index)

    def __iter__(self) -> Iterator[RoundTrip]:
        for i in range(len(self)):
            yield self._build(i)

    def net_pnl_columns(
        self, indexes: Sequence[int] | None = None
    ) -> tuple[list[Currency], Iterator[Decimal]]:
        """The currencies the trades settle in, and each trade's PnL after fees (exact), read
        from the columns one trade at a time: no ``RoundTrip`` objects, and no list of them
        (193,000 Decimals at 10,000,000 bars are 20 MB that only the statistics read)."""
        rows = range(len(self)) if indexes is None else indexes
        used = sorted({self._cur[i] for i in rows} | {self._fee_cur[i] for i in rows})
        currencies = [self._currency_list[k] for k in used]
        return currencies, self._net_pnl(rows)

    def _net_pnl(self, rows: Sequence[int]) -> Iterator[Decimal]:
        for i in rows:
            pnl_p = self._currency_list[self._cur[i]].precision
            fee_p = self._currency_list[self._fee_cur[i]].precision
            yield Decimal(self._pnl[i]).scaleb(-pnl_p, context=EXACT) - Decimal(
                self._fees[i]
            ).scaleb(-fee_p, context=EXACT)

    def of_strategy(self, strategy_id: StrategyId) -> Sequence[RoundTrip]:
        """The trades of one strategy (a view; nothing is copied)."""
        number = self._strategies.get(strategy_id)
        if number is not None and len(self._strategies) == 1:
            return self
        return _View(self, [i for i, s in enumerate(self._strat) if s == number])

    def __repr__(self) -> str:
        return f"TradeLog({len(self)} trades)"


class _View(_Trades):
    def __init__(self, log: TradeLog, indexes: list[int]) -> None:
        self._log, self._indexes = log, array("q", indexes)

    def __len__(self) -> int:
        return len(self._indexes)

    def net_pnl_columns(self) -> tuple[list[Currency], Iterator[Decimal]]:
        """As ``TradeLog.net_pnl_columns``, for the trades of this view."""
        return self._log.net_pnl_columns(self._indexes)

    @overload
    def __getitem__(self, index: int) -> RoundTrip: ...
    @overload
    def __getitem__(self, index: slice) -> list[RoundTrip]: ...
    def __getitem__(self, index: int | slice) -> RoundTrip | list[RoundTrip]:
        if isinstance(index, slice):
            return [self._log[i] for i in self._indexes[index]]
        return self._log[self._indexes[index]]

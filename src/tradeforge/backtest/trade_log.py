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
from typing import TYPE_CHECKING, Final, TypeVar, overload

import numpy as np
import numpy.typing as npt

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
from tradeforge.domain.exact import MAX_PRECISION, exact_multiply, exact_scaleb, exact_subtract

__all__ = ["TradeLog"]

_K = TypeVar("_K")
_V = TypeVar("_V")

_SIDES: Final = (PositionSide.LONG, PositionSide.SHORT)


if TYPE_CHECKING:
    _Ints = array[int] | list[int]


# Exact: every amount stored here has at most as many decimals as it is scaled by. Scaled by
# multiplying with 10**p, not with ``scaleb``: the product keeps the amount's exponent, which
# ``int`` reads several times faster than scaleb's positive one. (A notional's precision is a
# size's plus a price's.)
_TENS: Final = tuple(Decimal(10**p) for p in range(2 * MAX_PRECISION + 1))


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


# A trade's integers, in their order: entry ts, exit ts, quantity, entry notional, exit notional,
# PnL, fees. And a kind's numbers: instrument, strategy, PnL currency, fee currency, side, size
# precision, notional precision. The places read by name:
_FIELDS: Final = 7
_PNL: Final = 5
_FEES: Final = 6
_STRATEGY: Final = 1
_CURRENCY: Final = 2
_FEE_CURRENCY: Final = 3
_SIZE_P: Final = 5
_NOTIONAL_P: Final = 6


class TradeLog(_Trades):
    """Round trips in the order they closed.

    Two columns: a trade's kind (instrument, strategy, side, PnL and fee currencies: one small
    number) and its ``_FIELDS`` integers in one flat column, so recording a trade is two appends.
    """

    def __init__(self) -> None:
        self._instruments: dict[InstrumentId, int] = {}
        self._strategies: dict[StrategyId, int] = {}
        self._currencies: dict[Currency, int] = {}
        self._instrument_list: list[Instrument] = []
        self._strategy_list: list[StrategyId] = []
        self._currency_list: list[Currency] = []
        # (instrument, strategy, pnl currency, fee currency, side) -> kind number; each kind's
        # numbers (see ``_FIELDS``)
        self._kind_of: dict[
            tuple[InstrumentId, StrategyId, Currency, Currency, PositionSide], int
        ] = {}
        self._kinds: list[tuple[int, int, int, int, int, int, int]] = []
        self._kind = array("H")
        # Exact amounts as scaled integers: 8 bytes each while they fit in 64 bits, as Python
        # ints (any size) once one does not.
        self._ints: _Ints = array("q")

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
        key = (instrument.id, strategy_id, pnl_currency, fee_currency, side)
        kind = self._kind_of.get(key)
        if kind is None:
            kind = self._kind_of[key] = len(self._kinds)
            self._kinds.append(self._numbers(instrument, strategy_id, pnl, fees, side))
        numbers = self._kinds[kind]
        size_p, notional_p = numbers[_SIZE_P], numbers[_NOTIONAL_P]
        tens = _TENS
        values = (
            entry_ts,
            exit_ts,
            int(exact_multiply(quantity, tens[size_p])),
            int(exact_multiply(entry_notional, tens[notional_p])),
            int(exact_multiply(exit_notional, tens[notional_p])),
            int(exact_multiply(pnl.amount, tens[pnl_currency.precision])),
            int(exact_multiply(fees.amount, tens[fee_currency.precision])),
        )
        ints = self._ints
        try:  # the common case: every amount fits in 64 bits
            ints.extend(values)
        except OverflowError:  # the column becomes Python ints (the values that fitted undone)
            kept = _FIELDS * len(self._kind)
            self._ints = [*ints[:kept], *values]
        self._kind.append(kind)

    def _numbers(
        self,
        instrument: Instrument,
        strategy_id: StrategyId,
        pnl: Money,
        fees: Money,
        side: PositionSide,
    ) -> tuple[int, int, int, int, int, int, int]:
        currencies, listed = self._currencies, self._currency_list
        return (
            self._number(self._instruments, self._instrument_list, instrument.id, instrument),
            self._number(self._strategies, self._strategy_list, strategy_id, strategy_id),
            self._number(currencies, listed, pnl.currency, pnl.currency),
            self._number(currencies, listed, fees.currency, fees.currency),
            _SIDES.index(side),
            instrument.size_precision,
            instrument.size_precision + instrument.price_precision,  # of a notional
        )

    def _build(self, i: int) -> RoundTrip:
        inst_k, strat_k, cur_k, fee_k, side_k, size_p, notional_p = self._kinds[self._kind[i]]
        inst = self._instrument_list[inst_k]
        currency = self._currency_list[cur_k]
        fee_currency = self._currency_list[fee_k]
        row = _FIELDS * i
        entry_ts, exit_ts, qty_raw, entry_raw, exit_raw, pnl_raw, fees_raw = self._ints[
            row : row + _FIELDS
        ]
        qty = exact_scaleb(Decimal(qty_raw), -size_p)
        entry = exact_scaleb(Decimal(entry_raw), -notional_p)
        exit_ = exact_scaleb(Decimal(exit_raw), -notional_p)
        return RoundTrip(
            instrument_id=inst.id,
            strategy_id=self._strategy_list[strat_k],
            side=_SIDES[side_k],
            quantity=Quantity.from_raw(qty_raw, size_p),
            entry_ts=entry_ts,
            exit_ts=exit_ts,
            entry_price=entry / qty,
            exit_price=exit_ / qty,
            pnl=Money.rounded(exact_scaleb(Decimal(pnl_raw), -currency.precision), currency),
            fees=Money.rounded(
                exact_scaleb(Decimal(fees_raw), -fee_currency.precision), fee_currency
            ),
        )

    def __len__(self) -> int:
        return len(self._kind)

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
        kinds = {self._kind[i] for i in rows}
        used = sorted(
            {self._kinds[k][_CURRENCY] for k in kinds}
            | {self._kinds[k][_FEE_CURRENCY] for k in kinds}
        )
        currencies = [self._currency_list[k] for k in used]
        return currencies, self._net_pnl(rows)

    def _net_pnl(self, rows: Sequence[int]) -> Iterator[Decimal]:
        ints = self._ints
        for i in rows:
            kind = self._kinds[self._kind[i]]
            pnl_p = self._currency_list[kind[_CURRENCY]].precision
            fee_p = self._currency_list[kind[_FEE_CURRENCY]].precision
            row = _FIELDS * i
            pnl = exact_scaleb(Decimal(ints[row + _PNL]), -pnl_p)
            yield exact_subtract(pnl, exact_scaleb(Decimal(ints[row + _FEES]), -fee_p))

    def net_pnl_scaled(
        self, indexes: Sequence[int] | None = None
    ) -> tuple[Currency, npt.NDArray[np.int64]] | None:
        """Each trade's PnL after fees as integers in units of the currency's precision (so
        exact), with that currency: what the statistics read, without a Decimal per trade.
        None when that does not hold: the trades settle in several currencies, or an amount
        does not fit in 64 bits (then ``net_pnl_columns`` gives the Decimals)."""
        ints = self._ints
        if not isinstance(ints, array) or not len(self._kind):
            return None
        kind_of = np.frombuffer(self._kind, dtype=np.uint16)
        rows = np.frombuffer(ints, dtype=np.int64).reshape(-1, _FIELDS)
        if indexes is not None:
            picked = np.asarray(indexes, dtype=np.int64)
            kind_of, rows = kind_of[picked], rows[picked]
        kinds = [self._kinds[k] for k in np.unique(kind_of).tolist()]
        currencies = {kind[_CURRENCY] for kind in kinds} | {kind[_FEE_CURRENCY] for kind in kinds}
        if len(currencies) != 1:
            return None
        pnl, fees = rows[:, _PNL], rows[:, _FEES]
        # pnl - fees and the statistics' sums stay far inside 64 bits, or this is not used.
        bound = 1 << 62
        # (Python ints: numpy's abs of the smallest int64 is still negative.)
        largest = max(-int(pnl.min()), int(pnl.max()), -int(fees.min()), int(fees.max()))
        if largest >= bound // (2 * max(1, len(pnl))):
            return None
        return self._currency_list[currencies.pop()], pnl - fees

    def of_strategy(self, strategy_id: StrategyId) -> Sequence[RoundTrip]:
        """The trades of one strategy (a view; nothing is copied)."""
        number = self._strategies.get(strategy_id)
        if number is not None and len(self._strategies) == 1:
            return self
        kinds = {k for k, kind in enumerate(self._kinds) if kind[_STRATEGY] == number}
        return _View(self, [i for i, k in enumerate(self._kind) if k in kinds])

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

    def net_pnl_scaled(self) -> tuple[Currency, npt.NDArray[np.int64]] | None:
        """As ``TradeLog.net_pnl_scaled``, for the trades of this view."""
        return self._log.net_pnl_scaled(self._indexes)

    @overload
    def __getitem__(self, index: int) -> RoundTrip: ...
    @overload
    def __getitem__(self, index: slice) -> list[RoundTrip]: ...
    def __getitem__(self, index: int | slice) -> RoundTrip | list[RoundTrip]:
        if isinstance(index, slice):
            return [self._log[i] for i in self._indexes[index]]
        return self._log[self._indexes[index]]

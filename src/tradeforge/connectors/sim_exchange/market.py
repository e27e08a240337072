"""The market data a simulated exchange publishes for one instrument, and the book behind it.

A :class:`MarketFeed` runs on the caller's clock: ``advance(ts_ns)`` returns everything that
happened since the previous call up to ``ts_ns``, in order, and ``snapshot()`` is the whole book
after it. Every ``OrderBookDelta`` carries the next ``sequence`` (the previous one + 1, the
snapshot's ``sequence`` being the last one applied), so they serve as Binance depth update ids; a
delta's size is the level's new absolute size, 0 (``DELETE``) removing it, as in Binance diff
streams. Every event of one market event (a trade and the levels it consumed, an order resting)
shares one ``ts_event``, so a caller may group deltas by it. ``TradeTick.trade_id`` counts
``1, 2, 3, ...``.

:class:`LevelBook` is that book in whole ticks and lots: feeds change levels and print trades
through it, and it turns each change into the exact domain message.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final, Protocol

from tradeforge.domain import (
    AggressorSide,
    BookAction,
    BookLevel,
    BookSide,
    Instrument,
    InvalidValue,
    OrderBookDelta,
    OrderBookSnapshot,
    Price,
    Quantity,
    TradeId,
    TradeTick,
)

__all__ = ["FIRST_SEQUENCE", "LevelBook", "MarketEvent", "MarketFeed", "nice_step", "typical_lots"]

MarketEvent = OrderBookDelta | TradeTick
"""What a feed publishes: a change to one book level, or a trade."""

FIRST_SEQUENCE = 1
"""The ``sequence`` of a feed's book before its first delta."""

_TYPICAL_NOTIONAL: Final = Decimal(2_000)


class MarketFeed(Protocol):
    """The market of one instrument, driven by the caller's clock."""

    instrument: Instrument

    def snapshot(self) -> OrderBookSnapshot:
        """The whole book now; ``sequence`` is the last delta's (``FIRST_SEQUENCE`` before any)."""
        ...

    def advance(self, ts_ns: int) -> list[MarketEvent]:
        """Everything that happened after the previous call up to ``ts_ns``, in order."""
        ...


def typical_lots(instrument: Instrument, size: Decimal | None, price: Decimal) -> int:
    """A participant's typical order in whole lots: ``size``, or by default worth about 2,000
    in the quote currency at ``price``; at least ``min_quantity`` and one lot."""
    if size is None:
        size = max(_TYPICAL_NOTIONAL / price, instrument.min_quantity.as_decimal())
    elif not isinstance(size, Decimal) or not size.is_finite() or size <= 0:
        raise InvalidValue(f"order size must be a positive Decimal, got {size!r}")
    lots = (size / instrument.lot_size.as_decimal()).to_integral_value(ROUND_HALF_EVEN)
    return max(1, int(lots))


def nice_step(ticks: float) -> int:
    """A level spacing near ``ticks``: the nearest (on a log scale) whole number of 1, 2, 2.5
    or 5 times a power of ten, at least 1."""
    if ticks < 1.5:
        return 1
    power = 10 ** math.floor(math.log10(ticks))
    steps = [int(m * power) for m in (1, 2, 2.5, 5, 10) if float(m * power).is_integer()]
    return min(steps, key=lambda step: abs(math.log(step / ticks)))


class LevelBook:
    """A level-2 book keyed by whole ticks, sized in whole lots, that reports its changes.

    ``bids``/``asks`` map a price in ticks to a size in lots; read them, change them only through
    :meth:`set_level`, which appends the matching delta to the pending events.
    """

    def __init__(self, instrument: Instrument, *, ts_ns: int = 0) -> None:
        self.instrument = instrument
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.sequence = FIRST_SEQUENCE
        self.ts_ns = ts_ns
        self._trades = 0
        self._events: list[MarketEvent] = []
        tick, lot = instrument.tick_size, instrument.lot_size
        self._price_precision, self._size_precision = tick.precision, lot.precision
        self._tick_raw = int(tick.as_decimal().scaleb(tick.precision))
        self._lot_raw = int(lot.as_decimal().scaleb(lot.precision))
        self._zero = Quantity.from_raw(0, self._size_precision)

    # ----------------------------------------------------------------- values
    def price(self, ticks: int) -> Price:
        """``ticks`` whole ticks as an exact price."""
        return Price.from_raw(ticks * self._tick_raw, self._price_precision)

    def quantity(self, lots: int) -> Quantity:
        """``lots`` whole lots as an exact quantity."""
        return Quantity.from_raw(lots * self._lot_raw, self._size_precision)

    @property
    def best_bid(self) -> int | None:
        """The highest bid in ticks."""
        return max(self.bids) if self.bids else None

    @property
    def best_ask(self) -> int | None:
        """The lowest ask in ticks."""
        return min(self.asks) if self.asks else None

    def side(self, side: BookSide) -> dict[int, int]:
        """The levels of one side."""
        return self.bids if side is BookSide.BID else self.asks

    # ---------------------------------------------------------------- changes
    def load(self, bids: dict[int, int], asks: dict[int, int]) -> None:
        """Set the starting book without reporting it (it is the first snapshot)."""
        if bids and asks and max(bids) >= min(asks):
            raise InvalidValue(
                f"{self.instrument.id}: starting book is crossed: bid {self.price(max(bids))} "
                f">= ask {self.price(min(asks))}"
            )
        self.bids = {ticks: lots for ticks, lots in bids.items() if lots > 0}
        self.asks = {ticks: lots for ticks, lots in asks.items() if lots > 0}

    def set_level(self, side: BookSide, ticks: int, lots: int, ts_ns: int) -> None:
        """Make the level at ``ticks`` hold ``lots`` (0 removes it) and report the change."""
        levels = self.side(side)
        before = levels.get(ticks, 0)
        if lots == before:
            return
        if lots > 0:
            levels[ticks] = lots
            action = BookAction.UPDATE if before else BookAction.ADD
        else:
            del levels[ticks]
            action = BookAction.DELETE
        self.sequence += 1
        self.ts_ns = ts_ns
        self._events.append(
            OrderBookDelta(
                instrument_id=self.instrument.id,
                action=action,
                side=side,
                price=self.price(ticks),
                size=self.quantity(lots) if lots > 0 else self._zero,
                sequence=self.sequence,
                ts_event=ts_ns,
                ts_init=ts_ns,
            )
        )

    def print_trade(self, ticks: int, lots: int, aggressor: AggressorSide, ts_ns: int) -> None:
        """Report a trade of ``lots`` at ``ticks`` (the book is changed separately)."""
        self._trades += 1
        self.ts_ns = ts_ns
        self._events.append(
            TradeTick(
                instrument_id=self.instrument.id,
                price=self.price(ticks),
                size=self.quantity(lots),
                aggressor_side=aggressor,
                trade_id=TradeId(str(self._trades)),
                ts_event=ts_ns,
                ts_init=ts_ns,
            )
        )

    def take(self, buy: bool, lots: int, limit: int | None, ts_ns: int) -> int:
        """An aggressive order takes up to ``lots`` from the opposite side, best level first,
        never beyond ``limit`` ticks (None: any price), printing one trade per level.

        It stops before taking the side's last lot, so neither side is ever emptied. Returns
        the lots it could not take.
        """
        side = BookSide.ASK if buy else BookSide.BID
        levels = self.side(side)
        aggressor = AggressorSide.BUYER if buy else AggressorSide.SELLER
        for ticks in sorted(levels, reverse=not buy):
            if lots <= 0 or (limit is not None and (ticks > limit if buy else ticks < limit)):
                break
            size = levels[ticks]
            last = len(levels) == 1
            taken = min(lots, size - 1 if last else size)
            if taken <= 0:
                break
            self.print_trade(ticks, taken, aggressor, ts_ns)
            self.set_level(side, ticks, size - taken, ts_ns)
            lots -= taken
        return lots

    def drain(self) -> list[MarketEvent]:
        """The events reported since the last call."""
        events, self._events = self._events, []
        return events

    # ------------------------------------------------------------------- view
    def snapshot(self) -> OrderBookSnapshot:
        """The whole book, best levels first, at the last change's time and sequence."""
        return OrderBookSnapshot(
            instrument_id=self.instrument.id,
            bids=tuple(
                BookLevel(self.price(ticks), self.quantity(self.bids[ticks]))
                for ticks in sorted(self.bids, reverse=True)
            ),
            asks=tuple(
                BookLevel(self.price(ticks), self.quantity(self.asks[ticks]))
                for ticks in sorted(self.asks)
            ),
            sequence=self.sequence,
            ts_event=self.ts_ns,
            ts_init=self.ts_ns,
        )

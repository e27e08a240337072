"""``PositionBook``: routes fills to positions under netting or hedging.

- NETTING: one position per instrument and strategy; a fill larger than it flips it.
- HEDGING: a LONG and a SHORT position per instrument and strategy. Each fill names the
  ``position_side`` it belongs to (as Binance's hedge mode does); a buy adds to LONG and reduces
  SHORT, a sell the reverse, and neither may go through zero.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from tradeforge.domain.enums import PositionMode, PositionSide
from tradeforge.domain.errors import InvalidValue, UnknownInstrument
from tradeforge.domain.identifiers import AccountId, InstrumentId, PositionId, StrategyId
from tradeforge.domain.instruments import Instrument
from tradeforge.domain.money import Money
from tradeforge.domain.orders.events import OrderFilled
from tradeforge.domain.position import Position

__all__ = ["PositionBook"]


class PositionBook:
    """The positions of one account."""

    def __init__(
        self,
        mode: PositionMode,
        instruments: Mapping[InstrumentId, Instrument],
        *,
        account_id: AccountId | None = None,
    ) -> None:
        self.mode = mode
        self.account_id = account_id
        self._instruments = instruments
        self._positions: dict[PositionId, Position] = {}
        self._ids: dict[tuple[InstrumentId, StrategyId, PositionSide | None], PositionId] = {}

    def position_id(
        self,
        instrument_id: InstrumentId,
        strategy_id: StrategyId,
        side: PositionSide | None = None,
    ) -> PositionId:
        """The id of the position a fill with these keys goes to."""
        key = (instrument_id, strategy_id, side)
        known = self._ids.get(key)
        if known is None:
            known = self._ids[key] = self._make_id(instrument_id, strategy_id, side)
        return known

    def _make_id(
        self, instrument_id: InstrumentId, strategy_id: StrategyId, side: PositionSide | None
    ) -> PositionId:
        base = f"{instrument_id}-{strategy_id}"
        if self.mode is PositionMode.NETTING:
            return PositionId(base)
        if side not in (PositionSide.LONG, PositionSide.SHORT):
            raise InvalidValue(
                f"hedging account {self.account_id}: a fill must name position_side LONG or "
                f"SHORT, got {side}"
            )
        return PositionId(f"{base}-{side}")

    def apply(self, fill: OrderFilled) -> tuple[Position, Money]:
        """Book ``fill``; return its position and the PnL it realized."""
        instrument = self._instruments.get(fill.instrument_id)
        if instrument is None:
            raise UnknownInstrument(f"no instrument {fill.instrument_id} for fill {fill.trade_id}")
        side = fill.position_side
        position_id = self.position_id(fill.instrument_id, fill.strategy_id, side)
        position = self._positions.get(position_id)
        if position is None:
            position = Position(
                position_id,
                instrument,
                fill.strategy_id,
                account_id=self.account_id,
                allow_flip=self.mode is PositionMode.NETTING,
            )
        if self.mode is PositionMode.HEDGING and position.is_flat:
            opens = PositionSide.LONG if fill.order_side.sign > 0 else PositionSide.SHORT
            if opens is not side:
                raise InvalidValue(
                    f"position {position_id} is flat: a {fill.order_side} cannot reduce it"
                )
        realized = position.apply(fill)
        self._positions[position_id] = position
        return position, realized

    def get(self, position_id: PositionId) -> Position | None:
        """The position with that id, if it was ever opened."""
        return self._positions.get(position_id)

    def open_positions(self) -> list[Position]:
        """Positions that are not flat, in the order they were first opened."""
        return [p for p in self._positions.values() if not p.is_flat]

    def for_instrument(self, instrument_id: InstrumentId) -> list[Position]:
        """Every position (open or flat) in one instrument."""
        return [p for p in self._positions.values() if p.instrument.id == instrument_id]

    def __iter__(self) -> Iterator[Position]:
        return iter(self._positions.values())

    def __len__(self) -> int:
        return len(self._positions)

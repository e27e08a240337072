"""``CcxtMarkets``: the instruments a CCXT venue client loaded, by id and by CCXT symbol.

Only spot markets that are active are kept; a market CCXT lists that does not read as an
instrument is skipped with a warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tradeforge.connectors.ccxt_convert import instrument_from_market
from tradeforge.domain import Instrument, InstrumentId, TradeForgeError, UnknownInstrument, Venue
from tradeforge.observability import get_logger

__all__ = ["CcxtMarkets"]

log = get_logger("tradeforge.connectors.ccxt")


class CcxtMarkets:
    """The spot instruments of one venue, and the CCXT symbol each trades under."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self._instruments: dict[InstrumentId, Instrument] = {}
        self._symbols: dict[InstrumentId, str] = {}
        self._by_symbol: dict[str, Instrument] = {}

    def load(self, markets: Mapping[str, Any]) -> None:
        """Take the active spot markets of CCXT's ``load_markets`` answer."""
        for symbol, market in markets.items():
            if market.get("spot") is False or not market.get("active", True):
                continue
            try:
                inst = instrument_from_market(market, self.venue)
            except TradeForgeError as exc:
                log.warning("market skipped", symbol=symbol, reason=str(exc))
                continue
            self._instruments[inst.id] = inst
            self._symbols[inst.id] = symbol
            self._by_symbol[symbol] = inst

    def all(self) -> list[Instrument]:
        """Every loaded instrument."""
        return list(self._instruments.values())

    def instrument(self, instrument_id: InstrumentId) -> Instrument:
        """A loaded instrument (else ``UnknownInstrument``)."""
        inst = self._instruments.get(instrument_id)
        if inst is None:
            raise UnknownInstrument(f"{instrument_id} is not traded at {self.venue}")
        return inst

    def symbol(self, instrument_id: InstrumentId) -> str:
        """The CCXT symbol of a loaded instrument (else ``UnknownInstrument``)."""
        self.instrument(instrument_id)
        return self._symbols[instrument_id]

    def by_symbol(self, symbol: Any) -> Instrument | None:
        """The instrument CCXT calls ``symbol``, or None when it is not loaded."""
        return self._by_symbol.get(symbol)

"""The symbols the simulated exchange lists, with Binance-like filters.

``BTC/USDT`` becomes the instrument ``BTC/USDT.SIM`` traded as ``BTCUSDT``. Known pairs get the
tick, lot and minimum notional Binance uses for them; any other ``BASE/QUOTE`` gets defaults
that suit a price near 100.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tradeforge.domain import (
    KNOWN_CURRENCIES,
    ConfigurationError,
    Currency,
    CurrencyPair,
    InstrumentId,
    Money,
    Price,
    Quantity,
    Venue,
)

__all__ = ["VENUE", "ListedSymbol", "listed_symbols"]

VENUE = Venue("SIM")
DEFAULT_FEE = Decimal("0.001")


@dataclass(frozen=True)
class _Defaults:
    tick: str
    lot: str
    min_notional: str
    start_price: str


_KNOWN = {
    "BTC/USDT": _Defaults("0.01", "0.00001", "5", "30000"),
    "ETH/USDT": _Defaults("0.01", "0.0001", "5", "2000"),
    "SOL/USDT": _Defaults("0.01", "0.001", "5", "100"),
}
_GENERIC = _Defaults("0.0001", "0.01", "1", "100")


@dataclass(frozen=True)
class ListedSymbol:
    """One tradable pair: its instrument and where its simulated price starts."""

    instrument: CurrencyPair
    start_price: Decimal

    @property
    def symbol(self) -> str:
        """The Binance name, e.g. ``BTCUSDT``."""
        return self.instrument.raw_symbol


def _currency(code: str) -> Currency:
    return KNOWN_CURRENCIES.get(code) or Currency(code, 8)


def _pair(name: str, fee: Decimal) -> ListedSymbol:
    base, slash, quote = name.partition("/")
    if not slash or not base.isalnum() or not quote.isalnum():
        raise ConfigurationError(
            f"--instruments: {name!r} is not a pair; write BASE/QUOTE, e.g. BTC/USDT"
        )
    base, quote = base.upper(), quote.upper()
    d = _KNOWN.get(f"{base}/{quote}", _GENERIC)
    tick, lot = Price(d.tick), Quantity(d.lot)
    quote_ccy = _currency(quote)
    inst = CurrencyPair(
        id=InstrumentId(f"{base}/{quote}", VENUE),
        raw_symbol=base + quote,
        base_currency=_currency(base),
        quote_currency=quote_ccy,
        settlement_currency=quote_ccy,
        tick_size=tick,
        lot_size=lot,
        min_quantity=lot,
        min_notional=Money.rounded(Decimal(d.min_notional), quote_ccy),
        maker_fee=fee,
        taker_fee=fee,
    )
    return ListedSymbol(inst, Decimal(d.start_price))


def listed_symbols(names: str | list[str], fee: Decimal = DEFAULT_FEE) -> list[ListedSymbol]:
    """The pairs of ``--instruments`` (comma-separated ``BASE/QUOTE``), in order, no repeats."""
    items = names.split(",") if isinstance(names, str) else names
    seen: dict[str, ListedSymbol] = {}
    for raw in items:
        name = raw.strip()
        if not name:
            continue
        listed = _pair(name, fee)
        seen.setdefault(listed.symbol, listed)
    if not seen:
        raise ConfigurationError("--instruments: name at least one pair, e.g. BTC/USDT,ETH/USDT")
    return list(seen.values())

"""The simulated exchange's accounts: ``Account`` and ``Accounts``, which loads them.

Each account is one ``SimulatedVenue`` (the backtester's own class: funds checks, locks, matching
engines, fees), fed the same public market data. An account is loaded from the store on first
use: its venue is given the current books, and its open orders are put back on them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tradeforge.backtest import SimulatedVenue, VenueAccount
from tradeforge.bus import Clock
from tradeforge.connectors.sim_exchange.account_events import AccountEvents
from tradeforge.connectors.sim_exchange.orders import API_STRATEGY, OrderRecord, restored_spec
from tradeforge.connectors.sim_exchange.public import PublicMarket
from tradeforge.connectors.sim_exchange.store import ExchangeStore
from tradeforge.connectors.sim_exchange.symbols import VENUE, ListedSymbol
from tradeforge.domain import (
    AccountId,
    AccountType,
    BookLevel,
    Currency,
    Money,
    OrderBookSnapshot,
    OrderSpec,
    RejectReason,
    SubmitOrder,
)

__all__ = ["Account", "Accounts", "UserListener"]

UserListener = Callable[[dict[str, Any]], None]


@dataclass
class Account:
    """One user's account: its venue, its orders and who listens to it."""

    no: int
    api_key: str
    api_secret: str
    venue: SimulatedVenue
    orders: dict[int, OrderRecord] = field(default_factory=dict)
    open_by_client: dict[str, OrderRecord] = field(default_factory=dict)
    listeners: set[UserListener] = field(default_factory=set)
    rejected: dict[str, tuple[RejectReason, str]] = field(default_factory=dict)
    restoring: bool = False


class Accounts:
    """The loaded accounts of one simulated exchange, by API key."""

    def __init__(
        self,
        listed: dict[str, ListedSymbol],
        markets: dict[str, PublicMarket],
        store: ExchangeStore,
        clock: Clock,
        events: AccountEvents,
    ) -> None:
        self.listed = listed
        self.markets = markets
        self.store = store
        self.clock = clock
        self._events = events
        self._accounts: dict[str, Account] = {}

    def __iter__(self) -> Iterator[Account]:
        return iter(self._accounts.values())

    def get(self, api_key: str) -> Account | None:
        """The account of ``api_key`` (loaded from the store on first use), or None."""
        acct = self._accounts.get(api_key)
        if acct is not None:
            return acct
        row = self.store.account(api_key)
        if row is None:
            return None
        balances = [
            Money.rounded(total, self._currency(asset)) for asset, total in row.balances.items()
        ]
        holder: list[Account] = []
        venue = SimulatedVenue(
            venue=VENUE,
            account=VenueAccount(AccountId(f"SIM-{row.account_no}"), AccountType.CASH, balances),
            instruments=[s.instrument for s in self.listed.values()],
            clock=self.clock,
            emit=lambda msg: self._events.on_event(holder[0], msg),
        )
        acct = Account(row.account_no, row.api_key, row.api_secret, venue)
        holder.append(acct)
        self._accounts[api_key] = acct
        for market in self.markets.values():
            if market.bids or market.asks:
                venue.on_book(self._snapshot_of(market))
        self._restore(acct)
        return acct

    def _currency(self, code: str) -> Currency:
        for s in self.listed.values():
            for ccy in (s.instrument.base_currency, s.instrument.quote_currency):
                if ccy.code == code:
                    return ccy
        return Currency(code, 8)

    def _restore(self, acct: Account) -> None:
        """Load the account's orders; put its open orders back on the book."""
        acct.restoring = True
        try:
            for body in self.store.orders(acct.no):
                rec = OrderRecord.from_json(body)
                acct.orders[rec.order_id] = rec
                if not rec.is_open:
                    continue
                acct.open_by_client[rec.client_order_id] = rec
                spec = restored_spec(self.listed[rec.symbol].instrument, rec)
                self.execute_submit(acct, spec)
                if rec.client_order_id in acct.rejected:  # funds or the book changed since
                    reason, message = acct.rejected.pop(rec.client_order_id)
                    self._events.close(acct, rec, "EXPIRED", f"not restored: {reason}: {message}")
        finally:
            acct.restoring = False
        self.store.commit()

    def execute_submit(self, acct: Account, spec: OrderSpec) -> None:
        """Hand a new order of ``acct`` to its venue."""
        ts = self.clock.timestamp_ns()
        acct.venue.execute(
            SubmitOrder(strategy_id=API_STRATEGY, spec=spec, ts_event=ts, ts_init=ts)
        )

    def _snapshot_of(self, market: PublicMarket) -> OrderBookSnapshot:
        inst = self.listed[market.symbol].instrument
        ts = self.clock.timestamp_ns()
        return OrderBookSnapshot(
            instrument_id=inst.id,
            bids=tuple(
                BookLevel(inst.make_price(p), inst.make_qty(q))
                for p, q in sorted(market.bids.items(), reverse=True)
            ),
            asks=tuple(
                BookLevel(inst.make_price(p), inst.make_qty(q))
                for p, q in sorted(market.asks.items())
            ),
            sequence=market.last_update_id,
            ts_event=ts,
            ts_init=ts,
        )

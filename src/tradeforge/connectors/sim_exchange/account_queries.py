"""``AccountQueries``: what an account asks the simulated exchange about itself.

Its orders (one, the open ones, all of one symbol), its trades and its balances, answered as
Binance's ``order``, ``openOrders``, ``allOrders``, ``myTrades`` and ``account`` endpoints do.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from tradeforge.backtest import VenueAccount
from tradeforge.connectors.sim_exchange.accounts import Account
from tradeforge.connectors.sim_exchange.binance_errors import BinanceError
from tradeforge.connectors.sim_exchange.orders import OrderRecord, fmt
from tradeforge.connectors.sim_exchange.store import ExchangeStore
from tradeforge.connectors.sim_exchange.symbols import ListedSymbol
from tradeforge.domain import Currency

__all__ = ["AccountQueries"]


class AccountQueries:
    """The read-only account endpoints of one simulated exchange."""

    def __init__(
        self,
        listed: dict[str, ListedSymbol],
        store: ExchangeStore,
        *,
        symbol: Callable[[str | None], ListedSymbol],
        now_ms: Callable[[], int],
    ) -> None:
        self.listed = listed
        self.store = store
        self._symbol = symbol
        self._now_ms = now_ms

    def find(self, acct: Account, params: dict[str, str]) -> OrderRecord:
        """The order named by ``orderId`` or ``origClientOrderId`` (else -2013)."""
        listed = self._symbol(params.get("symbol"))
        order_id, client_id = params.get("orderId"), params.get("origClientOrderId")
        if not order_id and not client_id:
            raise BinanceError.missing("orderId")
        rec: OrderRecord | None = None
        if order_id:
            if not order_id.isdigit():
                raise BinanceError.bad_param("orderId", "^[0-9]{1,20}$")
            rec = acct.orders.get(int(order_id))
        else:
            assert client_id is not None
            rec = acct.open_by_client.get(client_id) or next(
                (r for r in reversed(acct.orders.values()) if r.client_order_id == client_id),
                None,
            )
        if rec is None or rec.symbol != listed.symbol:
            raise BinanceError.no_such_order()
        return rec

    def open_orders(self, acct: Account, symbol: str | None) -> list[dict[str, Any]]:
        """``GET /api/v3/openOrders``, all symbols or one."""
        name = self._symbol(symbol).symbol if symbol else None
        recs = [r for r in acct.open_by_client.values() if name is None or r.symbol == name]
        return [r.to_json() for r in sorted(recs, key=lambda r: r.order_id)]

    def all_orders(self, acct: Account, params: dict[str, str], limit: int) -> list[dict[str, Any]]:
        """``GET /api/v3/allOrders`` of one symbol: from ``orderId`` or within a time range."""
        name = self._symbol(params.get("symbol")).symbol
        start_id = int(params.get("orderId") or 0)
        start_ms = int(params.get("startTime") or 0)
        end_ms = int(params.get("endTime") or 2**62)
        recs = [
            r
            for r in acct.orders.values()
            if r.symbol == name and r.order_id >= start_id and start_ms <= r.time_ms <= end_ms
        ]
        recs.sort(key=lambda r: r.order_id)
        recs = recs[:limit] if start_id or start_ms else recs[-limit:]
        return [r.to_json() for r in recs]

    def my_trades(self, acct: Account, params: dict[str, str], limit: int) -> list[dict[str, Any]]:
        """``GET /api/v3/myTrades`` of one symbol."""
        name = self._symbol(params.get("symbol")).symbol
        order_id = int(params["orderId"]) if params.get("orderId") else None
        from_id = int(params.get("fromId") or 0)
        start_ms = int(params.get("startTime") or 0)
        end_ms = int(params.get("endTime") or 2**62)
        rows = [
            t
            for t in self.store.trades(acct.no)
            if t["symbol"] == name
            and (order_id is None or t["orderId"] == order_id)
            and t["id"] >= from_id
            and start_ms <= t["time"] <= end_ms
        ]
        return rows[:limit] if from_id or start_ms else rows[-limit:]

    def account_json(self, acct: Account) -> dict[str, Any]:
        """``GET /api/v3/account``."""
        va = acct.venue.account
        fee = next(iter(self.listed.values())).instrument.taker_fee
        return {
            "makerCommission": int(fee * 10_000),
            "takerCommission": int(fee * 10_000),
            "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {
                "maker": fmt(fee),
                "taker": fmt(fee),
                "buyer": fmt(Decimal(0)),
                "seller": fmt(Decimal(0)),
            },
            "canTrade": True,
            "canWithdraw": False,
            "canDeposit": False,
            "brokered": False,
            "requireSelfTradePrevention": False,
            "preventSor": False,
            "updateTime": self._now_ms(),
            "accountType": "SPOT",
            "balances": [self._balance_json(va, c) for c in va.currencies()],
            "permissions": ["SPOT"],
            "uid": acct.no,
        }

    @staticmethod
    def _balance_json(va: VenueAccount, currency: Currency) -> dict[str, str]:
        bal = va.balance(currency)
        return {
            "asset": currency.code,
            "free": fmt(bal.free.amount),
            "locked": fmt(bal.locked.amount),
        }

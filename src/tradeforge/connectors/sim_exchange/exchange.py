"""The simulated exchange: accounts trading on the backtester's simulated venue.

Each account is one ``SimulatedVenue`` (the backtester's own class: funds checks, locks,
matching engines, fees), fed the same public market data (``accounts``). Orders are taken and
answered the way Binance does (``BinanceError`` with Binance's codes for refusals), followed
through their domain events, written to the store and pushed to the account's user-data
listeners as ``executionReport`` and ``outboundAccountPosition`` messages (``account_events``).
What an account asks about itself is answered by ``account_queries``.

Users trade against the simulated market, not against each other: a user's order takes
liquidity from the public book (walking it for size) or rests until the market's trades reach
its price. Users' orders do not show in the public book.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any

from tradeforge.bus import Clock
from tradeforge.connectors.sim_exchange.account_events import AccountEvents
from tradeforge.connectors.sim_exchange.account_queries import AccountQueries
from tradeforge.connectors.sim_exchange.accounts import Account, Accounts, UserListener
from tradeforge.connectors.sim_exchange.binance_errors import BinanceError
from tradeforge.connectors.sim_exchange.oco import parse_oco
from tradeforge.connectors.sim_exchange.orders import (
    API_STRATEGY,
    OrderRecord,
    check_client_order_id,
    parse_order,
)
from tradeforge.connectors.sim_exchange.public import PublicMarket
from tradeforge.connectors.sim_exchange.store import ExchangeStore
from tradeforge.connectors.sim_exchange.symbols import ListedSymbol
from tradeforge.domain import (
    CancelOrder,
    ClientOrderId,
    Message,
    OrderBookDelta,
    OrderBookSnapshot,
    RejectReason,
    SubmitOrderList,
    TradeTick,
)

__all__ = ["Account", "Exchange", "UserListener"]

_FILTER = {
    RejectReason.PRICE_OFF_TICK: "PRICE_FILTER",
    RejectReason.QUANTITY_OFF_LOT: "LOT_SIZE",
    RejectReason.BELOW_MIN_QUANTITY: "LOT_SIZE",
    RejectReason.ABOVE_MAX_QUANTITY: "LOT_SIZE",
    RejectReason.BELOW_MIN_NOTIONAL: "NOTIONAL",
}
_REJECT_TEXT = {
    RejectReason.INSUFFICIENT_BALANCE: "Account has insufficient balance for requested action.",
    RejectReason.POST_ONLY_WOULD_CROSS: "Order would immediately match and take.",
    RejectReason.DUPLICATE_CLIENT_ORDER_ID: "Duplicate order sent.",
    RejectReason.NO_LIQUIDITY: "Market is closed.",
}


class Exchange:
    """Every account and every listed symbol of one simulated exchange."""

    def __init__(self, listed: Iterable[ListedSymbol], store: ExchangeStore, clock: Clock) -> None:
        self.listed = {s.symbol: s for s in listed}
        self.markets = {sym: PublicMarket(sym) for sym in self.listed}
        self.store = store
        self.clock = clock
        self._events = AccountEvents(store, clock)
        self._accounts = Accounts(self.listed, self.markets, store, clock, self._events)
        self._queries = AccountQueries(self.listed, store, symbol=self.symbol, now_ms=self.now_ms)
        self._order_ids = itertools.count(store.counter("order_id") + 1)
        self.public_sink: Callable[[str, Message], None] | None = None
        for account_no in store.open_order_accounts():
            self.account(store.api_key_of(account_no))

    def now_ms(self) -> int:
        """Exchange time in milliseconds."""
        return self.clock.timestamp_ns() // 1_000_000

    def symbol(self, name: str | None) -> ListedSymbol:
        """The listed symbol ``name`` (else -1121 ``Invalid symbol.``)."""
        if not name:
            raise BinanceError.missing("symbol")
        listed = self.listed.get(name.upper())
        if listed is None:
            raise BinanceError.bad_symbol()
        return listed

    # -------------------------------------------------------------- accounts
    def account(self, api_key: str) -> Account | None:
        """The account of ``api_key`` (loaded from the store on first use), or None."""
        return self._accounts.get(api_key)

    # ---------------------------------------------------------------- orders
    def submit(self, acct: Account, params: dict[str, str]) -> dict[str, Any]:
        """``POST /api/v3/order``: take a new order (or refuse it as Binance would)."""
        listed = self.symbol(params.get("symbol"))
        market = self.markets[listed.symbol]
        bid, ask = market.best()
        side_best = ask if params.get("side", "").upper() == "BUY" else bid
        request = parse_order(listed.instrument, params, side_best[0] if side_best else None)
        spec = request.spec
        client_id = spec.client_order_id.value
        if client_id in acct.open_by_client:
            raise BinanceError.rejected("Duplicate order sent.")
        now = self.now_ms()
        rec = OrderRecord.new(request, listed.symbol, self._next_order_id(), now)
        acct.orders[rec.order_id] = rec
        acct.open_by_client[client_id] = rec
        self._accounts.execute_submit(acct, spec)
        refusal = acct.rejected.pop(client_id, None)
        if refusal is not None:
            reason, message = refusal
            if reason is RejectReason.FOK_NOT_FILLABLE:
                self._events.close(acct, rec, "EXPIRED", message)
            else:
                del acct.orders[rec.order_id]
                acct.open_by_client.pop(client_id, None)
                self.store.commit()
                raise self._refusal(reason, message)
        self.store.commit()
        return rec.to_response(request.response_type, now)

    def submit_oco(self, acct: Account, params: dict[str, str], *, legacy: bool) -> dict[str, Any]:
        """``POST /api/v3/orderList/oco`` (or the older ``order/oco``): two linked orders."""
        listed = self.symbol(params.get("symbol"))
        market = self.markets[listed.symbol]
        bid, ask = market.best()
        side_best = ask if params.get("side", "").upper() == "BUY" else bid
        list_id = self._next_list_id()
        oco = parse_oco(
            listed.instrument, params, legacy=legacy, list_id=list_id,
            market_price=side_best[0] if side_best else None,
            taken=lambda cid: cid in acct.open_by_client,
        )  # fmt: skip
        now = self.now_ms()
        records = []
        for leg in (oco.above, oco.below):
            rec = OrderRecord.new(leg, listed.symbol, self._next_order_id(), now)
            rec.order_list_id = list_id
            acct.orders[rec.order_id] = rec
            acct.open_by_client[rec.client_order_id] = rec
            records.append(rec)
        ts = self.clock.timestamp_ns()
        acct.venue.execute(
            SubmitOrderList(
                strategy_id=API_STRATEGY, order_list=oco.order_list, ts_event=ts, ts_init=ts
            )
        )
        refusals = [acct.rejected.pop(r.client_order_id, None) for r in records]
        refusal = next((r for r in refusals if r is not None), None)
        if refusal is not None:
            for rec in records:
                acct.orders.pop(rec.order_id, None)
                acct.open_by_client.pop(rec.client_order_id, None)
            self.store.commit()
            raise self._refusal(*refusal)
        self.store.commit()
        return {
            "orderListId": list_id,
            "contingencyType": "OCO",
            "listStatusType": "EXEC_STARTED",
            "listOrderStatus": "EXECUTING",
            "listClientOrderId": oco.list_client_id,
            "transactionTime": now,
            "symbol": listed.symbol,
            "orders": [
                {"symbol": r.symbol, "orderId": r.order_id, "clientOrderId": r.client_order_id}
                for r in records
            ],
            "orderReports": [r.to_response("RESULT", now) for r in records],
        }

    def _next_list_id(self) -> int:
        value = self.store.counter("order_list_id") + 1
        self.store.set_counter("order_list_id", value)
        return value

    @staticmethod
    def _refusal(reason: RejectReason, message: str) -> BinanceError:
        if reason in _FILTER:
            return BinanceError.filter_failure(_FILTER[reason])
        return BinanceError.rejected(_REJECT_TEXT.get(reason, message))

    def _next_order_id(self) -> int:
        value = next(self._order_ids)
        self.store.set_counter("order_id", value)
        return value

    def cancel(self, acct: Account, params: dict[str, str]) -> dict[str, Any]:
        """``DELETE /api/v3/order``: cancel one open order (else -2011)."""
        try:
            rec = self.find(acct, params)
        except BinanceError as exc:
            if exc.code == -2013:
                raise BinanceError.cancel_rejected() from None
            raise
        if not rec.is_open:
            raise BinanceError.cancel_rejected()
        new_id = params.get("newClientOrderId")
        cancel_id = check_client_order_id(new_id) if new_id else rec.client_order_id
        rec.user_canceled = True
        if rec.order_list_id >= 0:  # cancelling one leg of an OCO cancels the whole list
            for other in acct.open_by_client.values():
                if other.order_list_id == rec.order_list_id:
                    other.user_canceled = True
        ts = self.clock.timestamp_ns()
        acct.venue.execute(
            CancelOrder(
                strategy_id=API_STRATEGY,
                instrument_id=self.listed[rec.symbol].instrument.id,
                client_order_id=ClientOrderId(rec.client_order_id),
                ts_event=ts,
                ts_init=ts,
            )
        )
        self.store.commit()
        return self._cancel_answer(rec, cancel_id)

    def _cancel_answer(self, rec: OrderRecord, cancel_id: str) -> dict[str, Any]:
        body = rec.to_json()
        for key in ("stopPrice", "icebergQty", "time", "updateTime", "isWorking", "workingTime"):
            body.pop(key)
        body["origClientOrderId"] = rec.client_order_id
        body["clientOrderId"] = cancel_id
        body["transactTime"] = self.now_ms()
        return body

    def cancel_all(self, acct: Account, params: dict[str, str]) -> list[dict[str, Any]]:
        """``DELETE /api/v3/openOrders``: cancel every open order in one symbol."""
        listed = self.symbol(params.get("symbol"))
        mine = sorted(
            (r for r in acct.open_by_client.values() if r.symbol == listed.symbol),
            key=lambda r: r.order_id,
        )
        answers = []
        for rec in mine:
            if rec.is_open:  # the other leg of an OCO goes with its list
                answers.append(
                    self.cancel(acct, {"symbol": rec.symbol, "orderId": str(rec.order_id)})
                )
            elif rec.order_list_id >= 0:
                answers.append(self._cancel_answer(rec, rec.client_order_id))
        return answers

    # ----------------------------------------------------------- market data
    def on_market(self, symbol: str, event: OrderBookSnapshot | OrderBookDelta | TradeTick) -> None:
        """One event of a symbol's market feed: the public state first, then every account."""
        market = self.markets[symbol]
        iid = self.listed[symbol].instrument.id
        if isinstance(event, TradeTick):
            market.apply_trade(event)
        elif isinstance(event, OrderBookSnapshot):
            market.apply_snapshot(event)
        else:
            market.apply_delta(event)
        if self.public_sink is not None:
            self.public_sink(symbol, event)
        for acct in self._accounts:
            if isinstance(event, TradeTick):
                acct.venue.on_trade(iid, event.price, event.size, event.ts_event)
            else:
                acct.venue.on_book(event)
        self.store.commit()

    # ------------------------------------------------------------- queries
    def find(self, acct: Account, params: dict[str, str]) -> OrderRecord:
        """The order named by ``orderId`` or ``origClientOrderId`` (else -2013)."""
        return self._queries.find(acct, params)

    def open_orders(self, acct: Account, symbol: str | None) -> list[dict[str, Any]]:
        """``GET /api/v3/openOrders``, all symbols or one."""
        return self._queries.open_orders(acct, symbol)

    def all_orders(self, acct: Account, params: dict[str, str], limit: int) -> list[dict[str, Any]]:
        """``GET /api/v3/allOrders`` of one symbol: from ``orderId`` or within a time range."""
        return self._queries.all_orders(acct, params, limit)

    def my_trades(self, acct: Account, params: dict[str, str], limit: int) -> list[dict[str, Any]]:
        """``GET /api/v3/myTrades`` of one symbol."""
        return self._queries.my_trades(acct, params, limit)

    def account_json(self, acct: Account) -> dict[str, Any]:
        """``GET /api/v3/account``."""
        return self._queries.account_json(acct)

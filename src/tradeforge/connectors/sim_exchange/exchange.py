"""The simulated exchange: accounts trading on the backtester's simulated venue.

Each account is one ``SimulatedVenue`` (the backtester's own class: funds checks, locks,
matching engines, fees), fed the same public market data. Orders are taken and answered the
way Binance does (``BinanceError`` with Binance's codes for refusals), followed through their
domain events, written to the store and pushed to the account's user-data listeners as
``executionReport`` and ``outboundAccountPosition`` messages.

Users trade against the simulated market, not against each other: a user's order takes
liquidity from the public book (walking it for size) or rests until the market's trades reach
its price. Users' orders do not show in the public book.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tradeforge.backtest import SimulatedVenue, VenueAccount
from tradeforge.bus import Clock
from tradeforge.connectors.sim_exchange.binance_errors import BinanceError
from tradeforge.connectors.sim_exchange.oco import parse_oco
from tradeforge.connectors.sim_exchange.orders import (
    API_STRATEGY,
    OrderRecord,
    check_client_order_id,
    fmt,
    parse_order,
    restored_spec,
)
from tradeforge.connectors.sim_exchange.public import PublicMarket
from tradeforge.connectors.sim_exchange.store import ExchangeStore
from tradeforge.connectors.sim_exchange.symbols import VENUE, ListedSymbol
from tradeforge.domain import (
    AccountId,
    AccountStateChanged,
    AccountType,
    BookLevel,
    CancelOrder,
    ClientOrderId,
    Currency,
    LiquiditySide,
    Message,
    Money,
    OrderAccepted,
    OrderBookDelta,
    OrderBookSnapshot,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderSpec,
    OrderTriggered,
    RejectReason,
    SubmitOrder,
    SubmitOrderList,
    TradeTick,
)

__all__ = ["Account", "Exchange", "UserListener"]

UserListener = Callable[[dict[str, Any]], None]

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


class Exchange:
    """Every account and every listed symbol of one simulated exchange."""

    def __init__(self, listed: Iterable[ListedSymbol], store: ExchangeStore, clock: Clock) -> None:
        self.listed = {s.symbol: s for s in listed}
        self.markets = {sym: PublicMarket(sym) for sym in self.listed}
        self.store = store
        self.clock = clock
        self._accounts: dict[str, Account] = {}
        self._order_ids = itertools.count(store.counter("order_id") + 1)
        self._trade_ids = itertools.count(store.counter("trade_id") + 1)
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
            emit=lambda msg: self._on_event(holder[0], msg),
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
                self._execute_submit(acct, spec)
                if rec.client_order_id in acct.rejected:  # funds or the book changed since
                    reason, message = acct.rejected.pop(rec.client_order_id)
                    self._close(acct, rec, "EXPIRED", f"not restored: {reason}: {message}")
        finally:
            acct.restoring = False
        self.store.commit()

    def _execute_submit(self, acct: Account, spec: OrderSpec) -> None:
        ts = self.clock.timestamp_ns()
        acct.venue.execute(
            SubmitOrder(strategy_id=API_STRATEGY, spec=spec, ts_event=ts, ts_init=ts)
        )

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
        self._execute_submit(acct, spec)
        refusal = acct.rejected.pop(client_id, None)
        if refusal is not None:
            reason, message = refusal
            if reason is RejectReason.FOK_NOT_FILLABLE:
                self._close(acct, rec, "EXPIRED", message)
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

    def find(self, acct: Account, params: dict[str, str]) -> OrderRecord:
        """The order named by ``orderId`` or ``origClientOrderId`` (else -2013)."""
        listed = self.symbol(params.get("symbol"))
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

    def open_orders(self, acct: Account, symbol: str | None) -> list[dict[str, Any]]:
        """``GET /api/v3/openOrders``, all symbols or one."""
        name = self.symbol(symbol).symbol if symbol else None
        recs = [r for r in acct.open_by_client.values() if name is None or r.symbol == name]
        return [r.to_json() for r in sorted(recs, key=lambda r: r.order_id)]

    def all_orders(self, acct: Account, params: dict[str, str], limit: int) -> list[dict[str, Any]]:
        """``GET /api/v3/allOrders`` of one symbol: from ``orderId`` or within a time range."""
        name = self.symbol(params.get("symbol")).symbol
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
        name = self.symbol(params.get("symbol")).symbol
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
            "updateTime": self.now_ms(),
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
        for acct in self._accounts.values():
            if isinstance(event, TradeTick):
                acct.venue.on_trade(iid, event.price, event.size, event.ts_event)
            else:
                acct.venue.on_book(event)
        self.store.commit()

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

    # ---------------------------------------------------------------- events
    def _on_event(self, acct: Account, msg: Message) -> None:
        if isinstance(msg, OrderRejected):
            acct.rejected[msg.client_order_id.value] = (msg.reason, msg.message)
            return
        if isinstance(msg, AccountStateChanged):
            self._on_balances(acct, msg)
            return
        client_id = getattr(msg, "client_order_id", None)
        rec = acct.open_by_client.get(client_id.value) if client_id is not None else None
        if rec is None:
            return
        now = msg.ts_event // 1_000_000
        if isinstance(msg, OrderAccepted):
            if not acct.restoring:
                self._save(acct, rec)
                self._report(acct, rec, "NEW", now)
        elif isinstance(msg, OrderTriggered):
            rec.is_working, rec.working_ms, rec.update_ms = True, now, now
            self._save(acct, rec)
        elif isinstance(msg, OrderFilled):
            self._on_fill(acct, rec, msg, now)
        elif isinstance(msg, OrderCanceled):
            # An IOC/FOK remainder, or the other leg of an OCO that filled, expires.
            market_like = rec.type == "MARKET" or rec.time_in_force in ("IOC", "FOK")
            expires = market_like or rec.order_list_id >= 0
            status = "CANCELED" if rec.user_canceled or not expires else "EXPIRED"
            self._close(acct, rec, status, msg.reason)
        elif isinstance(msg, OrderExpired):
            self._close(acct, rec, "EXPIRED", "expired")

    def _on_fill(self, acct: Account, rec: OrderRecord, fill: OrderFilled, now: int) -> None:
        qty, px = fill.last_qty.as_decimal(), fill.last_px.as_decimal()
        rec.fill(qty, px, now)
        trade_id = next(self._trade_ids)
        self.store.set_counter("trade_id", trade_id)
        commission = fill.commission
        maker = fill.liquidity_side is LiquiditySide.MAKER
        rec.fills.append(
            {
                "price": fmt(px),
                "qty": fmt(qty),
                "commission": fmt(commission.amount),
                "commissionAsset": commission.currency.code,
                "tradeId": trade_id,
            }
        )
        self.store.save_trade(
            acct.no,
            {
                "symbol": rec.symbol,
                "id": trade_id,
                "orderId": rec.order_id,
                "orderListId": rec.order_list_id,
                "price": fmt(px),
                "qty": fmt(qty),
                "quoteQty": fmt(qty * px),
                "commission": fmt(commission.amount),
                "commissionAsset": commission.currency.code,
                "time": now,
                "isBuyer": rec.side == "BUY",
                "isMaker": maker,
                "isBestMatch": True,
            },
        )
        if not rec.is_open:
            acct.open_by_client.pop(rec.client_order_id, None)
        self._save(acct, rec)
        self._report(
            acct, rec, "TRADE", now,
            last=(qty, px, commission, trade_id, maker),
        )  # fmt: skip

    def _close(self, acct: Account, rec: OrderRecord, status: str, reason: str) -> None:
        now = self.now_ms()
        rec.status, rec.update_ms = status, now
        acct.open_by_client.pop(rec.client_order_id, None)
        self._save(acct, rec)
        self._report(acct, rec, "CANCELED" if status == "CANCELED" else status, now)

    def _save(self, acct: Account, rec: OrderRecord) -> None:
        self.store.save_order(acct.no, rec.to_json(), is_open=rec.is_open)

    def _on_balances(self, acct: Account, event: AccountStateChanged) -> None:
        for bal in event.balances:
            self.store.set_balance(acct.no, bal.total.currency.code, bal.total.amount)
        if acct.restoring or not acct.listeners:
            return
        now = event.ts_event // 1_000_000
        self._publish(
            acct,
            {
                "e": "outboundAccountPosition",
                "E": now,
                "u": now,
                "B": [
                    {"a": b.total.currency.code, "f": fmt(b.free.amount), "l": fmt(b.locked.amount)}
                    for b in event.balances
                ],
            },
        )

    def _report(
        self,
        acct: Account,
        rec: OrderRecord,
        exec_type: str,
        now: int,
        *,
        last: tuple[Decimal, Decimal, Money, int, bool] | None = None,
    ) -> None:
        if acct.restoring or not acct.listeners:
            return
        qty, px, fee, trade_id, maker = last or (Decimal(0), Decimal(0), None, -1, False)
        self._publish(
            acct,
            {
                "e": "executionReport",
                "E": now,
                "s": rec.symbol,
                "c": rec.client_order_id,
                "S": rec.side,
                "o": rec.type,
                "f": rec.time_in_force,
                "q": fmt(rec.orig_qty),
                "p": fmt(rec.price),
                "P": fmt(rec.stop_price),
                "F": fmt(Decimal(0)),
                "g": rec.order_list_id,
                "C": rec.client_order_id if exec_type == "CANCELED" else "",
                "x": exec_type,
                "X": rec.status,
                "r": "NONE",
                "i": rec.order_id,
                "l": fmt(qty),
                "z": fmt(rec.executed_qty),
                "L": fmt(px),
                "n": fmt(fee.amount) if fee is not None else "0",
                "N": fee.currency.code if fee is not None else None,
                "T": now,
                "t": trade_id,
                "I": 0,
                "w": rec.is_open and rec.is_working,
                "m": maker,
                "M": False,
                "O": rec.time_ms,
                "Z": fmt(rec.cumulative_quote),
                "Y": fmt(qty * px),
                "Q": fmt(rec.orig_quote_qty),
                "W": rec.working_ms,
                "V": "NONE",
            },
        )

    @staticmethod
    def _publish(acct: Account, message: dict[str, Any]) -> None:
        for listener in list(acct.listeners):
            listener(message)

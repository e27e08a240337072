"""``AccountEvents``: what an account's venue reports, as the simulated exchange shows it.

Each domain event of an account's ``SimulatedVenue`` updates the order's record, is written to
the store and is pushed to the account's user-data listeners as Binance's ``executionReport``
and ``outboundAccountPosition`` messages. A refusal is kept for the request that caused it.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tradeforge.bus import Clock
from tradeforge.connectors.sim_exchange.orders import OrderRecord, fmt
from tradeforge.connectors.sim_exchange.store import ExchangeStore
from tradeforge.domain import (
    AccountStateChanged,
    LiquiditySide,
    Message,
    Money,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderTriggered,
)

if TYPE_CHECKING:
    from tradeforge.connectors.sim_exchange.accounts import Account

__all__ = ["AccountEvents"]


class AccountEvents:
    """Follows accounts' domain events into their order records, the store and their listeners."""

    def __init__(self, store: ExchangeStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._trade_ids = itertools.count(store.counter("trade_id") + 1)

    def on_event(self, acct: Account, msg: Message) -> None:
        """One domain event of ``acct``'s venue."""
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
            self.close(acct, rec, status, msg.reason)
        elif isinstance(msg, OrderExpired):
            self.close(acct, rec, "EXPIRED", "expired")

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

    def close(self, acct: Account, rec: OrderRecord, status: str, reason: str) -> None:
        """Close an order as ``status`` (CANCELED, EXPIRED...), saved and reported."""
        now = self.clock.timestamp_ns() // 1_000_000
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

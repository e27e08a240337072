"""The journal of a node against the simulated exchange's account: what the crash tests check.

``journal_vs_venue`` lists every disagreement (an empty list passes): an order at the venue the
journal does not know (lost), a client order id used twice (duplicated), an order whose status
or filled quantity differs, a journal order left in flight, fills that differ by trade id,
quantity, price or fee, and balances that differ from the starting balances plus the journal's
fills, exactly (Decimal).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
from tests.kit.sim_exchange import RunningExchange

from tradeforge.store import Database, SqlOrderJournal

SYMBOL = "BTCUSDT"
_VENUE_ENDS = {"FILLED", "CANCELED", "EXPIRED", "REJECTED"}
_OURS = {"NEW": "ACCEPTED"}  # Binance's name for a working order without fills


@dataclass
class Venue:
    """Signed reads of one account of a running simulated exchange."""

    server: RunningExchange
    account: dict[str, str]

    def get(self, path: str, **params: Any) -> Any:
        from tradeforge.connectors.sim_exchange import sign

        query = "&".join(f"{k}={v}" for k, v in params.items())
        query += f"&timestamp={int(time.time() * 1000)}"
        query += "&signature=" + sign(self.account["api_secret"], query)
        answer = httpx.get(
            f"{self.server.base}{path}?{query}",
            headers={"X-MBX-APIKEY": self.account["api_key"]},
            timeout=30,
        )
        answer.raise_for_status()
        return answer.json()

    def all_orders(self) -> list[dict[str, Any]]:
        """Every order of the account in BTCUSDT, paged by order id."""
        out: list[dict[str, Any]] = []
        start = 1
        while True:
            page = self.get("/api/v3/allOrders", symbol=SYMBOL, orderId=start, limit=1000)
            out.extend(page)
            if len(page) < 1000:
                return out
            start = page[-1]["orderId"] + 1

    def trades(self) -> list[dict[str, Any]]:
        """Every trade of the account in BTCUSDT, paged by trade id."""
        out: list[dict[str, Any]] = []
        start = 0
        while True:
            page = self.get("/api/v3/myTrades", symbol=SYMBOL, fromId=start, limit=1000)
            out.extend(page)
            if len(page) < 1000:
                return out
            start = page[-1]["id"] + 1

    def balances(self) -> dict[str, tuple[Decimal, Decimal]]:
        """Free and locked per asset."""
        account = self.get("/api/v3/account")
        return {b["asset"]: (Decimal(b["free"]), Decimal(b["locked"])) for b in account["balances"]}


def read_journal(url: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The journal's order projection rows and fill rows."""
    database = Database(url)
    try:
        journal = SqlOrderJournal(database)
        return journal.orders(), journal.fills()
    finally:
        database.dispose()


def journal_vs_venue(
    venue: Venue, journal_url: str, start: dict[str, Decimal], *, open_ok: bool = False
) -> list[str]:
    """Every disagreement between the journal and the venue (see the module docstring)."""
    orders, fills = read_journal(journal_url)
    problems: list[str] = []
    at_venue = venue.all_orders()
    ids = [o["clientOrderId"] for o in at_venue]
    if len(ids) != len(set(ids)):
        problems.append(f"client order ids used twice at the venue: {sorted(ids)}")
    mine = {row["client_order_id"]: row for row in orders}
    for order in at_venue:
        row = mine.get(order["clientOrderId"])
        if row is None:
            problems.append(f"lost: {order['clientOrderId']} is at the venue, not in the journal")
            continue
        if not open_ok and order["status"] not in _VENUE_ENDS:
            problems.append(f"{order['clientOrderId']} is still {order['status']} at the venue")
        if row["status"] != _OURS.get(order["status"], order["status"]):
            problems.append(
                f"{order['clientOrderId']}: journal {row['status']}, venue {order['status']}"
            )
        if Decimal(row["filled_qty"]) != Decimal(order["executedQty"]):
            problems.append(
                f"{order['clientOrderId']}: journal filled {row['filled_qty']}, "
                f"venue {order['executedQty']}"
            )
    venue_ids = set(ids)
    for cid, row in mine.items():
        if cid not in venue_ids and row["status"] not in ("REJECTED", "DENIED", "CANCELED"):
            problems.append(f"{cid}: journal {row['status']}, but the venue never had it")
    trades = {str(t["id"]): t for t in venue.trades()}
    booked = {f["trade_id"]: f for f in fills}
    if set(trades) != set(booked):
        problems.append(
            f"fills differ: venue only {sorted(set(trades) - set(booked))}, "
            f"journal only {sorted(set(booked) - set(trades))}"
        )
    for trade_id in set(trades) & set(booked):
        t, f = trades[trade_id], booked[trade_id]
        venue_side = (Decimal(t["qty"]), Decimal(t["price"]), Decimal(t["commission"]))
        ours = (Decimal(f["quantity"]), Decimal(f["price"]), Decimal(f["commission"]))
        if venue_side != ours or t["commissionAsset"] != f["commission_currency"]:
            problems.append(f"fill {trade_id}: venue {venue_side}, journal {ours}")
    expected = dict(start)
    for f in fills:
        qty, px = Decimal(f["quantity"]), Decimal(f["price"])
        sign = 1 if f["side"] == "BUY" else -1
        expected["BTC"] = expected.get("BTC", Decimal(0)) + sign * qty
        expected["USDT"] = expected.get("USDT", Decimal(0)) - sign * qty * px
        fee = f["commission_currency"]
        expected[fee] = expected.get(fee, Decimal(0)) - Decimal(f["commission"])
    held = venue.balances()
    for asset, amount in expected.items():
        free, locked = held.get(asset, (Decimal(0), Decimal(0)))
        if free + locked != amount:
            problems.append(f"{asset}: venue {free} + {locked} locked, journal says {amount}")
        if locked and not open_ok:
            problems.append(f"{asset}: {locked} still locked at the venue")
    return problems

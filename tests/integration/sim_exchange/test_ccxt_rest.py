"""The simulated exchange, driven over real HTTP by CCXT's unmodified ``binance`` class.

Every REST endpoint of the issue's list; order lifecycles of every supported type; balances that
reconcile exactly to the trades; Binance's error codes mapped by CCXT to the exceptions it would
raise for the real venue, with no order left behind; persistence across a restart.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import ccxt
import httpx
import pytest
from tests.kit.sim_exchange import RunningExchange, run

pytestmark = pytest.mark.integration

USDT, BTC = "100000", "2"


@pytest.fixture(scope="module")
def server(exchange_factory: Callable[..., RunningExchange]) -> RunningExchange:
    return exchange_factory("--instruments", "BTC/USDT,ETH/USDT", "--events-per-second", "200")


def reconcile(start: dict[str, Decimal], trades: list[dict[str, Any]]) -> dict[str, Decimal]:
    """Balances implied by the start and the account's trades (``myTrades`` rows)."""
    out = dict(start)
    for t in trades:
        qty, quote, fee = Decimal(t["qty"]), Decimal(t["quoteQty"]), Decimal(t["commission"])
        sign = 1 if t["isBuyer"] else -1
        out["BTC"] = out.get("BTC", Decimal(0)) + sign * qty
        out["USDT"] = out.get("USDT", Decimal(0)) - sign * quote
        out[t["commissionAsset"]] -= fee
    return out


def balances(account: dict[str, Any]) -> dict[str, Decimal]:
    return {
        b["asset"]: Decimal(b["free"]) + Decimal(b["locked"])
        for b in account["balances"]
        if Decimal(b["free"]) + Decimal(b["locked"]) != 0
    }


def test_public_endpoints(server: RunningExchange) -> None:
    async def go() -> None:
        ex = server.client()
        try:
            markets = await ex.load_markets()
            assert set(markets) == {"BTC/USDT", "ETH/USDT"}
            btc = markets["BTC/USDT"]
            assert btc["precision"]["price"] == 0.01
            assert btc["precision"]["amount"] == 0.00001
            assert btc["limits"]["cost"]["min"] == 5.0
            assert abs(await ex.fetch_time() - time.time() * 1000) < 5_000
            await asyncio.sleep(1.0)  # let background trades print
            book = await ex.fetch_order_book("BTC/USDT", 20)
            assert book["bids"]
            assert book["asks"]
            assert book["bids"][0][0] < book["asks"][0][0]
            assert [p for p, _ in book["bids"]] == sorted(
                (p for p, _ in book["bids"]), reverse=True
            )
            trades = await ex.fetch_trades("BTC/USDT", limit=10)
            assert 0 < len(trades) <= 10
            assert all(t["amount"] > 0 and t["price"] > 0 for t in trades)
            candles = await ex.fetch_ohlcv("BTC/USDT", "1m", limit=5)
            assert candles
            assert all(c[2] >= max(c[1], c[4]) and c[3] <= min(c[1], c[4]) for c in candles)
            ticker = await ex.fetch_ticker("BTC/USDT")
            assert ticker["bid"] < ticker["ask"]
            assert ticker["last"] > 0
            tickers = await ex.fetch_tickers()
            assert set(tickers) == {"BTC/USDT", "ETH/USDT"}
            bids_asks = await ex.fetch_bids_asks(["BTC/USDT"])
            assert bids_asks["BTC/USDT"]["bid"] > 0
            prices = await ex.publicGetTickerPrice({"symbol": "ETHUSDT"})
            assert Decimal(prices["price"]) > 0
            assert await ex.publicGetPing() == {}
        finally:
            await ex.close()

    run(go())


def test_order_lifecycle_reconciles_exactly(server: RunningExchange) -> None:
    account = server.add_account(USDT=USDT, BTC=BTC)

    async def go() -> None:
        ex = server.client(account)
        try:
            await ex.load_markets()
            bal = await ex.fetch_balance()
            assert bal["total"]["USDT"] == 100000
            assert bal["total"]["BTC"] == 2
            book = await ex.fetch_order_book("BTC/USDT")
            far_bid = round(book["bids"][0][0] * 0.8, 2)
            resting = await ex.create_order(
                "BTC/USDT", "limit", "buy", 0.01, far_bid, {"clientOrderId": "rest-1"}
            )
            assert resting["status"] == "open"
            assert resting["clientOrderId"] == "rest-1"
            open_ids = [o["id"] for o in await ex.fetch_open_orders("BTC/USDT")]
            assert resting["id"] in open_ids
            used = (await ex.fetch_balance())["used"]["USDT"]
            assert used == pytest.approx(0.01 * far_bid * 1.001, abs=0.01)  # locked with the fee
            assert (await ex.fetch_order(resting["id"], "BTC/USDT"))["status"] == "open"
            by_client = await ex.privateGetOrder(
                {"symbol": "BTCUSDT", "origClientOrderId": "rest-1"}
            )
            assert by_client["orderId"] == int(resting["id"])
            canceled = await ex.cancel_order(resting["id"], "BTC/USDT")
            assert canceled["status"] == "canceled"
            assert (await ex.fetch_balance())["used"]["USDT"] == 0
            bought = await ex.create_order("BTC/USDT", "market", "buy", 0.05)
            assert bought["status"] == "closed"
            assert bought["filled"] == 0.05
            assert bought["fee"]["currency"] == "USDT"
            assert bought["fee"]["cost"] > 0
            sold = await ex.create_order("BTC/USDT", "market", "sell", 0.03)
            assert sold["status"] == "closed"
            ioc = await ex.create_order(
                "BTC/USDT", "limit", "buy", 0.01, far_bid, {"timeInForce": "IOC"}
            )
            assert ioc["status"] == "expired"
            assert ioc["filled"] == 0
            fok = await ex.create_order(
                "BTC/USDT", "limit", "buy", 0.01, far_bid, {"timeInForce": "FOK"}
            )
            assert fok["status"] == "expired"
            history = await ex.fetch_orders("BTC/USDT")
            statuses = {o["id"]: o["status"] for o in history}
            assert statuses[resting["id"]] == "canceled"
            assert statuses[bought["id"]] == "closed"
            trades = await ex.fetch_my_trades("BTC/USDT")
            assert {t["order"] for t in trades} == {bought["id"], sold["id"]}
            raw_trades = await ex.privateGetMyTrades({"symbol": "BTCUSDT"})
            info = await ex.privateGetAccount()
            expected = reconcile({"USDT": Decimal(USDT), "BTC": Decimal(BTC)}, raw_trades)
            assert balances(info) == {k: v for k, v in expected.items() if v != 0}
        finally:
            await ex.close()

    run(go())


def test_stop_take_profit_and_maker_orders(server: RunningExchange) -> None:
    account = server.add_account(USDT=USDT, BTC=BTC)

    async def go() -> None:
        ex = server.client(account)
        try:
            await ex.load_markets()
            book = await ex.fetch_order_book("BTC/USDT")
            bid, ask = book["bids"][0][0], book["asks"][0][0]
            stop = await ex.privatePostOrder(
                {
                    "symbol": "BTCUSDT",
                    "side": "SELL",
                    "type": "STOP_LOSS_LIMIT",
                    "quantity": "0.01",
                    "price": f"{bid * 0.7:.2f}",
                    "stopPrice": f"{bid * 0.71:.2f}",
                    "timeInForce": "GTC",
                }
            )
            assert set(stop) == {
                "symbol",
                "orderId",
                "orderListId",
                "clientOrderId",
                "transactTime",
            }
            queried = await ex.privateGetOrder({"symbol": "BTCUSDT", "orderId": stop["orderId"]})
            assert queried["isWorking"] is False
            assert queried["type"] == "STOP_LOSS_LIMIT"
            take = await ex.privatePostOrder(
                {
                    "symbol": "BTCUSDT",
                    "side": "SELL",
                    "type": "TAKE_PROFIT_LIMIT",
                    "quantity": "0.01",
                    "price": f"{ask * 1.3:.2f}",
                    "stopPrice": f"{ask * 1.29:.2f}",
                    "timeInForce": "GTC",
                    "newOrderRespType": "RESULT",
                }
            )
            assert take["status"] == "NEW"
            maker = await ex.create_order(
                "BTC/USDT", "limit", "buy", 0.01, round(bid * 0.9, 2), {"postOnly": True}
            )
            assert maker["status"] == "open"
            assert maker["info"]["type"] == "LIMIT_MAKER"
            with pytest.raises(ccxt.OrderImmediatelyFillable):
                await ex.create_order(
                    "BTC/USDT", "limit", "buy", 0.01, round(ask * 1.01, 2), {"postOnly": True}
                )
            canceled = await ex.privateDeleteOpenOrders({"symbol": "BTCUSDT"})
            assert len(canceled) == 3
            assert {c["status"] for c in canceled} == {"CANCELED"}
            assert await ex.fetch_open_orders("BTC/USDT") == []
        finally:
            await ex.close()

    run(go())


def test_bad_input_maps_to_errors_and_leaves_no_order(server: RunningExchange) -> None:
    account = server.add_account(USDT="1000")

    async def go() -> None:
        ex = server.client(account)
        try:
            await ex.load_markets()
            price = (await ex.fetch_order_book("BTC/USDT"))["bids"][0][0]
            order = {"side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}
            with pytest.raises(ccxt.BadSymbol):
                await ex.privatePostOrder(
                    {**order, "symbol": "NOPEUSDT", "quantity": "0.01", "price": "100"}
                )
            with pytest.raises((ccxt.InvalidOrder, ccxt.BadRequest), match="PRICE_FILTER"):
                await ex.privatePostOrder(
                    {**order, "symbol": "BTCUSDT", "quantity": "0.001", "price": f"{price:.2f}5"}
                )
            with pytest.raises((ccxt.InvalidOrder, ccxt.BadRequest), match="LOT_SIZE"):
                await ex.privatePostOrder(
                    {**order, "symbol": "BTCUSDT", "quantity": "0.000015", "price": f"{price:.2f}"}
                )
            with pytest.raises((ccxt.InvalidOrder, ccxt.BadRequest), match="NOTIONAL"):
                await ex.create_order("BTC/USDT", "limit", "buy", 0.0001, price)
            with pytest.raises(ccxt.InsufficientFunds):
                await ex.create_order("BTC/USDT", "limit", "buy", 1, price)
            with pytest.raises(ccxt.InsufficientFunds):
                await ex.create_order("BTC/USDT", "market", "sell", 0.01)
            with pytest.raises(ccxt.BadRequest):
                await ex.privatePostOrder(
                    {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.001"}
                )
            first = await ex.create_order(
                "BTC/USDT", "limit", "buy", 0.001, round(price * 0.9, 2), {"clientOrderId": "dup"}
            )
            with pytest.raises(ccxt.InvalidOrder, match="Duplicate order sent"):
                await ex.create_order(
                    "BTC/USDT",
                    "limit",
                    "buy",
                    0.001,
                    round(price * 0.9, 2),
                    {"clientOrderId": "dup"},
                )
            with pytest.raises(ccxt.OrderNotFound):
                await ex.fetch_order("999999", "BTC/USDT")
            with pytest.raises(ccxt.OrderNotFound):
                await ex.cancel_order("999999", "BTC/USDT")
            left = await ex.fetch_open_orders("BTC/USDT")
            assert [o["id"] for o in left] == [first["id"]]
            assert len(await ex.fetch_orders("BTC/USDT")) == 1
        finally:
            await ex.close()

        wrong = server.client({"api_key": "x" * 64, "api_secret": "y" * 64})
        bad_secret = server.client({"api_key": account["api_key"], "api_secret": "z" * 64})
        try:
            with pytest.raises(ccxt.AuthenticationError):
                await wrong.fetch_balance()
            with pytest.raises(ccxt.AuthenticationError):
                await bad_secret.fetch_balance()
        finally:
            await wrong.close()
            await bad_secret.close()

    run(go())


def test_timestamp_outside_recv_window_is_refused(server: RunningExchange) -> None:
    account = server.add_account(USDT="100")

    async def go() -> None:
        ahead = server.client(account)
        ahead.options["timeDifference"] = -5_000  # our clock 5 s ahead of the server's
        behind = server.client(account)
        behind.options["timeDifference"] = 20_000
        try:
            with pytest.raises(ccxt.InvalidNonce):
                await ahead.fetch_balance()
            with pytest.raises(ccxt.InvalidNonce):
                await behind.fetch_balance()
            behind.options["timeDifference"] = 0
            assert (await behind.fetch_balance())["total"]["USDT"] == 100
        finally:
            await ahead.close()
            await behind.close()

    run(go())


def test_resting_limit_order_fills_from_background_flow(server: RunningExchange) -> None:
    account = server.add_account(USDT=USDT, BTC=BTC)

    async def go() -> None:
        ex = server.client(account)
        try:
            await ex.load_markets()
            pending: set[str] = set()
            for side, level in (("buy", "bids"), ("sell", "asks")):
                while True:  # at the touch; again if the market moved and it took liquidity
                    book = await ex.fetch_order_book("BTC/USDT")
                    order = await ex.create_order(
                        "BTC/USDT", "limit", side, 0.002, book[level][0][0]
                    )
                    if order["status"] == "open":
                        pending.add(order["id"])
                        break
            resting = set(pending)
            deadline = time.monotonic() + 60
            while pending and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                for oid in list(pending):
                    if (await ex.fetch_order(oid, "BTC/USDT"))["status"] == "closed":
                        pending.discard(oid)
            assert not pending, "resting orders at the touch did not fill in 60 s"
            fills = await ex.fetch_my_trades("BTC/USDT")
            assert {f["takerOrMaker"] for f in fills if f["order"] in resting} == {"maker"}
        finally:
            await ex.close()

    run(go())


def test_balances_orders_and_trades_survive_a_restart(
    exchange_factory: Callable[..., RunningExchange],
) -> None:
    server = exchange_factory("--instruments", "BTC/USDT", "--events-per-second", "50")
    account = server.add_account(USDT=USDT, BTC=BTC)

    async def before() -> tuple[str, dict[str, Any], list[Any]]:
        ex = server.client(account)
        try:
            await ex.load_markets()
            await ex.create_order("BTC/USDT", "market", "buy", 0.02)
            bid = (await ex.fetch_order_book("BTC/USDT"))["bids"][0][0]
            resting = await ex.create_order("BTC/USDT", "limit", "buy", 0.01, round(bid * 0.5, 2))
            return resting["id"], await ex.privateGetAccount(), await ex.fetch_my_trades("BTC/USDT")
        finally:
            await ex.close()

    resting_id, account_before, trades_before = run(before())
    server.restart()

    async def after() -> None:
        ex = server.client(account)
        try:
            await ex.load_markets()
            assert [o["id"] for o in await ex.fetch_open_orders("BTC/USDT")] == [resting_id]
            account_after = await ex.privateGetAccount()
            assert account_after["balances"] == account_before["balances"]
            trades_after = await ex.fetch_my_trades("BTC/USDT")
            assert [t["id"] for t in trades_after] == [t["id"] for t in trades_before]
            assert (await ex.cancel_order(resting_id, "BTC/USDT"))["status"] == "canceled"
            new = await ex.create_order("BTC/USDT", "market", "buy", 0.01)
            assert int(new["id"]) > int(resting_id)  # ids keep counting after the restart
        finally:
            await ex.close()

    run(after())


def test_weight_limit_429_retry_after_then_418_ban(
    exchange_factory: Callable[..., RunningExchange],
) -> None:
    server = exchange_factory("--instruments", "BTC/USDT", "--weight-limit", "60")
    seen: list[httpx.Response] = []
    with httpx.Client(base_url=server.base) as http:
        for _ in range(40):
            answer = http.get("/api/v3/ticker/price", params={"symbol": "BTCUSDT"})
            seen.append(answer)
            if answer.status_code == 418:
                break
    codes = [r.status_code for r in seen]
    first = codes.index(429)
    used_before = int(seen[first - 1].headers["X-MBX-USED-WEIGHT-1M"])
    assert 60 - 2 < used_before <= 60  # refused only when the next 2 would pass 60
    assert set(codes[:first]) == {200}
    assert int(seen[first].headers["Retry-After"]) > 0
    assert seen[first].json()["code"] == -1003
    assert codes[-1] == 418, "sending on after 429s must end in a ban"
    assert set(codes[first:-1]) == {429}
    assert int(seen[-1].headers["Retry-After"]) >= 100


def test_oco_lists_lock_once_and_one_leg_cancels_the_other(server: RunningExchange) -> None:
    account = server.add_account(USDT=USDT, BTC=BTC)

    async def go() -> None:
        ex = server.client(account)
        try:
            await ex.load_markets()
            book = await ex.fetch_order_book("BTC/USDT")
            bid, ask = Decimal(str(book["bids"][0][0])), Decimal(str(book["asks"][0][0]))
            far = await ex.privatePostOrderListOco(
                {
                    "symbol": "BTCUSDT",
                    "side": "SELL",
                    "quantity": "0.5",
                    "aboveType": "LIMIT_MAKER",
                    "abovePrice": f"{ask * Decimal('1.5'):.2f}",
                    "belowType": "STOP_LOSS_LIMIT",
                    "belowStopPrice": f"{bid * Decimal('0.5'):.2f}",
                    "belowPrice": f"{bid * Decimal('0.49'):.2f}",
                    "belowTimeInForce": "GTC",
                    "listClientOrderId": "list-1",
                }
            )
            assert far["contingencyType"] == "OCO"
            assert far["listClientOrderId"] == "list-1"
            assert [r["status"] for r in far["orderReports"]] == ["NEW", "NEW"]
            balance = await ex.fetch_balance()
            assert balance["used"]["BTC"] == 0.5  # one lock for both legs
            with pytest.raises(ccxt.InvalidOrder):  # the above leg must be above the below leg
                await ex.privatePostOrderListOco(
                    {
                        "symbol": "BTCUSDT",
                        "side": "SELL",
                        "quantity": "0.1",
                        "aboveType": "LIMIT_MAKER",
                        "abovePrice": f"{bid * Decimal('0.5'):.2f}",
                        "belowType": "LIMIT_MAKER",
                        "belowPrice": f"{ask * Decimal('1.5'):.2f}",
                    }
                )
            # The older endpoint: a buy whose stop leg is already through the market triggers,
            # fills, and the limit leg expires.
            near = await ex.privatePostOrderOco(
                {
                    "symbol": "BTCUSDT",
                    "side": "BUY",
                    "quantity": "0.01",
                    "price": f"{bid * Decimal('0.5'):.2f}",
                    "stopPrice": f"{ask:.2f}",  # the next buy at the ask triggers it
                    "stopLimitPrice": f"{ask * Decimal('1.2'):.2f}",
                    "stopLimitTimeInForce": "GTC",
                }
            )
            ids = {o["clientOrderId"]: o["orderId"] for o in near["orders"]}
            assert len(ids) == 2
            deadline = time.monotonic() + 60
            statuses: dict[str, str] = {}
            while time.monotonic() < deadline:
                statuses = {
                    cid: (await ex.privateGetOrder({"symbol": "BTCUSDT", "orderId": oid}))["status"]
                    for cid, oid in ids.items()
                }
                if "FILLED" in statuses.values() and "NEW" not in statuses.values():
                    break
                await asyncio.sleep(0.3)
            assert sorted(statuses.values()) == ["EXPIRED", "FILLED"]
            canceled = await ex.privateDeleteOpenOrders({"symbol": "BTCUSDT"})
            assert {c["status"] for c in canceled} == {"CANCELED"}
            assert (await ex.fetch_balance())["used"]["BTC"] == 0
        finally:
            await ex.close()

    run(go())

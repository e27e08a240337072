"""Crash recovery (RELIABILITY.md OMS-2, the issue's "kill -9" test): the trading node runs as a
real process in live mode against the simulated exchange server, is killed with SIGKILL at a
random moment during a stream of orders, and is restarted. After the runs, the journal and the
venue agree: every client order id at the venue is in the journal, none is used twice, the fills
are the same trade ids, and the position equals the venue's balance change, exactly.

`make test` runs 3 kills; `TF_CHAOS_RUNS=100` gives the long version (`make chaos`).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.kit.sim_exchange import RunningExchange

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
TRADEFORGE = Path(sys.executable).parent / "tradeforge"
RUNS = int(os.environ.get("TF_CHAOS_RUNS", "3"))


def node_toml(server: RunningExchange, db: Path) -> str:
    return f"""
mode = "live"
timeframe = "1s"
base_currency = "USDT"
database = "sqlite:///{db}"
cancel_on_stop = true
inflight_timeout = 0.5
inflight_interval = 0.3
inflight_retries = 3

[[venues]]
name = "SIM"
exchange = "binance"
rest_url = "{server.base}"
ws_url = "{server.ws}"
api_key_env = "TF_TEST_KEY"
secret_env = "TF_TEST_SECRET"

[[strategies]]
strategy = "tests.kit.node_strategies:Churn"
instruments = ["BTC/USDT.SIM"]
"""


def signed_get(server: RunningExchange, account: dict[str, str], path: str) -> Any:
    from tradeforge.connectors.sim_exchange import sign

    query = f"symbol=BTCUSDT&limit=1000&timestamp={int(time.time() * 1000)}"
    query += "&signature=" + sign(account["api_secret"], query)
    answer = httpx.get(
        f"{server.base}{path}?{query}", headers={"X-MBX-APIKEY": account["api_key"]}, timeout=10
    )
    answer.raise_for_status()
    return answer.json()


def start_node(config: Path, account: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEFORGE__")}
    env |= {
        "TF_TEST_KEY": account["api_key"],
        "TF_TEST_SECRET": account["api_secret"],
        "PYTHONPATH": str(REPO),
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(TRADEFORGE), "--data-dir", str(config.parent), "run", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )


def runs_so_far(log: Path) -> int:
    return log.read_text().count("node running") if log.exists() else 0


def wait_running(
    node: subprocess.Popen[bytes], log: Path, before: int, timeout: float = 90
) -> None:
    """Wait until this run has reconciled and started trading (a new "node running" line)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert node.poll() is None, log.read_text()[-3000:]
        if log.exists() and log.read_text().count("node running") > before:
            return
        time.sleep(0.05)
    raise AssertionError(f"the node did not start within {timeout} s")


def test_node_killed_and_restarted_loses_and_duplicates_nothing(
    exchange_factory: Callable[..., RunningExchange], tmp_path: Path
) -> None:
    server = exchange_factory("--instruments", "BTC/USDT", "--events-per-second", "300",
                              "--orders-per-10s", "1000")  # fmt: skip
    account = server.add_account(USDT="1000000", BTC="10")
    db = tmp_path / "journal.sqlite"
    config = tmp_path / "node.toml"
    config.write_text(node_toml(server, db))
    log = tmp_path / "node.log"
    rng = random.Random(11)
    for _ in range(RUNS):
        before = runs_so_far(log)
        node = start_node(config, account, log)
        wait_running(node, log, before)
        time.sleep(rng.uniform(0.2, 2.0))  # somewhere in the stream of orders
        node.send_signal(signal.SIGKILL)
        node.wait()
    # A last, clean run: recover, reconcile, trade a little, stop (cancelling open orders).
    before = runs_so_far(log)
    node = start_node(config, account, log)
    wait_running(node, log, before)
    time.sleep(1.5)
    node.send_signal(signal.SIGTERM)
    assert node.wait(timeout=30) == 0, log.read_text()[-3000:]

    venue_orders = signed_get(server, account, "/api/v3/allOrders")
    venue_trades = signed_get(server, account, "/api/v3/myTrades")
    with sqlite3.connect(db) as conn:
        journal_ids = {r[0] for r in conn.execute("SELECT client_order_id FROM orders")}
        journal_trades = {r[0] for r in conn.execute("SELECT trade_id FROM fills")}
        statuses = dict(conn.execute("SELECT client_order_id, status FROM orders"))
        fills = list(conn.execute("SELECT side, quantity FROM fills"))
    venue_ids = [o["clientOrderId"] for o in venue_orders]
    assert len(venue_orders) > 20 * RUNS / 3, "the node hardly traded"
    assert len(venue_ids) == len(set(venue_ids)), "a client order id was used twice"
    assert set(venue_ids) <= journal_ids, "orders at the venue the journal never saw"
    assert {str(t["id"]) for t in venue_trades} == journal_trades, "fills lost or invented"
    open_at_venue = [o for o in venue_orders if o["status"] in ("NEW", "PARTIALLY_FILLED")]
    assert open_at_venue == [], "cancel-on-stop left orders open"
    ends = {"FILLED", "CANCELED", "EXPIRED"}
    for order in venue_orders:  # the journal knows how each order ended at the venue
        if order["status"] in ends:
            assert statuses[order["clientOrderId"]] == order["status"], order
    position = sum((Decimal(q) * (1 if s == "BUY" else -1) for s, q in fills), Decimal(0))
    account_now = signed_get(server, account, "/api/v3/account")
    btc = next(b for b in account_now["balances"] if b["asset"] == "BTC")
    assert Decimal(btc["free"]) + Decimal(btc["locked"]) - Decimal(10) == position
    events = json.loads(json.dumps(statuses))  # the projection is plain data
    assert "SUBMITTED" not in events.values(), "orders left in flight after reconciliation"

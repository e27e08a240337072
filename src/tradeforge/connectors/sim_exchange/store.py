"""The simulated exchange's SQLite file: accounts, API keys, balances, orders and trades.

Everything a user would miss after a restart lives here: the server writes it as it changes and
reads it back on start. Balances are exact decimal text; orders and trades are kept as the JSON
objects the API returns. WAL with ``synchronous=NORMAL``: an application crash loses nothing
committed; a power loss may lose the last transactions (this is a simulator, not a ledger of
record).
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

__all__ = ["AccountRow", "ExchangeStore", "new_api_key"]

DB_NAME = "sim-exchange.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    account_no INTEGER PRIMARY KEY,
    api_key TEXT NOT NULL UNIQUE,
    api_secret TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS balances (
    account_no INTEGER NOT NULL REFERENCES accounts(account_no),
    asset TEXT NOT NULL,
    total TEXT NOT NULL,
    PRIMARY KEY (account_no, asset)
);
CREATE TABLE IF NOT EXISTS orders (
    order_id INTEGER PRIMARY KEY,
    account_no INTEGER NOT NULL REFERENCES accounts(account_no),
    symbol TEXT NOT NULL,
    client_order_id TEXT NOT NULL,
    is_open INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_open ON orders (is_open, account_no);
CREATE TABLE IF NOT EXISTS trades (
    trade_id INTEGER PRIMARY KEY,
    account_no INTEGER NOT NULL REFERENCES accounts(account_no),
    symbol TEXT NOT NULL,
    order_id INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS trades_account ON trades (account_no, symbol);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""


def new_api_key() -> tuple[str, str]:
    """A fresh (api_key, api_secret) pair: 64 characters each, as Binance issues them."""
    return secrets.token_urlsafe(48)[:64], secrets.token_urlsafe(48)[:64]


class AccountRow:
    """One account as stored."""

    __slots__ = ("account_no", "api_key", "api_secret", "balances")

    def __init__(
        self, account_no: int, api_key: str, api_secret: str, balances: dict[str, Decimal]
    ) -> None:
        self.account_no = account_no
        self.api_key = api_key
        self.api_secret = api_secret
        self.balances = balances


class ExchangeStore:
    """The SQLite file under ``data_dir``; one connection, used from one thread."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / DB_NAME
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)
        self._in_tx = False
        self.path.chmod(0o600)  # it holds API secrets

    def close(self) -> None:
        """Commit what is pending and close the file."""
        self.commit()
        self._db.close()

    # ---------------------------------------------------------- transactions
    def _begin(self) -> None:
        if not self._in_tx:
            self._db.execute("BEGIN")
            self._in_tx = True

    def commit(self) -> None:
        """Make every change since the last commit durable."""
        if self._in_tx:
            self._db.execute("COMMIT")
            self._in_tx = False

    # -------------------------------------------------------------- accounts
    def add_account(self, balances: dict[str, Decimal], now_ms: int) -> AccountRow:
        """Create an account with a new API key and the given balances."""
        api_key, api_secret = new_api_key()
        self._begin()
        cur = self._db.execute(
            "INSERT INTO accounts (api_key, api_secret, created_ms) VALUES (?, ?, ?)",
            (api_key, api_secret, now_ms),
        )
        account_no = int(cur.lastrowid or 0)
        for asset, total in balances.items():
            self.set_balance(account_no, asset, total)
        self.commit()
        return AccountRow(account_no, api_key, api_secret, dict(balances))

    def account(self, api_key: str) -> AccountRow | None:
        """The account of ``api_key``, or None."""
        row = self._db.execute(
            "SELECT account_no, api_key, api_secret FROM accounts WHERE api_key = ?", (api_key,)
        ).fetchone()
        if row is None:
            return None
        balances = {
            asset: Decimal(total)
            for asset, total in self._db.execute(
                "SELECT asset, total FROM balances WHERE account_no = ?", (row[0],)
            )
        }
        return AccountRow(row[0], row[1], row[2], balances)

    def set_balance(self, account_no: int, asset: str, total: Decimal) -> None:
        """The total (free + locked) of ``asset``."""
        self._begin()
        self._db.execute(
            "INSERT INTO balances (account_no, asset, total) VALUES (?, ?, ?) "
            "ON CONFLICT (account_no, asset) DO UPDATE SET total = excluded.total",
            (account_no, asset, str(total)),
        )

    # ---------------------------------------------------------------- orders
    def save_order(self, account_no: int, body: dict[str, Any], *, is_open: bool) -> None:
        """Insert or replace one order (``body`` as the API shows it)."""
        self._begin()
        self._db.execute(
            "INSERT OR REPLACE INTO orders (order_id, account_no, symbol, client_order_id, "
            "is_open, body) VALUES (?, ?, ?, ?, ?, ?)",
            (
                body["orderId"],
                account_no,
                body["symbol"],
                body["clientOrderId"],
                int(is_open),
                json.dumps(body),
            ),
        )

    def orders(self, account_no: int, *, open_only: bool = False) -> Iterator[dict[str, Any]]:
        """The account's orders, oldest first."""
        sql = "SELECT body FROM orders WHERE account_no = ?"
        if open_only:
            sql += " AND is_open = 1"
        for (body,) in self._db.execute(sql + " ORDER BY order_id", (account_no,)):
            yield json.loads(body)

    def open_order_accounts(self) -> list[int]:
        """Accounts with at least one open order (loaded at start)."""
        rows = self._db.execute("SELECT DISTINCT account_no FROM orders WHERE is_open = 1")
        return [r[0] for r in rows]

    def api_key_of(self, account_no: int) -> str:
        """The API key of an account number."""
        row = self._db.execute(
            "SELECT api_key FROM accounts WHERE account_no = ?", (account_no,)
        ).fetchone()
        return str(row[0])

    # ---------------------------------------------------------------- trades
    def save_trade(self, account_no: int, body: dict[str, Any]) -> None:
        """Append one of the account's trades (``body`` as ``myTrades`` shows it)."""
        self._begin()
        self._db.execute(
            "INSERT OR REPLACE INTO trades (trade_id, account_no, symbol, order_id, body) "
            "VALUES (?, ?, ?, ?, ?)",
            (body["id"], account_no, body["symbol"], body["orderId"], json.dumps(body)),
        )

    def trades(self, account_no: int) -> Iterator[dict[str, Any]]:
        """The account's trades, oldest first."""
        for (body,) in self._db.execute(
            "SELECT body FROM trades WHERE account_no = ? ORDER BY trade_id", (account_no,)
        ):
            yield json.loads(body)

    # -------------------------------------------------------------- counters
    def counter(self, name: str) -> int:
        """The last value handed out under ``name`` (0 when none yet)."""
        row = self._db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row else 0

    def set_counter(self, name: str, value: int) -> None:
        """Remember the last value handed out under ``name``."""
        self._begin()
        self._db.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

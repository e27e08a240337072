"""A real ``tradeforge exchange serve`` process for the benchmark, and clients pointed at it.

``ServerProcess`` runs the server on a free port with its own data directory (accounts are
written to its SQLite file first, with the store the ``add-account`` command uses), waits for
``/api/v3/ping``, reports the CPU time the process has used (from ``/proc``) and stops it.
``ccxt_client`` is CCXT's unmodified async ``binance`` class with only its URLs pointed at the
server and its own rate limiter off.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from tradeforge.connectors.sim_exchange import ExchangeStore

TRADEFORGE = Path(sys.executable).parent / "tradeforge"
CCXT_OPTIONS: dict[str, Any] = {
    "fetchMarkets": {"types": ["spot"]},
    "fetchCurrencies": False,
    "fetchMargins": False,
}


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """One server process (see the module docstring)."""

    data_dir: Path
    flags: tuple[str, ...]
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        """The REST root, ``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        """The WebSocket root, ``ws://127.0.0.1:<port>``."""
        return f"ws://127.0.0.1:{self.port}"

    @property
    def command(self) -> list[str]:
        """The command line that starts it."""
        return [
            "tradeforge", "exchange", "serve", "--data-dir", str(self.data_dir),
            "--port", str(self.port), *self.flags,
        ]  # fmt: skip

    def add_accounts(self, count: int, balances: dict[str, str]) -> list[dict[str, str]]:
        """``count`` new accounts with ``balances``, as ``add-account`` prints them."""
        store = ExchangeStore(self.data_dir)
        try:
            amounts = {asset: Decimal(amount) for asset, amount in balances.items()}
            rows = [store.add_account(amounts, time.time_ns() // 1_000_000) for _ in range(count)]
        finally:
            store.close()
        return [{"api_key": row.api_key, "api_secret": row.api_secret} for row in rows]

    def start(self) -> None:
        """Start the process and wait until it answers ``/api/v3/ping``."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith("TRADEFORGE__")}
        log = (self.data_dir / "server.log").open("ab")
        self.proc = subprocess.Popen(
            [str(TRADEFORGE), *self.command[1:]], stdout=log, stderr=subprocess.STDOUT, env=env
        )
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = (self.data_dir / "server.log").read_text()[-2000:]
                raise RuntimeError(f"the server exited at start:\n{tail}")
            try:
                with urllib.request.urlopen(self.base + "/api/v3/ping", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("the server did not answer /api/v3/ping within 30 s")

    def stop(self) -> None:
        """Terminate the process (kill it if it does not stop within 10 s)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far."""
        if self.proc is None:
            return 0.0
        try:
            with open(f"/proc/{self.proc.pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        return ticks / os.sysconf("SC_CLK_TCK")

    def get_json(self, path: str) -> Any:
        """GET ``path`` and decode the JSON answer."""
        with urllib.request.urlopen(self.base + path, timeout=10) as answer:
            return json.loads(answer.read())


def ccxt_client(server: ServerProcess, account: dict[str, str]) -> Any:
    """CCXT's async ``binance`` for ``account``, its REST URLs pointed at ``server``.

    CCXT's own throttle (``enableRateLimit``) is off: it would space one client's requests
    50 ms apart, which is Binance's advice to clients, not what the server can take."""
    import ccxt.async_support as ccxt  # noqa: PLC0415 (only the REST benchmark needs it)

    client = ccxt.binance(
        {
            "apiKey": account["api_key"],
            "secret": account["api_secret"],
            "options": dict(CCXT_OPTIONS),
            "timeout": 30_000,
            "enableRateLimit": False,
        }
    )
    for key in ("public", "private"):
        client.urls["api"][key] = server.base + "/api/v3"
    return client

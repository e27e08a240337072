"""A real ``tradeforge exchange serve`` process, and CCXT clients pointed at it.

``RunningExchange.start()`` runs the server on a free port with its own data directory and
waits until ``/api/v3/ping`` answers. ``RunningExchange.client(account)`` is CCXT's unmodified
``binance`` class (REST, or the ``ccxt.pro`` class for WebSockets) with only its URLs pointed
at the server.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

TRADEFORGE = Path(sys.executable).parent / "tradeforge"
CCXT_OPTIONS = {
    "fetchMarkets": {"types": ["spot"]},
    "fetchCurrencies": False,
    "fetchMargins": False,
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.upper().startswith("TRADEFORGE__")}


@dataclass
class RunningExchange:
    """One server process and what tests need to talk to it."""

    data_dir: Path
    flags: tuple[str, ...]
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.log_path = self.data_dir / f"server-{self.port}.log"
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    str(TRADEFORGE),
                    "exchange",
                    "serve",
                    "--data-dir",
                    str(self.data_dir),
                    "--port",
                    str(self.port),
                    *self.flags,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=_env(),
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(self.base + "/api/v3/ping", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not answer /api/v3/ping within 30 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def add_account(self, **balances: str) -> dict[str, str]:
        args = [f"--balance={asset}={amount}" for asset, amount in balances.items()]
        done = subprocess.run(
            [str(TRADEFORGE), "exchange", "add-account", "--data-dir", str(self.data_dir), *args],
            capture_output=True,
            text=True,
            env=_env(),
            check=True,
        )
        account: dict[str, str] = json.loads(done.stdout)
        return account

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(method, self.base + path, json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def pause(self, paused: bool = True) -> dict[str, int]:
        answer: dict[str, int] = self.admin("POST", "/admin/market", {"paused": paused})[
            "lastUpdateIds"
        ]
        return answer

    def client(self, account: dict[str, str] | None = None, *, pro: bool = False) -> Any:
        if pro:
            import ccxt.pro as module
        else:
            import ccxt.async_support as module
        config: dict[str, Any] = {"options": dict(CCXT_OPTIONS), "timeout": 10_000}
        if account is not None:
            config |= {"apiKey": account["api_key"], "secret": account["api_secret"]}
        exchange = module.binance(config)
        for key in ("public", "private"):
            exchange.urls["api"][key] = self.base + "/api/v3"
        if pro:
            exchange.urls["api"]["ws"]["spot"] = self.ws + "/ws"
            exchange.urls["api"]["ws"]["ws-api"]["spot"] = self.ws + "/ws-api/v3"
        return exchange


def run(coro: Any) -> Any:
    """Run a coroutine to completion on a fresh event loop."""
    return asyncio.run(coro)


def venue_client(server: RunningExchange, account: dict[str, str] | None, **config: Any) -> Any:
    """Our ``CcxtVenueClient`` for the venue ``SIM`` of ``server`` (CCXT's ``binance`` class)."""
    from tradeforge.bus import LiveClock
    from tradeforge.connectors.ccxt_venue import CcxtVenueClient, CcxtVenueConfig
    from tradeforge.domain import Venue

    urls = {
        "api": {
            "public": server.base + "/api/v3",
            "private": server.base + "/api/v3",
            "ws": {"spot": server.ws + "/ws", "ws-api": {"spot": server.ws + "/ws-api/v3"}},
        }
    }
    keys = {"api_key": account["api_key"], "secret": account["api_secret"]} if account else {}
    registry = config.pop("registry", None)
    cfg = CcxtVenueConfig(
        "binance",
        Venue("SIM"),
        urls=urls,
        options=CCXT_OPTIONS,
        ws_url=server.ws + "/ws",
        **keys,
        **config,
    )
    return CcxtVenueClient(cfg, clock=LiveClock(), registry=registry)

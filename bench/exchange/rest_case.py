"""Orders per second through the server's REST API, from CCXT's async ``binance`` class.

Each of N clients is its own CCXT instance (its own aiohttp session) trading its own account.
After ``load_markets`` and one untimed round, each client repeats, until the phase ends:

1. ``create_order(BTC/USDT, "market", side, 0.001)`` (sides alternate, so balances stay put);
2. ``create_order(BTC/USDT, "limit", side, 0.001, price)`` 10 % away from the touch (it rests);
3. ``cancel_order(id, BTC/USDT)`` of that limit.

Each call is timed from the coroutine's start to its result (signing, HTTP, the server, CCXT's
parsing), with ``time.perf_counter_ns``. All clients share one asyncio loop in the harness
process; the server is a separate process, so the two share the machine's cores.
"""

from __future__ import annotations

import asyncio
import resource
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bench.exchange.server import ServerProcess, ccxt_client
from bench.exchange.stats import Latencies

SYMBOL = "BTC/USDT"
AMOUNT = 0.001  # BTC, about 30 USDT: above the 5 USDT minimum notional
CALLS = ("create_order market", "create_order limit", "cancel_order")


@dataclass
class RestOutcome:
    """One phase: N concurrent clients."""

    clients: int
    seconds: float
    latency: dict[str, Latencies] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    server_cpu: float = 0.0  # CPU seconds the server used during the phase
    harness_cpu: float = 0.0  # CPU seconds the clients' process used during the phase
    server_requests: int = 0  # REST requests the server counted during the phase
    server_refused: int = 0  # of them, refused with 429 or 418

    @property
    def orders(self) -> int:
        """Orders created (market and limit)."""
        return len(self.latency[CALLS[0]]) + len(self.latency[CALLS[1]])

    @property
    def requests(self) -> int:
        """Every timed call that succeeded."""
        return sum(len(lat) for lat in self.latency.values())

    @property
    def all_calls(self) -> Latencies:
        """Every timed call, whatever the kind."""
        out = Latencies()
        for lat in self.latency.values():
            out.extend(lat)
        return out

    def per_second(self, count: int) -> float:
        """``count`` per second of the phase."""
        return count / self.seconds if self.seconds > 0 else 0.0


def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _server_counts(server: ServerProcess) -> tuple[int, int]:
    """(REST requests received, requests refused with 429 or 418), from ``GET /admin/faults``."""
    state = server.get_json("/admin/faults")
    refused = sum(ip["refused_429"] + ip["refused_418"] for ip in state["limits"].values())
    return sum(state["requests"].values()), refused


async def _prices(client: Any) -> tuple[float, float]:
    book = await client.fetch_order_book(SYMBOL, 5)
    bid, ask = book["bids"][0][0], book["asks"][0][0]
    return round(bid * 0.9, 2), round(ask * 1.1, 2)  # far from the touch: the limits rest


async def _round(client: Any, side: str, price: float, out: RestOutcome | None) -> None:
    import ccxt.async_support as ccxt  # noqa: PLC0415

    steps: tuple[tuple[str, Callable[[], Awaitable[Any]]], ...] = (
        (CALLS[0], lambda: client.create_order(SYMBOL, "market", side, AMOUNT)),
        (CALLS[1], lambda: client.create_order(SYMBOL, "limit", side, AMOUNT, price)),
    )
    order_id = None
    for name, call in steps:
        t0 = time.perf_counter_ns()
        try:
            result = await call()
        except ccxt.BaseError as exc:
            if out is not None:
                out.errors[f"{name}: {type(exc).__name__}"] += 1
            continue
        if out is not None:
            out.latency[name].add(time.perf_counter_ns() - t0)
        if name == CALLS[1]:
            order_id = result["id"]
    if order_id is None:
        return
    t0 = time.perf_counter_ns()
    try:
        await client.cancel_order(order_id, SYMBOL)
    except ccxt.BaseError as exc:
        if out is not None:
            out.errors[f"{CALLS[2]}: {type(exc).__name__}"] += 1
        return
    if out is not None:
        out.latency[CALLS[2]].add(time.perf_counter_ns() - t0)


async def _phase(
    server: ServerProcess, accounts: list[dict[str, str]], seconds: float
) -> RestOutcome:  # fmt: skip
    clients = [ccxt_client(server, account) for account in accounts]
    out = RestOutcome(clients=len(clients), seconds=0.0)
    out.latency = {name: Latencies() for name in CALLS}
    try:
        await asyncio.gather(*(c.load_markets() for c in clients))
        low, high = await _prices(clients[0])
        # One untimed round each: the server loads each account on its first signed request.
        await asyncio.gather(*(_round(c, "buy", low, None) for c in clients))

        async def trade(client: Any, index: int, stop_at: float) -> None:
            n = index  # clients start on different sides
            while time.perf_counter() < stop_at:
                buy = n % 2 == 0
                await _round(client, "buy" if buy else "sell", low if buy else high, out)
                n += 1

        counted0 = _server_counts(server)
        cpu0, server0 = _cpu_self(), server.cpu_seconds()
        start = time.perf_counter()
        stop_at = start + seconds
        await asyncio.gather(*(trade(c, i, stop_at) for i, c in enumerate(clients)))
        out.seconds = time.perf_counter() - start
        out.harness_cpu = _cpu_self() - cpu0
        out.server_cpu = server.cpu_seconds() - server0
        counted1 = _server_counts(server)
        out.server_requests = counted1[0] - counted0[0]
        out.server_refused = counted1[1] - counted0[1]
    finally:
        await asyncio.gather(*(c.close() for c in clients))
    return out


def run_rest(server: ServerProcess, accounts: list[dict[str, str]], seconds: float) -> RestOutcome:
    """One phase with one client per account, ``seconds`` long."""
    return asyncio.run(_phase(server, accounts, seconds))

"""Orders per second placed through the gateway's REST API, by N concurrent clients.

Each client is its own ``httpx.AsyncClient`` (its own keep-alive connection) authenticated with
the trader's access token or its ``trade`` API key. After one untimed order each, every client
repeats ``POST /api/v1/orders`` with a market order of 0.001 BTC on BTC/USDT.SIM (sides
alternate, so the position and cash stay put) until the phase ends. Each request passes the
whole path a user's order takes: authentication (a JWT and its session read from the database,
or the key's SHA-256 looked up), the audit row, pre-trade risk, the journal, the simulated
venue's fill; the gateway answers once the venue has answered (201, ``FILLED``). Each call is
timed from before the request to the decoded answer, with ``time.perf_counter_ns``. All
clients share one asyncio loop in the harness process; the platform is a separate process.
"""

from __future__ import annotations

import asyncio
import resource
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from bench.exchange.stats import Latencies
from bench.gateway.platform import Credentials, PlatformProcess

INSTRUMENT = "BTC/USDT.SIM"
Advance = Callable[[int], None]
QUANTITY = "0.001"


@dataclass
class RestOutcome:
    """One phase: one database, one kind of credential, N concurrent clients."""

    backend: str
    auth: str
    clients: int
    seconds: float = 0.0
    latency: Latencies = field(default_factory=Latencies)
    statuses: Counter[str] = field(default_factory=Counter)  # what was not 201 FILLED
    server_cpu: float = 0.0  # CPU seconds the platform used during the phase
    harness_cpu: float = 0.0  # CPU seconds the clients' process used during the phase

    @property
    def orders(self) -> int:
        """Orders placed and filled (201, ``FILLED``)."""
        return len(self.latency)

    @property
    def errors(self) -> int:
        """Requests that did not end in a filled order."""
        return sum(self.statuses.values())

    def per_second(self, count: float) -> float:
        """``count`` per second of the phase."""
        return count / self.seconds if self.seconds > 0 else 0.0


def cpu_self() -> float:
    """User + system CPU time of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def place(http: httpx.AsyncClient, cid: str, side: str) -> str | None:
    """Place one market order; None when it filled, else what happened instead."""
    body = {"instrument_id": INSTRUMENT, "side": side, "type": "MARKET", "quantity": QUANTITY,
            "client_order_id": cid}  # fmt: skip
    try:
        answer = await http.post("/api/v1/orders", json=body)
    except httpx.HTTPError as exc:
        return type(exc).__name__
    if answer.status_code != 201:
        return f"{answer.status_code} {answer.json().get('type', '')}".strip()
    status = answer.json()["status"]
    return None if status == "FILLED" else f"201 {status}"


async def _client(
    http: httpx.AsyncClient, prefix: str, stop_at: float, out: RestOutcome, advance: Advance
) -> None:
    n = 0
    while time.perf_counter() < stop_at:
        n += 1
        t0 = time.perf_counter_ns()
        failed = await place(http, f"{prefix}-{n}", "BUY" if n % 2 else "SELL")
        if failed is None:
            out.latency.add(time.perf_counter_ns() - t0)
            advance(1)
        else:
            out.statuses[failed] += 1


async def _phase(
    platform: PlatformProcess, headers: dict[str, str], out: RestOutcome, name: str,
    advance: Advance,
) -> None:  # fmt: skip
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        httpx.AsyncClient(base_url=platform.base, headers=headers, timeout=30, limits=limits)
        for _ in range(out.clients)
    ]
    try:
        warm = [place(c, f"{name}-w{i}", "BUY" if i % 2 else "SELL") for i, c in enumerate(clients)]
        await asyncio.gather(*warm)  # connections open, caches warm: not timed
        server0, harness0 = platform.cpu_seconds(), cpu_self()
        t0 = time.perf_counter()
        stop_at = t0 + out.seconds
        await asyncio.gather(
            *(_client(c, f"{name}-{i}", stop_at, out, advance) for i, c in enumerate(clients))
        )
        out.seconds = time.perf_counter() - t0  # the last answers arrive after stop_at
        out.server_cpu = platform.cpu_seconds() - server0
        out.harness_cpu = cpu_self() - harness0
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


def run_rest(
    platform: PlatformProcess, credentials: Credentials, backend: str, auth: str, *,
    clients: int, seconds: float, advance: Advance = lambda _n: None,
) -> RestOutcome:  # fmt: skip
    """One phase of ``seconds``; ``advance(n)`` is called as orders fill (progress)."""
    out = RestOutcome(backend=backend, auth=auth, clients=clients, seconds=seconds)
    name = f"{backend[:2]}{auth[:1]}{clients}-{time.time_ns() % 10**9}"
    asyncio.run(_phase(platform, credentials.headers(auth), out, name, advance))
    return out

"""``bench/GATEWAY_RESULTS.md`` from one run."""

from __future__ import annotations

import statistics
from pathlib import Path

from bench.exchange.report import server_rows
from bench.gateway.fanout_case import CHANNEL, DRAIN_S, SLOW_RCVBUF, FanoutOutcome
from bench.gateway.platform import postgres_version
from bench.gateway.rest_case import INSTRUMENT, QUANTITY, RestOutcome
from bench.gateway.results import GatewayBenchResult
from bench.machine import facts, section

SERVER_PACKAGES = ("websockets", "fastapi", "starlette", "uvicorn")
PACKAGES = ("httpx", "SQLAlchemy", "psycopg")
OUTBOX = 10_000  # messages the gateway keeps waiting for one WebSocket (routers/stream.py)
# Where the time goes: from profiles of the platform under this benchmark's load, made apart
# from the measured run (a profiler slows the process it samples). Written by hand; re-profile
# when the journal, the auth store or the stream code changes.
BOTTLENECKS: list[str] = [
    "## 3. Where the time goes (profiled 2026-11-26)",
    "",
    "`py-spy record -r 200 -t` on the `tradeforge up` process during phases like §1 and §2 "
    "(on SQLite and PostgreSQL, 4 and 16 clients), `strace -f -e trace=fdatasync,connect` for "
    "the system calls, and the journal's rows counted after a phase. Shares are of the samples "
    "in which a thread was not idle; the profiler halves the throughput, so its rates are not "
    "reported.",
    "",
    "1. **The order journal, on the event loop.** Each order placed over REST writes 4 journal "
    "transactions (`OrderInitialized`, `OrderSubmitted`, `OrderAccepted`, `OrderFilled`, each "
    "with the order's row and, for the fill, the fill's) and 1 audit row: 5 durable commits per "
    "order, about 6 `fdatasync` calls on SQLite (1,207 for 204 orders). On PostgreSQL each "
    "journal transaction is 6 round trips (BEGIN, SAVEPOINT, INSERT, RELEASE, UPDATE, COMMIT) "
    "plus the pool's pre-ping, about 30 per order. The journal runs synchronously in the "
    "event-loop thread, so while it waits for the disk or the server nothing else in the process "
    "moves: not the other requests, not the WebSocket writers, not the market. With 4 clients it "
    "took 77 % of the loop's busy samples on SQLite (the commit alone 54 %) and 83 % on "
    "PostgreSQL (waiting for the server's answers 53 %). This is why the server never uses a "
    "whole core (§1's CPU column), why 4 clients place at most about twice what one does and 16 "
    "little or nothing more than 4, and why latency grows with the number of clients: the "
    "requests queue behind one thread that mostly waits. Not changed here: journaling before "
    "sending and a durable commit per event are decisions (DESIGN.md, RELIABILITY.md decision 1),"
    " and the ways out (one transaction for the events of one venue answer, or a journal writer "
    "thread with group commit that the loop awaits) change the engine and the store's crash "
    "guarantees, which the OMS crash tests would have to re-prove.",
    "2. **The audit row and authentication, in worker threads.** `order.place` is one more "
    "durable commit per order (15 % of the busy samples at 4 clients on SQLite, where it also "
    "competes with the journal for SQLite's single writer). Verifying an access token reads "
    "its session from the database on every request (`auth.session_cache_ttl_s` = 0, so a "
    "revocation applies at the next request); an API key is one lookup by its SHA-256.",
    "3. **PostgreSQL connections made per request (fixed).** SQLAlchemy's default pool kept 5 "
    "connections and closed the 10 overflow ones on return; at 16 clients the auth service's "
    "worker threads opened about 0.85 new PostgreSQL connections per order (`strace`: 211 "
    "`connect` calls for 255 orders; 0 at 4 clients), and the key phase fell from 70 orders/s "
    "at 4 clients to 50 at 16. The pool now keeps all of its 15 connections (the same bound); "
    "`tests/integration/store/test_database_pool.py` checks that a second burst opens none.",
    "4. **WebSocket fan-out.** Each event is encoded to JSON once per subscriber and, since "
    "the subscribers (like browsers) offer `permessage-deflate`, compressed once per "
    "subscriber: with 100 subscribers the compression took 17 % of the event loop's busy "
    "samples and the per-subscriber JSON about 3 %, the rest of the loop's time again the "
    "journal. So fan-out and order placement slow each other down: compare §2's orders/s with "
    "§1's at 4 clients.",
    "5. **A slow subscriber (fixed).** A subscriber whose outbox filled up was never "
    "disconnected: the end marker could not be queued behind 10,000 messages, so the reader "
    "stayed connected and silently lost every later message. It is now cut off as docs/api.md "
    "says (`tests/unit/gateway/test_stream_outbox.py`). At this machine's event rates uvicorn's "
    "keepalive (a ping every 20 s, failed after 20 s unanswered) may cut a reader that is far "
    "behind first (§2's last table says which did); the outbox bound is what stops a reader that "
    "falls behind while its pongs still get through, and faster streams. Seen from the client, "
    "what it reads after the cut is what the sockets still held, and the socket is closed soon "
    "after the close frame is queued, so a client still reading old messages sees the connection "
    "end without the close frame.",
    "",
]


def machine() -> list[tuple[str, str]]:
    """What the numbers were measured on."""
    extra = [*server_rows(), ("PostgreSQL server", postgres_version())]
    return facts(("tradeforge", *SERVER_PACKAGES, *PACKAGES), extra)


def _n(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def _errors(out: RestOutcome) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(out.statuses.items())) or "0"


# ------------------------------------------------------------------------ sections
def _rest(result: GatewayBenchResult) -> list[str]:
    if not result.rest:
        return []
    seconds = result.rest[0].seconds
    lines = [
        "## 1. Orders placed over REST",
        "",
        f"Each client is an `httpx.AsyncClient` with one keep-alive connection; it repeats "
        f"`POST /api/v1/orders` with a market order of {QUANTITY} on {INSTRUMENT} (sides "
        "alternate) and waits for the answer before sending the next. The credential is the "
        "trader's access token (`bearer`: the JWT is verified and its session read from the "
        "database on every request, `auth.session_cache_ttl_s` = 0, the default) or its `trade` "
        "API key (`key`: looked up by its SHA-256). Every order passes what a user's order "
        "passes: the audit row (`order.place`), pre-trade risk, the journal, the simulated "
        "venue's fill; the answer (201, `FILLED`) comes once the venue has answered. Latency is "
        "one request as the client sees it. One untimed order per client first; each phase "
        f"about {seconds:.0f} s.",
        "",
        "| database | credential | clients | orders/s | p50 (ms) | p99 (ms) | mean (ms) | errors "
        "| server CPU (cores) | clients' CPU (cores) | server CPU per order (ms) |",
        "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for out in result.rest:
        lines.append(
            f"| {out.backend} | {out.auth} | {out.clients} | **{_n(out.per_second(out.orders))}**"
            f" | {out.latency.ms(50):.1f} | {out.latency.ms(99):.1f} | "
            f"{out.latency.mean() / 1e6:.1f} | {_errors(out)} | "
            f"{out.server_cpu / out.seconds:.2f} | {out.harness_cpu / out.seconds:.2f} | "
            f"{out.server_cpu * 1e3 / out.orders if out.orders else 0:.1f} |"
        )
    lines += ["", *_peers(result), ""]
    return lines


def _rate(out: RestOutcome | None) -> float | None:
    return out.per_second(out.orders) if out is not None and out.orders else None


def _div(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}" if a is not None and b else "—"


def _peers(result: GatewayBenchResult) -> list[str]:
    """Ratios between phases of the same run: they move less than absolute numbers."""
    rows = []
    for auth in ("bearer", "key"):
        for clients in sorted({o.clients for o in result.rest}):
            lite = _rate(result.rest_of("sqlite", auth, clients))
            pg = _rate(result.rest_of("postgresql", auth, clients))
            key = {b: _rate(result.rest_of(b, "key", clients)) for b in ("sqlite", "postgresql")}
            bearer = {b: _rate(result.rest_of(b, "bearer", clients))
                      for b in ("sqlite", "postgresql")}  # fmt: skip
            one = {b: _rate(result.rest_of(b, auth, 1)) for b in ("sqlite", "postgresql")}
            cells = [
                _div(pg, lite),
                *((_div(key[b], bearer[b]) if auth == "bearer" else "") for b in key),
                _div(lite, one["sqlite"]),
                _div(pg, one["postgresql"]),
            ]
            rows.append(f"| {auth} | {clients} | " + " | ".join(cells) + " |")
    return [
        "Ratios within this run (the machine's load moves every phase alike, more or less):",
        "",
        "| credential | clients | PostgreSQL ÷ SQLite | key ÷ bearer, SQLite | key ÷ bearer, "
        "PostgreSQL | ÷ 1 client, SQLite | ÷ 1 client, PostgreSQL |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *rows,
    ]


def _fanout_row(out: FanoutOutcome) -> str:
    published = len(out.published)
    per_reader = [len(r.keys) / published for r in out.readers] if published else [0.0]
    p99s = [r.lag.ms(99) for r in out.readers]
    p50s = [r.lag.ms(50) for r in out.readers]
    ratio = out.delivered / (published * out.subscribers) if published else 0.0
    closed = sum(1 for r in out.readers if r.closed)
    return (
        f"| {out.backend} | {out.subscribers} | {_n(out.per_second(out.orders))} | "
        f"{_n(out.per_second(published))} | **{_n(out.per_second(out.delivered))}** | "
        f"**{ratio:.4f}** (min {min(per_reader):.4f}) | {closed} | "
        f"{out.lag.ms(50):.1f} / {out.lag.ms(99):.1f} | "
        f"{statistics.median(p50s):.1f} / {max(p99s):.1f} | "
        f"{sum(r.duplicates for r in out.readers)} | {out.server_cpu / out.seconds:.2f} | "
        f"{out.harness_cpu / out.seconds:.2f} | {out.rss_before_mib:.0f} → {out.rss_peak_mib:.0f} |"
    )


def _slow_row(out: FanoutOutcome) -> str:
    published = out.published
    got = out.slow.keys
    last = max((ts for _, _, ts in got), default=0)
    # Lost: published before the last event it read, yet never delivered to it. Behind: made
    # after that, still on their way (in the server's outbox or the sockets) when it stopped.
    lost = sum(1 for key in published - got if key[2] <= last)
    behind = len(published) - len(got) - lost
    after = f" after {out.slow.closed_after_s:.1f} s" if out.slow.closed_after_s else ""
    return (
        f"| {out.backend} | one per {out.slow_interval_s * 1e3:.0f} ms | "
        f"{_n(len(got))} of {_n(len(published))} | {_n(lost)} | {_n(behind)} | "
        f"{out.slow.closed + after if out.slow.closed else 'no'} | "
        f"{out.slow.lag.ms(50) / 1e3:.1f} / {out.slow.lag.ms(99) / 1e3:.1f} |"
    )


def _fanout(result: GatewayBenchResult) -> list[str]:
    if not result.fanout:
        return []
    first = result.fanout[0]
    return [
        "## 2. WebSocket fan-out",
        "",
        f"{first.subscribers} `websockets` clients, each with the trader's access token, subscribe "
        f"to `{CHANNEL}` (every order event of the trader's orders, fills included) and decode "
        f"every message; one more subscriber reads one message every "
        f"{first.slow_interval_s * 1e3:.0f} ms. Then {first.drivers} REST clients place market "
        f"orders as in §1 for {first.seconds:.0f} s; the subscribers read {DRAIN_S:.0f} s "
        "longer. Published = the distinct events (order id, type, `ts_init`) any subscriber "
        "received; delivered = the messages the normal subscribers received together, so "
        "delivered/published = 1 means every subscriber got every event. Lag = arrival (after "
        "decoding) - the event's `ts_init` (when the node made it; both the same wall clock). "
        "Rates are per second of the order-placing window; CPU is over that window and the "
        "drain. The subscribers and the REST clients share one process and loop.",
        "",
        "| database | subscribers | orders/s | events published/s | messages delivered/s "
        "| delivered ÷ (published x subscribers) | subscribers closed | lag p50 / p99, all "
        "(ms) | lag: median subscriber's p50 / worst subscriber's p99 (ms) | duplicates "
        "| server CPU (cores) | harness CPU (cores) | server RSS before → peak (MiB) |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
        *(_fanout_row(out) for out in result.fanout),
        "",
        "The slow subscriber:",
        "",
        "| database | reads | events received | lost (skipped before its last read) "
        "| still on their way when it stopped | closed by the server | its lag p50 / p99 (s) |",
        "|---|---|---:|---:|---:|---|---:|",
        *(_slow_row(out) for out in result.fanout),
        "",
    ]


def _cutoff_row(out: FanoutOutcome) -> str:
    published = out.published
    slow = out.slow
    newest = max((ts for _, _, ts in slow.keys), default=out.started_ns)
    skipped = sum(1 for key in published - slow.keys if key[2] <= newest)
    later = sorted(key[2] for key in published if key[2] > newest)
    # The events made after the newest it got waited in its outbox; the server cut it off when
    # the outbox passed OUTBOX of them: about when the OUTBOX-th was made.
    if not slow.closed:
        by = "not cut off"
    elif len(later) >= OUTBOX:
        made = (later[OUTBOX - 1] - out.started_ns) / 1e9
        by = f"its outbox passed {OUTBOX:,} at {made:.1f} s (or the keepalive, if earlier)"
    else:
        by = (f"the keepalive: only {len(later):,} ever waited for it, fewer than the "
              f"outbox's {OUTBOX:,}")  # fmt: skip
    return (
        f"| {out.backend} | one per {out.slow_interval_s * 1e3:.0f} ms | {out.seconds:.1f} | "
        f"{_n(out.per_second(out.orders))} | {_n(out.per_second(len(published)))} | "
        f"{_n(len(slow.keys))} | {(newest - out.started_ns) / 1e9:.1f} | {_n(skipped)} | "
        f"{_n(len(later))} | {slow.closed or 'not ended'} | {by} | "
        f"{out.rss_before_mib:.0f} → {out.rss_peak_mib:.0f} |"
    )


def _cutoff(result: GatewayBenchResult) -> list[str]:
    if not result.cutoff:
        return []
    first = result.cutoff[0]
    return [
        "### The slow subscriber, until the server cuts it off",
        "",
        f"One subscriber reads one message every {first.slow_interval_s * 1e3:.0f} ms, beside "
        f"one that reads everything (it says what was published); {first.drivers} REST clients "
        f"place market orders for {first.seconds:.0f} s; then the slow one reads as fast as it "
        "can until the connection ends, to collect what the server had sent it. Its socket's "
        f"receive buffer is fixed at {SLOW_RCVBUF // 1024} KiB (Linux would otherwise grow it, "
        "up to 32 MiB here, `net.ipv4.tcp_rmem`, and the backlog would wait in the client's "
        "own kernel, unseen by the server) and it sends no keepalive pings of its own, so "
        "whatever ends the connection is the server's doing. What it reads is what left the "
        "server before the sockets filled; every event made after the newest of those waited "
        "on the server. Two things there cut a reader off: its outbox, which holds at most "
        f"{OUTBOX:,} messages (then they are dropped and the connection closed with 1008, "
        "docs/api.md), and uvicorn's keepalive (a ping every 20 s; unanswered for 20 s, the "
        "connection is failed with 1011), which a reader this far behind cannot answer: the "
        "ping waits behind the messages in the sockets. Either way the close frame is queued "
        "behind those messages and the socket is closed soon after, so the client sees the "
        "connection end without one.",
        "",
        "| database | reads | orders for (s) | orders/s | events published/s | events it read "
        "| the newest of them was made at (s) | events before that it never got "
        "| events made after (waited on the server, then dropped) | how the connection "
        "ended, for the client | cut off by | server RSS before → peak (MiB) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|---:|",
        *(_cutoff_row(out) for out in result.cutoff),
        "",
    ]


def _how_to_read(result: GatewayBenchResult) -> list[str]:
    settings = ", ".join(f"`{k}={v}`" for k, v in result.settings.items())
    skipped = [f"* **Not run:** {b}: {why}" for b, why in result.skipped.items()]
    return [
        "## How to read this",
        "",
        f"* **Settings.** The platform runs with its defaults except {settings}: the three "
        "rate limits (default 1,200 requests a minute per address and user, 600 per key) would "
        "refuse most of the benchmark's requests with 429. The admin password is set "
        "(`TRADEFORGE__AUTH__ADMIN_PASSWORD`), the log level is `warning`, and the PostgreSQL "
        "phases set `TRADEFORGE__DB__URL` to a database created for the run and dropped after "
        "it.",
        "* **Durability.** Every commit is durable as the platform ships: "
        + "; ".join(f"{b}: {d}" for b, d in result.durability.items())
        + ". Nothing was relaxed for the benchmark.",
        "* **The idle platform** (no requests: its generated market at 20 events/s, the "
        "node's timers) used "
        + "; ".join(f"{b}: {c:.2f} cores" for b, c in result.idle_cpu.items())
        + "; the server CPU columns include it.",
        "* **Noisy, shared machine.** The platform and the clients share the 2 cores with "
        "other work (the load averages above). Compare the ratios of §1, measured minutes "
        "apart in one run, rather than absolute numbers across runs; the CPU columns say "
        "which side was busy. CPU per order depends less on the load than orders per second.",
        *skipped,
        "",
    ]


def render(result: GatewayBenchResult, bottlenecks: list[str]) -> str:
    """The whole report as markdown."""
    took = (result.finished - result.started).total_seconds() if result.finished else 0.0
    lines = [
        "# API gateway benchmark: results",
        "",
        "Generated by `make bench-gateway` (`bench/gateway/`). Re-running overwrites this file.",
        "",
        f"* date: {result.started:%Y-%m-%d %H:%M:%S} UTC (the whole run took {took:.0f} s)",
        f"* command: `{result.command}`",
        f"* databases: {', '.join(result.backends) or 'none'}",
        "",
        *section(machine(), result.load_start, result.load_end),
        "",
        *_rest(result),
        *_fanout(result),
        *_cutoff(result),
        *bottlenecks,
        *_how_to_read(result),
    ]
    return "\n".join(lines) + "\n"


def write(result: GatewayBenchResult, path: Path) -> Path:
    """Write the report to ``path``; returns it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(result, BOTTLENECKS), encoding="utf-8")
    return path

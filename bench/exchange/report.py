"""``bench/EXCHANGE_RESULTS.md`` from one run."""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path

from bench.exchange.rest_case import AMOUNT, CALLS
from bench.exchange.results import ExchangeBenchResult
from bench.exchange.stream_case import DELAY_LIMIT_MS, STREAMS, StreamOutcome
from bench.exchange.venue_case import BOOK_EVERY, KINDS, LEVELS, MAX_RESTING, MIX
from bench.machine import facts, section

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("tradeforge", "ccxt", "aiohttp", "websockets", "fastapi", "starlette", "uvicorn")


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def server_rows() -> list[tuple[str, str]]:
    """How uvicorn serves here (its "auto" choices)."""
    parser = "httptools" if _installed("httptools") else "h11 (httptools is not installed)"
    loop = "uvloop" if _installed("uvloop") else "asyncio"
    return [
        ("server's HTTP parser (uvicorn, auto)", parser),
        ("server's event loop (uvicorn, auto)", loop),
    ]


def machine() -> list[tuple[str, str]]:
    """What the numbers were measured on."""
    return facts(PACKAGES, server_rows())


# ------------------------------------------------------------------------ helpers
def _n(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def _per(cpu_seconds: float, count: int, unit: float = 1_000) -> str:
    """CPU time per item, in ms (or ``unit`` per second)."""
    return f"{cpu_seconds * unit / count:.2f}" if count else "—"


def _yes(ok: bool) -> str:
    return "**yes**" if ok else "**no**"


# ------------------------------------------------------------------------ sections
def _venue(result: ExchangeBenchResult) -> list[str]:
    out = result.venue
    if out is None:
        return []
    mix = ", ".join(f"{share:.0%} {kind}" for kind, share in MIX)
    loop_rate = out.accepted / out.loop_seconds if out.loop_seconds else 0.0
    lines = [
        "## 1. In-process `SimulatedVenue`",
        "",
        f"One cash account, BTC/USDT as the server lists it (tick 0.01, lot 0.00001, minimum "
        f"notional 5, fee 0.1 %), a book of {LEVELS} levels a side 5.00 apart. Order mix: {mix}; "
        f"quantities log-normal around 0.01 BTC. Past {MAX_RESTING} resting orders the oldest is "
        f"canceled. Every {BOOK_EVERY} orders a new book snapshot arrives with the mid moved "
        "one level down, not at all or up (seeded): it restores the liquidity orders took and "
        "fills the resting orders it crosses (maker fills). Rates are per second of time spent "
        "inside the venue's `execute` and `on_book` calls.",
        "",
        "| | count | per second |",
        "|---|---:|---:|",
        f"| orders submitted (after 2,000 untimed) | {_n(out.orders)} | "
        f"{_n(out.per_second(out.orders))} |",
        f"| accepted | {_n(out.accepted)} | **{_n(out.per_second(out.accepted))}** |",
        f"| rejected | {_n(out.rejected)} | |",
        f"| fills | {_n(out.fill_count)} | **{_n(out.per_second(out.fill_count))}** |",
        f"| of which taker (market and marketable orders) | {_n(out.fills['taker'])} | |",
        f"| of which maker (resting orders the book moved through) | {_n(out.fills['maker'])} | |",
        f"| cancels | {_n(out.cancels)} | {_n(out.per_second(out.cancels))} |",
        f"| book snapshots | {_n(out.book_updates)} | {_n(out.per_second(out.book_updates))} |",
        "",
        f"Time inside the venue: {out.venue_seconds:.2f} s; the whole loop, with the harness "
        f"building commands and snapshots: {out.loop_seconds:.2f} s "
        f"({_n(loop_rate)} accepted orders/s of loop time), of which the process was on a CPU "
        f"{out.loop_cpu_seconds:.2f} s (less means other work took the CPU now and then).",
        "",
        "| call | calls | p50 (µs) | p99 (µs) | mean (µs) |",
        "|---|---:|---:|---:|---:|",
    ]
    rows = [(f"submit: {kind}", out.submit[kind]) for kind in KINDS]
    rows += [
        ("**submit: all**", out.all_submits),
        ("cancel", out.cancel),
        (f"book snapshot (`on_book`, up to {MAX_RESTING} resting orders)", out.book),
    ]
    for name, lat in rows:
        lines.append(
            f"| {name} | {_n(len(lat))} | {lat.us(50):,.1f} | {lat.us(99):,.1f} | "
            f"{lat.mean() / 1000:,.1f} |"
        )
    return [*lines, ""]


def _rest(result: ExchangeBenchResult) -> list[str]:
    if not result.rest:
        return []
    lines = [
        "## 2. Through the server over REST, from CCXT",
        "",
        f"Server: `{result.rest_server}` (TMPDIR a temporary directory, PORT a free port; "
        "default market: 20 events/s). "
        f"`--weight-limit` and `--orders-per-10s` are raised far above what the benchmark "
        "sends, so no request is throttled (no 429). Each client is CCXT's async `binance` "
        "with its own account and its own rate limiter off (`enableRateLimit: False`); it "
        f"repeats: a market order of {AMOUNT} BTC (sides alternate), a limit order of {AMOUNT} "
        "BTC 10 % away from the touch (it rests), and the cancel of that limit. Latency is "
        "each call as CCXT's caller sees it (signing, HTTP, the server, CCXT's parsing).",
        "",
        "| clients | orders/s | requests/s | "
        + " | ".join(f"{c} p50 / p99 (ms)" for c in CALLS)
        + " | all calls p50 / p99 (ms) | errors | requests the server counted (429/418) "
        "| server CPU (cores) | clients' CPU (cores) | CPU per request, server / clients (ms) |",
        "|---:|---:|---:|" + "---:|" * len(CALLS) + "---:|---|---:|---:|---:|---:|",
    ]
    for out in result.rest:
        cells = [f"{out.latency[c].ms(50):.2f} / {out.latency[c].ms(99):.2f}" for c in CALLS]
        every = out.all_calls
        errors = ", ".join(f"{k}: {v}" for k, v in sorted(out.errors.items())) or "0"
        lines.append(
            f"| {out.clients} | **{_n(out.per_second(out.orders))}** | "
            f"{_n(out.per_second(out.requests))} | " + " | ".join(cells) + " | "
            f"{every.ms(50):.2f} / {every.ms(99):.2f} | {errors} | "
            f"{_n(out.server_requests)} ({out.server_refused}) | "
            f"{out.server_cpu / out.seconds:.2f} | {out.harness_cpu / out.seconds:.2f} | "
            f"{_per(out.server_cpu, out.server_requests)} / {_per(out.harness_cpu, out.requests)} |"
        )
    lines += [
        "",
        f"Each phase ran {result.rest[0].seconds:.1f} s. The server counts the requests it "
        "receives (`GET /admin/faults`): that count matches the calls above when nothing was "
        "lost or retried, and (429/418) says none was throttled. The server is one process "
        "(one event loop): a server CPU near 1.00 core means it was the limit. CPU time per "
        "request depends little on how busy the machine is, so it is the figure to compare "
        "across runs: 1 / (server + clients' CPU per request) bounds the requests per second "
        "of one core.",
        "",
    ]
    return lines


def _stream_rows(stream: StreamOutcome) -> tuple[str, str]:
    msgs = stream.messages
    received = [
        f"{stream.events_per_second:,.0f}",
        *(_n(stream.per_second(msgs[name])) for name in STREAMS),
        f"**{_n(stream.per_second(stream.total))}**",
        _n(stream.per_second(stream.bytes) / 1000),
        f"{_n(stream.trades_published)} / {_n(msgs[STREAMS[0]])}",
        _n(stream.per_second(stream.depth_updates)),
    ]
    counts = stream.per_second_counts
    spread = f"{_n(min(counts))} to {_n(max(counts))}" if counts else "—"
    kept = [
        f"{stream.events_per_second:,.0f}",
        f"{stream.publish.ms(50):.0f} / {stream.publish.ms(99):.0f}",
        f"{stream.delay.ms(50):.1f} / {stream.delay.ms(99):.1f}",
        f"{stream.delay_first_s.ms(50):.1f} → {stream.delay_last_s.ms(50):.1f}",
        spread,
        f"{stream.trade_gaps} / {stream.depth_gaps}",
        stream.closed or "no",
        f"{stream.server_cpu / stream.seconds:.2f}" if stream.seconds else "—",
        f"{stream.harness_cpu / stream.seconds:.2f}" if stream.seconds else "—",
        f"{_per(stream.server_cpu, stream.total, 1e6)} / "
        f"{_per(stream.harness_cpu, stream.total, 1e6)}",
        _yes(stream.server_kept_pace),
        _yes(stream.consumer_kept_up),
    ]
    return "| " + " | ".join(received) + " |", "| " + " | ".join(kept) + " |"


def _streams(result: ExchangeBenchResult) -> list[str]:
    if not result.streams:
        return []
    combined = "/".join(STREAMS)
    lines = [
        "## 3. Market data over WebSocket, one consumer",
        "",
        "One server per rate, one pair: "
        + "; ".join(f"`{command}`" for command in result.stream_servers)
        + f". One raw `websockets` client reads `/stream?streams={combined}` and decodes every "
        f"message's JSON; the first 2 s are dropped, the next {result.streams[0].seconds:.0f} s "
        "measured. `--events-per-second` counts the random market's participant events (market "
        "orders, limit orders, market makers, cancels); each makes one or more trades and book "
        "changes.",
        "",
        "What arrived (per second of the measured window):",
        "",
        "| market events/s | "
        + " | ".join(f"`{name}` msgs/s" for name in STREAMS)
        + " | all msgs/s | kB/s | trades published / received | book changes/s in the diffs |",
        "|---:|" + "---:|" * len(STREAMS) + "---:|---:|---:|---:|",
    ]
    rows = [_stream_rows(stream) for stream in result.streams]
    lines += [received for received, _ in rows]
    lines += [
        "",
        "Did it keep up:",
        "",
        "| market events/s | publish delay E - T of trades, p50 / p99 (ms) | "
        "arrival - E, p50 / p99 (ms) | arrival - E median, first s → last s (ms) | "
        "msgs in each second, min to max | gaps trade / depth | closed early | "
        "server CPU (cores) | consumer CPU (cores) | CPU per message, server / consumer (µs) | "
        "server kept pace | consumer kept up |",
        "|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|---|",
    ]
    lines += [kept for _, kept in rows]
    lines += [
        "",
        "*Trades published* is the span of trade ids in the window (they count up by one per "
        "trade), so published = received means none was lost. The depth diffs' `U` follows the "
        "previous `u` when none is lost. `bookTicker` carries no counter, so how many the server "
        "published is not known; it is sent whenever the best bid or ask changes.",
        "",
    ]
    return lines


def _how_to_read() -> list[str]:
    return [
        "## How to read this",
        "",
        "* **Noisy, shared machine.** The load averages above say how busy the host was; other "
        "work on it moves absolute numbers by tens of percent from run to run. The REST and "
        "stream steps run the server and the clients on the same 2 cores: the CPU columns say "
        "which side was busy.",
        "* **Rates.** In-process: per second of time inside the venue's calls. REST: orders "
        "(market + limit) created per second of the phase; requests/s adds the cancels. "
        "Streams: messages received per second of the measured window.",
        "* **Latency.** In-process: one `execute(SubmitOrder)` call, matching and fills included "
        "(a marketable order's fills happen inside it). REST: one CCXT call, end to end.",
        f"* **Server kept pace** means every second of the window brought messages and trades "
        f"were published within {DELAY_LIMIT_MS:.0f} ms (p99) of the market making them "
        "(`E - T`; the server's market loop ticks every 50 ms). When the server cannot run its "
        "market at the asked rate, each tick has more to do than the last and the market, the "
        "REST API and the streams all stall, whatever the consumer does.",
        f"* **Consumer kept up** means no trade or depth diff was lost, the server did not close "
        f"the connection (it does when 10,000 messages wait for a client), messages arrived within "
        f"{DELAY_LIMIT_MS:.0f} ms (p99) of being published (`E`), and that delay did not grow "
        "from the first second to the last.",
        "* **Not measured:** several consumers at once, klines, the user-data stream, "
        "orders over the WebSocket API, more than one listed pair, the `replay:` feed.",
        "",
        "No chart: matplotlib is not installed in the venv, and the benchmark does not add it "
        "as a dependency.",
    ]


def render(result: ExchangeBenchResult) -> str:
    """The whole report as markdown."""
    took = (result.finished - result.started).total_seconds() if result.finished else 0.0
    lines = [
        "# Simulated exchange benchmark: results",
        "",
        "Generated by `make bench-exchange` (`bench/exchange/`). Re-running overwrites this file.",
        "",
        f"* date: {result.started:%Y-%m-%d %H:%M:%S} UTC (the whole run took {took:.0f} s)",
        f"* command: `{result.command}`",
        "",
        *section(machine(), result.load_start, result.load_end),
        "",
        *_venue(result),
        *_rest(result),
        *_streams(result),
        *_how_to_read(),
    ]
    return "\n".join(lines) + "\n"


def write(result: ExchangeBenchResult, path: Path) -> Path:
    """Write the report to ``path``; returns it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(result), encoding="utf-8")
    return path

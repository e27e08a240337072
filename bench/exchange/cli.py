"""``python -m bench.exchange``: run the exchange benchmark, write ``bench/EXCHANGE_RESULTS.md``.

    python -m bench.exchange [--venue-orders 50000] [--rest-clients 1,4,16] [--rest-seconds 8]
                             [--stream-rates 2000,10000,20000] [--stream-seconds 8]
                             [--skip-venue] [--skip-rest] [--skip-streams]
                             [--out bench/EXCHANGE_RESULTS.md]

Steps: orders through the in-process ``SimulatedVenue``; one ``tradeforge exchange serve``
process with limits raised out of the way, traded by 1, 4 and 16 CCXT clients in turn; one
server per market rate, its combined stream read by one ``websockets`` client. A status line per
step on stderr, a summary table at the end, the report written. About 90 s in all.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.exchange import report
from bench.exchange.rest_case import CALLS, run_rest
from bench.exchange.results import ExchangeBenchResult
from bench.exchange.server import ServerProcess
from bench.exchange.stream_case import run_stream
from bench.exchange.venue_case import run_venue
from bench.machine import load_average
from tradeforge.observability import progress_bar

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "EXCHANGE_RESULTS.md"
# Far above what the benchmark sends, so the server never answers 429 (-1003 / -1015).
WEIGHT_LIMIT = 100_000_000
ORDERS_PER_10S = 100_000_000
BALANCES = {"USDT": "10000000", "BTC": "100"}
SEED = 7


def _counts(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers like 1,4,16; got {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"every number must be at least 1, got {text!r}")
    return values


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.exchange",
        description="Simulated exchange benchmark: in-process venue, REST via CCXT, streams.",
    )
    parser.add_argument(
        "--venue-orders",
        type=int,
        default=50_000,
        help="timed orders through the in-process venue (default: 50000)",
    )
    parser.add_argument(
        "--rest-clients",
        type=_counts,
        default=(1, 4, 16),
        help="concurrent CCXT clients, one phase each (default: 1,4,16)",
    )
    parser.add_argument(
        "--rest-seconds", type=float, default=8.0, help="length of each REST phase (default: 8)"
    )
    parser.add_argument(
        "--stream-rates",
        type=_counts,
        default=(2_000, 10_000, 20_000),
        help="--events-per-second of each stream server (default: 2000,10000,20000)",
    )
    parser.add_argument(
        "--stream-seconds",
        type=float,
        default=8.0,
        help="measured seconds per stream rate, after 2 s dropped (default: 8)",
    )
    parser.add_argument("--skip-venue", action="store_true", help="no in-process venue step")
    parser.add_argument("--skip-rest", action="store_true", help="no REST step")
    parser.add_argument("--skip-streams", action="store_true", help="no stream step")
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="report file (default: bench/EXCHANGE_RESULTS.md)",
    )
    args = parser.parse_args(argv)
    if args.venue_orders < 1_000:
        parser.error("--venue-orders must be at least 1000")
    if args.rest_seconds <= 0 or args.stream_seconds < 2:
        parser.error("--rest-seconds must be above 0 and --stream-seconds at least 2")
    if any(rate > 100_000 for rate in args.stream_rates):
        parser.error("--stream-rates: the server takes at most 100000 events per second")
    return args


class Harness:
    """Runs the steps, printing one status line per step on stderr."""

    def __init__(self, args: argparse.Namespace, console: Console, work: Path) -> None:
        self.args = args
        self.console = console
        self.work = work
        self.result = ExchangeBenchResult(
            started=datetime.now(UTC),
            command=shlex.join(["python", "-m", "bench.exchange", *sys.argv[1:]]),
        )

    @contextmanager
    def step(self, text: str) -> Iterator[None]:
        # A slow refresh: the spinner thread must not steal the measured CPU.
        with self.console.status(text, refresh_per_second=2):
            yield

    def done(self, text: str) -> None:
        self.console.print(f"[green]✓[/] {text}")

    def shown(self, server: ServerProcess) -> str:
        """The server's command line as the report shows it (no temporary path, no port)."""
        words = [
            "TMPDIR" + w[len(str(self.work)) :] if w.startswith(str(self.work)) else w
            for w in server.command
        ]
        return shlex.join(words).replace(f"--port {server.port}", "--port PORT")

    def venue(self) -> None:
        orders = self.args.venue_orders
        with progress_bar(f"in-process venue: {orders:,} orders", orders) as advance:
            out = run_venue(orders, progress=advance)
        self.result.venue = out
        self.done(
            f"in-process venue: {out.per_second(out.accepted):,.0f} accepted/s, "
            f"{out.per_second(out.fill_count):,.0f} fills/s, submit p50 "
            f"{out.all_submits.us(50):,.1f} µs, p99 {out.all_submits.us(99):,.1f} µs"
        )

    def rest(self) -> None:
        clients = self.args.rest_clients
        flags = ("--instruments", "BTC/USDT", "--seed", str(SEED), "--weight-limit",
                 str(WEIGHT_LIMIT), "--orders-per-10s", str(ORDERS_PER_10S))  # fmt: skip
        server = ServerProcess(self.work / "rest", flags)
        with self.step("REST: starting the server"):
            accounts = server.add_accounts(max(clients), BALANCES)
            server.start()
        self.result.rest_server = self.shown(server)
        self.done(f"REST: server on {server.base} with {len(accounts)} accounts")
        try:
            for count in clients:
                with self.step(f"REST: {count} CCXT client(s), {self.args.rest_seconds:g} s ..."):
                    out = run_rest(server, accounts[:count], self.args.rest_seconds)
                self.result.rest.append(out)
                every = out.all_calls
                errors = sum(out.errors.values())
                self.done(
                    f"REST, {count} client(s): {out.per_second(out.orders):,.0f} orders/s, "
                    f"{out.per_second(out.requests):,.0f} requests/s, p50 {every.ms(50):.2f} ms, "
                    f"p99 {every.ms(99):.2f} ms, {errors} error(s), server CPU "
                    f"{out.server_cpu / out.seconds:.2f} cores"
                )
        finally:
            with self.step("REST: stopping the server"):
                server.stop()

    def streams(self) -> None:
        for rate in self.args.stream_rates:
            flags = ("--instruments", "BTC/USDT", "--seed", str(SEED),
                     "--events-per-second", str(rate))  # fmt: skip
            server = ServerProcess(self.work / f"stream-{rate}", flags)
            try:
                with self.step(f"streams: server at {rate:,} events/s, reading ..."):
                    server.start()
                    out = run_stream(server, rate, self.args.stream_seconds)
            finally:
                with self.step("streams: stopping the server"):
                    server.stop()
            self.result.stream_servers.append(self.shown(server))
            self.result.streams.append(out)
            verdict = "consumer kept up" if out.consumer_kept_up else "consumer fell behind"
            pace = "server kept pace" if out.server_kept_pace else "server fell behind its market"
            self.done(
                f"streams at {rate:,} events/s: {out.per_second(out.total):,.0f} messages/s "
                f"received, {out.trade_gaps + out.depth_gaps} gap(s); {pace}; {verdict}"
            )

    def run(self) -> ExchangeBenchResult:
        self.result.load_start = load_average()
        if not self.args.skip_venue:
            self.venue()
        if not self.args.skip_rest:
            self.rest()
        if not self.args.skip_streams:
            self.streams()
        self.result.finished = datetime.now(UTC)
        self.result.load_end = load_average()
        return self.result


def summary(result: ExchangeBenchResult) -> Table:
    """The headline numbers for the terminal."""
    table = Table(title="simulated exchange")
    for column in ("what", "throughput", "p50", "p99"):
        table.add_column(column, justify="left" if column == "what" else "right")
    venue = result.venue
    if venue is not None:
        every = venue.all_submits
        table.add_row(
            "in-process venue, submit",
            f"{venue.per_second(venue.accepted):,.0f} accepted/s, "
            f"{venue.per_second(venue.fill_count):,.0f} fills/s",
            f"{every.us(50):,.1f} µs",
            f"{every.us(99):,.1f} µs",
        )
    for out in result.rest:
        every = out.all_calls
        table.add_row(
            f"REST via CCXT, {out.clients} client(s)",
            f"{out.per_second(out.orders):,.0f} orders/s ({out.per_second(out.requests):,.0f} "
            f"requests/s, {CALLS[2]} included)",
            f"{every.ms(50):.2f} ms",
            f"{every.ms(99):.2f} ms",
        )
    for stream in result.streams:
        table.add_row(
            f"streams, market at {stream.events_per_second:,.0f} events/s",
            f"{stream.per_second(stream.total):,.0f} messages/s received",
            f"{stream.delay.ms(50):.1f} ms delay",
            f"{stream.delay.ms(99):.1f} ms delay",
        )
    return table


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    console = Console(stderr=True)
    with tempfile.TemporaryDirectory(prefix="tradeforge-bench-exchange-") as tmp:
        harness = Harness(args, console, Path(tmp))
        result = harness.run()
    with harness.step("writing the report"):
        written = report.write(result, args.out)
    console.print(summary(result))
    harness.done(f"report: {written}")
    return 0

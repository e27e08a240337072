"""``python -m bench.gateway``: benchmark the API gateway of ``tradeforge up``, write
``bench/GATEWAY_RESULTS.md``.

    python -m bench.gateway [--backends sqlite,postgresql] [--clients 1,4,16] [--seconds 6]
                            [--subscribers 100] [--drivers 4] [--fanout-seconds 15]
                            [--slow-interval 0.05] [--cutoff-seconds 45]
                            [--skip-rest] [--skip-fanout] [--out bench/GATEWAY_RESULTS.md]

For each database (SQLite under a temporary data directory; PostgreSQL as a throwaway database
on 127.0.0.1:5432, dropped afterwards; skipped with the reason when the server is absent) one
``tradeforge up`` process on a loopback port, with the gateway's rate limits off; a trader
with an access token and a ``trade`` API key; then orders placed over REST by 1, 4 and 16
clients with each credential, one WebSocket fan-out phase, and (on the first database) a slow
subscriber until the server cuts it off. A status line per step on stderr, a summary table at
the end, the report written. About five minutes with the defaults.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.gateway import report
from bench.gateway.fanout_case import run_cutoff, run_fanout
from bench.gateway.platform import (
    NO_RATE_LIMITS,
    Credentials,
    PlatformProcess,
    throwaway_postgres,
)
from bench.gateway.rest_case import run_rest
from bench.gateway.results import GatewayBenchResult
from bench.machine import load_average
from tradeforge.store import Database

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "GATEWAY_RESULTS.md"
BACKENDS = ("sqlite", "postgresql")
AUTHS = ("bearer", "key")
IDLE_S = 3.0


def _counts(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers like 1,4,16; got {text!r}") from None
    if not values or any(v < 1 or v > 64 for v in values):
        raise argparse.ArgumentTypeError(f"every number must be 1..64, got {text!r}")
    return values


def _backends(text: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [name for name in names if name not in BACKENDS]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"expected some of {','.join(BACKENDS)}; got {text!r}")
    return names


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.gateway",
        description="API gateway benchmark: orders over REST, WebSocket fan-out.",
    )
    parser.add_argument(
        "--backends",
        type=_backends,
        default=BACKENDS,
        help="databases, one platform each (default: sqlite,postgresql)",
    )
    parser.add_argument(
        "--clients",
        type=_counts,
        default=(1, 4, 16),
        help="concurrent REST clients, one phase each (default: 1,4,16)",
    )
    parser.add_argument(
        "--seconds", type=float, default=6.0, help="length of each REST phase (default: 6)"
    )
    parser.add_argument(
        "--subscribers",
        type=int,
        default=100,
        help="WebSocket subscribers of the orders stream (default: 100)",
    )
    parser.add_argument(
        "--drivers",
        type=int,
        default=4,
        help="REST clients placing orders during the fan-out (default: 4)",
    )
    parser.add_argument(
        "--fanout-seconds",
        type=float,
        default=15.0,
        help="orders placed during the fan-out phase, in s (default: 15)",
    )
    parser.add_argument(
        "--slow-interval",
        type=float,
        default=0.05,
        help="the slow subscriber reads one message per this many s (default: 0.05)",
    )
    parser.add_argument(
        "--cutoff-seconds",
        type=float,
        default=45.0,
        help="orders placed while the slow subscriber falls behind alone (on the first "
        "database only; 0: skip), then it catches up (default: 45)",
    )
    parser.add_argument("--skip-rest", action="store_true", help="no REST phases")
    parser.add_argument("--skip-fanout", action="store_true", help="no fan-out phase")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="report file (default: bench/GATEWAY_RESULTS.md)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.fanout_seconds <= 0 or args.cutoff_seconds < 0:
        parser.error("--seconds and --fanout-seconds must be above 0, --cutoff-seconds >= 0")
    if not 1 <= args.subscribers <= 500 or not 1 <= args.drivers <= 64:
        parser.error("--subscribers must be 1..500 and --drivers 1..64")
    if args.slow_interval <= 0:
        parser.error("--slow-interval must be above 0")
    return args


class Harness:
    """Runs the steps, printing one status line per step on stderr."""

    def __init__(self, args: argparse.Namespace, console: Console, work: Path) -> None:
        self.args = args
        self.console = console
        self.work = work
        self.result = GatewayBenchResult(
            started=datetime.now(UTC),
            command=shlex.join(["python", "-m", "bench.gateway", *sys.argv[1:]]),
            settings=dict(NO_RATE_LIMITS),
        )

    @contextmanager
    def step(self, text: str) -> Iterator[object]:
        # A slow refresh: the spinner thread must not steal the measured CPU.
        with self.console.status(text, refresh_per_second=2) as status:
            yield status

    def done(self, text: str) -> None:
        self.console.print(f"[green]✓[/] {text}")

    def _database(self, backend: str) -> AbstractContextManager[str | None]:
        return throwaway_postgres() if backend == "postgresql" else nullcontext()

    def backend(self, backend: str) -> None:
        try:
            with self._database(backend) as url:
                platform = PlatformProcess(self.work / backend, database_url=url)
                with self.step(f"{backend}: starting tradeforge up"):
                    platform.start()
                try:
                    self._measure(backend, platform)
                finally:
                    with self.step(f"{backend}: stopping tradeforge up"):
                        platform.stop()
        except RuntimeError as exc:
            self.result.skipped[backend] = str(exc).splitlines()[0]
            self.console.print(f"[red]✗[/] {backend}: {exc}")

    def _measure(self, backend: str, platform: PlatformProcess) -> None:
        self.result.backends.append(backend)
        database = Database(
            platform.database_url
            or f"sqlite:///{platform.data_dir / 'platform' / 'journal.sqlite'}"
        )
        try:
            self.result.durability[backend] = ", ".join(
                f"{k}={v}" for k, v in database.durability().items()
            )
        finally:
            database.dispose()  # fmt: skip
        credentials = platform.credentials()
        with self.step(f"{backend}: the idle platform's CPU, {IDLE_S:g} s"):
            before = platform.cpu_seconds()
            time.sleep(IDLE_S)
            self.result.idle_cpu[backend] = (platform.cpu_seconds() - before) / IDLE_S
        self.done(f"{backend}: tradeforge up on {platform.base} "
                  f"({self.result.durability[backend]}; idle: "
                  f"{self.result.idle_cpu[backend]:.2f} cores)")  # fmt: skip
        if not self.args.skip_rest:
            for auth in AUTHS:
                for clients in self.args.clients:
                    text = f"{backend}, {auth}, {clients} client(s), {self.args.seconds:g} s"
                    with self.step(text + " ...") as status:
                        placed = [0]

                        def advance(n: int, status: object = status, text: str = text,
                                    placed: list[int] = placed) -> None:  # fmt: skip
                            placed[0] += n
                            status.update(f"{text}: {placed[0]:,} orders")  # type: ignore[attr-defined]

                        out = run_rest(platform, credentials, backend, auth, clients=clients,
                                       seconds=self.args.seconds, advance=advance)  # fmt: skip
                    self.result.rest.append(out)
                    self.done(
                        f"{text}: {out.per_second(out.orders):,.0f} orders/s, p50 "
                        f"{out.latency.ms(50):.1f} ms, p99 {out.latency.ms(99):.1f} ms, "
                        f"{out.errors} error(s), server CPU {out.server_cpu / out.seconds:.2f} "
                        "cores"
                    )
        if not self.args.skip_fanout:
            self.fanout(backend, platform, credentials)
        if self.args.cutoff_seconds > 0 and not self.result.cutoff:
            self.cutoff(backend, platform, credentials)

    def fanout(self, backend: str, platform: PlatformProcess, credentials: Credentials) -> None:
        args = self.args
        text = (f"{backend}: fan-out to {args.subscribers} subscribers, {args.drivers} "
                f"REST clients placing orders for {args.fanout_seconds:g} s")  # fmt: skip
        with self.step(text + " ...") as status:
            placed = [0]

            def advance(n: int) -> None:
                placed[0] += n
                status.update(f"{text}: {placed[0]:,} orders")  # type: ignore[attr-defined]

            out = run_fanout(platform, credentials, backend,
                             subscribers=args.subscribers, drivers=args.drivers,
                             seconds=args.fanout_seconds, slow_interval_s=args.slow_interval,
                             advance=advance)  # fmt: skip
        self.result.fanout.append(out)
        published = len(out.published)
        ratio = out.delivered / (published * out.subscribers) if published else 0.0
        self.done(
            f"{backend} fan-out: {out.per_second(out.delivered):,.0f} messages/s delivered, "
            f"delivered/published {ratio:.4f}, lag p50 {out.lag.ms(50):.1f} ms, p99 "
            f"{out.lag.ms(99):.1f} ms; slow subscriber: {len(out.slow.keys):,} of {published:,}"
            f", {out.slow.closed or 'not closed'}"
        )

    def cutoff(self, backend: str, platform: PlatformProcess, credentials: Credentials) -> None:
        args = self.args
        text = (f"{backend}: a subscriber reading one message per {args.slow_interval * 1e3:.0f}"
                f" ms while {args.drivers} REST clients place orders for "
                f"{args.cutoff_seconds:g} s, then catching up")  # fmt: skip
        with self.step(text + " ...") as status:
            placed = [0]

            def advance(n: int) -> None:
                placed[0] += n
                status.update(f"{text}: {placed[0]:,} orders")  # type: ignore[attr-defined]

            out = run_cutoff(platform, credentials, backend, drivers=args.drivers,
                             slow_interval_s=args.slow_interval,
                             seconds=args.cutoff_seconds, advance=advance)  # fmt: skip
        self.result.cutoff.append(out)
        slow = out.slow
        newest = max((ts for _, _, ts in slow.keys), default=out.started_ns)
        verdict = (f"the connection ended ({slow.closed}); the newest event it got was made "
                   f"{(newest - out.started_ns) / 1e9:.1f} s into the run"
                   if slow.closed else "not closed")  # fmt: skip
        self.done(f"{backend} slow subscriber: {len(slow.keys):,} of "
                  f"{len(out.published):,} events read, {verdict}")  # fmt: skip

    def run(self) -> GatewayBenchResult:
        self.result.load_start = load_average()
        for backend in self.args.backends:
            self.backend(backend)
        self.result.finished = datetime.now(UTC)
        self.result.load_end = load_average()
        return self.result


def summary(result: GatewayBenchResult) -> Table:
    """The headline numbers for the terminal."""
    table = Table(title="API gateway (tradeforge up)")
    for column in ("what", "throughput", "p50", "p99"):
        table.add_column(column, justify="left" if column == "what" else "right")
    for out in result.rest:
        table.add_row(
            f"REST orders, {out.backend}, {out.auth}, {out.clients} client(s)",
            f"{out.per_second(out.orders):,.0f} orders/s",
            f"{out.latency.ms(50):.1f} ms",
            f"{out.latency.ms(99):.1f} ms",
        )
    for fan in result.fanout:
        table.add_row(
            f"WebSocket fan-out, {fan.backend}, {fan.subscribers} subscribers",
            f"{fan.per_second(fan.delivered):,.0f} msgs/s delivered",
            f"{fan.lag.ms(50):.1f} ms lag",
            f"{fan.lag.ms(99):.1f} ms lag",
        )
    return table


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    console = Console(stderr=True)
    with tempfile.TemporaryDirectory(prefix="tradeforge-bench-gateway-") as tmp:
        harness = Harness(args, console, Path(tmp))
        result = harness.run()
    if not result.backends:
        console.print("[red]✗[/] nothing ran; no report written")
        return 1
    with harness.step("writing the report"):
        written = report.write(result, args.out)
    console.print(summary(result))
    harness.done(f"report: {written}")
    return 0

"""OMS-1, the crash matrix (RELIABILITY.md section 1): the trading node, a real process in live
mode against the simulated exchange server, ends itself at a deterministic crash point
(``TF_CRASH_AT=<point>:<n>``, exit status 137 with nothing flushed, as SIGKILL), is restarted,
reconciles and stops. Points A-F (see the crash table) x {LIMIT GTC, MARKET, IOC} x {SQLite,
PostgreSQL}: 36 cases. Pass, for every case: 0 orders lost (every order at the venue is in the
journal, with the venue's status and filled quantity), 0 duplicated at the venue, 0 left in
flight, the journal's fills are the venue's trades, and the balances equal the starting
balances plus the journal's fills, exactly.

The cases of one database run concurrently, each on its own account and journal; node
processes are forked from a server that has imported TradeForge once (``node_runner``). A
case costs about 430 of Binance's request weight (6,000 per IP per minute, which the node's
client respects), so at most 10 cases share one exchange server.

``make test`` runs the 18 SQLite cases and 6 PostgreSQL ones (each point once, the kinds in
turn) at the 1st pass of each point; ``TF_OMS_LONG=1`` runs all 36 at the 1st and at the 2nd
pass (72 cases). ``test_restart_within_the_visibility_lag`` is OMS-4
after a crash (a 6 s lag; 30 s with ``TF_OMS_LONG=1``).
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from tests.integration.node.node_runner import NodeRunner
from tests.integration.node.venue_checks import Venue, journal_vs_venue
from tests.kit.databases import fresh_postgres
from tests.kit.sim_exchange import RunningExchange

LONG = os.environ.get("TF_OMS_LONG") == "1"
pytestmark = [pytest.mark.integration, pytest.mark.timeout(3600 if LONG else 120)]
POINTS = "ABCDEF"
KINDS = ("limit", "market", "ioc")
PASSES = (1, 2) if LONG else (1,)
START = {"USDT": Decimal(1_000_000), "BTC": Decimal(10)}


@dataclass(frozen=True)
class Case:
    point: str
    kind: str
    n: int

    @property
    def crash_at(self) -> str:
        # F counts every journaled event: its 1st and 2nd are the two submits, so skip them.
        return f"{self.point}:{self.n + 2 if self.point == 'F' else self.n}"

    @property
    def name(self) -> str:
        return f"{self.point}{self.n}-{self.kind}"


SQLITE_CASES = [Case(p, k, n) for p in POINTS for k in KINDS for n in PASSES]
# Per change, PostgreSQL runs each point once (kinds in turn); the long version runs them all.
PG_CASES = SQLITE_CASES if LONG else [Case(p, KINDS[i % 3], 1) for i, p in enumerate(POINTS)]
CASES_PER_SERVER = 10


def node_toml(
    server: RunningExchange, database: str, kind: str, rounds: int, inflight: str = "0.25, 3"
) -> str:
    interval, retries = inflight.split(",")
    return f"""
mode = "live"
timeframe = "1s"
base_currency = "USDT"
database = "{database}"
cancel_on_stop = true
inflight_timeout = 0.5
inflight_interval = {interval}
inflight_retries = {retries}

[[venues]]
name = "SIM"
exchange = "binance"
rest_url = "{server.base}"
ws_url = "{server.ws}"
api_key_env = "TF_TEST_KEY"
secret_env = "TF_TEST_SECRET"

[[strategies]]
strategy = "tests.kit.node_strategies:CrashProbe"
instruments = ["BTC/USDT.SIM"]
params = {{ kind = "{kind}", rounds = {rounds} }}
"""


@pytest.fixture(scope="module")
def runner() -> Iterator[NodeRunner]:
    node_runner = NodeRunner()
    yield node_runner
    node_runner.close()


def start_server(exchange_factory: Callable[..., RunningExchange]) -> RunningExchange:
    return exchange_factory("--instruments", "BTC/USDT", "--events-per-second", "50",
                            "--orders-per-10s", "100000")  # fmt: skip


def add_account(runner: NodeRunner, server: RunningExchange, log: Path) -> dict[str, str]:
    argv = ["exchange", "add-account", "--data-dir", str(server.data_dir),
            *(f"--balance={asset}={amount}" for asset, amount in START.items())]  # fmt: skip
    out = log.with_suffix(".account")
    assert runner.call(argv, env={}, log=out, timeout=60) == 0, out.read_text()
    import json

    account: dict[str, str] = json.loads(out.read_text().strip().splitlines()[-1])
    return account


def crash_and_restart(
    runner: NodeRunner,
    server: RunningExchange,
    case: Case,
    database: str,
    where: Path,
    *,
    inflight: str = "0.25, 3",
) -> tuple[list[str], dict[str, str]]:
    """Crash at the case's point, restart, stop: what went wrong, and the account used."""
    where.mkdir()
    log = where / "node.log"
    account = add_account(runner, server, log)
    env = {"TF_TEST_KEY": account["api_key"], "TF_TEST_SECRET": account["api_secret"]}
    trading, recovering = where / "trading.toml", where / "recovering.toml"
    trading.write_text(node_toml(server, database, case.kind, case.n, inflight))
    recovering.write_text(node_toml(server, database, case.kind, 0, inflight))
    argv = ["--data-dir", str(where), "run", "--config"]
    pid = runner.start([*argv, str(trading)], env=env | {"TF_CRASH_AT": case.crash_at},
                       log=log)  # fmt: skip
    code = runner.wait(pid, timeout=float(os.environ.get("TF_CASE_TIMEOUT", "60")))
    if code is None:
        runner.signal(pid, signal.SIGKILL)
    if code != 137:
        return [f"{case.name}: the node did not crash at the point (exit {code}); log:\n"
                + log.read_text()[-3000:]], account  # fmt: skip
    code = runner.call([*argv, str(recovering), "--for", "0.3"], env=env, log=log, timeout=120)
    if code != 0 or "strategy failed" in log.read_text():
        return [f"{case.name}: the restarted node exited {code}; log:\n"
                + log.read_text()[-3000:]], account  # fmt: skip
    return [], account


def run_case(
    runner: NodeRunner, server: RunningExchange, case: Case, database: str, where: Path
) -> list[str]:
    """One case: crash at the point, restart, stop; the disagreements found (none passes)."""
    problems, account = crash_and_restart(runner, server, case, database, where)
    problems = problems or journal_vs_venue(Venue(server, account), database, START)
    return [f"{case.name}: {p}" for p in problems]


def run_matrix(
    runner: NodeRunner,
    exchange_factory: Callable[..., RunningExchange],
    cases: list[Case],
    root: Path,
    database: Callable[[Case], str],
) -> None:
    servers = [start_server(exchange_factory) for _ in range(0, len(cases), CASES_PER_SERVER)]

    def one(k: int) -> list[str]:
        case = cases[k]
        return run_case(runner, servers[k % len(servers)], case, database(case), root / case.name)

    with ThreadPoolExecutor(max_workers=6) as pool:
        problems = [p for found in pool.map(one, range(len(cases))) for p in found]
    assert problems == [], "\n".join(problems)


def test_crash_matrix_sqlite(
    runner: NodeRunner, exchange_factory: Callable[..., RunningExchange], tmp_path: Path
) -> None:
    run_matrix(runner, exchange_factory, SQLITE_CASES, tmp_path,
               lambda c: f"sqlite:///{tmp_path / c.name}.sqlite")  # fmt: skip


def test_crash_matrix_postgresql(
    runner: NodeRunner, exchange_factory: Callable[..., RunningExchange], tmp_path: Path
) -> None:
    with contextlib.ExitStack() as stack:
        urls = {case: stack.enter_context(fresh_postgres()) for case in PG_CASES}
        run_matrix(runner, exchange_factory, PG_CASES, tmp_path, urls.__getitem__)


def test_restart_within_the_visibility_lag(
    runner: NodeRunner, exchange_factory: Callable[..., RunningExchange], tmp_path: Path
) -> None:
    """OMS-4 after a crash: the venue hides orders for ``LAG`` s (Binance's lag) and the node
    crashes before it journals the ack (C) or a fill (D), then restarts at once, while its
    orders are still hidden. Its reconciliation asks over the lag (``inflight_interval`` x
    ``inflight_retries`` > lag): 0 orders lost, none the venue has resolved REJECTED, journal =
    venue."""
    lag = 30.0 if LONG else 6.0
    server = start_server(exchange_factory)
    server.admin("POST", "/admin/faults", {"kind": "hide_orders", "seconds": lag})
    inflight = f"1.0, {int(lag) + 3}"
    cases = [Case(point, kind, 1) for point in "CD" for kind in ("limit", "market")]

    def one(case: Case) -> tuple[list[str], dict[str, str]]:
        where = tmp_path / case.name
        db = f"sqlite:///{where}.sqlite"
        return crash_and_restart(runner, server, case, db, where, inflight=inflight)

    with ThreadPoolExecutor(max_workers=4) as pool:
        done = list(pool.map(one, cases))
    problems = [p for found, _ in done for p in found]
    server.admin("DELETE", "/admin/faults")  # the checks see every order
    for case, (_, account) in zip(cases, done, strict=True):
        # An order the venue has is never resolved REJECTED (its status must be the venue's);
        # one the crash kept from being sent is.
        database = f"sqlite:///{tmp_path / case.name}.sqlite"
        found = journal_vs_venue(Venue(server, account), database, START)
        problems += [f"{case.name}: {p}" for p in found]
    assert problems == [], "\n".join(problems)

"""Run the long scenarios as pytest processes, show progress, write ``bench/SOAK_RESULTS.md``.

Each scenario is one test of ``tests/integration/sim_exchange``, run with the environment that
makes it long (``TF_SOAK_SECONDS`` and friends) and ``TF_SOAK_REPORT`` pointing at a JSON file
where the test leaves its figures. By default the three run side by side (about 11 minutes in
all); ``--sequential`` runs one after another. Exit status 0 when every test passed.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.soak.report import REPO, Outcome, write_results

__all__ = ["SCENARIOS", "Scenario", "main"]

_TESTS = "tests/integration/sim_exchange"


@dataclass(frozen=True)
class Scenario:
    """One long test: its name in the report and its pytest node id."""

    name: str
    node: str
    title: str


SCENARIOS = (
    Scenario(
        "soak",
        f"{_TESTS}/test_soak.py::test_soak_balances_reconcile_exactly_across_a_restart",
        "Soak: 20 clients, SIGKILL and restart halfway (issue 4, T-5)",
    ),
    Scenario(
        "con1",
        f"{_TESTS}/test_rate_limits.py::test_con1_weight_limiter_at_twice_the_demand",
        "CON-1: weight limiter at twice the demand",
    ),
    Scenario(
        "con4",
        f"{_TESTS}/test_rate_limits.py::test_con4_reads_take_at_most_3_attempts_and_the_rest_fail_fast",
        "CON-4: retry budget under 20 % injected 5xx",
    ),
)


@dataclass
class _Running:
    scenario: Scenario
    proc: subprocess.Popen[bytes]
    log: Path
    report: Path
    started: float
    finished: float | None = None
    returncode: int | None = None
    env: dict[str, str] = field(default_factory=dict)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--seconds", type=float, default=600.0,
                        help="how long each scenario runs [600]")  # fmt: skip
    parser.add_argument("--clients", type=int, default=20, help="soak clients [20]")
    parser.add_argument("--seed", type=int, default=4, help="soak seed [4]")
    parser.add_argument("--con1-weight-limit", type=int, default=6000,
                        help="the server's weight budget per minute in CON-1 [6000]")  # fmt: skip
    parser.add_argument("--only", default=",".join(s.name for s in SCENARIOS),
                        help="comma-separated scenarios to run [soak,con1,con4]")  # fmt: skip
    parser.add_argument("--sequential", action="store_true",
                        help="one scenario after another instead of side by side")  # fmt: skip
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "SOAK_RESULTS.md",
                        help="the results file [bench/SOAK_RESULTS.md]")  # fmt: skip
    return parser.parse_args(argv)


def _start(scenario: Scenario, args: argparse.Namespace, workdir: Path) -> _Running:
    report = workdir / f"{scenario.name}.json"
    log = workdir / f"{scenario.name}.log"
    env = {
        "TF_SOAK_SECONDS": f"{args.seconds:g}",
        "TF_SOAK_CLIENTS": str(args.clients),
        "TF_SOAK_SEED": str(args.seed),
        "TF_CON1_WEIGHT_LIMIT": str(args.con1_weight_limit),
        "TF_SOAK_REPORT": str(report),
    }
    timeout = int(args.seconds * 2 + 600)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "-o", f"timeout={timeout}", scenario.node]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env=os.environ | env
        )
    print(f"  {scenario.name}: started (pid {proc.pid}), log {log}", flush=True)
    return _Running(scenario, proc, log, report, time.monotonic(), env=env)


def _wait(running: list[_Running], seconds: float) -> None:
    every = 30.0 if seconds >= 120 else 5.0
    last = time.monotonic()
    while any(r.returncode is None for r in running):
        time.sleep(0.5)
        for r in running:
            if r.returncode is None and r.proc.poll() is not None:
                r.returncode, r.finished = r.proc.returncode, time.monotonic()
                verdict = "passed" if r.returncode == 0 else f"FAILED (exit {r.returncode})"
                print(f"  {r.scenario.name}: {verdict} after {r.finished - r.started:.0f} s",
                      flush=True)  # fmt: skip
        if time.monotonic() - last >= every:
            last = time.monotonic()
            busy = [f"{r.scenario.name} {last - r.started:.0f}/{seconds:.0f} s"
                    for r in running if r.returncode is None]  # fmt: skip
            if busy:
                print("  running: " + ", ".join(busy), flush=True)


def _stop(running: list[_Running]) -> None:
    # Interrupted: let pytest tear its servers down (SIGINT), then make sure.
    for r in running:
        if r.proc.poll() is None:
            r.proc.send_signal(signal.SIGINT)
    for r in running:
        try:
            r.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            r.proc.kill()
            r.proc.wait()


def main(argv: list[str] | None = None) -> int:
    """Run the scenarios, print progress, write the results file; 0 when all passed."""
    args = _parse(argv)
    wanted = {name.strip() for name in args.only.split(",") if name.strip()}
    chosen = [s for s in SCENARIOS if s.name in wanted]
    if not chosen:
        print(f"--only: choose among {', '.join(s.name for s in SCENARIOS)}", file=sys.stderr)
        return 2
    started = datetime.now(UTC)
    workdir = Path(tempfile.mkdtemp(prefix="tf-soak-"))
    command = "python -m bench.soak" + (" " + shlex.join(argv) if argv else "")
    if argv is None and len(sys.argv) > 1:
        command = "python -m bench.soak " + shlex.join(sys.argv[1:])
    print(f"bench.soak: {len(chosen)} scenario(s), {args.seconds:g} s each, "
          f"{'one after another' if args.sequential else 'side by side'}", flush=True)  # fmt: skip
    running: list[_Running] = []
    try:
        if args.sequential:
            for scenario in chosen:
                running.append(_start(scenario, args, workdir))
                _wait(running[-1:], args.seconds)
        else:
            running = [_start(s, args, workdir) for s in chosen]
            _wait(running, args.seconds)
    except KeyboardInterrupt:
        _stop(running)
        print("bench.soak: interrupted; nothing written", file=sys.stderr)
        return 130
    outcomes = [
        Outcome(
            name=r.scenario.name,
            title=r.scenario.title,
            node=r.scenario.node,
            env=r.env,
            returncode=r.returncode if r.returncode is not None else -1,
            seconds=(r.finished or time.monotonic()) - r.started,
            report=r.report,
            log=r.log,
        )
        for r in running
    ]
    write_results(args.output, outcomes, started=started, command=command,
                  side_by_side=not args.sequential)  # fmt: skip
    print(f"bench.soak: results in {args.output}", flush=True)
    return 0 if all(o.returncode == 0 for o in outcomes) else 1

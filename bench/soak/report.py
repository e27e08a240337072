"""``bench/SOAK_RESULTS.md``: each run's figures against RELIABILITY.md, newest run first."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["REPO", "Outcome", "Verdict", "judge", "render", "write_results"]

REPO = Path(__file__).resolve().parents[2]
_HEADER = """# Soak and long-run results (`make soak`)

Written by `python -m bench.soak` (see `bench/soak/`): the long versions of the tests that
`make test` runs for a few seconds each, in `tests/integration/sim_exchange/` (`test_soak.py`,
`test_rate_limits.py`). Each figure is judged against `../shared/RELIABILITY.md` (issue 4, section 3
and T-5). The newest run comes first.
"""
_RUNS = "<!-- runs: newest first -->"


@dataclass(frozen=True)
class Outcome:
    """One scenario as it ran: its pytest exit status and where its figures and log are."""

    name: str
    title: str
    node: str
    env: dict[str, str]
    returncode: int
    seconds: float
    report: Path
    log: Path

    def figures(self) -> dict[str, Any] | None:
        """What the test measured (None when it left no figures)."""
        try:
            data: dict[str, Any] = json.loads(self.report.read_text())
        except (OSError, ValueError):
            return None
        found: dict[str, Any] | None = data.get(self.name)
        return found


@dataclass(frozen=True)
class Verdict:
    """One figure: what RELIABILITY.md asks, what was measured, and whether it passes (None:
    reported, not judged)."""

    figure: str
    target: str
    measured: str
    ok: bool | None


def _n(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _soak(f: dict[str, Any]) -> list[Verdict]:
    by = f["discrepancies_by_check"]
    clients = f["clients"]
    rss = f["server_rss_kib"]
    return [
        Verdict("T-5 balances reconcile exactly to the trades", "0 discrepancies (Decimal)",
                f"{f['accounts_reconciled']}/{clients} accounts; {by['balances']} balance "
                f"discrepancies over {_n(f['trades'])} trades", by["balances"] == 0),
        Verdict("No locked amount unexplained", "locked = what open orders lock; 0 after "
                "cancelling them", f"{by['locked']} lock discrepancies with "
                f"{_n(f['open_at_end'])} orders open ({f['open_at_end_partly_filled']} partly "
                f"filled), {by['after_cancel']} after cancelling",
                by["locked"] == 0 and by["after_cancel"] == 0),
        Verdict("No client order id used twice at the venue", "0",
                f"{by['duplicate_ids']} over {_n(f['orders_at_venue'])} orders at the venue",
                by["duplicate_ids"] == 0),
        Verdict("Orders at the venue = what the clients sent", "every acknowledged order "
                "there, no refused one, none unknown to the clients",
                f"{by['orders_vs_client']} mismatches; {_n(f['outcomes'].get('acked', 0))} "
                f"acknowledged, {f['unknown_found_at_venue']} of "
                f"{f['unknown_found_at_venue'] + f['unknown_absent_at_venue']} unknown "
                "outcomes found at the venue", by["orders_vs_client"] == 0),
        Verdict("Each order's executed quantity = its trades", "0 mismatches",
                f"{by['orders_vs_trades']} mismatches; {by['open_orders']} between allOrders "
                f"and openOrders; {f['duplicate_trade_ids']} trade ids twice",
                by["orders_vs_trades"] == 0 and by["open_orders"] == 0
                and f["duplicate_trade_ids"] == 0),
        Verdict("State survives a restart (SIGKILL halfway, clients sending)",
                "the same reconciliation after it",
                f"down {f['restart_down_s']} s; {f['open_at_end_across_restart']} orders open "
                "across it, put back and reconciled",
                f["restart_down_s"] is not None and f["discrepancies"] == 0),
        Verdict("Server errors", "0 unhandled (-1000)", str(f["server_errors_logged"]),
                f["server_errors_logged"] == 0),
        Verdict("Server RSS (T-5 asks < 1 MiB/h over 8 h: not judged on 10 min)", "(report)",
                f"{rss['start'] // 1024} MiB at start, {(rss['before_restart'] or 0) // 1024} "
                f"MiB before the restart, {(rss['end'] or 0) // 1024} MiB at the end "
                "(a new process)", None),
    ]  # fmt: skip


def _con1(f: dict[str, Any]) -> list[Verdict]:
    limit = f["weight_limit_per_min"]
    return [
        Verdict("CON-1 HTTP 429", "0", _n(f["http_429"]), f["http_429"] == 0),
        Verdict("CON-1 HTTP 418", "0", _n(f["http_418"]), f["http_418"] == 0),
        Verdict("CON-1 peak used weight", f"<= 95 % of {limit:,}",
                f"{f['peak_used_weight']:,} ({f['peak_used_pct']} %)",
                f["peak_used_pct"] <= 95),
        Verdict("CON-1 demand", f"2x the budget ({2 * limit:,}/min)",
                f"{f['offered_per_min']:,}/min offered; {f['sent_per_min']:,}/min sent",
                f["offered_per_min"] >= 2 * limit * 0.99),
    ]  # fmt: skip


def _con4(f: dict[str, Any]) -> list[Verdict]:
    unexpected = [k for k in f["outcomes"] if k.startswith("unexpected")]
    return [
        Verdict("CON-4 attempts per call", "<= 3",
                f"max {f['max_attempts_per_call']} ({f['attempts_per_call']})",
                f["max_attempts_per_call"] <= 3),
        Verdict("CON-4 retries / all requests", "<= 10 %",
                f"{f['retries_pct_of_requests']} % ({_n(f['retries'])} of "
                f"{_n(f['requests_at_server'])} requests at the server, "
                f"{f['injected_5xx_pct']} % answered 503)",
                f["retries_pct_of_requests"] <= 10),
        Verdict("CON-4 the excess fails fast as a TemporaryError", "every failure a "
                "TemporaryError, no back-off before it", f"{f['outcomes']}; slowest "
                f"budget refusal {f['fail_fast_max_s']} s", not unexpected
                and f["fail_fast_max_s"] < 2),
    ]  # fmt: skip


_JUDGES: dict[str, Callable[[dict[str, Any]], list[Verdict]]] = {
    "soak": _soak, "con1": _con1, "con4": _con4,
}  # fmt: skip


def judge(outcome: Outcome) -> list[Verdict]:
    """The verdicts on one scenario's figures (one "not measured" line when it left none)."""
    figures = outcome.figures()
    if figures is None:
        return [Verdict(outcome.title, "(figures)", "not measured: the test left none", False)]
    return _JUDGES[outcome.name](figures)


# --------------------------------------------------------------------------- machine
def _first_line(path: str, key: str) -> str:
    try:
        with open(path, encoding="utf-8") as text:
            for line in text:
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                              check=True)  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return done.stdout.strip()


def machine() -> list[tuple[str, str]]:
    """What the run ran on."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    dirty = " (uncommitted changes in the checkout)" if _git("status", "--porcelain") else ""
    return [
        ("CPUs (nproc)", str(usable)),
        ("CPU model", _first_line("/proc/cpuinfo", "model name")),
        ("memory", _first_line("/proc/meminfo", "MemTotal")),
        ("OS", platform.platform()),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("TradeForge revision", _git("rev-parse", "--short", "HEAD") + dirty),
    ]


# ---------------------------------------------------------------------------- render
def _verdict(ok: bool | None) -> str:
    return "(reported)" if ok is None else "**PASS**" if ok else "**FAIL**"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _log_tail(path: Path, lines: int = 15) -> str:
    try:
        tail = path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return "(no log)"
    return "\n".join(tail)


def render(outcomes: list[Outcome], *, started: datetime, command: str, side_by_side: bool) -> str:
    """One run's section of the results file."""
    when = started.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    passed = all(o.returncode == 0 for o in outcomes)
    verdicts = [(o, v) for o in outcomes for v in judge(o)]
    failing = [v for _, v in verdicts if v.ok is False]
    out = [
        f"## Run of {when}: {'all tests passed' if passed else 'some tests FAILED'}, "
        f"{len(failing)} figure(s) failing",
        "",
        f"- Command: `{command}` (`make soak`); the scenarios ran "
        f"{'side by side' if side_by_side else 'one after another'}.",
    ]
    for o in outcomes:
        env = " ".join(f"{k}={v}" for k, v in sorted(o.env.items()) if k != "TF_SOAK_REPORT")
        result = "passed" if o.returncode == 0 else "FAILED"
        out.append(f"- {o.title}: `{o.node}` with `{env}`, {o.seconds:.0f} s, pytest {result}")
    out += [
        "- Machine: " + "; ".join(f"{k}: {v}" for k, v in machine()),
        "",
        "| Figure | Target (RELIABILITY.md) | Measured | Verdict |",
        "|---|---|---|---|",
    ]
    for _, v in verdicts:
        cells = (_cell(v.figure), _cell(v.target), _cell(v.measured), _verdict(v.ok))
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    for o in outcomes:
        figures = o.figures()
        out += [f"<details><summary>{o.title}: every figure</summary>", "", "```json"]
        out.append(json.dumps(figures, indent=1) if figures is not None else "null")
        out += ["```", ""]
        if o.returncode != 0:
            out += ["pytest's last lines:", "", "```", _log_tail(o.log), "```", ""]
        out += ["</details>", ""]
    return "\n".join(out)


def write_results(
    path: Path,
    outcomes: list[Outcome],
    *,
    started: datetime,
    command: str,
    side_by_side: bool,
) -> None:
    """Put this run's section first in ``path``, keeping the earlier runs below it."""
    earlier = ""
    if path.exists():
        text = path.read_text()
        if _RUNS in text:
            earlier = text.split(_RUNS, 1)[1].lstrip("\n")
    section = render(outcomes, started=started, command=command, side_by_side=side_by_side)
    path.write_text(f"{_HEADER}\n{_RUNS}\n\n{section}\n{earlier}".rstrip("\n") + "\n")

"""``BacktestJobs``: backtests submitted as background jobs (what the API's ``/backtests`` runs).

A job is checked when it is submitted: a registered strategy (never a ``module:Class`` path:
a request must not choose what gets imported), parameters its class accepts, datasets the
catalog holds, a time range with bars, a positive cash and a fee in [0, 1). Bad input raises
``InvalidJob`` naming the field, and nothing starts. Accepted jobs run in order on ``workers``
daemon threads (one by default), reporting progress as the share of bars replayed.

Each job, and its result once it has finished, is written as JSON under ``directory`` (written
to a temporary file, then renamed), so a restart keeps finished results; a job that was queued
or running when the process stopped is reported failed, "interrupted by a restart". Times come
from the clock given.
"""

from __future__ import annotations

import enum
import os
import queue
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import msgspec

from tradeforge.backtest.runner import BacktestResult, run
from tradeforge.bus import Clock
from tradeforge.data import Catalog, DatasetNotFound, parse_utc_ns
from tradeforge.domain import InstrumentId, InvalidValue, RateLimited, Timeframe
from tradeforge.observability import get_logger
from tradeforge.strategy import Strategy, StrategyRegistry

__all__ = [
    "BacktestJob",
    "BacktestJobs",
    "BacktestOutcome",
    "BacktestRequest",
    "BacktestTrade",
    "InvalidJob",
    "JobState",
]

log = get_logger("tradeforge.backtest.jobs")
_RESULT = ".result.json"


class InvalidJob(InvalidValue):
    """A job request that cannot run; ``field`` names the request field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class BacktestRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What to backtest: a registered strategy with its parameters over catalog datasets.
    Times are ISO-8601 (UTC when naive); ``end`` is exclusive; decimals are strings."""

    strategy: str
    instrument_ids: tuple[str, ...]
    params: dict[str, Any] = msgspec.field(default_factory=dict)
    timeframe: str = "1m"
    start: str | None = None
    end: str | None = None
    cash: str = "1000000"
    fee: str | None = None


class BacktestJob(msgspec.Struct, frozen=True, kw_only=True):
    """A job and where it stands; ``progress`` is 0 to 1; ``warnings`` are the strategy errors
    of a run that finished (the strategy stopped, the run went on)."""

    id: str
    owner: str
    request: BacktestRequest
    state: JobState
    created_ns: int
    progress: float = 0.0
    error: str | None = None
    warnings: tuple[str, ...] = ()
    started_ns: int | None = None
    finished_ns: int | None = None


class BacktestTrade(msgspec.Struct, frozen=True, kw_only=True):
    """One round trip; money in ``currency``, ``pnl`` before ``fees``."""

    instrument_id: str
    strategy_id: str
    side: str
    quantity: str
    entry_ns: int
    exit_ns: int
    entry_price: str
    exit_price: str
    pnl: str
    fees: str
    currency: str


class BacktestOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """What a finished job produced (exact money as strings; the curve is float64)."""

    metrics: dict[str, Any]
    currency: str
    initial_cash: str
    final_cash: str
    final_equity: str
    realized_pnl: str
    fees: str
    open_cost: str
    bars: int
    orders: int
    fills: int
    trades: tuple[BacktestTrade, ...]
    equity_ts: tuple[int, ...]
    equity: tuple[float, ...]
    errors: tuple[str, ...]


class _Interrupted(Exception):
    """The runner is closing: the run stops at its next progress report."""


@dataclass(frozen=True)
class _Plan:
    # A checked request: what ``run`` is called with (``rows``: about how many bars).
    cls: type[Strategy]
    ids: list[InstrumentId]
    frame: Timeframe
    start_ns: int | None
    end_ns: int | None
    cash: Decimal
    fee: Decimal | None
    rows: int


class BacktestJobs:
    """Submit, run, follow and keep backtest jobs (see the module docstring)."""

    def __init__(
        self,
        *,
        catalog: Catalog,
        directory: Path,
        clock: Clock,
        registry: StrategyRegistry | None = None,
        workers: int = 1,
        max_active_per_owner: int = 4,
        max_points: int = 10_000,
        results_in_memory: int = 16,
    ) -> None:
        self._catalog = catalog
        self._dir = directory
        self._clock = clock
        self._registry = registry or StrategyRegistry()
        self._workers = max(1, workers)
        self._max_active = max_active_per_owner
        self._max_points = max_points
        self._keep = max(1, results_in_memory)
        self._lock = threading.Lock()
        self._jobs: dict[str, BacktestJob] = {}
        self._plans: dict[str, _Plan] = {}
        self._results: OrderedDict[str, BacktestOutcome] = OrderedDict()
        self._queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._closing = threading.Event()
        self._dir.mkdir(parents=True, exist_ok=True)
        self._load()

    # ------------------------------------------------------------------ public
    def submit(self, owner: str, request: BacktestRequest) -> BacktestJob:
        """Check ``request`` (``InvalidJob`` naming the field), then queue it; the job."""
        plan = self._plan(request)
        with self._lock:
            active = sum(
                1
                for j in self._jobs.values()
                if j.owner == owner and j.state in (JobState.QUEUED, JobState.RUNNING)
            )
            if active >= self._max_active:
                raise RateLimited(
                    f"{active} backtests of yours are queued or running: wait for one to finish",
                    retry_after=5.0,
                )
            job = BacktestJob(
                id=secrets.token_hex(16),
                owner=owner,
                request=request,
                state=JobState.QUEUED,
                created_ns=self._clock.timestamp_ns(),
            )
            self._jobs[job.id] = job
            self._plans[job.id] = plan
            self._write(job)
            if not self._threads:
                self._start_workers()
        self._queue.put(job.id)
        return job

    def get(self, job_id: str) -> BacktestJob | None:
        """The job, as it stands now (None if unknown)."""
        with self._lock:
            return self._jobs.get(job_id)

    def jobs(self, owner: str | None = None) -> list[BacktestJob]:
        """The jobs of ``owner`` (every job for None), newest first."""
        with self._lock:
            found = [j for j in self._jobs.values() if owner is None or j.owner == owner]
        return sorted(found, key=lambda j: (j.created_ns, j.id), reverse=True)

    def result(self, job_id: str) -> BacktestOutcome | None:
        """The result of a job that succeeded (None otherwise)."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.state is not JobState.SUCCEEDED:
                return None
            cached = self._results.get(job_id)
            if cached is not None:
                self._results.move_to_end(job_id)
                return cached
        path = self._dir / f"{job_id}{_RESULT}"
        try:
            outcome = msgspec.json.decode(path.read_bytes(), type=BacktestOutcome)
        except (OSError, msgspec.DecodeError) as exc:
            log.error("backtest result unreadable", job=job_id, path=str(path), error=repr(exc))
            return None
        with self._lock:
            self._remember(job_id, outcome)
        return outcome

    def close(self) -> None:
        """Stop the workers; a running job stops at its next progress report (and is reported
        interrupted at the next start)."""
        self._closing.set()
        for _ in self._threads:
            self._queue.put(None)

    # ------------------------------------------------------------------ checks
    def _plan(self, request: BacktestRequest) -> _Plan:
        name = request.strategy
        if name not in self._registry.names():
            known = ", ".join(self._registry.names())
            raise InvalidJob("strategy", f"unknown strategy {name!r}: use one of {known}")
        cls = self._registry.load(name)
        try:
            frame = Timeframe.from_str(request.timeframe)
        except InvalidValue as exc:
            raise InvalidJob("timeframe", str(exc)) from None
        if not request.instrument_ids:
            raise InvalidJob("instrument_ids", "give at least one instrument")
        ids: list[InstrumentId] = []
        for k, text in enumerate(request.instrument_ids):
            try:
                ids.append(InstrumentId.from_str(text))
            except InvalidValue as exc:
                raise InvalidJob(f"instrument_ids.{k}", str(exc)) from None
        if len({i.venue for i in ids}) != 1:
            raise InvalidJob("instrument_ids", "a backtest runs on one venue")
        try:
            cls(request.params, instruments=ids)
        except InvalidValue as exc:
            found = re.search(r"parameter '([^']+)'", str(exc))
            raise InvalidJob(f"params.{found[1]}" if found else "params", str(exc)) from None
        start_ns = _time("start", request.start)
        end_ns = _time("end", request.end)
        if start_ns is not None and end_ns is not None and end_ns <= start_ns:
            raise InvalidJob("end", f"end {request.end} is not after start {request.start}")
        rows, catalog = 0, self._catalog
        for k, iid in enumerate(ids):
            try:
                info = catalog.info(iid, frame)
            except DatasetNotFound:  # its message names the directory: not for callers
                known = ", ".join(f"{d.instrument_id} {d.timeframe}" for d in catalog.datasets())
                detail = f"no {frame} history of {iid} (datasets: {known or 'none'})"
                raise InvalidJob(f"instrument_ids.{k}", detail) from None
            lo = max(info.first_ts, start_ns if start_ns is not None else info.first_ts)
            hi = min(info.last_ts + frame.nanos, end_ns if end_ns is not None else 1 << 62)
            if hi <= lo:
                late = end_ns is not None and end_ns <= info.first_ts
                raise InvalidJob("end" if late else "start",
                                 f"{iid} {frame} has no bars between start and end")  # fmt: skip
            rows += min(info.rows, (hi - lo) // frame.nanos + 1)
        cash = _decimal("cash", request.cash)
        if cash <= 0:
            raise InvalidJob("cash", f"cash must be positive, got {request.cash}")
        fee = None if request.fee is None else _decimal("fee", request.fee)
        if fee is not None and not 0 <= fee < 1:
            raise InvalidJob("fee", f"fee is a rate in [0, 1) (0.001 is 0.1 %), got {request.fee}")
        return _Plan(cls, ids, frame, start_ns, end_ns, cash, fee, rows)

    # ------------------------------------------------------------------ running
    def _start_workers(self) -> None:
        for k in range(self._workers):
            thread = threading.Thread(target=self._work, name=f"backtest-{k}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _work(self) -> None:
        while not self._closing.is_set():
            job_id = self._queue.get()
            if job_id is None:
                return
            try:
                self._run(job_id)
            except _Interrupted:
                log.info("backtest interrupted", job=job_id)
            except Exception as exc:  # a failed job must never end the worker
                log.error("backtest failed", job=job_id, error=repr(exc))
                self._finish(job_id, error=f"{type(exc).__name__}: {exc}")

    def _run(self, job_id: str) -> None:
        with self._lock:
            job, plan = self._jobs[job_id], self._plans.pop(job_id)
            job = self._update(job, state=JobState.RUNNING, started_ns=self._clock.timestamp_ns())
        seen = 0

        def advance(rows: int) -> None:
            nonlocal seen
            if self._closing.is_set():
                raise _Interrupted
            seen += rows
            with self._lock:
                current = self._jobs[job_id]
                self._jobs[job_id] = msgspec.structs.replace(
                    current, progress=min(0.99, seen / max(1, plan.rows))
                )

        strategy = plan.cls(job.request.params, instruments=plan.ids)
        result = run(
            strategy,
            catalog=self._catalog,
            instrument_ids=plan.ids,
            timeframe=plan.frame,
            start_ns=plan.start_ns,
            end_ns=plan.end_ns,
            cash=plan.cash,
            fee=plan.fee,
            max_points=self._max_points,
            progress=advance,
        )
        outcome = _outcome(result)
        _write_atomically(self._dir / f"{job_id}{_RESULT}", msgspec.json.encode(outcome))
        self._finish(job_id, outcome=outcome)

    def _finish(
        self, job_id: str, *, outcome: BacktestOutcome | None = None, error: str | None = None
    ) -> None:
        with self._lock:
            job = self._jobs[job_id]
            self._plans.pop(job_id, None)
            changes: dict[str, Any] = {"finished_ns": self._clock.timestamp_ns()}
            if outcome is not None:
                self._remember(job_id, outcome)
                changes |= {"state": JobState.SUCCEEDED, "progress": 1.0,
                            "warnings": outcome.errors}  # fmt: skip
            else:
                changes |= {"state": JobState.FAILED, "error": error}
            self._update(job, **changes)

    # ------------------------------------------------------------------ storage
    def _update(self, job: BacktestJob, **changes: Any) -> BacktestJob:
        # Under the lock: the new record replaces the old one in memory and on disk.
        new = msgspec.structs.replace(job, **changes)
        self._jobs[job.id] = new
        self._write(new)
        return new

    def _write(self, job: BacktestJob) -> None:
        _write_atomically(self._dir / f"{job.id}.json", msgspec.json.encode(job))

    def _remember(self, job_id: str, outcome: BacktestOutcome) -> None:
        self._results[job_id] = outcome
        self._results.move_to_end(job_id)
        while len(self._results) > self._keep:
            self._results.popitem(last=False)

    def _load(self) -> None:
        now = self._clock.timestamp_ns()
        for path in sorted(self._dir.glob("*.json")):
            if path.name.endswith(_RESULT):
                continue
            try:
                job = msgspec.json.decode(path.read_bytes(), type=BacktestJob)
            except (OSError, msgspec.DecodeError) as exc:
                log.error("backtest job unreadable; skipped", path=str(path), error=repr(exc))
                continue
            if job.state in (JobState.QUEUED, JobState.RUNNING):
                job = msgspec.structs.replace(
                    job, state=JobState.FAILED, error="interrupted by a restart", finished_ns=now
                )
                self._write(job)
            self._jobs[job.id] = job


def _time(field: str, text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return parse_utc_ns(text)
    except InvalidValue as exc:
        raise InvalidJob(field, str(exc)) from None


def _decimal(field: str, text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidJob(field, f"{field} must be a decimal number, got {text!r}") from None
    if not value.is_finite():
        raise InvalidJob(field, f"{field} must be finite, got {text!r}")
    return value


def _money(value: Decimal) -> str:
    return format(value, "f")


def _outcome(result: BacktestResult) -> BacktestOutcome:
    currency = result.initial_cash.currency.code
    trades = tuple(
        BacktestTrade(
            instrument_id=str(t.instrument_id),
            strategy_id=t.strategy_id.value,
            side=t.side.value,
            quantity=str(t.quantity),
            entry_ns=t.entry_ts,
            exit_ns=t.exit_ts,
            entry_price=_money(t.entry_price),
            exit_price=_money(t.exit_price),
            pnl=_money(t.pnl.amount),
            fees=_money(t.fees.amount),
            currency=t.pnl.currency.code,
        )
        for t in result.trades
    )
    return BacktestOutcome(
        metrics={**result.metrics.to_dict(), "num_trades": len(result.trades)},
        currency=currency,
        initial_cash=_money(result.initial_cash.amount),
        final_cash=_money(result.final_cash.amount),
        final_equity=_money(result.metrics.final_equity),
        realized_pnl=_money(result.realized_pnl.amount),
        fees=_money(result.fees.amount),
        open_cost=_money(result.open_cost.amount),
        bars=result.bars,
        orders=result.orders,
        fills=result.fills,
        trades=trades,
        equity_ts=tuple(int(t) for t in result.equity.ts.tolist()),
        equity=tuple(float(e) for e in result.equity.equity.tolist()),
        errors=tuple(str(e) for e in result.errors),
    )


def _write_atomically(path: Path, body: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    with tmp.open("wb") as out:
        out.write(body)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)

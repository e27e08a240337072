"""``/api/v1/backtests``: backtests as background jobs (``tradeforge.backtest.jobs``).

``POST`` checks the request at once (an unknown strategy, a bad parameter, a dataset the catalog
does not hold: 422 naming the field, nothing started) and answers 202 with the job; the job
runs in the platform's backtest worker. A job belongs to the user who submitted it: another
user's job is 404, as for orders (admins see every job). Results are kept across restarts.
"""

from __future__ import annotations

import base64
from typing import Annotated

import msgspec
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from tradeforge.auth.roles import Permission
from tradeforge.backtest.jobs import BacktestJob, BacktestJobs, BacktestRequest, InvalidJob
from tradeforge.data import format_utc_ns
from tradeforge.domain import InvalidValue
from tradeforge.gateway.problems import NotFound, problem
from tradeforge.gateway.schemas import (
    BacktestIn,
    BacktestJobOut,
    BacktestResultOut,
    BacktestTradeOut,
    BacktestTradePage,
    EquityOut,
)
from tradeforge.gateway.security import Caller, requires
from tradeforge.gateway.services import GatewayServices

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/backtests", tags=["backtests"])


def _jobs(request: Request) -> BacktestJobs:
    services: GatewayServices = request.app.state.services
    if services.backtests is None:
        raise NotFound("backtests are not available on this platform")
    return services.backtests


def _time(ts_ns: int | None) -> str | None:
    return format_utc_ns(ts_ns) if ts_ns is not None else None


def job_out(job: BacktestJob) -> BacktestJobOut:
    """A job as the API shows it."""
    return BacktestJobOut(
        id=job.id,
        state=job.state.value,
        progress=round(job.progress, 4),
        error=job.error,
        warnings=list(job.warnings),
        created=format_utc_ns(job.created_ns),
        started=_time(job.started_ns),
        finished=_time(job.finished_ns),
        request=BacktestIn.model_validate(msgspec.to_builtins(job.request)),
    )


def _admin(caller: Caller) -> bool:
    return Permission.USERS_ADMIN in caller.principal.permissions


def _job(request: Request, job_id: str, caller: Caller) -> BacktestJob:
    job = _jobs(request).get(job_id) if len(job_id) <= 64 else None
    if job is None or not (_admin(caller) or job.owner == caller.principal.user_id):
        raise NotFound(f"no backtest {job_id!r}")  # another's job is not found (BOLA)
    return job


@router.post("", response_model=BacktestJobOut, status_code=202,
             responses={422: {"description": "unknown strategy, bad parameter or dataset"},
                        429: {"description": "too many unfinished jobs"}})  # fmt: skip
async def submit(
    request: Request,
    body: BacktestIn,
    caller: Annotated[Caller, Depends(requires(Permission.BACKTESTS_WRITE))],
) -> BacktestJobOut | JSONResponse:
    jobs = _jobs(request)
    wanted = BacktestRequest(
        strategy=body.strategy,
        instrument_ids=tuple(body.instrument_ids),
        params=body.params,
        timeframe=body.timeframe,
        start=body.start,
        end=body.end,
        cash=body.cash,
        fee=body.fee,
    )
    try:
        job = await run_in_threadpool(jobs.submit, caller.principal.user_id, wanted)
    except InvalidJob as exc:
        where = ["body", *exc.field.split(".")]
        return problem(422, "invalid-request", str(exc), request, field=exc.field,
                       errors=[{"loc": where, "msg": str(exc)}])  # fmt: skip
    services: GatewayServices = request.app.state.services
    await run_in_threadpool(
        services.auth.record, "backtest.submit", caller.principal, caller.ctx,
        target=job.id, detail={"strategy": body.strategy},
    )  # fmt: skip
    return job_out(job)


@router.get("", response_model=list[BacktestJobOut])
async def list_jobs(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    caller: Annotated[Caller | None, Depends(requires(Permission.BACKTESTS_READ))] = None,
) -> list[BacktestJobOut]:
    assert caller is not None
    owner = None if _admin(caller) else caller.principal.user_id
    return [job_out(j) for j in _jobs(request).jobs(owner)[:limit]]  # newest first


@router.get("/{job_id}", response_model=BacktestJobOut,
            responses={404: {"description": "no such job"}})  # fmt: skip
async def get_job(
    request: Request,
    job_id: str,
    caller: Annotated[Caller, Depends(requires(Permission.BACKTESTS_READ))],
) -> BacktestJobOut:
    return job_out(_job(request, job_id, caller))


def _cursor(text: str | None) -> int:
    if not text:
        return 0
    try:
        return int(base64.urlsafe_b64decode(text.encode()).decode())
    except (ValueError, UnicodeDecodeError):
        raise InvalidValue("cursor is not one this API gave out") from None


@router.get("/{job_id}/result", response_model=BacktestResultOut,
            responses={404: {"description": "no such job"},
                       409: {"description": "the job has not succeeded (yet)"}})  # fmt: skip
async def get_result(  # noqa: PLR0917 - FastAPI reads query parameters from the signature
    request: Request,
    job_id: str,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
    points: Annotated[int, Query(ge=2, le=10_000)] = 500,
    caller: Annotated[Caller | None, Depends(requires(Permission.BACKTESTS_READ))] = None,
) -> BacktestResultOut | JSONResponse:
    assert caller is not None
    job = _job(request, job_id, caller)
    outcome = await run_in_threadpool(_jobs(request).result, job.id)
    if outcome is None:
        detail = f"backtest {job.id} is {job.state.value}: no result"
        return problem(409, "no-result", detail, request, state=job.state.value)
    start = _cursor(cursor)
    page = outcome.trades[start : start + limit]
    more = start + limit < len(outcome.trades)
    token = base64.urlsafe_b64encode(str(start + limit).encode()).decode() if more else None
    ts, equity = _thin(outcome.equity_ts, outcome.equity, points)
    return BacktestResultOut(
        id=job.id,
        currency=outcome.currency,
        initial_cash=outcome.initial_cash,
        final_cash=outcome.final_cash,
        final_equity=outcome.final_equity,
        realized_pnl=outcome.realized_pnl,
        fees=outcome.fees,
        open_cost=outcome.open_cost,
        bars=outcome.bars,
        orders=outcome.orders,
        fills=outcome.fills,
        metrics=outcome.metrics,
        errors=list(outcome.errors),
        trades=BacktestTradePage(
            items=[
                BacktestTradeOut(
                    instrument_id=t.instrument_id,
                    strategy_id=t.strategy_id,
                    side=t.side,
                    quantity=t.quantity,
                    entry_time=format_utc_ns(t.entry_ns),
                    exit_time=format_utc_ns(t.exit_ns),
                    entry_price=t.entry_price,
                    exit_price=t.exit_price,
                    pnl=t.pnl,
                    fees=t.fees,
                    currency=t.currency,
                )
                for t in page
            ],
            total=len(outcome.trades),
            next_cursor=token,
        ),
        equity=EquityOut(time=[format_utc_ns(t) for t in ts], equity=equity),
    )


def _thin(
    ts: tuple[int, ...], values: tuple[float, ...], points: int
) -> tuple[list[int], list[float]]:
    """At most ``points`` points: every k-th, always keeping the last."""
    if len(ts) <= points:
        return list(ts), list(values)
    step = -(-len(ts) // (points - 1))
    keep = [*range(0, len(ts) - 1, step), len(ts) - 1]
    return [ts[k] for k in keep], [values[k] for k in keep]

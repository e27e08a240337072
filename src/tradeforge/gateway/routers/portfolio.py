"""``/api/v1/portfolio``: what the node's account is worth now, and its value over time.

The valuation is the engine's (``node.portfolio``: balances priced at the last prices, exact,
in the node's base currency); the time series is what the node recorded every
``value_every_s`` seconds (kept in the store, so a restart keeps it). ``/history`` answers at
most ``limit`` points, oldest first: the newest in ``[start, end)``, or with ``start`` the
first from it on; to read further back pass the first point's ``ts`` as ``end``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from tradeforge.auth.roles import Permission
from tradeforge.data import format_utc_ns, parse_utc_ns
from tradeforge.domain import InvalidValue
from tradeforge.gateway.numbers import plain
from tradeforge.gateway.schemas import PortfolioOut, PortfolioPointOut
from tradeforge.gateway.security import requires
from tradeforge.gateway.services import GatewayServices
from tradeforge.trading import Valuation

__all__ = ["portfolio_out", "router"]

router = APIRouter(
    prefix="/api/v1/portfolio",
    tags=["portfolio"],
    dependencies=[Depends(requires(Permission.PORTFOLIO_READ))],
)


def _services(request: Request) -> GatewayServices:
    services: GatewayServices = request.app.state.services
    return services


def portfolio_out(value: Valuation) -> PortfolioOut:
    """A valuation as the API shows it (``GET /portfolio`` and the ``portfolio`` stream)."""
    return PortfolioOut(
        base_currency=value.base_currency,
        equity=plain(value.equity),
        cash={code: plain(amount) for code, amount in value.cash.items()},
        positions_value=plain(value.positions_value),
        realized_pnl=plain(value.realized_pnl),
        unrealized_pnl=plain(value.unrealized_pnl),
        fees=plain(value.fees),
        unpriced=list(value.unpriced),
        ts=format_utc_ns(value.ts_ns),
    )


@router.get("", response_model=PortfolioOut)
async def portfolio(request: Request) -> PortfolioOut:
    return portfolio_out(_services(request).node.portfolio.now())


def _time(name: str, text: str | None) -> int | None:
    if not text:
        return None
    try:
        return parse_utc_ns(text)
    except InvalidValue as exc:
        raise InvalidValue(f"{name}: {exc}") from None


@router.get("/history", response_model=list[PortfolioPointOut])
async def history(
    request: Request,
    start: Annotated[str | None, Query(max_length=40)] = None,
    end: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 500,
) -> list[PortfolioPointOut]:
    start_ns, end_ns = _time("start", start), _time("end", end)
    if start_ns is not None and end_ns is not None and end_ns <= start_ns:
        raise InvalidValue("end must be after start")
    points = _services(request).node.portfolio.history(
        start_ns=start_ns, end_ns=end_ns, limit=limit, newest=start_ns is None
    )
    return [PortfolioPointOut(ts=format_utc_ns(p.ts_ns), equity=plain(p.equity)) for p in points]

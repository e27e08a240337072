"""``/api/v1/market/{instrument_id}/...``: candles, ticker and order book of one instrument.

Instrument ids contain a ``/`` (``BTC/USDT.SIM``): the routes take the id as a path parameter
that may span segments, written as is (``/market/BTC/USDT.SIM/candles``) or encoded
(``/market/BTC%2FUSDT.SIM/candles``). The three routes end in different fixed words, so they
cannot take each other's requests.

Candles come from the node's live bars (``source=live``, built from the trades it saw since it
started; timeframes that are multiples of the node's are aggregated from its bars) or from the
history catalog (``source=history``, paged with ``start``/``end`` and ``next_start``). The
``book`` is the latest the node received from the venue's book feed (``node.books``); an
instrument whose feed sends no book (or a node that keeps none) is a 404 problem that says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from tradeforge.auth.roles import Permission
from tradeforge.data import DatasetNotFound, format_utc_ns, parse_utc_ns
from tradeforge.domain import Bar, BookLevel, Instrument, InvalidValue, Timeframe
from tradeforge.gateway.numbers import plain
from tradeforge.gateway.problems import NotFound, problem
from tradeforge.gateway.routers.instruments import find_instrument
from tradeforge.gateway.schemas import BookLevelOut, BookOut, CandleOut, CandlesOut, TickerOut
from tradeforge.gateway.security import requires
from tradeforge.gateway.services import GatewayServices

__all__ = ["router"]

router = APIRouter(
    prefix="/api/v1/market",
    tags=["market"],
    dependencies=[Depends(requires(Permission.MARKET_READ))],
)
_DAY_NS = 86_400 * 10**9
_FEED_BARS = 10_000  # what a node's feed keeps


def _services(request: Request) -> GatewayServices:
    services: GatewayServices = request.app.state.services
    return services


def _invalid(request: Request, field: str, detail: str) -> JSONResponse:
    return problem(422, "invalid-request", detail, request, field=field,
                   errors=[{"loc": ["query", field], "msg": detail}])  # fmt: skip


@router.get("/{instrument_id:path}/candles", response_model=CandlesOut,
            responses={404: {"description": "unknown instrument; no history dataset"},
                       422: {"description": "bad timeframe, time or limit"}})  # fmt: skip
async def candles(  # noqa: PLR0917 - FastAPI reads query parameters from the signature
    request: Request,
    instrument_id: str,
    timeframe: Annotated[str | None, Query(max_length=8)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    source: Annotated[Literal["live", "history"], Query()] = "live",
    start: Annotated[str | None, Query(max_length=40)] = None,
    end: Annotated[str | None, Query(max_length=40)] = None,
) -> CandlesOut | JSONResponse:
    inst = find_instrument(request, instrument_id)
    node = _services(request).node
    try:
        frame = Timeframe.from_str(timeframe) if timeframe else node.timeframe
    except InvalidValue as exc:
        return _invalid(request, "timeframe", str(exc))
    bounds: list[int | None] = []
    for field, text in (("start", start), ("end", end)):
        try:
            bounds.append(parse_utc_ns(text) if text else None)
        except InvalidValue as exc:
            return _invalid(request, field, str(exc))
    start_ns, end_ns = bounds
    if start_ns is not None and end_ns is not None and end_ns <= start_ns:
        return _invalid(request, "end", "end must be after start")
    iid = str(inst.id)
    if source == "history":
        return _history(request, inst, frame=frame, limit=limit, start_ns=start_ns, end_ns=end_ns)
    if frame.nanos % node.timeframe.nanos:
        detail = f"live bars are {node.timeframe} bars: ask for a multiple of {node.timeframe}"
        return _invalid(request, "timeframe", detail)
    feed = node.feeds.get(inst.id)
    bars = list(feed.recent(_FEED_BARS)) if feed is not None else []
    bars = [
        b
        for b in bars
        if (start_ns is None or b.ts_open >= start_ns) and (end_ns is None or b.ts_open < end_ns)
    ]
    rows = _aggregate(bars, frame.nanos)[-limit:]
    return CandlesOut(instrument_id=iid, timeframe=str(frame), source="live", candles=rows)


def _aggregate(bars: Sequence[Bar], step: int) -> list[CandleOut]:
    """Bars grouped into periods of ``step`` ns aligned to the epoch (the last one may still
    be forming)."""
    out: list[CandleOut] = []
    group: list[Bar] = []

    def close() -> None:
        out.append(
            CandleOut(
                time=format_utc_ns(group[0].ts_open - group[0].ts_open % step),
                open=str(group[0].open),
                high=str(max(b.high for b in group)),
                low=str(min(b.low for b in group)),
                close=str(group[-1].close),
                volume=plain(sum((b.volume.as_decimal() for b in group), Decimal(0))),
            )
        )

    for bar in bars:
        if group and bar.ts_open // step != group[0].ts_open // step:
            close()
            group = []
        group.append(bar)
    if group:
        close()
    return out


def _history(
    request: Request,
    inst: Instrument,
    *,
    frame: Timeframe,
    limit: int,
    start_ns: int | None,
    end_ns: int | None,
) -> CandlesOut | JSONResponse:
    catalog = _services(request).catalog
    if catalog is None:
        raise NotFound("this platform has no history catalog")
    try:
        info = catalog.info(inst.id, frame)
    except DatasetNotFound:
        known = ", ".join(f"{d.instrument_id} {d.timeframe}" for d in catalog.datasets())
        raise NotFound(f"no {frame} history of {inst.id} (datasets: {known or 'none'})") from None
    price_p, size_p = info.price_precision, info.size_precision
    rows: list[CandleOut] = []
    next_start = None
    chunks = catalog.iter_bars(inst.id, frame, start_ns=start_ns, end_ns=end_ns,
                               chunk_rows=limit + 1)  # fmt: skip
    for chunk in chunks:
        for k in range(len(chunk.ts)):
            if len(rows) == limit:
                next_start = format_utc_ns(int(chunk.ts[k]))
                break
            rows.append(
                CandleOut(
                    time=format_utc_ns(int(chunk.ts[k])),
                    open=f"{chunk.open[k]:.{price_p}f}",
                    high=f"{chunk.high[k]:.{price_p}f}",
                    low=f"{chunk.low[k]:.{price_p}f}",
                    close=f"{chunk.close[k]:.{price_p}f}",
                    volume=f"{chunk.volume[k]:.{size_p}f}",
                )
            )
        if len(rows) == limit:
            if next_start is None:  # the page ended with the chunk: peek at the next one
                following = next(chunks, None)
                next_start = format_utc_ns(int(following.ts[0])) if following else None
            break
    return CandlesOut(instrument_id=str(inst.id), timeframe=str(frame), source="history",
                      candles=rows,
                      next_start=next_start)  # fmt: skip


@router.get("/{instrument_id:path}/ticker", response_model=TickerOut,
            responses={404: {"description": "unknown instrument"}})  # fmt: skip
async def ticker(request: Request, instrument_id: str) -> TickerOut:
    inst = find_instrument(request, instrument_id)
    node = _services(request).node
    now = node.clock.timestamp_ns()
    feed = node.feeds.get(inst.id)
    bars = [b for b in (feed.recent(_FEED_BARS) if feed else []) if b.ts_event > now - _DAY_NS]
    last = node.last_price(inst.id)
    last_value = last.as_decimal() if last is not None else None
    highs = [b.high.as_decimal() for b in bars] + ([last_value] if last_value is not None else [])
    lows = [b.low.as_decimal() for b in bars] + ([last_value] if last_value is not None else [])
    first = bars[0].open.as_decimal() if bars else None
    change = last_value - first if last_value is not None and first is not None else None
    pct = (change * 100 / first).quantize(Decimal("0.01")) if change is not None and first else None
    return TickerOut(
        instrument_id=str(inst.id),
        last_price=str(last) if last is not None else None,
        open_24h=plain(first) if first is not None else None,
        high_24h=plain(max(highs)) if highs else None,
        low_24h=plain(min(lows)) if lows else None,
        volume_24h=plain(sum((b.volume.as_decimal() for b in bars), Decimal(0))),
        change_24h=plain(change) if change is not None else None,
        change_pct_24h=plain(pct) if pct is not None else None,
        bars_24h=len(bars),
        since=format_utc_ns(bars[0].ts_open) if bars else None,
        as_of=format_utc_ns(now),
    )


@router.get("/{instrument_id:path}/book", response_model=BookOut,
            responses={404: {"description": "unknown instrument; no order book kept"}})  # fmt: skip
async def book(
    request: Request,
    instrument_id: str,
    depth: Annotated[int, Query(ge=1, le=500)] = 20,
) -> BookOut | JSONResponse:
    inst = find_instrument(request, instrument_id)
    books = _services(request).node.books
    snapshot = books.snapshot(inst.id, depth) if books is not None else None
    if snapshot is None:
        detail = (
            f"the node has no order book of {inst.id}: its venue's feed sends none "
            "(use the candles and ticker)"
        )
        return problem(404, "no-order-book", detail, request, depth=depth)

    def levels(side: Sequence[BookLevel]) -> list[BookLevelOut]:
        return [BookLevelOut(price=plain(lvl.price), size=plain(lvl.size)) for lvl in side]

    return BookOut(instrument_id=str(inst.id), bids=levels(snapshot.bids),
                   asks=levels(snapshot.asks), sequence=snapshot.sequence,
                   time=format_utc_ns(snapshot.ts_event))  # fmt: skip

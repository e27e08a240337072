"""Trading-node latency and throughput: ``python -m bench.node [--orders N] [--out FILE]``.

1. Market data to venue: a trade pushed into the simulated venue client reaches a strategy,
   which submits a market order; the time until the venue client receives it (p50/p99, µs).
   The path: subscription queue -> node -> strategy.on_trade -> risk -> OMS -> journal (two
   durable commits) -> the venue client's submit.
2. Orders per second through risk + OMS + journal + simulated venue, on SQLite (WAL,
   synchronous=FULL: every commit fsynced) and on PostgreSQL (synchronous_commit=on), with the
   per-order commit count.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from tradeforge.backtest import spot_pair
from tradeforge.bus import LiveClock
from tradeforge.connectors import SimVenueClient
from tradeforge.domain import (
    AggressorSide,
    BookAction,
    BookLevel,
    BookSide,
    InstrumentId,
    Money,
    OrderBookSnapshot,
    OrderStatus,
    Timeframe,
    TradeId,
    TradeTick,
    Venue,
)
from tradeforge.domain.money import KNOWN_CURRENCIES
from tradeforge.engine import TradingNode
from tradeforge.store import Database, SqlOrderJournal, sqlite_url
from tradeforge.strategy import Strategy

IID = InstrumentId("BTC/USDT", Venue("SIM"))
USDT, BTC = KNOWN_CURRENCIES["USDT"], KNOWN_CURRENCIES["BTC"]
_ = (BookAction, BookSide)


class OnTrade(Strategy):
    """Submits one market buy for every trade it sees (the latency probe)."""

    name = "on_trade_probe"

    def on_start(self) -> None:
        self.qty = self.ctx.instrument(self.instrument_id).make_qty(Decimal("0.001"))

    def on_trade(self, trade: TradeTick) -> None:
        self.buy(self.qty)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _node(url: str, strategy: Strategy) -> tuple[TradingNode, SimVenueClient, Database]:
    clock = LiveClock()
    inst = spot_pair(IID, price_precision=2, size_precision=5, fee=Decimal("0.001"))
    venue = SimVenueClient(
        instruments=[inst], balances=[Money("100000000", USDT), Money("1000", BTC)], clock=clock
    )
    db = Database(url)
    db.upgrade()
    node = TradingNode(
        clock=clock, venues={IID.venue: venue}, strategies=[strategy],
        journal=SqlOrderJournal(db), timeframe=Timeframe.from_str("1m"), base_currency=USDT,
    )  # fmt: skip
    await node.start()
    levels = tuple(
        BookLevel(inst.make_price(Decimal(30000 + k)), inst.make_qty(Decimal(100)))
        for k in range(1, 20)
    )
    bids = tuple(
        BookLevel(inst.make_price(Decimal(30000 - k)), inst.make_qty(Decimal(100)))
        for k in range(0, 19)
    )
    now = clock.timestamp_ns()
    venue.on_book(OrderBookSnapshot(instrument_id=IID, bids=bids, asks=levels, sequence=1,
                                    ts_event=now, ts_init=now))  # fmt: skip
    return node, venue, db


async def latency(url: str, n: int) -> dict[str, float]:
    """Trade pushed -> order received by the venue client, n times."""
    strategy = OnTrade(instruments=[IID])
    node, venue, db = await _node(url, strategy)
    received: list[float] = []
    original = venue.submit

    async def timed(spec: Any) -> Any:
        received.append(time.perf_counter())
        return await original(spec)

    venue.submit = timed  # type: ignore[method-assign]
    pushed: list[float] = []
    inst = node.instruments[IID]
    for k in range(n):
        ts = node.clock.timestamp_ns()
        pushed.append(time.perf_counter())
        trade = TradeTick(
            instrument_id=IID, price=inst.make_price(Decimal(30000)),
            size=inst.make_qty(Decimal("0.01")), aggressor_side=AggressorSide.BUYER,
            trade_id=TradeId(f"b{k}"), ts_event=ts, ts_init=ts,
        )  # fmt: skip
        venue.on_trade(trade)
        while len(received) <= k:
            await asyncio.sleep(0)
        await asyncio.sleep(0.001)  # let the fill settle before the next probe
    await node.stop()
    db.dispose()
    micros = [(r - p) * 1e6 for p, r in zip(pushed, received, strict=True)]
    return {"p50_us": _pct(micros, 0.5), "p99_us": _pct(micros, 0.99), "n": n}


async def throughput(url: str, n: int) -> dict[str, float]:
    """n market orders submitted back to back, until all are filled and journaled."""
    strategy = OnTrade(instruments=[IID])
    node, _venue, db = await _node(url, strategy)
    inst = node.instruments[IID]
    qty = inst.make_qty(Decimal("0.001"))
    start = time.perf_counter()
    for _ in range(n):
        strategy.buy(qty)
        await asyncio.sleep(0)
    answered = (OrderStatus.INITIALIZED, OrderStatus.SUBMITTED)
    while sum(1 for o in node.oms if o.status not in answered) < n:  # the venue took each one
        await asyncio.sleep(0.001)
    elapsed = time.perf_counter() - start
    events = sum(1 for _ in node.journal.events())  # type: ignore[attr-defined]
    await node.stop()
    db.dispose()
    return {"orders_per_s": n / elapsed, "elapsed_s": elapsed, "commits_per_order": events / n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--out", type=Path, default=Path("bench/NODE_RESULTS.md"))
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    rows: list[tuple[str, dict[str, float], dict[str, float]]] = []
    fresh = iter(range(1_000))
    targets: list[tuple[str, Callable[[], str]]] = [
        ("SQLite (WAL, synchronous=FULL)", lambda: sqlite_url(tmp / f"bench-{next(fresh)}.sqlite"))
    ]
    try:
        psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=2).close()
        targets.append(("PostgreSQL (synchronous_commit=on)", _pg_db))
    except Exception as exc:  # the bench still reports SQLite
        print(f"PostgreSQL skipped: {exc}", file=sys.stderr)
    for label, url in targets:
        print(f"{label}: latency ...", file=sys.stderr)
        lat = asyncio.run(latency(url(), args.orders))
        print(f"{label}: throughput ...", file=sys.stderr)
        thr = asyncio.run(throughput(url(), args.orders))
        rows.append((label, lat, thr))
    lines = [
        "# Trading node: latency and throughput",
        "",
        f"Generated by `python -m bench.node --orders {args.orders}` on "
        f"{platform.platform()}, Python {platform.python_version()}, 2 cores; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",  # wall-clock: report date
        "",
        "| journal | trade to order at venue, p50 (µs) | p99 (µs) | orders/s (risk, OMS,"
        " journal, sim venue) | journal commits per order |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, lat, thr in rows:
        lines.append(
            f"| {label} | {lat['p50_us']:,.0f} | {lat['p99_us']:,.0f} | "
            f"{thr['orders_per_s']:,.0f} | {thr['commits_per_order']:.1f} |"
        )
    lines += [
        "",
        "Every journal commit is durable before the order moves on (SQLite fsyncs each commit;",
        "PostgreSQL waits for its WAL flush), so the journal's commit latency bounds both numbers.",
    ]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


def _pg_db() -> str:
    name = f"tf_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


if __name__ == "__main__":
    main()

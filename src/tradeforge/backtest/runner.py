"""``run``: one call from strategies and bars to a ``BacktestResult``.

It builds what a run needs — instruments (from the data's precision when not given), the replay
clock, the simulated venue with a cash or margin account, one feed per instrument — runs the
engine, and computes the metrics of the whole run and of each strategy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import cast

import msgspec
import numpy as np

from tradeforge.backtest.engine import BacktestEngine
from tradeforge.backtest.feed import BarChunk, BarFeed
from tradeforge.backtest.metrics import Metrics, compute_metrics
from tradeforge.backtest.models import FillModel, LatencyModel
from tradeforge.backtest.results import EquityCurve, RoundTrip
from tradeforge.backtest.venue import SimulatedVenue
from tradeforge.backtest.venue_account import VenueAccount
from tradeforge.bus import InMemoryBus, ReplayClock
from tradeforge.data import BarArrays, Catalog, infer_precision
from tradeforge.domain import (
    KNOWN_CURRENCIES,
    AccountId,
    AccountType,
    Currency,
    CurrencyPair,
    Instrument,
    InstrumentId,
    InvalidValue,
    Money,
    Price,
    Quantity,
    StrategyError,
    StrategyId,
    Timeframe,
)
from tradeforge.domain.exact import to_decimal
from tradeforge.strategy import Strategy
from tradeforge.trading import RiskConfig, RiskEngine

__all__ = ["BacktestResult", "StrategyResult", "run", "spot_pair"]

Progress = Callable[[int], None]


class StrategyResult(msgspec.Struct, frozen=True, kw_only=True):
    """What one strategy did in a run."""

    strategy_id: StrategyId
    metrics: Metrics
    trades: Sequence[RoundTrip]
    equity: EquityCurve


class BacktestResult(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a run produced; ``metrics``/``trades``/``equity`` are for the whole run."""

    metrics: Metrics
    trades: Sequence[RoundTrip]
    equity: EquityCurve
    strategies: dict[StrategyId, StrategyResult]
    initial_cash: Money
    final_cash: Money
    realized_pnl: Money
    fees: Money
    open_cost: Money
    orders: int
    fills: int
    bars: int
    errors: list[StrategyError]


def _currency(code: str) -> Currency:
    return KNOWN_CURRENCIES.get(code) or Currency(code, 8)


def spot_pair(
    instrument_id: InstrumentId,
    *,
    price_precision: int,
    size_precision: int,
    fee: Decimal = Decimal(0),
) -> CurrencyPair:
    """A spot pair for ``BASE/QUOTE.VENUE`` with ticks and lots of the given precisions."""
    base, slash, quote = instrument_id.symbol.value.partition("/")
    if not slash or not base or not quote:
        raise InvalidValue(
            f"cannot tell base and quote currencies from {instrument_id}: "
            "name spot instruments BASE/QUOTE.VENUE (e.g. BTC/USDT.SIM) or pass instruments="
        )
    lot = Quantity.from_raw(1, size_precision)
    return CurrencyPair(
        id=instrument_id,
        raw_symbol=base + quote,
        base_currency=_currency(base),
        quote_currency=_currency(quote),
        settlement_currency=_currency(quote),
        tick_size=Price.from_raw(1, price_precision),
        lot_size=lot,
        min_quantity=lot,
        maker_fee=fee,
        taker_fee=fee,
    )


def run(
    strategies: Strategy | Sequence[Strategy],
    *,
    bars: Mapping[InstrumentId, BarChunk | Iterable[BarChunk]] | None = None,
    catalog: Catalog | None = None,
    instrument_ids: Sequence[InstrumentId] = (),
    timeframe: Timeframe | str = "1m",
    start_ns: int | None = None,
    end_ns: int | None = None,
    instruments: Sequence[Instrument] = (),
    cash: Decimal | int | str = 1_000_000,
    fee: Decimal | None = None,
    account_type: AccountType = AccountType.CASH,
    leverage: Decimal = Decimal(1),
    fill_model: FillModel | None = None,
    latency: LatencyModel | None = None,
    risk: RiskConfig | None = None,
    max_points: int = 1_000_000,
    progress: Progress | None = None,
) -> BacktestResult:
    """Run ``strategies`` over ``bars`` (in memory) or the ``catalog``'s datasets of
    ``instrument_ids`` and return the result. See ``docs/backtesting.md``."""
    group = [strategies] if isinstance(strategies, Strategy) else list(strategies)
    if not group:
        raise InvalidValue("a backtest needs at least one strategy")
    frame = Timeframe.from_str(timeframe) if isinstance(timeframe, str) else timeframe
    defined = {inst.id: inst for inst in instruments}
    if bars is not None and not bars:
        raise InvalidValue("bars= is empty: give at least one instrument's bars")
    sources, total_rows, first_ts = _sources(
        bars=bars,
        catalog=catalog,
        instrument_ids=instrument_ids or list(defined),
        frame=frame,
        start_ns=start_ns,
        end_ns=end_ns,
        defined=defined,
        fee=fee,
    )
    chosen = {iid: inst for iid, (inst, _) in sources.items()}
    venues = {iid.venue for iid in chosen}
    if len(venues) != 1:
        raise InvalidValue(f"a backtest runs on one venue; got {sorted(v.value for v in venues)}")
    quotes = {inst.quote_currency for inst in chosen.values()}
    if len(quotes) != 1:
        codes = sorted(c.code for c in quotes)
        raise InvalidValue(
            f"instruments must share one quote currency for one account; got {codes}"
        )
    base = quotes.pop()
    initial = Money(to_decimal("cash", cash), base)
    if initial.amount <= 0:
        raise InvalidValue(f"cash must be positive, got {initial}")
    for strategy in group:
        missing = [i for i in strategy.configured_instruments if i not in chosen]
        if missing:
            raise InvalidValue(f"strategy {strategy.id} trades {missing[0]}, which has no bars")
    venue_id = venues.pop()
    account = VenueAccount(
        AccountId(f"{venue_id}-backtest"),
        account_type,
        [initial],
        leverage=leverage,
        base_currency=base,
    )

    def venue_factory(clock: ReplayClock, emit: Callable[..., None]) -> SimulatedVenue:
        # Nobody listens to balance reports in a backtest: the engine keeps its own ledger.
        return SimulatedVenue(
            venue=venue_id,
            account=account,
            instruments=chosen.values(),
            clock=clock,
            emit=emit,
            fill_model=fill_model,
            latency=latency,
            report_balances=False,
        )

    feeds = [BarFeed(inst, frame, chunks) for inst, chunks in sources.values()]
    # The clock starts where the data starts (timers set in on_start count from there).
    clock = ReplayClock(first_ts)
    engine = BacktestEngine(
        clock=clock,
        venue_factory=venue_factory,
        feeds=feeds,
        strategies=group,
        base_currency=base,
        initial_equity=initial.amount,
        risk=RiskEngine(risk, clock=clock),
        bus=InMemoryBus(),
        stride=(stride := max(1, -(-total_rows // max(1, max_points)))),
        capacity=total_rows // stride + 1,
    )
    engine.run(progress)
    return _result(engine, account, initial, group)


def _sources(
    *,
    bars: Mapping[InstrumentId, BarChunk | Iterable[BarChunk]] | None,
    catalog: Catalog | None,
    instrument_ids: Sequence[InstrumentId],
    frame: Timeframe,
    start_ns: int | None,
    end_ns: int | None,
    defined: Mapping[InstrumentId, Instrument],
    fee: Decimal | None,
) -> tuple[dict[InstrumentId, tuple[Instrument, Iterable[BarChunk]]], int, int]:
    """Each instrument's definition and bar chunks, the total rows, and the first bar's time."""
    out: dict[InstrumentId, tuple[Instrument, Iterable[BarChunk]]] = {}
    rows, firsts = 0, list[int]()
    if bars is not None:
        for iid, data in bars.items():
            chunks = [cast(BarChunk, data)] if hasattr(data, "ts") else list(data)
            kept = [c for c in (_between(c, start_ns, end_ns) for c in chunks) if len(c.ts)]
            rows += sum(len(c.ts) for c in kept)
            firsts.extend(int(c.ts[0]) for c in kept[:1])
            out[iid] = (_instrument(iid, defined, fee, kept), kept)
        return out, rows, min(firsts, default=start_ns or 0)
    if catalog is None or not instrument_ids:
        raise InvalidValue("give bars=, or a catalog= and instrument_ids=")
    for iid in instrument_ids:
        info = catalog.info(iid, frame)
        rows += info.rows
        firsts.append(max(info.first_ts, start_ns or info.first_ts))
        given = defined.get(iid)
        if given is not None:
            inst = (
                given
                if fee is None
                else msgspec.structs.replace(given, maker_fee=fee, taker_fee=fee)
            )
        else:
            inst = spot_pair(
                iid,
                price_precision=info.price_precision,
                size_precision=info.size_precision,
                fee=fee or Decimal(0),
            )
        out[iid] = (inst, catalog.iter_bars(iid, frame, start_ns=start_ns, end_ns=end_ns))
    return out, rows, min(firsts)


def _between(chunk: BarChunk, start_ns: int | None, end_ns: int | None) -> BarChunk:
    if start_ns is None and end_ns is None:
        return chunk
    ts = chunk.ts
    lo = 0 if start_ns is None else int(np.searchsorted(ts, start_ns, side="left"))
    hi = len(ts) if end_ns is None else int(np.searchsorted(ts, end_ns, side="left"))
    return BarArrays(
        ts[lo:hi],
        chunk.open[lo:hi],
        chunk.high[lo:hi],
        chunk.low[lo:hi],
        chunk.close[lo:hi],
        chunk.volume[lo:hi],
    )


def _instrument(
    iid: InstrumentId,
    defined: Mapping[InstrumentId, Instrument],
    fee: Decimal | None,
    chunks: list[BarChunk],
) -> Instrument:
    if iid in defined:
        inst = defined[iid]
        if fee is not None:
            inst = msgspec.structs.replace(inst, maker_fee=fee, taker_fee=fee)
        return inst
    # Ticks and lots from every price and volume given (so none is silently rounded).
    price_p = max(
        (
            infer_precision(getattr(c, col))
            for c in chunks
            for col in ("open", "high", "low", "close")
        ),
        default=2,
    )
    size_p = max((infer_precision(c.volume) for c in chunks), default=0)
    return spot_pair(iid, price_precision=price_p, size_precision=size_p, fee=fee or Decimal(0))


def _result(
    engine: BacktestEngine, account: VenueAccount, initial: Money, group: list[Strategy]
) -> BacktestResult:
    base = initial.currency
    realized = sum((p.realized_pnl.amount for p in engine.positions), Decimal(0))
    open_cost = sum(
        (p.cost.amount if p.signed_qty > 0 else -p.cost.amount for p in engine.positions),
        Decimal(0),
    )
    final_cash = Money.rounded(account.total(base), base)
    curve = engine.equity.curve()
    metrics = compute_metrics(
        curve,
        engine.trades.trades,
        initial_cash=initial.amount,
        final_cash=final_cash.amount,
        final_equity=engine.equity_now().amount,
        fees=engine.fees.amount,
    )
    per: dict[StrategyId, StrategyResult] = {}
    for strategy in group:
        sid = strategy.id
        trades = engine.trades.trades.of_strategy(sid)
        mine = [p for p in engine.positions if p.strategy_id == sid]
        s_fees = engine.strategy_fees(sid)
        # As if the strategy had the starting cash to itself: cash moves by its fills only.
        s_cash = (
            initial.amount
            - s_fees
            + sum(
                (
                    p.realized_pnl.amount - (p.cost.amount if p.signed_qty > 0 else -p.cost.amount)
                    for p in mine
                ),
                Decimal(0),
            )
        )
        s_curve = engine.equity.curve(sid)
        s_equity = engine.equity_now(sid).amount
        same = (  # a strategy alone in its run: the run's metrics are its own, computed once
            len(group) == 1
            and trades is engine.trades.trades
            and engine.equity.is_run_curve(sid)
            and s_cash == final_cash.amount
            and s_equity == metrics.final_equity
            and s_fees == engine.fees.amount
        )
        per[sid] = StrategyResult(
            strategy_id=sid,
            trades=trades,
            equity=s_curve,
            metrics=metrics
            if same
            else compute_metrics(
                s_curve,
                trades,
                initial_cash=initial.amount,
                final_cash=s_cash,
                final_equity=s_equity,
                fees=s_fees,
            ),
        )
    return BacktestResult(
        metrics=metrics,
        trades=engine.trades.trades,
        equity=curve,
        strategies=per,
        initial_cash=initial,
        final_cash=final_cash,
        realized_pnl=Money.rounded(realized, base),
        fees=engine.fees,
        open_cost=Money.rounded(open_cost, base),
        orders=engine.oms.created,
        fills=engine.fills,
        bars=sum(f.rows_seen for f in engine.feeds),
        errors=engine.errors,
    )

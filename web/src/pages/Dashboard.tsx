import { useQueries, useQuery } from '@tanstack/react-query';
import { useSearchParams } from 'react-router';

import type { Book, Instrument, Portfolio } from '../api/types';
import { useApi } from '../app/auth';
import { useLive } from '../app/live';
import { CandleChart, ValueChart } from '../components/charts';
import { PositionsTable } from '../components/tables';
import { Num, Panel, QueryState } from '../components/ui';
import { seriesPoints, showTime } from '../lib/time';

function Markets({ instruments, selected, onSelect }: { instruments: Instrument[]; selected: string; onSelect: (id: string) => void }) {
  const api = useApi();
  const live = useLive();
  const tickers = useQueries({
    queries: instruments.map((i) => ({
      queryKey: ['ticker', i.id],
      queryFn: () => api.ticker(i.id),
      refetchInterval: 30_000,
    })),
  });
  return (
    <table data-testid="markets" className="selectable">
      <thead>
        <tr>
          <th>Instrument</th>
          <th className="r">Last price</th>
          <th className="r">24 h change</th>
          <th className="r">24 h high</th>
          <th className="r">24 h low</th>
          <th className="r">24 h volume</th>
        </tr>
      </thead>
      <tbody>
        {instruments.map((inst, k) => {
          const ticker = tickers[k]?.data;
          const last = live.prices[inst.id] ?? ticker?.last_price;
          return (
            <tr
              key={inst.id}
              className={inst.id === selected ? 'selected' : ''}
              data-instrument={inst.id}
            >
              <td>
                <button type="button" className="link" onClick={() => onSelect(inst.id)}>
                  {inst.id}
                </button>
              </td>
              <td className="r price" data-testid={`last-${inst.id}`}>
                <Num value={last} />
              </td>
              <td className="r">
                <Num value={ticker?.change_pct_24h ? `${ticker.change_pct_24h}%` : null} signed />
              </td>
              <td className="r">
                <Num value={ticker?.high_24h} />
              </td>
              <td className="r">
                <Num value={ticker?.low_24h} />
              </td>
              <td className="r">
                <Num value={ticker?.volume_24h} />
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function OrderBook({ instrumentId }: { instrumentId: string }) {
  const api = useApi();
  const book = useQuery({ queryKey: ['book', instrumentId], queryFn: () => api.book(instrumentId), refetchInterval: 3_000 });
  return (
    <QueryState what="The order book" query={book}>
      {() => <BookLevels book={book.data} />}
    </QueryState>
  );
}

function BookLevels({ book }: { book: Book | undefined }) {
  const bids = book?.bids ?? [];
  const asks = book?.asks ?? [];
  return (
    <table data-testid="book">
      <thead>
        <tr>
          <th className="r">Bid size</th>
          <th className="r">Bid</th>
          <th className="r">Ask</th>
          <th className="r">Ask size</th>
        </tr>
      </thead>
      <tbody>
        {Array.from({ length: Math.max(bids.length, asks.length) }, (_, k) => (
          <tr key={k}>
            <td className="r">{bids[k]?.size}</td>
            <td className="r pos">{bids[k]?.price}</td>
            <td className="r neg">{asks[k]?.price}</td>
            <td className="r">{asks[k]?.size}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function PortfolioSummary({ portfolio }: { portfolio: Portfolio }) {
  const rows: [string, string, boolean][] = [
    ['Equity', portfolio.equity, false],
    ['Positions value', portfolio.positions_value, false],
    ['Realised PnL', portfolio.realized_pnl, true],
    ['Unrealised PnL', portfolio.unrealized_pnl, true],
    ['Fees', portfolio.fees, false],
  ];
  return (
    <div className="summary" data-testid="portfolio">
      {rows.map(([label, value, signed]) => (
        <div key={label} className="stat">
          <span className="stat-label">{label}</span>
          <span className="stat-value">
            <Num value={value} signed={signed} /> <span className="muted">{portfolio.base_currency}</span>
          </span>
        </div>
      ))}
      <div className="stat">
        <span className="stat-label">Cash</span>
        <span className="stat-value">
          {Object.entries(portfolio.cash).map(([ccy, amount]) => (
            <span key={ccy} className="cash">
              <Num value={amount} /> <span className="muted">{ccy}</span>
            </span>
          ))}
        </span>
      </div>
      <div className="stat">
        <span className="stat-label">As of</span>
        <span className="stat-value muted">{showTime(portfolio.ts)}</span>
      </div>
      {portfolio.unpriced.length > 0 ? (
        <p className="note warn">Not valued (no price yet): {portfolio.unpriced.join(', ')}</p>
      ) : null}
    </div>
  );
}

export function DashboardPage() {
  const api = useApi();
  const [search, setSearch] = useSearchParams();
  const instruments = useQuery({ queryKey: ['instruments'], queryFn: api.instruments });
  const list = instruments.data ?? [];
  const selected = search.get('instrument') ?? list[0]?.id ?? '';
  const candles = useQuery({
    queryKey: ['candles', selected],
    queryFn: () => api.candles(selected),
    enabled: selected !== '',
    refetchInterval: 60_000,
  });
  const portfolio = useQuery({ queryKey: ['portfolio'], queryFn: api.portfolio, refetchInterval: 15_000 });
  const history = useQuery({ queryKey: ['portfolio', 'history'], queryFn: api.portfolioHistory, refetchInterval: 60_000 });
  const positions = useQuery({ queryKey: ['positions'], queryFn: api.positions, refetchInterval: 15_000 });

  return (
    <div className="grid dashboard">
      <Panel title="Markets" className="span-2">
        <QueryState what="Instruments" query={instruments}>
          {() => <Markets instruments={list} selected={selected} onSelect={(id) => setSearch({ instrument: id })} />}
        </QueryState>
      </Panel>
      <Panel title={selected ? `${selected} · 1m candles` : 'Candles'} className="span-2 tall">
        <QueryState what="Candles" query={candles}>
          {() => <CandleChart key={selected} instrumentId={selected} candles={candles.data?.candles ?? []} />}
        </QueryState>
      </Panel>
      <Panel title="Order book">{selected ? <OrderBook instrumentId={selected} /> : null}</Panel>
      <Panel title="Portfolio">
        <QueryState what="The portfolio" query={portfolio}>
          {() => (portfolio.data ? <PortfolioSummary portfolio={portfolio.data} /> : null)}
        </QueryState>
      </Panel>
      <Panel title="Portfolio value" className="span-2">
        <QueryState what="The portfolio's value history" query={history}>
          {() => (
            <ValueChart
              testId="portfolio-chart"
              points={seriesPoints(
                (history.data ?? []).map((p) => p.ts),
                (history.data ?? []).map((p) => Number(p.equity)),
              )}
            />
          )}
        </QueryState>
      </Panel>
      <Panel title="Positions" className="span-2">
        <QueryState what="Positions" query={positions}>
          {() => <PositionsTable positions={positions.data ?? []} />}
        </QueryState>
      </Panel>
    </div>
  );
}

// Live updates over /api/v1/ws: last prices from trades; fills, positions and the portfolio's
// value written straight into the queries' data (no refetch); order events that refresh the
// order queries; strategy events that refresh the instances; new bars that refresh the candles.
// One connection per signed-in tab, subscribed once (the server allows 5 messages a second),
// reconnected with a growing delay and a fresh access token (a reconnect refetches what the
// channels feed, since messages sent while offline are not replayed).
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useContext, useEffect, useMemo, useRef, useState } from 'react';

import type { Fill, Portfolio, PortfolioPoint, Position } from '../api/types';
import { classify, withFill, withPosition } from '../lib/stream';
import { useAuth } from './auth';

export type LiveStatus = 'connecting' | 'live' | 'offline';
export interface TradePrint {
  kind: 'trade';
  instrumentId: string;
  price: string;
  timeNs: number;
}
type TradeListener = (trade: TradePrint) => void;

interface LiveState {
  status: LiveStatus;
  prices: Record<string, string>;
  onTrade: (listener: TradeListener) => () => void;
}

const LiveContext = createContext<LiveState | null>(null);
const FLUSH_MS = 250;
// Order and strategy events refresh their queries at most this often: a busy strategy sends many
// events a second, and each refresh is a request counted against the user's rate limit. (Orders
// have no snapshot channel: an order event is not the order as GET /orders shows it.)
const REFRESH_EVERY_MS = 2_000;
const ORDER_QUERIES = [['orders'], ['denials']];
const FED_QUERIES = [['fills'], ['positions'], ['portfolio'], ['instances']];
const HISTORY_POINTS = 500; // what GET /portfolio/history answers at most

export function LiveProvider({ children }: { children: ReactNode }) {
  const { api, status: auth } = useAuth();
  const queries = useQueryClient();
  const [status, setStatus] = useState<LiveStatus>('offline');
  const [prices, setPrices] = useState<Record<string, string>>({});
  const listeners = useRef(new Set<TradeListener>());
  const instruments = useQuery({ queryKey: ['instruments'], queryFn: api.instruments, enabled: auth === 'signedIn' });
  const ids = useMemo(() => (instruments.data ?? []).map((i) => i.id), [instruments.data]);

  useEffect(() => {
    if (auth !== 'signedIn' || ids.length === 0) return;
    let socket: WebSocket | null = null;
    let stopped = false;
    let attempt = 0;
    let retry: number | undefined;
    let pending: Record<string, string> = {};
    let ordersChanged = false;
    let ordersRefreshed = 0;
    let strategiesChanged = false;
    let strategiesRefreshed = 0;
    const barsChanged = new Set<string>();

    const flush = window.setInterval(() => {
      if (Object.keys(pending).length > 0) {
        const batch = pending;
        pending = {};
        setPrices((old) => ({ ...old, ...batch }));
      }
      if (ordersChanged && Date.now() - ordersRefreshed >= REFRESH_EVERY_MS) {
        ordersChanged = false;
        ordersRefreshed = Date.now();
        for (const key of ORDER_QUERIES) void queries.invalidateQueries({ queryKey: key });
      }
      if (strategiesChanged && Date.now() - strategiesRefreshed >= REFRESH_EVERY_MS) {
        strategiesChanged = false;
        strategiesRefreshed = Date.now();
        void queries.invalidateQueries({ queryKey: ['instances'] });
        void queries.invalidateQueries({ queryKey: ['strategies'] });
      }
      for (const id of barsChanged) {
        void queries.invalidateQueries({ queryKey: ['candles', id] });
        void queries.invalidateQueries({ queryKey: ['ticker', id] });
      }
      barsChanged.clear();
    }, FLUSH_MS);

    const receive = (event: MessageEvent<string>) => {
      const got = classify(event.data);
      if (got.kind === 'trade') {
        pending[got.instrumentId] = got.price;
        for (const listener of listeners.current) listener(got);
      } else if (got.kind === 'order') {
        ordersChanged = true;
      } else if (got.kind === 'fill') {
        queries.setQueryData<Fill[]>(['fills'], (old) => withFill(old, got.fill));
      } else if (got.kind === 'position') {
        queries.setQueryData<Position[]>(['positions'], (old) => withPosition(old, got.position));
      } else if (got.kind === 'portfolio') {
        queries.setQueryData<Portfolio>(['portfolio'], got.portfolio);
        const point = { ts: got.portfolio.ts, equity: got.portfolio.equity };
        queries.setQueryData<PortfolioPoint[]>(['portfolio', 'history'], (old) =>
          old === undefined || old.some((p) => p.ts === point.ts) ? old : [...old, point].slice(-HISTORY_POINTS),
        );
      } else if (got.kind === 'strategy') {
        strategiesChanged = true;
      } else if (got.kind === 'bar') {
        barsChanged.add(got.instrumentId);
      }
    };

    const connect = async () => {
      setStatus('connecting');
      let token: string;
      try {
        token = await api.token();
      } catch {
        setStatus('offline');
        return; // signed out: the auth state ends this effect
      }
      if (stopped) return;
      const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
      const url = `${scheme}://${window.location.host}/api/v1/ws?token=${encodeURIComponent(token)}`;
      const ws = new WebSocket(url);
      socket = ws;
      ws.onopen = () => {
        if (attempt > 0) for (const key of FED_QUERIES) void queries.invalidateQueries({ queryKey: key });
        attempt = 0;
        setStatus('live');
        const channels = [
          'orders',
          'fills',
          'positions',
          'portfolio',
          'strategies',
          ...ids.map((id) => `trades:${id}`),
          ...ids.map((id) => `bars:${id}`),
        ];
        ws.send(JSON.stringify({ op: 'subscribe', channels }));
      };
      ws.onmessage = receive;
      ws.onclose = () => {
        if (socket !== ws) return;
        socket = null;
        setStatus('offline');
        if (stopped) return;
        attempt += 1;
        retry = window.setTimeout(() => void connect(), Math.min(10_000, 500 * 2 ** attempt));
      };
    };
    void connect();

    return () => {
      stopped = true;
      window.clearInterval(flush);
      window.clearTimeout(retry);
      const ws = socket;
      socket = null;
      ws?.close();
      setStatus('offline');
    };
  }, [api, auth, ids, queries]);

  const value = useMemo<LiveState>(
    () => ({
      status,
      prices,
      onTrade: (listener) => {
        listeners.current.add(listener);
        return () => listeners.current.delete(listener);
      },
    }),
    [status, prices],
  );
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

export function useLive(): LiveState {
  const state = useContext(LiveContext);
  if (state === null) throw new Error('useLive outside LiveProvider');
  return state;
}

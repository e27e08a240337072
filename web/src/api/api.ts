// Every call the UI makes, typed. One ``Api`` per app (see ``ApiProvider``).
import { ApiClient, pathId } from './client';
import type {
  ApiKey,
  ApiKeyIn,
  Book,
  BacktestIn,
  BacktestJob,
  BacktestResult,
  Candles,
  Denial,
  Fill,
  Instrument,
  KillSwitch,
  KillSwitchIn,
  Me,
  NewApiKey,
  Order,
  OrderIn,
  OrderModify,
  OrderPage,
  Portfolio,
  PortfolioPoint,
  Position,
  RiskLimits,
  RunningStrategy,
  Session,
  StrategyInfo,
  StrategyInstance,
  StrategyInstanceIn,
  StrategyLogLine,
  StrategyPerformance,
  Ticker,
  User,
  UserIn,
  Version,
} from './types';

export class Api extends ApiClient {
  me = () => this.get<Me>('/auth/me');
  version = () => this.get<Version>('/system/version');

  // market
  instruments = () => this.get<Instrument[]>('/instruments');
  ticker = (id: string) => this.get<Ticker>(`/market/${pathId(id)}/ticker`);
  candles = (id: string, timeframe = '1m', limit = 300) =>
    this.get<Candles>(`/market/${pathId(id)}/candles`, { timeframe, limit });
  book = (id: string, depth = 10) => this.get<Book>(`/market/${pathId(id)}/book`, { depth });

  // orders
  /** The newest ``limit`` orders of ``status``, newest first. */
  newestOrders = async (status: 'open' | 'closed' | 'all', limit = 100): Promise<Order[]> =>
    (await this.get<OrderPage>('/orders', { status, limit, order: 'desc' })).items;
  /** Orders, oldest first (``asc``) or newest first (``desc``), every page up to ``maxPages`` of 500. */
  orders = async (status: 'open' | 'closed' | 'all', order: 'asc' | 'desc' = 'asc', maxPages = 20): Promise<Order[]> => {
    const out: Order[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < maxPages; page += 1) {
      const answer: OrderPage = await this.get<OrderPage>('/orders', { status, limit: 500, cursor, order });
      out.push(...answer.items);
      cursor = answer.next_cursor;
      if (cursor === null) break;
    }
    return out;
  };
  placeOrder = (order: OrderIn) => this.request<Order>('POST', '/orders', order);
  cancelOrder = (id: string) => this.request<Order>('DELETE', `/orders/${encodeURIComponent(id)}`);
  modifyOrder = (id: string, change: OrderModify) =>
    this.request<Order>('PATCH', `/orders/${encodeURIComponent(id)}`, change);
  fills = (limit = 200) => this.get<Fill[]>('/fills', { limit });
  positions = () => this.get<Position[]>('/positions');
  portfolio = () => this.get<Portfolio>('/portfolio');
  portfolioHistory = () => this.get<PortfolioPoint[]>('/portfolio/history');

  // strategies
  registry = () => this.get<StrategyInfo[]>('/strategies/registry');
  runningStrategies = () => this.get<RunningStrategy[]>('/strategies');
  instances = () => this.get<StrategyInstance[]>('/strategies/instances');
  createInstance = (body: StrategyInstanceIn) => this.request<StrategyInstance>('POST', '/strategies/instances', body);
  configureInstance = (id: string, params: Record<string, unknown>) =>
    this.request<StrategyInstance>('PATCH', `/strategies/instances/${encodeURIComponent(id)}`, { params });
  startInstance = (id: string) =>
    this.request<StrategyInstance>('POST', `/strategies/instances/${encodeURIComponent(id)}/start`);
  stopInstance = (id: string) =>
    this.request<StrategyInstance>('POST', `/strategies/instances/${encodeURIComponent(id)}/stop`);
  deleteInstance = (id: string) => this.request('DELETE', `/strategies/instances/${encodeURIComponent(id)}`);
  instanceLogs = (id: string, limit = 200) =>
    this.get<StrategyLogLine[]>(`/strategies/instances/${encodeURIComponent(id)}/logs`, { limit });
  instancePerformance = (id: string) =>
    this.get<StrategyPerformance>(`/strategies/instances/${encodeURIComponent(id)}/performance`);

  // backtests
  backtests = () => this.get<BacktestJob[]>('/backtests');
  backtest = (id: string) => this.get<BacktestJob>(`/backtests/${encodeURIComponent(id)}`);
  submitBacktest = (body: BacktestIn) => this.request<BacktestJob>('POST', '/backtests', body);
  backtestResult = (id: string, points = 1000) =>
    this.get<BacktestResult>(`/backtests/${encodeURIComponent(id)}/result`, { points, limit: 500 });

  // account
  /** One's API keys, the revoked ones too (marked ``revoked``). */
  apiKeys = () => this.get<ApiKey[]>('/api-keys', { include_revoked: true });
  createApiKey = (body: ApiKeyIn) => this.request<NewApiKey>('POST', '/api-keys', body);
  revokeApiKey = (id: string) => this.request('DELETE', `/api-keys/${encodeURIComponent(id)}`);
  sessions = () => this.get<Session[]>('/sessions');
  revokeSession = (id: string) => this.request('DELETE', `/sessions/${encodeURIComponent(id)}`);
  users = () => this.get<User[]>('/users');
  createUser = (body: UserIn) => this.request<User>('POST', '/users', body);

  // risk
  riskLimits = () => this.get<RiskLimits>('/risk/limits');
  putRiskLimits = (limits: Record<string, unknown>, reason: string) =>
    this.request<RiskLimits>('PUT', '/risk/limits', { limits, reason });
  killSwitches = () => this.get<KillSwitch[]>('/risk/kill-switch');
  tripKillSwitch = (body: KillSwitchIn) => this.request<KillSwitch>('POST', '/risk/kill-switch', body);
  releaseKillSwitch = (scope: string, id: string | null, reason: string) =>
    this.request<KillSwitch>('DELETE', '/risk/kill-switch' + releaseQuery(scope, id, reason));
  denials = () => this.get<Denial[]>('/risk/denials', { limit: 200 });
}

function releaseQuery(scope: string, id: string | null, reason: string): string {
  const params = new URLSearchParams({ scope, reason });
  if (id) params.set('id', id);
  return `?${params.toString()}`;
}

// The API's bodies: the gateway's OpenAPI schemas (schema.d.ts, generated from the Python app by
// `npm run gen:api`; regenerate after changing the gateway's schemas).
import type { components } from './schema';

type Schemas = components['schemas'];

export type Instrument = Schemas['InstrumentOut'];
export type Candle = Schemas['CandleOut'];
export type Candles = Schemas['CandlesOut'];
export type Ticker = Schemas['TickerOut'];
export type OrderIn = Schemas['OrderIn'];
export type Order = Schemas['OrderOut'];
export type OrderPage = Schemas['OrderPage'];
export type Fill = Schemas['FillOut'];
export type Position = Schemas['PositionOut'];
export type StrategyInfo = Schemas['StrategyInfoOut'];
export type RunningStrategy = Schemas['StrategyOut'];
export type BacktestIn = Schemas['BacktestIn'];
export type BacktestJob = Schemas['BacktestJobOut'];
export type BacktestResult = Schemas['BacktestResultOut'];
export type BacktestTrade = Schemas['BacktestTradeOut'];
export type RiskLimits = Schemas['RiskLimitsOut'];
export type KillSwitch = Schemas['KillSwitchOut'];
export type KillSwitchIn = Schemas['KillSwitchIn'];
export type Denial = Schemas['DenialOut'];
export type Me = Schemas['MeOut'];
export type ApiKey = Schemas['ApiKeyOut'];
export type ApiKeyIn = Schemas['ApiKeyIn'];
export type NewApiKey = Schemas['NewApiKeyOut'];
export type Session = Schemas['SessionOut'];
export type User = Schemas['UserOut'];
export type UserIn = Schemas['UserIn'];
export type Version = Schemas['VersionOut'];

export type Portfolio = Schemas['PortfolioOut'];
export type PortfolioPoint = Schemas['PortfolioPointOut'];
export type OrderModify = Schemas['OrderModifyIn'];
export type StrategyInstance = Schemas['StrategyInstanceOut'];
export type StrategyInstanceIn = Schemas['StrategyInstanceIn'];
export type StrategyLogLine = Schemas['StrategyLogLineOut'];
export type StrategyPerformance = Schemas['StrategyPerformanceOut'];
export type Book = Schemas['BookOut'];

// The WebSocket is not in the OpenAPI document: its messages as routers/stream.py sends them
// (docs/api.md). ``fills``, ``positions`` and ``portfolio`` send the REST shapes above.
/** A message of the ``strategies`` channel (the gateway's ``StrategyEventOut``). */
export interface StrategyEvent {
  strategy_id: string;
  state: 'running' | 'stopped' | 'failed' | 'removed';
  time: string;
  level: 'info' | 'warning' | 'error';
  message: string;
  fields: Record<string, string>;
}
/** A message of ``/api/v1/ws``. */
export interface StreamMessage {
  channel?: string;
  op?: string;
  error?: string;
  channels?: string[];
  data?: {
    type?: string;
    ts_event?: number;
    instrument_id?: string;
    client_order_id?: string;
    price?: string;
    size?: string;
    open?: string;
    high?: string;
    low?: string;
    close?: string;
    ts_open?: number;
    [key: string]: unknown;
  };
}

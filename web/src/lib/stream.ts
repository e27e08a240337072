// What one message of /api/v1/ws means for the UI.
import type { Fill, Portfolio, Position, StrategyEvent, StreamMessage } from '../api/types';

export type StreamEvent =
  | { kind: 'trade'; instrumentId: string; price: string; timeNs: number }
  | { kind: 'order'; clientOrderId: string | null }
  | { kind: 'fill'; fill: Fill }
  | { kind: 'position'; position: Position }
  | { kind: 'portfolio'; portfolio: Portfolio }
  | { kind: 'strategy'; event: StrategyEvent }
  | { kind: 'bar'; instrumentId: string }
  | { kind: 'error'; message: string }
  | { kind: 'other' };

function has(data: Record<string, unknown>, ...keys: string[]): boolean {
  return keys.every((key) => typeof data[key] === 'string');
}

/** Reads one WebSocket text frame (anything unreadable is ``other``). */
export function classify(text: string): StreamEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { kind: 'other' };
  }
  if (typeof parsed !== 'object' || parsed === null) return { kind: 'other' };
  const message = parsed as StreamMessage;
  if (typeof message.error === 'string') return { kind: 'error', message: message.error };
  const channel = message.channel ?? '';
  const data = message.data;
  if (!data || typeof data !== 'object') return { kind: 'other' };
  if (channel.startsWith('trades:') && typeof data.instrument_id === 'string' && typeof data.price === 'string') {
    const timeNs = typeof data.ts_event === 'number' ? data.ts_event : Date.now() * 1e6;
    return { kind: 'trade', instrumentId: data.instrument_id, price: data.price, timeNs };
  }
  if (channel === 'orders') {
    return { kind: 'order', clientOrderId: typeof data.client_order_id === 'string' ? data.client_order_id : null };
  }
  if (channel === 'fills' && has(data, 'trade_id', 'client_order_id', 'quantity', 'price')) {
    return { kind: 'fill', fill: data as unknown as Fill };
  }
  if (channel === 'positions' && has(data, 'strategy_id', 'instrument_id', 'quantity')) {
    return { kind: 'position', position: data as unknown as Position };
  }
  if (channel === 'portfolio' && has(data, 'equity', 'ts')) {
    return { kind: 'portfolio', portfolio: data as unknown as Portfolio };
  }
  if ((channel === 'strategies' || channel.startsWith('strategies:')) && has(data, 'strategy_id', 'state', 'message')) {
    return { kind: 'strategy', event: data as unknown as StrategyEvent };
  }
  if (channel.startsWith('bars:')) {
    const instrumentId = typeof data.instrument_id === 'string' ? data.instrument_id : channel.slice('bars:'.length);
    return { kind: 'bar', instrumentId };
  }
  return { kind: 'other' };
}

/** ``fills`` (oldest first, as ``GET /fills``) with ``fill`` added at the end, once (a fill is known by
 * its trade id and order). */
export function withFill(fills: Fill[] | undefined, fill: Fill): Fill[] | undefined {
  if (fills === undefined) return undefined; // not loaded yet: the first fetch brings it
  if (fills.some((f) => f.trade_id === fill.trade_id && f.client_order_id === fill.client_order_id)) return fills;
  return [...fills, fill];
}

/** ``positions`` with ``position`` replacing the one of its strategy and instrument (or added). */
export function withPosition(positions: Position[] | undefined, position: Position): Position[] | undefined {
  if (positions === undefined) return undefined;
  const same = (p: Position) => p.strategy_id === position.strategy_id && p.instrument_id === position.instrument_id;
  return positions.some(same) ? positions.map((p) => (same(p) ? position : p)) : [...positions, position];
}

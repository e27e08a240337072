// What one message of /api/v1/ws means for the UI.
import type { StreamMessage } from '../api/types';

export type StreamEvent =
  | { kind: 'trade'; instrumentId: string; price: string; timeNs: number }
  | { kind: 'order'; clientOrderId: string | null }
  | { kind: 'bar'; instrumentId: string }
  | { kind: 'error'; message: string }
  | { kind: 'other' };

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
  if (!data) return { kind: 'other' };
  if (channel.startsWith('trades:') && typeof data.instrument_id === 'string' && typeof data.price === 'string') {
    const timeNs = typeof data.ts_event === 'number' ? data.ts_event : Date.now() * 1e6;
    return { kind: 'trade', instrumentId: data.instrument_id, price: data.price, timeNs };
  }
  if (channel === 'orders') {
    return { kind: 'order', clientOrderId: typeof data.client_order_id === 'string' ? data.client_order_id : null };
  }
  if (channel.startsWith('bars:')) {
    const instrumentId = typeof data.instrument_id === 'string' ? data.instrument_id : channel.slice('bars:'.length);
    return { kind: 'bar', instrumentId };
  }
  return { kind: 'other' };
}

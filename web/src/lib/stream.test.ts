import { describe, expect, it } from 'vitest';

import type { Fill, Position } from '../api/types';
import { classify, withFill, withPosition } from './stream';

// Messages as routers/stream.py sends them (seen on a live tradeforge up).
const TRADE =
  '{"channel": "trades:BTC/USDT.SIM", "data": {"type": "TradeTick", "ts_event": 1795649408709680463, ' +
  '"ts_init": 1795649408709680463, "instrument_id": "BTC/USDT.SIM", "price": "29980.00", "size": "0.05693", ' +
  '"aggressor_side": "SELLER", "trade_id": "90"}}';
const FILL =
  '{"channel": "orders", "data": {"type": "OrderFilled", "client_order_id": "N0mwwrafee-1", ' +
  '"strategy_id": "manual", "instrument_id": "BTC/USDT.SIM", "last_qty": "0.01000", "last_px": "29975.00"}}';

// The fills, positions, portfolio and strategies channels send the REST shapes (docs/api.md).
const OWN_FILL =
  '{"channel":"fills","data":{"trade_id":"T-17","client_order_id":"a-1","instrument_id":"BTC/USDT.SIM",' +
  '"side":"BUY","quantity":"0.01000","price":"29975.00","commission":"0.29975000","commission_currency":"USDT",' +
  '"time":"2026-11-26T00:14:05.123Z"}}';
const POSITION =
  '{"channel":"positions","data":{"strategy_id":"manual","instrument_id":"BTC/USDT.SIM","quantity":"0.01000",' +
  '"avg_px_open":"29975.00","realized_pnl":"0.00000000","unrealized_pnl":"-0.05000000","last_price":"29970.00"}}';
const VALUE =
  '{"channel":"portfolio","data":{"base_currency":"USDT","equity":"1649823.41000000","cash":{"USDT":"1000000.00000000"},' +
  '"positions_value":"299.70000000","realized_pnl":"0.00000000","unrealized_pnl":"-0.05000000","fees":"0.29975000",' +
  '"unpriced":[],"ts":"2026-11-26T00:14:05.500Z"}}';
const STRATEGY =
  '{"channel":"strategies","data":{"strategy_id":"alice-sma","state":"running","time":"2026-11-26T00:14:06.000Z",' +
  '"level":"info","message":"started","fields":{}}}';

describe('classify', () => {
  it('reads fills, positions, the portfolio and strategy events as the API shapes them', () => {
    const fill = classify(OWN_FILL);
    expect(fill.kind === 'fill' && fill.fill.price).toBe('29975.00');
    const position = classify(POSITION);
    expect(position.kind === 'position' && position.position.avg_px_open).toBe('29975.00');
    const value = classify(VALUE);
    expect(value.kind === 'portfolio' && value.portfolio.equity).toBe('1649823.41000000');
    const event = classify(STRATEGY);
    expect(event.kind === 'strategy' && [event.event.strategy_id, event.event.state]).toEqual(['alice-sma', 'running']);
    const one = classify(STRATEGY.replace('"strategies"', '"strategies:alice-sma"'));
    expect(one.kind).toBe('strategy');
    expect(classify('{"channel":"fills","data":{"trade_id":"T-1"}}')).toEqual({ kind: 'other' }); // not a fill
  });

  it('reads a trade print with its exact price', () => {
    expect(classify(TRADE)).toEqual({
      kind: 'trade',
      instrumentId: 'BTC/USDT.SIM',
      price: '29980.00',
      timeNs: Number('1795649408709680463'), // JSON numbers: nanoseconds to about 256 ns
    });
  });

  it('reads order events', () => {
    expect(classify(FILL)).toEqual({ kind: 'order', clientOrderId: 'N0mwwrafee-1' });
  });

  it('reads bars', () => {
    const bar = '{"channel": "bars:ETH/USDT.SIM", "data": {"type": "Bar", "instrument_id": "ETH/USDT.SIM"}}';
    expect(classify(bar)).toEqual({ kind: 'bar', instrumentId: 'ETH/USDT.SIM' });
  });

  it('reads the server refusing a subscription', () => {
    expect(classify('{"error": "at most 200 subscriptions per connection"}')).toEqual({
      kind: 'error',
      message: 'at most 200 subscriptions per connection',
    });
  });

  it('ignores acknowledgements and junk', () => {
    expect(classify('{"op": "subscribed", "channels": ["orders"]}')).toEqual({ kind: 'other' });
    expect(classify('not json')).toEqual({ kind: 'other' });
    expect(classify('null')).toEqual({ kind: 'other' });
    expect(classify('{"channel": "trades:X", "data": {"price": 1}}')).toEqual({ kind: 'other' }); // a float price
  });
});

describe('the channels fed into the queries', () => {
  const fill = (JSON.parse(OWN_FILL) as { data: Fill }).data;
  const position = (JSON.parse(POSITION) as { data: Position }).data;

  it('adds a fill once, at the end (GET /fills is oldest first)', () => {
    const older = { ...fill, trade_id: 'T-16', client_order_id: 'a-0' };
    expect(withFill([older], fill)).toEqual([older, fill]);
    expect(withFill([older, fill], fill)).toEqual([older, fill]);
    expect(withFill(undefined, fill)).toBeUndefined(); // not loaded: the fetch brings it
  });

  it('replaces the position of the same strategy and instrument, or adds it', () => {
    const eth = { ...position, instrument_id: 'ETH/USDT.SIM' };
    const moved = { ...position, quantity: '0.00000' };
    expect(withPosition([position, eth], moved)).toEqual([moved, eth]);
    expect(withPosition([eth], position)).toEqual([eth, position]);
    expect(withPosition(undefined, position)).toBeUndefined();
  });
});

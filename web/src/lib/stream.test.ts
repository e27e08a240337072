import { describe, expect, it } from 'vitest';

import { classify } from './stream';

// Messages as routers/stream.py sends them (seen on a live tradeforge up).
const TRADE =
  '{"channel": "trades:BTC/USDT.SIM", "data": {"type": "TradeTick", "ts_event": 1795649408709680463, ' +
  '"ts_init": 1795649408709680463, "instrument_id": "BTC/USDT.SIM", "price": "29980.00", "size": "0.05693", ' +
  '"aggressor_side": "SELLER", "trade_id": "90"}}';
const FILL =
  '{"channel": "orders", "data": {"type": "OrderFilled", "client_order_id": "N0mwwrafee-1", ' +
  '"strategy_id": "manual", "instrument_id": "BTC/USDT.SIM", "last_qty": "0.01000", "last_px": "29975.00"}}';

describe('classify', () => {
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

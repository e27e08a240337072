import { describe, expect, it } from 'vitest';

import type { Instrument } from '../api/types';
import { type TicketForm, ticketOrder, validateTicket } from './ticket';

const BTC: Instrument = {
  id: 'BTC/USDT.SIM',
  symbol: 'BTC/USDT',
  venue: 'SIM',
  kind: 'SPOT',
  base: 'BTC',
  quote: 'USDT',
  tick_size: '0.01',
  lot_size: '0.00001',
  min_quantity: '0.00001',
  min_notional: '5.00000000',
  maker_fee: '0.001',
  taker_fee: '0.001',
};

function form(change: Partial<TicketForm> = {}): TicketForm {
  return {
    side: 'BUY',
    type: 'LIMIT',
    quantity: '0.01',
    price: '29000.00',
    triggerPrice: '',
    timeInForce: 'GTC',
    postOnly: false,
    reduceOnly: false,
    ...change,
  };
}

describe('validateTicket', () => {
  it('passes a well-formed limit order', () => {
    expect(validateTicket(form(), BTC)).toEqual({});
  });

  it('wants a positive quantity on the lot', () => {
    expect(validateTicket(form({ quantity: '' }), BTC).quantity).toBe('quantity is required');
    expect(validateTicket(form({ quantity: '0' }), BTC).quantity).toBe('quantity must be above 0');
    expect(validateTicket(form({ quantity: '-1' }), BTC).quantity).toMatch(/plain decimal/);
    expect(validateTicket(form({ quantity: '0.000015' }), BTC).quantity).toBe(
      'quantity must be a multiple of the lot 0.00001',
    );
  });

  it('wants a price on the tick for limit orders only', () => {
    expect(validateTicket(form({ price: '' }), BTC).price).toBe('price is required');
    expect(validateTicket(form({ price: '29000.005' }), BTC).price).toBe('price must be a multiple of the tick 0.01');
    expect(validateTicket(form({ type: 'MARKET', price: 'junk' }), BTC)).toEqual({});
  });

  it('wants a trigger for stop orders', () => {
    expect(validateTicket(form({ type: 'STOP_MARKET' }), BTC).triggerPrice).toBe('trigger price is required');
    expect(validateTicket(form({ type: 'STOP_LIMIT', triggerPrice: '28000.00' }), BTC)).toEqual({});
  });

  it('checks the minimum notional exactly', () => {
    // 0.00017 x 29000.00 = 4.93 < 5
    expect(validateTicket(form({ quantity: '0.00017' }), BTC).quantity).toBe(
      'the order is worth 4.9300000 USDT: the minimum is 5.00000000',
    );
    expect(validateTicket(form({ quantity: '0.00018' }), BTC)).toEqual({}); // 5.22
  });

  it('keeps post-only to resting limit orders', () => {
    expect(validateTicket(form({ type: 'MARKET', postOnly: true }), BTC).postOnly).toBeDefined();
    expect(validateTicket(form({ postOnly: true, timeInForce: 'IOC' }), BTC).timeInForce).toBeDefined();
  });
});

describe('ticketOrder', () => {
  it('sends only the fields the type uses', () => {
    expect(ticketOrder(form({ type: 'MARKET', price: '1.00' }), BTC, 'ui-1')).toEqual({
      instrument_id: 'BTC/USDT.SIM',
      side: 'BUY',
      type: 'MARKET',
      quantity: '0.01',
      time_in_force: 'GTC',
      post_only: false,
      reduce_only: false,
      client_order_id: 'ui-1',
    });
    const stop = ticketOrder(form({ type: 'STOP_LIMIT', triggerPrice: ' 28000.00 ' }), BTC);
    expect(stop.price).toBe('29000.00');
    expect(stop.trigger_price).toBe('28000.00');
  });
});

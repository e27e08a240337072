// The trading ticket's rules, checked before anything is sent: what the gateway would refuse
// for the instrument's tick, lot and minimums (exactly, on decimal strings), and the fields
// each order type needs. The API stays the judge: its refusals are shown as they come.
import type { Instrument, OrderIn } from '../api/types';
import { compare, isDecimal, isMultipleOf, multiply } from './decimal';

export const ORDER_TYPES = ['MARKET', 'LIMIT', 'STOP_MARKET', 'STOP_LIMIT'] as const;
export const TIME_IN_FORCE = ['GTC', 'IOC', 'FOK'] as const;
export type OrderType = (typeof ORDER_TYPES)[number];
export type TimeInForce = (typeof TIME_IN_FORCE)[number];

export interface TicketForm {
  side: 'BUY' | 'SELL';
  type: OrderType;
  quantity: string;
  price: string;
  triggerPrice: string;
  timeInForce: TimeInForce;
  postOnly: boolean;
  reduceOnly: boolean;
}

export type TicketErrors = Partial<Record<'quantity' | 'price' | 'triggerPrice' | 'timeInForce' | 'postOnly', string>>;

export function needsPrice(type: OrderType): boolean {
  return type === 'LIMIT' || type === 'STOP_LIMIT';
}

export function needsTrigger(type: OrderType): boolean {
  return type === 'STOP_MARKET' || type === 'STOP_LIMIT';
}

function checkPrice(text: string, tick: string, what: string): string | undefined {
  const value = text.trim();
  if (value === '') return `${what} is required`;
  if (!isDecimal(value)) return `${what} must be a plain decimal number (e.g. 30000.50)`;
  if (compare(value, '0') <= 0) return `${what} must be above 0`;
  if (!isMultipleOf(value, tick)) return `${what} must be a multiple of the tick ${tick}`;
  return undefined;
}

/** What is wrong with the ticket for ``instrument`` (an empty object when nothing is). */
export function validateTicket(form: TicketForm, instrument: Instrument): TicketErrors {
  const errors: TicketErrors = {};
  const quantity = form.quantity.trim();
  if (quantity === '') errors.quantity = 'quantity is required';
  else if (!isDecimal(quantity)) errors.quantity = 'quantity must be a plain decimal number (e.g. 0.01)';
  else if (compare(quantity, '0') <= 0) errors.quantity = 'quantity must be above 0';
  else if (!isMultipleOf(quantity, instrument.lot_size)) {
    errors.quantity = `quantity must be a multiple of the lot ${instrument.lot_size}`;
  } else if (compare(quantity, instrument.min_quantity) < 0) {
    errors.quantity = `quantity must be at least ${instrument.min_quantity}`;
  }
  if (needsPrice(form.type)) {
    const problem = checkPrice(form.price, instrument.tick_size, 'price');
    if (problem) errors.price = problem;
  }
  if (needsTrigger(form.type)) {
    const problem = checkPrice(form.triggerPrice, instrument.tick_size, 'trigger price');
    if (problem) errors.triggerPrice = problem;
  }
  if (form.postOnly && form.type !== 'LIMIT') errors.postOnly = 'post-only applies to limit orders';
  if (form.postOnly && form.timeInForce !== 'GTC') errors.timeInForce = 'a post-only order rests: use GTC';
  const minNotional = instrument.min_notional;
  if (!errors.quantity && !errors.price && needsPrice(form.type) && minNotional) {
    const notional = multiply(quantity, form.price.trim());
    if (compare(notional, minNotional) < 0) {
      errors.quantity = `the order is worth ${notional} ${instrument.quote}: the minimum is ${minNotional}`;
    }
  }
  return errors;
}

/** The API body of a valid ticket. */
export function ticketOrder(form: TicketForm, instrument: Instrument, clientOrderId?: string): OrderIn {
  const order: OrderIn = {
    instrument_id: instrument.id,
    side: form.side,
    type: form.type,
    quantity: form.quantity.trim(),
    time_in_force: form.timeInForce,
    post_only: form.postOnly,
    reduce_only: form.reduceOnly,
  };
  if (needsPrice(form.type)) order.price = form.price.trim();
  if (needsTrigger(form.type)) order.trigger_price = form.triggerPrice.trim();
  if (clientOrderId) order.client_order_id = clientOrderId;
  return order;
}

/** A client order id for one press of the button (a retry of the same press is idempotent). */
export function newClientOrderId(): string {
  const random = crypto.getRandomValues(new Uint32Array(2));
  return `ui-${Date.now().toString(36)}-${Array.from(random, (n) => n.toString(36)).join('')}`;
}

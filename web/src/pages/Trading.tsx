import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type SubmitEvent, useRef, useState } from 'react';

import { ApiError } from '../api/client';
import type { Instrument, Order, OrderModify } from '../api/types';
import { useApi, useAuth } from '../app/auth';
import { useLive } from '../app/live';
import { FillsTable, OrdersTable, PositionsTable } from '../components/tables';
import { ErrorNote, Field, Panel, QueryState, Status, errorText } from '../components/ui';
import { isDecimal } from '../lib/decimal';
import {
  ORDER_TYPES,
  TIME_IN_FORCE,
  type OrderType,
  type TicketErrors,
  type TicketForm,
  type TimeInForce,
  needsPrice,
  needsTrigger,
  newClientOrderId,
  ticketOrder,
  validateTicket,
} from '../lib/ticket';

const EMPTY: TicketForm = {
  side: 'BUY',
  type: 'LIMIT',
  quantity: '',
  price: '',
  triggerPrice: '',
  timeInForce: 'GTC',
  postOnly: false,
  reduceOnly: false,
};

function Ticket({ instruments }: { instruments: Instrument[] }) {
  const api = useApi();
  const live = useLive();
  const queries = useQueryClient();
  const [instrumentId, setInstrumentId] = useState(instruments[0]?.id ?? '');
  const [form, setForm] = useState<TicketForm>(EMPTY);
  const [errors, setErrors] = useState<TicketErrors>({});
  const [result, setResult] = useState<Order | null>(null);
  // One id per intended order: pressing again after a lost answer repeats, not duplicates.
  const clientOrderId = useRef<string | null>(null);
  const instrument = instruments.find((i) => i.id === instrumentId);
  const place = useMutation({
    mutationFn: api.placeOrder,
    onSuccess: (order) => {
      setResult(order);
      clientOrderId.current = null;
      // Its fills and the position come over the WebSocket (live.tsx); the orders are read again.
      void queries.invalidateQueries({ queryKey: ['orders'] });
    },
    onError: (error) => {
      if (error instanceof ApiError && error.status < 500) clientOrderId.current = null; // refused: a new try is a new order
      void queries.invalidateQueries({ queryKey: ['denials'] });
    },
  });

  const set = <K extends keyof TicketForm>(key: K, value: TicketForm[K]) => {
    setForm((old) => ({ ...old, [key]: value }));
    setErrors((old) => ({ ...old, [key]: undefined }));
    clientOrderId.current = null;
  };

  const submit = (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!instrument) return;
    const found = validateTicket(form, instrument);
    setErrors(found);
    setResult(null);
    if (Object.keys(found).length > 0) return;
    clientOrderId.current ??= newClientOrderId();
    place.reset();
    place.mutate(ticketOrder(form, instrument, clientOrderId.current));
  };

  return (
    <form className="ticket" onSubmit={submit} aria-label="Order ticket" noValidate>
      <Field label="Instrument">
        <select name="instrument" value={instrumentId} onChange={(e) => setInstrumentId(e.target.value)}>
          {instruments.map((i) => (
            <option key={i.id} value={i.id}>
              {i.id}
            </option>
          ))}
        </select>
      </Field>
      <div className="side-toggle" role="group" aria-label="Side">
        {(['BUY', 'SELL'] as const).map((side) => (
          <button
            key={side}
            type="button"
            className={`side ${side.toLowerCase()} ${form.side === side ? 'on' : ''}`}
            aria-pressed={form.side === side}
            onClick={() => set('side', side)}
          >
            {side === 'BUY' ? 'Buy' : 'Sell'}
          </button>
        ))}
      </div>
      <Field label="Type">
        <select name="type" value={form.type} onChange={(e) => set('type', e.target.value as OrderType)}>
          {ORDER_TYPES.map((t) => (
            <option key={t} value={t}>
              {t.replace('_', ' ').toLowerCase()}
            </option>
          ))}
        </select>
      </Field>
      <Field
        label="Quantity"
        error={errors.quantity}
        hint={instrument ? `lot ${instrument.lot_size}, min ${instrument.min_quantity}` : undefined}
      >
        <input name="quantity" inputMode="decimal" value={form.quantity} onChange={(e) => set('quantity', e.target.value)} />
      </Field>
      {needsPrice(form.type) ? (
        <Field
          label="Limit price"
          error={errors.price}
          hint={instrument ? `tick ${instrument.tick_size}; last ${live.prices[instrument.id] ?? '—'}` : undefined}
        >
          <input name="price" inputMode="decimal" value={form.price} onChange={(e) => set('price', e.target.value)} />
        </Field>
      ) : null}
      {needsTrigger(form.type) ? (
        <Field label="Trigger price" error={errors.triggerPrice}>
          <input
            name="trigger_price"
            inputMode="decimal"
            value={form.triggerPrice}
            onChange={(e) => set('triggerPrice', e.target.value)}
          />
        </Field>
      ) : null}
      <Field label="Time in force" error={errors.timeInForce}>
        <select name="time_in_force" value={form.timeInForce} onChange={(e) => set('timeInForce', e.target.value as TimeInForce)}>
          {TIME_IN_FORCE.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </Field>
      <div className="checks">
        <label>
          <input type="checkbox" checked={form.postOnly} onChange={(e) => set('postOnly', e.target.checked)} /> Post only
        </label>
        <label>
          <input type="checkbox" checked={form.reduceOnly} onChange={(e) => set('reduceOnly', e.target.checked)} /> Reduce only
        </label>
      </div>
      {errors.postOnly ? <span className="field-error">{errors.postOnly}</span> : null}
      <button type="submit" className={form.side === 'BUY' ? 'buy' : 'sell'} disabled={place.isPending}>
        {place.isPending ? 'Sending…' : `${form.side === 'BUY' ? 'Buy' : 'Sell'} ${instrument?.base ?? ''}`}
      </button>
      {place.error ? (
        <p className="note error" role="alert" data-testid="ticket-error">
          Refused: {errorText(place.error)}
        </p>
      ) : null}
      {result ? (
        <p className="note ok" role="status" data-testid="ticket-result">
          Order <span className="mono">{result.client_order_id}</span>: <Status value={result.status} /> {result.filled_qty} of{' '}
          {result.quantity} filled{result.avg_px ? ` at ${result.avg_px}` : ''}
        </p>
      ) : null}
    </form>
  );
}

function ModifyForm({ order, onDone }: { order: Order; onDone: () => void }) {
  const api = useApi();
  const queries = useQueryClient();
  const [quantity, setQuantity] = useState(order.quantity);
  const [price, setPrice] = useState(order.price ?? '');
  const [trigger, setTrigger] = useState(order.trigger_price ?? '');
  const [invalid, setInvalid] = useState<string | null>(null);
  const modify = useMutation({
    mutationFn: () => {
      const change: OrderModify = {};
      if (quantity !== order.quantity) change.quantity = quantity.trim();
      if (order.price !== null && price !== order.price) change.price = price.trim();
      if (order.trigger_price !== null && trigger !== order.trigger_price) change.trigger_price = trigger.trim();
      return api.modifyOrder(order.client_order_id, change);
    },
    onSuccess: () => {
      void queries.invalidateQueries({ queryKey: ['orders'] });
      onDone();
    },
  });
  const submit = (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    const values = [quantity, ...(order.price !== null ? [price] : []), ...(order.trigger_price !== null ? [trigger] : [])];
    const bad = values.find((v) => !isDecimal(v.trim()));
    if (bad !== undefined) {
      setInvalid(`${bad || 'an empty value'} is not a plain decimal number`);
      return;
    }
    if (quantity === order.quantity && price === (order.price ?? '') && trigger === (order.trigger_price ?? '')) {
      setInvalid('change the quantity or a price');
      return;
    }
    setInvalid(null);
    modify.mutate();
  };
  const missing = modify.error instanceof ApiError && modify.error.status === 405;
  return (
    <form className="modify" onSubmit={submit} aria-label={`Modify ${order.client_order_id}`}>
      <input aria-label="New quantity" value={quantity} onChange={(e) => setQuantity(e.target.value)} size={10} />
      {order.price !== null ? <input aria-label="New price" value={price} onChange={(e) => setPrice(e.target.value)} size={10} /> : null}
      {order.trigger_price !== null ? (
        <input aria-label="New trigger price" value={trigger} onChange={(e) => setTrigger(e.target.value)} size={10} />
      ) : null}
      <button type="submit" disabled={modify.isPending}>
        Save
      </button>
      <button type="button" className="ghost" onClick={onDone}>
        Close
      </button>
      {invalid ? <span className="field-error">{invalid}</span> : null}
      {missing ? (
        <span className="field-error">modifying orders is not available on this server</span>
      ) : (
        <ErrorNote error={modify.error} />
      )}
    </form>
  );
}

function OpenOrders() {
  const api = useApi();
  const { can } = useAuth();
  const queries = useQueryClient();
  const [editing, setEditing] = useState<string | null>(null);
  const orders = useQuery({ queryKey: ['orders', 'open'], queryFn: () => api.orders('open'), refetchInterval: 10_000 });
  const cancel = useMutation({
    mutationFn: api.cancelOrder,
    onSettled: () => void queries.invalidateQueries({ queryKey: ['orders'] }),
  });
  const canTrade = can('orders:write');
  return (
    <QueryState what="Open orders" query={orders}>
      {() => (
        <>
          <ErrorNote error={cancel.error} />
          <OrdersTable
            testId="open-orders"
            orders={orders.data ?? []}
            actions={
              canTrade
                ? (order) =>
                    editing === order.client_order_id ? (
                      <ModifyForm order={order} onDone={() => setEditing(null)} />
                    ) : (
                      <>
                        <button type="button" className="small" onClick={() => setEditing(order.client_order_id)}>
                          Modify
                        </button>
                        <button
                          type="button"
                          className="small danger"
                          disabled={cancel.isPending && cancel.variables === order.client_order_id}
                          onClick={() => cancel.mutate(order.client_order_id)}
                        >
                          Cancel
                        </button>
                      </>
                    )
                : undefined
            }
          />
        </>
      )}
    </QueryState>
  );
}

export function TradingPage() {
  const api = useApi();
  const { can } = useAuth();
  const instruments = useQuery({ queryKey: ['instruments'], queryFn: api.instruments });
  const fills = useQuery({ queryKey: ['fills'], queryFn: () => api.fills(), refetchInterval: 15_000 });
  const closed = useQuery({ queryKey: ['orders', 'closed'], queryFn: () => api.newestOrders('closed', 100), refetchInterval: 60_000 });
  const positions = useQuery({ queryKey: ['positions'], queryFn: api.positions, refetchInterval: 15_000 });
  return (
    <div className="grid trading">
      <Panel title="Order ticket" className="ticket-panel">
        {can('orders:write') ? (
          <QueryState what="Instruments" query={instruments}>
            {() => <Ticket instruments={instruments.data ?? []} />}
          </QueryState>
        ) : (
          <p className="muted">Your role may not place orders.</p>
        )}
      </Panel>
      <div className="stack">
        <Panel title="Open orders">
          <OpenOrders />
        </Panel>
        <Panel title="Positions">
          <QueryState what="Positions" query={positions}>
            {() => <PositionsTable positions={positions.data ?? []} />}
          </QueryState>
        </Panel>
        <Panel title="Fills">
          <QueryState what="Fills" query={fills}>
            {() => <FillsTable fills={fills.data ?? []} />}
          </QueryState>
        </Panel>
        <Panel title="Order history">
          <QueryState what="Closed orders" query={closed}>
            {() => <OrdersTable testId="closed-orders" orders={closed.data ?? []} />}
          </QueryState>
        </Panel>
      </div>
    </div>
  );
}


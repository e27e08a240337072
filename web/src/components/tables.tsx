// Tables of orders, fills and positions, shared by the dashboard and the trading page.
import type { ReactNode } from 'react';

import type { Fill, Order, Position } from '../api/types';
import { Empty, Num, Status } from './ui';

export function PositionsTable({ positions }: { positions: Position[] }) {
  const open = positions;
  if (open.length === 0) return <Empty>No positions yet.</Empty>;
  return (
    <table data-testid="positions">
      <thead>
        <tr>
          <th>Strategy</th>
          <th>Instrument</th>
          <th className="r">Quantity</th>
          <th className="r">Avg open</th>
          <th className="r">Last</th>
          <th className="r">Unrealised PnL</th>
          <th className="r">Realised PnL</th>
        </tr>
      </thead>
      <tbody>
        {open.map((p) => (
          <tr key={`${p.strategy_id}/${p.instrument_id}`}>
            <td>{p.strategy_id}</td>
            <td>{p.instrument_id}</td>
            <td className="r">
              <Num value={p.quantity} signed />
            </td>
            <td className="r">
              <Num value={p.avg_px_open} />
            </td>
            <td className="r">
              <Num value={p.last_price} />
            </td>
            <td className="r">
              <Num value={p.unrealized_pnl} signed />
            </td>
            <td className="r">
              <Num value={p.realized_pnl} signed />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function FillsTable({ fills }: { fills: Fill[] }) {
  if (fills.length === 0) return <Empty>No fills yet.</Empty>;
  return (
    <table data-testid="fills">
      <thead>
        <tr>
          <th>Trade</th>
          <th>Order</th>
          <th>Instrument</th>
          <th>Side</th>
          <th className="r">Quantity</th>
          <th className="r">Price</th>
          <th className="r">Commission</th>
        </tr>
      </thead>
      <tbody>
        {[...fills].reverse().map((f) => (
          <tr key={f.trade_id}>
            <td className="mono">{f.trade_id}</td>
            <td className="mono">{f.client_order_id}</td>
            <td>{f.instrument_id}</td>
            <td className={f.side === 'BUY' ? 'pos' : 'neg'}>{f.side}</td>
            <td className="r">
              <Num value={f.quantity} />
            </td>
            <td className="r">
              <Num value={f.price} />
            </td>
            <td className="r">
              <Num value={f.commission} /> {f.commission_currency}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function OrdersTable({
  orders,
  actions,
  testId,
}: {
  orders: Order[];
  actions?: (order: Order) => ReactNode;
  testId: string;
}) {
  if (orders.length === 0) return <Empty>No orders.</Empty>;
  return (
    <table data-testid={testId}>
      <thead>
        <tr>
          <th>Order</th>
          <th>Instrument</th>
          <th>Side</th>
          <th>Type</th>
          <th className="r">Quantity</th>
          <th className="r">Filled</th>
          <th className="r">Price</th>
          <th className="r">Avg price</th>
          <th>TIF</th>
          <th>Status</th>
          {actions ? <th /> : null}
        </tr>
      </thead>
      <tbody>
        {orders.map((o) => (
          <tr key={o.client_order_id} data-order={o.client_order_id}>
            <td className="mono">{o.client_order_id}</td>
            <td>{o.instrument_id}</td>
            <td className={o.side === 'BUY' ? 'pos' : 'neg'}>{o.side}</td>
            <td>{o.type}</td>
            <td className="r">
              <Num value={o.quantity} />
            </td>
            <td className="r">
              <Num value={o.filled_qty} />
            </td>
            <td className="r">
              <Num value={o.price ?? o.trigger_price} />
            </td>
            <td className="r">
              <Num value={o.avg_px} />
            </td>
            <td>{o.time_in_force}</td>
            <td>
              <Status value={o.status} />
            </td>
            {actions ? <td className="actions">{actions(o)}</td> : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type SubmitEvent, useState } from 'react';

import type { KillSwitch } from '../api/types';
import { useApi, useAuth } from '../app/auth';
import { Empty, ErrorNote, Field, Panel, plain, QueryState } from '../components/ui';
import { showTime } from '../lib/time';

/** "strategy:manual" -> the scope and id the API takes. */
function scopeOf(text: string): { scope: 'global' | 'account' | 'strategy'; id: string | null } {
  const [kind = 'global', id = ''] = text.split(':', 2);
  if (kind === 'strategy') return { scope: 'strategy', id };
  return { scope: kind === 'account' ? 'account' : 'global', id: null };
}

function KillSwitchRow({ item, admin }: { item: KillSwitch; admin: boolean }) {
  const api = useApi();
  const queries = useQueryClient();
  const [reason, setReason] = useState('');
  const { scope, id } = scopeOf(item.scope);
  const change = useMutation({
    mutationFn: () =>
      item.active
        ? api.releaseKillSwitch(scope, id, reason.trim() || 'released from the web UI')
        : api.tripKillSwitch({ scope, id, reason: reason.trim() }),
    onSuccess: () => {
      setReason('');
      for (const key of [['kill-switch'], ['orders']]) void queries.invalidateQueries({ queryKey: key });
    },
  });
  const submit = (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!item.active && !reason.trim()) return;
    change.mutate();
  };
  return (
    <tr data-scope={item.scope}>
      <td className="mono">{item.scope === 'account:' ? 'account' : item.scope}</td>
      <td>{item.active ? <span className="status status-active">ACTIVE</span> : <span className="muted">off</span>}</td>
      <td>{showTime(item.since ?? null)}</td>
      <td>{item.by ?? '—'}</td>
      <td>{item.reason ?? '—'}</td>
      <td className="actions">
        {admin ? (
          <form className="row" onSubmit={submit} aria-label={`Kill switch ${item.scope}`}>
            <input
              aria-label="Reason"
              placeholder={item.active ? 'reason (optional)' : 'reason (required)'}
              value={reason}
              onChange={(e) => setReason(e.target.value)}
            />
            <button type="submit" className={`small ${item.active ? '' : 'danger'}`} disabled={change.isPending || (!item.active && !reason.trim())}>
              {item.active ? 'Release' : 'Trip'}
            </button>
            <ErrorNote error={change.error} />
          </form>
        ) : null}
      </td>
    </tr>
  );
}

function KillSwitches({ admin }: { admin: boolean }) {
  const api = useApi();
  const switches = useQuery({ queryKey: ['kill-switch'], queryFn: api.killSwitches, refetchInterval: 10_000 });
  return (
    <QueryState what="The kill switch" query={switches}>
      {() => (
        <table data-testid="kill-switches">
          <thead>
            <tr>
              <th>Scope</th>
              <th>State</th>
              <th>Since</th>
              <th>By</th>
              <th>Reason</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(switches.data ?? []).map((item) => (
              <KillSwitchRow key={item.scope} item={item} admin={admin} />
            ))}
          </tbody>
        </table>
      )}
    </QueryState>
  );
}

function show(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'object' && Object.keys(value).length === 0) return '—';
  return plain(value);
}

function Limits({ admin }: { admin: boolean }) {
  const api = useApi();
  const queries = useQueryClient();
  const limits = useQuery({ queryKey: ['risk-limits'], queryFn: api.riskLimits });
  const [draft, setDraft] = useState<string | null>(null);
  const [reason, setReason] = useState('');
  const [invalid, setInvalid] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (body: Record<string, unknown>) => api.putRiskLimits(body, reason.trim()),
    onSuccess: () => {
      setDraft(null);
      setReason('');
      void queries.invalidateQueries({ queryKey: ['risk-limits'] });
    },
  });
  const submit = (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (draft === null) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(draft);
    } catch (error) {
      setInvalid(`not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      setInvalid('the limits are one JSON object');
      return;
    }
    if (!reason.trim()) {
      setInvalid('say why (it goes into the audit log)');
      return;
    }
    setInvalid(null);
    save.mutate(parsed as Record<string, unknown>);
  };
  return (
    <QueryState what="Risk limits" query={limits}>
      {() => {
        const current = limits.data?.limits ?? {};
        if (draft !== null) {
          return (
            <form onSubmit={submit} aria-label="Edit risk limits">
              <p className="muted small">
                The whole configuration (docs/risk.md): keys left out take their defaults; decimals are strings (&quot;0.5&quot;), never
                JSON numbers; <code>null</code> turns a limit off.
              </p>
              <textarea className="json" rows={24} value={draft} onChange={(e) => setDraft(e.target.value)} aria-label="Limits (JSON)" spellCheck={false} />
              <Field label="Reason">
                <input name="limits-reason" value={reason} onChange={(e) => setReason(e.target.value)} />
              </Field>
              <div className="row">
                <button type="submit" disabled={save.isPending}>
                  Save limits
                </button>
                <button type="button" className="ghost" onClick={() => setDraft(null)}>
                  Cancel
                </button>
              </div>
              {invalid ? <p className="field-error">{invalid}</p> : null}
              <ErrorNote error={save.error} />
            </form>
          );
        }
        return (
          <>
            {admin ? (
              <button type="button" className="small" onClick={() => setDraft(JSON.stringify(current, null, 2))}>
                Edit limits
              </button>
            ) : (
              <p className="muted small">Only admins change limits.</p>
            )}
            <dl className="kv limits" data-testid="risk-limits">
              {Object.entries(current).map(([key, value]) => (
                <div key={key} data-key={key}>
                  <dt>{key}</dt>
                  <dd className={`mono ${value === null ? 'muted' : ''}`}>{show(value)}</dd>
                </div>
              ))}
            </dl>
          </>
        );
      }}
    </QueryState>
  );
}

function Denials() {
  const api = useApi();
  const denials = useQuery({ queryKey: ['denials'], queryFn: api.denials, refetchInterval: 15_000 });
  return (
    <QueryState what="Denials" query={denials}>
      {() =>
        (denials.data ?? []).length === 0 ? (
          <Empty>Pre-trade risk has refused no order.</Empty>
        ) : (
          <table data-testid="denials">
            <thead>
              <tr>
                <th>Time</th>
                <th>Order</th>
                <th>Strategy</th>
                <th>Instrument</th>
                <th>Reason</th>
                <th>Message</th>
              </tr>
            </thead>
            <tbody>
              {(denials.data ?? []).map((d) => (
                <tr key={`${d.client_order_id}-${d.time}`}>
                  <td>{showTime(d.time)}</td>
                  <td className="mono">{d.client_order_id}</td>
                  <td>{d.strategy_id}</td>
                  <td>{d.instrument_id}</td>
                  <td className="mono neg">{d.reason}</td>
                  <td className="wrap">{d.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      }
    </QueryState>
  );
}

export function RiskPage() {
  const { can } = useAuth();
  const admin = can('risk:admin');
  return (
    <div className="grid">
      <Panel title="Kill switch" className="span-2">
        <KillSwitches admin={admin} />
      </Panel>
      <Panel title="Denials" className="span-2">
        <Denials />
      </Panel>
      <Panel title="Pre-trade risk limits" className="span-2">
        <Limits admin={admin} />
      </Panel>
    </div>
  );
}

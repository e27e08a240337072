import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type SubmitEvent, Fragment, type ReactNode, useState } from 'react';

import { isNotFound } from '../api/client';
import type { Instrument, StrategyInfo, StrategyInstance, StrategyPerformance } from '../api/types';
import { useApi, useAuth } from '../app/auth';
import { ParamForm } from '../components/ParamForm';
import { Empty, ErrorNote, Field, Num, Panel, plain, prose, QueryState, Status, Unavailable } from '../components/ui';
import { asSchema, initialValues, type ParamSchema, type ParamValues, parseParams } from '../lib/params';
import { showTime } from '../lib/time';

export function schemaOf(info: StrategyInfo): Record<string, ParamSchema> {
  return Object.fromEntries(Object.entries(info.parameters).map(([name, raw]) => [name, asSchema(raw)]));
}

function NewInstance({ info, instruments, onDone }: { info: StrategyInfo; instruments: Instrument[]; onDone: () => void }) {
  const api = useApi();
  const queries = useQueryClient();
  const schema = schemaOf(info);
  const [values, setValues] = useState<ParamValues>(() => initialValues(schema));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [chosen, setChosen] = useState<string[]>(instruments.slice(0, 1).map((i) => i.id));
  const [id, setId] = useState('');
  const create = useMutation({
    mutationFn: api.createInstance,
    onSuccess: () => {
      void queries.invalidateQueries({ queryKey: ['instances'] });
      onDone();
    },
  });
  const submit = (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    const parsed = parseParams(schema, values);
    const found = { ...parsed.errors };
    if (chosen.length === 0) found.instruments = 'choose at least one instrument';
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    create.mutate({ strategy: info.name, instrument_ids: chosen, params: parsed.params, ...(id.trim() ? { id: id.trim() } : {}) });
  };
  return (
    <form className="instance-form" onSubmit={submit} aria-label={`New ${info.name} instance`} noValidate>
      <Field label="Instance id (optional)">
        <input name="instance-id" value={id} onChange={(e) => setId(e.target.value)} placeholder={`${info.name}-1`} />
      </Field>
      <Field label="Instruments" error={errors.instruments}>
        <div className="checks">
          {instruments.map((inst) => (
            <label key={inst.id}>
              <input
                type="checkbox"
                checked={chosen.includes(inst.id)}
                onChange={(e) => setChosen((old) => (e.target.checked ? [...old, inst.id] : old.filter((x) => x !== inst.id)))}
              />{' '}
              {inst.id}
            </label>
          ))}
        </div>
      </Field>
      <ParamForm schema={schema} values={values} errors={errors} onChange={setValues} prefix={`new-${info.name}`} />
      <div className="row">
        <button type="submit" disabled={create.isPending}>
          Create instance
        </button>
        <button type="button" className="ghost" onClick={onDone}>
          Close
        </button>
      </div>
      {isNotFound(create.error) ? (
        <Unavailable what="Creating strategy instances" error={create.error} />
      ) : (
        <ErrorNote error={create.error} />
      )}
    </form>
  );
}

function Registry({ canWrite }: { canWrite: boolean }) {
  const api = useApi();
  const registry = useQuery({ queryKey: ['registry'], queryFn: api.registry });
  const instruments = useQuery({ queryKey: ['instruments'], queryFn: api.instruments });
  const [open, setOpen] = useState<string | null>(null);
  return (
    <QueryState what="The strategy registry" query={registry}>
      {() => (
        <div className="cards" data-testid="registry">
          {(registry.data ?? []).map((info) => (
            <article key={info.name} className="card">
              <header className="row spread">
                <h3>{info.name}</h3>
                {canWrite && open !== info.name ? (
                  <button type="button" className="small" onClick={() => setOpen(info.name)}>
                    New instance
                  </button>
                ) : null}
              </header>
              <p className="muted">{prose(info.description)}</p>
              <p className="params-summary">
                {Object.entries(info.parameters).map(([name, p]) => (
                  <span key={name} className="chip">
                    {name} = {String(p.default)}
                  </span>
                ))}
              </p>
              {open === info.name ? (
                <NewInstance info={info} instruments={instruments.data ?? []} onDone={() => setOpen(null)} />
              ) : null}
            </article>
          ))}
        </div>
      )}
    </QueryState>
  );
}

function Performance({ performance }: { performance: StrategyPerformance }) {
  const ccy = performance.base_currency;
  return (
    <>
      <div className="summary">
        <div className="stat">
          <span className="stat-label">Realised PnL</span>
          <span className="stat-value">
            <Num value={performance.realized_pnl} signed /> <span className="muted">{ccy}</span>
          </span>
        </div>
        <div className="stat">
          <span className="stat-label">Unrealised PnL</span>
          <span className="stat-value">
            <Num value={performance.unrealized_pnl} signed /> <span className="muted">{ccy}</span>
          </span>
        </div>
        <div className="stat">
          <span className="stat-label">Fees</span>
          <span className="stat-value">
            <Num value={performance.fees} /> <span className="muted">{ccy}</span>
          </span>
        </div>
        <div className="stat">
          <span className="stat-label">Orders · open · fills</span>
          <span className="stat-value">
            {performance.orders} · {performance.open_orders} · {performance.fills}
          </span>
        </div>
        <div className="stat">
          <span className="stat-label">As of</span>
          <span className="stat-value muted">{showTime(performance.time)}</span>
        </div>
      </div>
      {performance.positions.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th>Instrument</th>
              <th className="r">Quantity</th>
              <th className="r">Avg open</th>
              <th className="r">Last</th>
              <th className="r">Unrealised</th>
              <th className="r">Realised</th>
              <th className="r">Fees</th>
            </tr>
          </thead>
          <tbody>
            {performance.positions.map((p) => (
              <tr key={p.instrument_id}>
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
                <td className="r">
                  <Num value={p.fees} /> {p.currency}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
}

function InstanceDetails({ instance, registry, canWrite }: { instance: StrategyInstance; registry: StrategyInfo[]; canWrite: boolean }) {
  const api = useApi();
  const queries = useQueryClient();
  const logs = useQuery({ queryKey: ['instances', instance.id, 'logs'], queryFn: () => api.instanceLogs(instance.id), refetchInterval: 5_000 });
  const performance = useQuery({
    queryKey: ['instances', instance.id, 'performance'],
    queryFn: () => api.instancePerformance(instance.id),
    refetchInterval: 10_000,
  });
  const info = registry.find((r) => r.name === instance.strategy);
  const schema = info ? schemaOf(info) : {};
  const [values, setValues] = useState<ParamValues>(() => initialValues(schema, instance.params));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const configure = useMutation({
    mutationFn: (params: Record<string, unknown>) => api.configureInstance(instance.id, params),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ['instances'] }),
  });
  const save = (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    const parsed = parseParams(schema, values);
    setErrors(parsed.errors);
    if (Object.keys(parsed.errors).length === 0) configure.mutate(parsed.params);
  };
  return (
    <div className="details">
      {info && canWrite && instance.state === 'running' ? (
        <p className="muted small">Stop the instance to change its parameters.</p>
      ) : null}
      {info && canWrite && instance.state !== 'running' ? (
        <form onSubmit={save} aria-label={`Parameters of ${instance.id}`}>
          <ParamForm schema={schema} values={values} errors={errors} onChange={setValues} prefix={`edit-${instance.id}`} />
          <button type="submit" disabled={configure.isPending}>
            Save parameters
          </button>
          <ErrorNote error={configure.error} />
        </form>
      ) : null}
      <h4>Performance</h4>
      <QueryState what="Live performance" query={performance}>
        {() => (performance.data ? <Performance performance={performance.data} /> : null)}
      </QueryState>
      <h4>Log</h4>
      <QueryState what="The log" query={logs}>
        {() => {
          const lines = logs.data ?? [];
          return lines.length === 0 ? (
            <Empty>No log lines.</Empty>
          ) : (
            <pre className="log">
              {lines
                .map((l) => {
                  const fields = Object.entries(l.fields)
                    .map(([k, v]) => ` ${k}=${v}`)
                    .join('');
                  return `${showTime(l.time)} ${l.level.toUpperCase().padEnd(7)} ${l.message}${fields}`;
                })
                .join('\n')}
            </pre>
          );
        }}
      </QueryState>
    </div>
  );
}

function Instances({ canWrite }: { canWrite: boolean }) {
  const api = useApi();
  const queries = useQueryClient();
  const instances = useQuery({ queryKey: ['instances'], queryFn: api.instances, refetchInterval: 5_000 });
  const running = useQuery({ queryKey: ['strategies'], queryFn: api.runningStrategies, refetchInterval: 5_000 });
  const registry = useQuery({ queryKey: ['registry'], queryFn: api.registry });
  const [open, setOpen] = useState<string | null>(null);
  const act = useMutation({
    mutationFn: ({ id, action }: { id: string; action: 'start' | 'stop' | 'delete' }) =>
      action === 'start' ? api.startInstance(id) : action === 'stop' ? api.stopInstance(id) : api.deleteInstance(id),
    onSettled: () => {
      void queries.invalidateQueries({ queryKey: ['instances'] });
      void queries.invalidateQueries({ queryKey: ['strategies'] });
    },
  });

  if (isNotFound(instances.error)) {
    // Instance management is not on this server: show what the node runs.
    return (
      <>
        <Unavailable what="Managing strategy instances" error={instances.error} />
        <QueryState what="Running strategies" query={running}>
          {() => (
            <InstanceTable
              instances={(running.data ?? []).map((s) => ({
                id: s.id,
                strategy: s.name,
                instrument_ids: s.instruments,
                params: s.params,
                state: s.state,
                open_orders: s.open_orders,
                errors: s.errors,
              }))}
            />
          )}
        </QueryState>
      </>
    );
  }
  return (
    <QueryState what="Strategy instances" query={instances}>
      {() => (
        <>
          <ErrorNote error={act.error} />
          <InstanceTable
            instances={instances.data ?? []}
            actions={(instance) => (
              <>
                <button type="button" className="small" onClick={() => setOpen(open === instance.id ? null : instance.id)}>
                  {open === instance.id ? 'Hide' : 'Details'}
                </button>
                {canWrite ? (
                  <>
                    {instance.state === 'running' ? (
                      <button type="button" className="small" onClick={() => act.mutate({ id: instance.id, action: 'stop' })}>
                        Stop
                      </button>
                    ) : (
                      <button type="button" className="small" onClick={() => act.mutate({ id: instance.id, action: 'start' })}>
                        Start
                      </button>
                    )}
                    <button
                      type="button"
                      className="small danger"
                      onClick={() => act.mutate({ id: instance.id, action: 'delete' })}
                      disabled={instance.state === 'running'}
                      title={instance.state === 'running' ? 'stop it first' : undefined}
                    >
                      Delete
                    </button>
                  </>
                ) : null}
              </>
            )}
            details={(instance) =>
              open === instance.id ? <InstanceDetails instance={instance} registry={registry.data ?? []} canWrite={canWrite} /> : null
            }
          />
        </>
      )}
    </QueryState>
  );
}

function InstanceTable({
  instances,
  actions,
  details,
}: {
  instances: StrategyInstance[];
  actions?: (instance: StrategyInstance) => ReactNode;
  details?: (instance: StrategyInstance) => ReactNode;
}) {
  if (instances.length === 0) return <Empty>No strategy instances.</Empty>;
  return (
    <table data-testid="instances">
      <thead>
        <tr>
          <th>Id</th>
          <th>Strategy</th>
          <th>Instruments</th>
          <th>Parameters</th>
          <th>State</th>
          <th className="r">Open orders</th>
          <th>Errors</th>
          {actions ? <th /> : null}
        </tr>
      </thead>
      <tbody>
        {instances.map((instance) => {
          const more = details?.(instance);
          return (
            <Fragment key={instance.id}>
              <tr>
                <td className="mono">{instance.id}</td>
                <td>{instance.strategy}</td>
                <td>{instance.instrument_ids.join(', ')}</td>
                <td className="mono small">
                  {Object.entries(instance.params)
                    .map(([k, v]) => `${k}=${plain(v)}`)
                    .join(' ')}
                </td>
                <td>
                  <Status value={instance.state} />
                </td>
                <td className="r">{instance.open_orders}</td>
                <td className="errors">
                  {instance.errors.map((e, k) => (
                    <div key={k} className="neg">
                      {e.hook}: {e.message}
                    </div>
                  ))}
                </td>
                {actions ? <td className="actions">{actions(instance)}</td> : null}
              </tr>
              {more ? (
                <tr className="details-row">
                  <td colSpan={8}>{more}</td>
                </tr>
              ) : null}
            </Fragment>
          );
        })}
      </tbody>
    </table>
  );
}

export function StrategiesPage() {
  const { can } = useAuth();
  const canWrite = can('strategies:write');
  return (
    <div className="grid">
      <Panel title="Strategy instances" className="span-2">
        <Instances canWrite={canWrite} />
      </Panel>
      <Panel title="Registry" className="span-2">
        <Registry canWrite={canWrite} />
      </Panel>
    </div>
  );
}

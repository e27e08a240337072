import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type SubmitEvent, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';

import type { BacktestJob, BacktestResult, Instrument, StrategyInfo } from '../api/types';
import { useApi, useAuth } from '../app/auth';
import { ValueChart } from '../components/charts';
import { ParamForm } from '../components/ParamForm';
import { Empty, ErrorNote, Field, Num, Panel, plain, prose, QueryState, Status } from '../components/ui';
import { isDecimal } from '../lib/decimal';
import { initialValues, type ParamValues, parseParams } from '../lib/params';
import { seriesPoints, showTime } from '../lib/time';
import { schemaOf } from './Strategies';

function active(job: BacktestJob): boolean {
  return job.state === 'queued' || job.state === 'running';
}

function Progress({ job }: { job: BacktestJob }) {
  const pct = Math.round(job.progress * 100);
  return (
    <div className="progress" role="progressbar" aria-valuenow={pct} aria-valuemin={0} aria-valuemax={100} aria-label={`${job.id} progress`}>
      <div className="progress-bar" style={{ width: `${pct}%` }} />
      <span>{pct}%</span>
    </div>
  );
}

function SubmitForm({ registry, instruments }: { registry: StrategyInfo[]; instruments: Instrument[] }) {
  const api = useApi();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [strategy, setStrategy] = useState(registry.find((r) => r.name === 'sma_cross')?.name ?? registry[0]?.name ?? '');
  const info = registry.find((r) => r.name === strategy);
  const schema = info ? schemaOf(info) : {};
  const [values, setValues] = useState<ParamValues>(() => initialValues(schema));
  const [instrumentIds, setInstrumentIds] = useState<string[]>(instruments.slice(0, 1).map((i) => i.id));
  const [timeframe, setTimeframe] = useState('1m');
  const [start, setStart] = useState('');
  const [end, setEnd] = useState('');
  const [cash, setCash] = useState('1000000');
  const [fee, setFee] = useState('0.001');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const submit = useMutation({
    mutationFn: api.submitBacktest,
    onSuccess: (job) => {
      void queries.invalidateQueries({ queryKey: ['backtests'] });
      void navigate(`/backtests/${job.id}`);
    },
  });

  const chooseStrategy = (name: string) => {
    setStrategy(name);
    const next = registry.find((r) => r.name === name);
    setValues(next ? initialValues(schemaOf(next)) : {});
    setErrors({});
  };

  const send = (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    const parsed = parseParams(schema, values);
    const found: Record<string, string> = { ...parsed.errors };
    if (instrumentIds.length === 0) found.instruments = 'choose at least one instrument';
    if (!isDecimal(cash.trim())) found.cash = 'a plain decimal amount';
    if (fee.trim() && !isDecimal(fee.trim())) found.fee = 'a rate such as 0.001 (0.1 %)';
    if (!timeframe.trim()) found.timeframe = 'required (e.g. 1m, 1h)';
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    submit.mutate({
      strategy,
      params: parsed.params,
      instrument_ids: instrumentIds,
      timeframe: timeframe.trim(),
      start: start.trim() || null,
      end: end.trim() || null,
      cash: cash.trim(),
      fee: fee.trim() || null,
    });
  };

  return (
    <form onSubmit={send} aria-label="New backtest" noValidate className="backtest-form">
      <Field label="Strategy">
        <select name="strategy" value={strategy} onChange={(e) => chooseStrategy(e.target.value)}>
          {registry.map((r) => (
            <option key={r.name} value={r.name}>
              {r.name}
            </option>
          ))}
        </select>
      </Field>
      {info ? <p className="muted small">{prose(info.description)}</p> : null}
      <Field label="Instruments" error={errors.instruments}>
        <div className="checks">
          {instruments.map((inst) => (
            <label key={inst.id}>
              <input
                type="checkbox"
                checked={instrumentIds.includes(inst.id)}
                onChange={(e) =>
                  setInstrumentIds((old) => (e.target.checked ? [...old, inst.id] : old.filter((x) => x !== inst.id)))
                }
              />{' '}
              {inst.id}
            </label>
          ))}
        </div>
      </Field>
      <div className="row">
        <Field label="Timeframe" error={errors.timeframe}>
          <input name="timeframe" value={timeframe} onChange={(e) => setTimeframe(e.target.value)} size={6} />
        </Field>
        <Field label="Cash" error={errors.cash}>
          <input name="cash" inputMode="decimal" value={cash} onChange={(e) => setCash(e.target.value)} size={12} />
        </Field>
        <Field label="Fee rate" error={errors.fee}>
          <input name="fee" inputMode="decimal" value={fee} onChange={(e) => setFee(e.target.value)} size={8} />
        </Field>
      </div>
      <div className="row">
        <Field label="Start (UTC, optional)" hint="e.g. 2024-01-01T00:00:00">
          <input name="start" value={start} onChange={(e) => setStart(e.target.value)} />
        </Field>
        <Field label="End (UTC, optional, exclusive)">
          <input name="end" value={end} onChange={(e) => setEnd(e.target.value)} />
        </Field>
      </div>
      <h4>Parameters</h4>
      <ParamForm key={strategy} schema={schema} values={values} errors={errors} onChange={setValues} prefix="bt" />
      <button type="submit" disabled={submit.isPending || !strategy}>
        {submit.isPending ? 'Submitting…' : 'Run backtest'}
      </button>
      <ErrorNote error={submit.error} />
    </form>
  );
}

function Jobs({ selected }: { selected: string | undefined }) {
  const api = useApi();
  const jobs = useQuery({
    queryKey: ['backtests'],
    queryFn: api.backtests,
    refetchInterval: (query) => ((query.state.data ?? []).some(active) ? 1_000 : 10_000),
  });
  return (
    <QueryState what="Backtest jobs" query={jobs}>
      {() =>
        (jobs.data ?? []).length === 0 ? (
          <Empty>No backtests yet.</Empty>
        ) : (
          <table data-testid="backtest-jobs" className="selectable">
            <thead>
              <tr>
                <th>Job</th>
                <th>Strategy</th>
                <th>Instruments</th>
                <th>State</th>
                <th>Progress</th>
                <th>Submitted</th>
              </tr>
            </thead>
            <tbody>
              {(jobs.data ?? []).map((job) => (
                <tr key={job.id} className={job.id === selected ? 'selected' : ''}>
                  <td className="mono">
                    <Link to={`/backtests/${job.id}`}>{job.id}</Link>
                  </td>
                  <td>{job.request.strategy}</td>
                  <td>{job.request.instrument_ids.join(', ')}</td>
                  <td>
                    <Status value={job.state} />
                  </td>
                  <td>
                    <Progress job={job} />
                  </td>
                  <td>{showTime(job.created)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      }
    </QueryState>
  );
}

function Result({ result }: { result: BacktestResult }) {
  const summary: [string, string, boolean][] = [
    ['Initial cash', result.initial_cash, false],
    ['Final equity', result.final_equity, false],
    ['Final cash', result.final_cash, false],
    ['Realised PnL', result.realized_pnl, true],
    ['Fees', result.fees, false],
  ];
  const points = seriesPoints(result.equity.time, result.equity.equity);
  return (
    <>
      <div className="summary">
        {summary.map(([label, value, signed]) => (
          <div key={label} className="stat">
            <span className="stat-label">{label}</span>
            <span className="stat-value">
              <Num value={value} signed={signed} /> <span className="muted">{result.currency}</span>
            </span>
          </div>
        ))}
        <div className="stat">
          <span className="stat-label">Bars · orders · fills</span>
          <span className="stat-value">
            {result.bars} · {result.orders} · {result.fills}
          </span>
        </div>
      </div>
      <h3>Equity curve</h3>
      <ValueChart testId="equity-chart" points={points} />
      <div className="grid two">
        <div>
          <h3>Metrics</h3>
          <table data-testid="metrics">
            <tbody>
              {Object.entries(result.metrics).map(([key, value]) => (
                <tr key={key}>
                  <th>{key}</th>
                  <td className="r mono">{plain(value)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {result.errors.length > 0 ? (
            <>
              <h3>Strategy errors</h3>
              <ul className="neg">
                {result.errors.map((e, k) => (
                  <li key={k}>{e}</li>
                ))}
              </ul>
            </>
          ) : null}
        </div>
        <div>
          <h3>
            Trades <span className="muted">({result.trades.total})</span>
          </h3>
          {result.trades.items.length === 0 ? (
            <Empty>No round trips.</Empty>
          ) : (
            <div className="scroll">
              <table data-testid="trades">
                <thead>
                  <tr>
                    <th>Instrument</th>
                    <th>Side</th>
                    <th className="r">Quantity</th>
                    <th>Entry</th>
                    <th className="r">Entry price</th>
                    <th>Exit</th>
                    <th className="r">Exit price</th>
                    <th className="r">PnL</th>
                    <th className="r">Fees</th>
                  </tr>
                </thead>
                <tbody>
                  {result.trades.items.map((t, k) => (
                    <tr key={k}>
                      <td>{t.instrument_id}</td>
                      <td>{t.side}</td>
                      <td className="r">
                        <Num value={t.quantity} />
                      </td>
                      <td>{showTime(t.entry_time)}</td>
                      <td className="r">
                        <Num value={t.entry_price} />
                      </td>
                      <td>{showTime(t.exit_time)}</td>
                      <td className="r">
                        <Num value={t.exit_price} />
                      </td>
                      <td className="r">
                        <Num value={t.pnl} signed />
                      </td>
                      <td className="r">
                        <Num value={t.fees} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {result.trades.total > result.trades.items.length ? (
                <p className="muted small">
                  The first {result.trades.items.length} of {result.trades.total} trades.
                </p>
              ) : null}
            </div>
          )}
        </div>
      </div>
    </>
  );
}

function JobDetail({ jobId }: { jobId: string }) {
  const api = useApi();
  const job = useQuery({
    queryKey: ['backtests', jobId],
    queryFn: () => api.backtest(jobId),
    refetchInterval: (query) => (query.state.data && !active(query.state.data) ? false : 500),
  });
  const succeeded = job.data?.state === 'succeeded';
  const result = useQuery({
    queryKey: ['backtests', jobId, 'result'],
    queryFn: () => api.backtestResult(jobId),
    enabled: succeeded,
    staleTime: Infinity,
  });
  return (
    <QueryState what="The backtest" query={job}>
      {() => {
        const data = job.data;
        if (!data) return null;
        return (
          <div data-testid="backtest-detail">
            <p className="row">
              <Status value={data.state} /> <Progress job={data} />
              <span className="muted">
                {data.request.strategy} on {data.request.instrument_ids.join(', ')} ({data.request.timeframe}),{' '}
                {Object.entries(data.request.params ?? {})
                  .map(([k, v]) => `${k}=${plain(v)}`)
                  .join(' ')}
              </span>
            </p>
            {data.error ? (
              <p className="note error" role="alert">
                {data.error}
              </p>
            ) : null}
            {data.warnings.map((w, k) => (
              <p key={k} className="note warn">
                {w}
              </p>
            ))}
            {succeeded ? (
              <QueryState what="The result" query={result}>
                {() => (result.data ? <Result result={result.data} /> : null)}
              </QueryState>
            ) : null}
          </div>
        );
      }}
    </QueryState>
  );
}

export function BacktestsPage() {
  const api = useApi();
  const { can } = useAuth();
  const { jobId } = useParams();
  const registry = useQuery({ queryKey: ['registry'], queryFn: api.registry });
  const instruments = useQuery({ queryKey: ['instruments'], queryFn: api.instruments });
  return (
    <div className="grid backtests">
      <Panel title="New backtest">
        {can('backtests:write') ? (
          <QueryState what="The strategy registry" query={registry}>
            {() =>
              instruments.data ? (
                <SubmitForm registry={registry.data ?? []} instruments={instruments.data} />
              ) : (
                <ErrorNote error={instruments.error} />
              )
            }
          </QueryState>
        ) : (
          <p className="muted">Your role may not submit backtests.</p>
        )}
      </Panel>
      <Panel title="Jobs">
        <Jobs selected={jobId} />
      </Panel>
      {jobId ? (
        <Panel title={`Backtest ${jobId}`} className="span-2">
          <JobDetail key={jobId} jobId={jobId} />
        </Panel>
      ) : null}
    </div>
  );
}

// Small building blocks shared by the pages.
import type { ReactNode } from 'react';

import { ApiError, isNotFound } from '../api/client';
import { show, sign } from '../lib/decimal';

export function Panel({
  title,
  actions,
  children,
  className,
  testId,
}: {
  title: string;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
  testId?: string;
}) {
  return (
    <section className={`panel ${className ?? ''}`} aria-label={title} data-testid={testId}>
      <header className="panel-head">
        <h2>{title}</h2>
        {actions ? <div className="panel-actions">{actions}</div> : null}
      </header>
      <div className="panel-body">{children}</div>
    </section>
  );
}

/** A docstring line as prose (reStructuredText ``literals`` without their backticks). */
export function prose(text: string): string {
  return text.replace(/``([^`]+)``/g, '$1');
}

/** Any JSON value as text (strings as they are). */
export function plain(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** A refusal or failure, as the API explained it. */
export function ErrorNote({ error }: { error: unknown }) {
  if (error === null || error === undefined) return null;
  return (
    <p className="note error" role="alert">
      {errorText(error)}
    </p>
  );
}

/** A route this server does not have (404): said plainly, not as an error. */
export function Unavailable({ what, error }: { what: string; error?: unknown }) {
  const detail = error instanceof ApiError ? error.problem.detail : undefined;
  return (
    <p className="note unavailable" data-testid="unavailable">
      {what} is not available on this server{detail && detail !== 'Not Found' ? `: ${detail}` : '.'}
    </p>
  );
}

/** Loading, a 404 as "not available", any other error as itself; else the content. */
export function QueryState({
  what,
  query,
  children,
}: {
  what: string;
  query: { isPending: boolean; error: unknown };
  children: () => ReactNode;
}) {
  if (query.error) {
    return isNotFound(query.error) ? <Unavailable what={what} error={query.error} /> : <ErrorNote error={query.error} />;
  }
  if (query.isPending) return <p className="muted">Loading {what.toLowerCase()}…</p>;
  return <>{children()}</>;
}

/** A decimal string as given, coloured by its sign when ``signed``. */
export function Num({ value, signed }: { value: string | null | undefined; signed?: boolean }) {
  const s = signed ? sign(value) : 0;
  const cls = s > 0 ? 'num pos' : s < 0 ? 'num neg' : 'num';
  return <span className={cls}>{show(value)}</span>;
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="muted empty">{children}</p>;
}

export function Field({
  label,
  error,
  children,
  hint,
}: {
  label: string;
  error?: string | undefined;
  hint?: string | undefined;
  children: ReactNode;
}) {
  return (
    <label className={`field ${error ? 'invalid' : ''}`}>
      <span className="field-label">{label}</span>
      {children}
      {hint ? <span className="field-hint">{hint}</span> : null}
      {error ? <span className="field-error">{error}</span> : null}
    </label>
  );
}

export function Status({ value }: { value: string }) {
  return <span className={`status status-${value.toLowerCase()}`}>{value}</span>;
}

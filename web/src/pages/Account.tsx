import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type SubmitEvent, useState } from 'react';

import type { NewApiKey } from '../api/types';
import { useApi, useAuth } from '../app/auth';
import { Empty, ErrorNote, Field, Panel, QueryState } from '../components/ui';
import { showTime } from '../lib/time';

const SCOPES = ['read', 'trade', 'admin'] as const;
type Scope = (typeof SCOPES)[number];

function NewKeySecret({ created, onDismiss }: { created: NewApiKey; onDismiss: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="note secret" role="status" data-testid="new-key">
      <p>
        <strong>API key “{created.name}” created.</strong> Copy its secret now: it is shown only once and cannot be read again.
      </p>
      <code className="secret-value" data-testid="new-key-secret">
        {created.secret}
      </code>
      <div className="row">
        <button
          type="button"
          className="small"
          onClick={() => {
            void navigator.clipboard
              .writeText(created.secret)
              .then(() => setCopied(true))
              .catch(() => setCopied(false));
          }}
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
        <button type="button" className="small ghost" onClick={onDismiss}>
          I have stored it
        </button>
      </div>
    </div>
  );
}

function ApiKeys() {
  const api = useApi();
  const queries = useQueryClient();
  const keys = useQuery({ queryKey: ['api-keys'], queryFn: api.apiKeys });
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>(['read']);
  const [days, setDays] = useState('');
  const [invalid, setInvalid] = useState<string | null>(null);
  const [created, setCreated] = useState<NewApiKey | null>(null);
  const create = useMutation({
    mutationFn: api.createApiKey,
    onSuccess: (key) => {
      setCreated(key);
      setName('');
      void queries.invalidateQueries({ queryKey: ['api-keys'] });
    },
  });
  const revoke = useMutation({
    mutationFn: api.revokeApiKey,
    onSettled: () => void queries.invalidateQueries({ queryKey: ['api-keys'] }),
  });
  const submit = (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    const wanted = days.trim();
    if (!name.trim()) return setInvalid('name the key (what will use it?)');
    if (scopes.length === 0) return setInvalid('choose at least one scope');
    if (wanted && !/^\d+$/.test(wanted)) return setInvalid('expiry in whole days');
    setInvalid(null);
    setCreated(null);
    create.mutate({
      name: name.trim(),
      scopes,
      ip_allowlist: [],
      expires_in_s: wanted ? Number.parseInt(wanted, 10) * 86_400 : null,
    });
  };
  return (
    <>
      <form className="row wrap" onSubmit={submit} aria-label="New API key" noValidate>
        <Field label="Name">
          <input name="key-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="my trading bot" />
        </Field>
        <Field label="Scopes">
          <div className="checks">
            {SCOPES.map((scope) => (
              <label key={scope}>
                <input
                  type="checkbox"
                  checked={scopes.includes(scope)}
                  onChange={(e) => setScopes((old) => (e.target.checked ? [...old, scope] : old.filter((s) => s !== scope)))}
                />{' '}
                {scope}
              </label>
            ))}
          </div>
        </Field>
        <Field label="Expires in (days, optional)">
          <input name="key-days" value={days} onChange={(e) => setDays(e.target.value)} size={5} />
        </Field>
        <button type="submit" disabled={create.isPending}>
          Create key
        </button>
      </form>
      {invalid ? <p className="field-error">{invalid}</p> : null}
      <ErrorNote error={create.error} />
      {created ? <NewKeySecret created={created} onDismiss={() => setCreated(null)} /> : null}
      <ErrorNote error={revoke.error} />
      <QueryState what="API keys" query={keys}>
        {() =>
          (keys.data ?? []).length === 0 ? (
            <Empty>No API keys.</Empty>
          ) : (
            <table data-testid="api-keys">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Key</th>
                  <th>Scopes</th>
                  <th>Created</th>
                  <th>Expires</th>
                  <th>Last used</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {(keys.data ?? []).map((key) => {
                  const gone = key.revoked;
                  return (
                  <tr key={key.id} data-key={key.name} className={gone ? 'revoked' : ''}>
                    <td>{key.name}</td>
                    <td className="mono">{key.hint}</td>
                    <td>{key.scopes.join(', ')}</td>
                    <td>{showTime(key.created_ns)}</td>
                    <td>{key.expires_ns ? showTime(key.expires_ns) : 'never'}</td>
                    <td>{key.last_used_ns ? showTime(key.last_used_ns) : 'never'}</td>
                    <td className="actions">
                      {gone ? (
                        <span className="status status-revoked">revoked</span>
                      ) : (
                        <button
                          type="button"
                          className="small danger"
                          disabled={revoke.isPending && revoke.variables === key.id}
                          onClick={() => revoke.mutate(key.id)}
                        >
                          Revoke
                        </button>
                      )}
                    </td>
                  </tr>
                  );
                })}
              </tbody>
            </table>
          )
        }
      </QueryState>
    </>
  );
}

function Sessions() {
  const { api, logout } = useAuth();
  const queries = useQueryClient();
  const sessions = useQuery({ queryKey: ['sessions'], queryFn: api.sessions });
  const revoke = useMutation({
    mutationFn: async (id: string) => {
      await api.revokeSession(id);
      if (id === api.sessionId) await logout(); // this tab's own session
    },
    onSettled: () => void queries.invalidateQueries({ queryKey: ['sessions'] }),
  });
  const live = (sessions.data ?? []).filter((s) => s.revoked_ns === null);
  return (
    <QueryState what="Sessions" query={sessions}>
      {() => (
        <>
          <ErrorNote error={revoke.error} />
          {live.length === 0 ? (
            <Empty>No sessions.</Empty>
          ) : (
            <table data-testid="sessions">
              <thead>
                <tr>
                  <th>Session</th>
                  <th>Signed in</th>
                  <th>Last seen</th>
                  <th>Expires</th>
                  <th>From</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {live.map((s) => (
                  <tr key={s.id}>
                    <td className="mono">
                      {s.id.slice(0, 12)}… {s.id === api.sessionId ? <span className="chip">this tab</span> : null}
                    </td>
                    <td>{showTime(s.created_ns)}</td>
                    <td>{showTime(s.last_seen_ns)}</td>
                    <td>{showTime(s.expires_ns)}</td>
                    <td className="small">
                      {s.ip ?? '—'} <span className="muted">{s.user_agent?.slice(0, 60)}</span>
                    </td>
                    <td className="actions">
                      <button type="button" className="small danger" onClick={() => revoke.mutate(s.id)}>
                        Revoke
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </QueryState>
  );
}

function Users() {
  const api = useApi();
  const queries = useQueryClient();
  const users = useQuery({ queryKey: ['users'], queryFn: api.users });
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<'admin' | 'trader' | 'viewer'>('viewer');
  const create = useMutation({
    mutationFn: api.createUser,
    onSuccess: () => {
      setUsername('');
      setPassword('');
      void queries.invalidateQueries({ queryKey: ['users'] });
    },
  });
  return (
    <>
      <form
        className="row wrap"
        aria-label="New user"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate({ username: username.trim(), password, role });
        }}
      >
        <Field label="User name">
          <input name="new-username" value={username} onChange={(e) => setUsername(e.target.value)} required pattern="[A-Za-z0-9._\-]+" />
        </Field>
        <Field label="Password" hint="at least 12 characters">
          <input name="new-password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        </Field>
        <Field label="Role">
          <select name="new-role" value={role} onChange={(e) => setRole(e.target.value as typeof role)}>
            <option value="viewer">viewer</option>
            <option value="trader">trader</option>
            <option value="admin">admin</option>
          </select>
        </Field>
        <button type="submit" disabled={create.isPending}>
          Create user
        </button>
      </form>
      <ErrorNote error={create.error} />
      <QueryState what="Users" query={users}>
        {() => (
          <table data-testid="users">
            <thead>
              <tr>
                <th>User</th>
                <th>Role</th>
                <th>State</th>
                <th>Id</th>
              </tr>
            </thead>
            <tbody>
              {(users.data ?? []).map((u) => (
                <tr key={u.id}>
                  <td>{u.username}</td>
                  <td>{u.role}</td>
                  <td>{u.disabled ? 'disabled' : 'active'}</td>
                  <td className="mono small">{u.id}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </QueryState>
    </>
  );
}

export function AccountPage() {
  const { me, can } = useAuth();
  return (
    <div className="grid">
      <Panel title="You" className="span-2">
        <p>
          Signed in as <strong>{me?.username}</strong> ({me?.role}). Permissions:{' '}
          <span className="muted small">{me?.permissions.join(', ')}</span>
        </p>
      </Panel>
      <Panel title="API keys" className="span-2">
        {can('keys:manage') ? <ApiKeys /> : <p className="muted">Your role may not manage API keys.</p>}
      </Panel>
      <Panel title="Sessions" className="span-2">
        <Sessions />
      </Panel>
      {can('users:admin') ? (
        <Panel title="Users" className="span-2">
          <Users />
        </Panel>
      ) : null}
    </div>
  );
}

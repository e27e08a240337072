// The HTTP client of the API: bearer access tokens kept in memory, the refresh token in this
// tab's sessionStorage (so a reload keeps the session), and refresh-token rotation done
// transparently: a request whose access token is about to expire, or that gets a 401, first
// refreshes — one refresh at a time, shared by every request waiting for it, since presenting
// a refresh token twice ends the whole session (docs/auth.md).

export const API_BASE = '/api/v1';
const EARLY_REFRESH_MS = 30_000;

/** An RFC 9457 problem document, as the gateway answers errors. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  field?: string;
  reason?: string;
  request_id?: string;
  errors?: { loc?: (string | number)[]; msg?: string }[];
}

/** A refused request: its status and problem document. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;

  constructor(status: number, problem: Problem) {
    super(problemMessage(status, problem));
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
  }
}

/** What a person reads of a problem: its detail, with the fields the schema refused. */
export function problemMessage(status: number, problem: Problem): string {
  const detail = problem.detail ?? problem.title ?? `HTTP ${status}`;
  const fields = (problem.errors ?? [])
    .map((e) => {
      const where = (e.loc ?? []).filter((p) => p !== 'body' && p !== 'query').join('.');
      return where ? `${where}: ${e.msg ?? ''}` : (e.msg ?? '');
    })
    .filter((text) => text && !detail.includes(text));
  const reason = problem.reason ? ` (${problem.reason})` : '';
  return [detail + reason, ...fields].join(' — ');
}

/** True when the error says the route does not exist on this server (yet). */
export function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404;
}

export interface TokenStore {
  load(): string | null;
  save(refreshToken: string | null): void;
}

export const sessionTokenStore: TokenStore = {
  load: () => sessionStorage.getItem('tradeforge.refresh'),
  save: (token) => {
    if (token) sessionStorage.setItem('tradeforge.refresh', token);
    else sessionStorage.removeItem('tradeforge.refresh');
  },
};

interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  session_id: string;
}

export interface ClientOptions {
  store: TokenStore;
  fetch?: typeof fetch;
  now?: () => number;
  base?: string;
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export class ApiClient {
  private readonly store: TokenStore;
  private readonly fetcher: typeof fetch;
  private readonly now: () => number;
  private readonly base: string;
  private access: string | null = null;
  private accessExpires = 0;
  private refreshing: Promise<boolean> | null = null;
  private readonly listeners = new Set<() => void>();
  sessionId: string | null = null;

  constructor(options: ClientOptions) {
    this.store = options.store;
    this.fetcher = options.fetch ?? ((input, init) => fetch(input, init));
    this.now = options.now ?? (() => Date.now());
    this.base = options.base ?? API_BASE;
  }

  /** Whether a session may exist (a refresh token is kept). */
  get signedIn(): boolean {
    return this.access !== null || this.store.load() !== null;
  }

  /** Called when the session ends (logout, or a refresh the server refused). */
  onSessionEnded(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async login(username: string, password: string): Promise<void> {
    const tokens = await this.send<Tokens>('POST', '/auth/login', { username, password }, null);
    this.keep(tokens);
  }

  async logout(): Promise<void> {
    try {
      if (this.signedIn) await this.request('POST', '/auth/logout');
    } finally {
      this.end();
    }
  }

  /** A valid access token (refreshed when needed), e.g. for the WebSocket. */
  async token(): Promise<string> {
    if (this.access === null || this.now() >= this.accessExpires - EARLY_REFRESH_MS) {
      if (!(await this.refresh())) throw new ApiError(401, { detail: 'signed out' });
    }
    if (this.access === null) throw new ApiError(401, { detail: 'signed out' });
    return this.access;
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, undefined, query);
  }

  async request<T = unknown>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
    const url = path + queryString(query);
    const token = await this.token();
    try {
      return await this.send<T>(method, url, body, token);
    } catch (error) {
      // An access token revoked or expired early: one refresh, then the request once more.
      if (error instanceof ApiError && error.status === 401 && (await this.refresh(token))) {
        return this.send<T>(method, url, body, this.access);
      }
      throw error;
    }
  }

  /** Refresh the tokens, once for all callers; ``stale`` is the access token that failed (a
   * refresh another caller finished since then counts). */
  private refresh(stale?: string): Promise<boolean> {
    if (stale !== undefined && this.access !== null && this.access !== stale) {
      return Promise.resolve(true);
    }
    this.refreshing ??= this.rotate().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async rotate(): Promise<boolean> {
    const refreshToken = this.store.load();
    if (refreshToken === null) {
      this.end();
      return false;
    }
    try {
      const tokens = await this.send<Tokens>('POST', '/auth/refresh', { refresh_token: refreshToken }, null);
      this.keep(tokens);
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        this.end();
        return false;
      }
      throw error; // offline, 429, 503: the session may still be good
    }
  }

  private keep(tokens: Tokens): void {
    this.access = tokens.access_token;
    this.accessExpires = this.now() + tokens.expires_in * 1000;
    this.sessionId = tokens.session_id;
    this.store.save(tokens.refresh_token);
  }

  private end(): void {
    const had = this.access !== null || this.store.load() !== null;
    this.access = null;
    this.sessionId = null;
    this.store.save(null);
    if (had) for (const listener of this.listeners) listener();
  }

  private async send<T>(method: string, url: string, body: unknown, token: string | null): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const answer = await this.fetcher(this.base + url, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await answer.text();
    if (!answer.ok) {
      let problem: Problem = { detail: text.slice(0, 300) || answer.statusText };
      try {
        problem = JSON.parse(text) as Problem;
      } catch {
        // not JSON: keep the text
      }
      throw new ApiError(answer.status, problem);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

export function queryString(query?: Query): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== null && value !== undefined && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** An instrument id in a path: ``BTC/USDT.SIM`` encoded as one segment. */
export function pathId(id: string): string {
  return encodeURIComponent(id);
}

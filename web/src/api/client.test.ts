import { describe, expect, it } from 'vitest';

import { ApiClient, ApiError, problemMessage, type TokenStore } from './client';

/** A fake gateway: tokens rotate on every refresh, a used refresh token is refused (and ends
 * the session, as the real one does), and protected routes check the bearer token. */
class FakeGateway {
  now = 0;
  issued = 0;
  refreshes = 0;
  valid = new Set<string>();
  unusedRefresh = new Set<string>();
  revoked = false;
  calls: string[] = [];

  fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    await Promise.resolve(); // answer asynchronously, like the network
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = init?.method ?? 'GET';
    this.calls.push(`${method} ${url}`);
    const headers = (init?.headers ?? {}) as Record<string, string>;
    const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, string>) : {};
    if (url === '/api/v1/auth/login') {
      return body.password === 'right' ? this.tokens() : problem(401, 'wrong user name or password');
    }
    if (url === '/api/v1/auth/refresh') {
      this.refreshes += 1;
      const token = body.refresh_token ?? '';
      if (this.revoked || !this.unusedRefresh.delete(token)) {
        this.revoked = true; // reuse ends the session
        return problem(401, 'refresh token reused');
      }
      return this.tokens();
    }
    const bearer = (headers.Authorization ?? '').replace('Bearer ', '');
    if (this.revoked || !this.valid.has(bearer)) return problem(401, 'token expired');
    if (url.startsWith('/api/v1/orders') && method === 'POST') {
      return problem(422, 'order refused by pre-trade risk: quantity 5 above 2', { reason: 'MAX_ORDER_QUANTITY' });
    }
    return new Response(JSON.stringify({ ok: true, url }), { status: 200 });
  };

  private tokens(): Response {
    this.issued += 1;
    const access = `access-${this.issued}`;
    const refresh = `refresh-${this.issued}`;
    this.valid.add(access);
    this.unusedRefresh.add(refresh);
    const body = { access_token: access, refresh_token: refresh, expires_in: 900, session_id: 's1' };
    return new Response(JSON.stringify(body), { status: 200 });
  }

  expireAccessTokens(): void {
    this.valid.clear();
  }
}

function problem(status: number, detail: string, extra: Record<string, unknown> = {}): Response {
  const body = { type: 'about:blank', title: 'refused', status, detail, ...extra };
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/problem+json' } });
}

function memoryStore(): TokenStore & { value: string | null } {
  const store = {
    value: null as string | null,
    load: () => store.value,
    save: (token: string | null) => {
      store.value = token;
    },
  };
  return store;
}

function setup() {
  const server = new FakeGateway();
  const store = memoryStore();
  const client = new ApiClient({ store, fetch: server.fetch, now: () => server.now });
  return { server, store, client };
}

describe('ApiClient', () => {
  it('logs in and sends the access token', async () => {
    const { server, store, client } = setup();
    await client.login('admin', 'right');
    expect(store.value).toBe('refresh-1');
    await expect(client.get('/instruments')).resolves.toEqual({ ok: true, url: '/api/v1/instruments' });
    expect(server.refreshes).toBe(0);
  });

  it('refuses a wrong password with the server problem', async () => {
    const { client } = setup();
    const error = await client.login('admin', 'wrong').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(401);
    expect((error as ApiError).message).toBe('wrong user name or password');
    expect(client.signedIn).toBe(false);
  });

  it('refreshes once for many requests when the access token is about to expire', async () => {
    const { server, store, client } = setup();
    await client.login('admin', 'right');
    server.now = 900_000 - 10_000; // 10 s before expiry: refresh first
    const answers = await Promise.all([client.get('/a'), client.get('/b'), client.get('/c')]);
    expect(answers).toHaveLength(3);
    expect(server.refreshes).toBe(1); // a second use of the refresh token would end the session
    expect(store.value).toBe('refresh-2');
  });

  it('refreshes once and retries when the server says the token expired', async () => {
    const { server, client } = setup();
    await client.login('admin', 'right');
    server.expireAccessTokens();
    const answers = await Promise.all([client.get('/a'), client.get('/b')]);
    expect(answers.map((a) => (a as { url: string }).url)).toEqual(['/api/v1/a', '/api/v1/b']);
    expect(server.refreshes).toBe(1);
    expect(server.revoked).toBe(false);
  });

  it('ends the session when the refresh is refused', async () => {
    const { server, store, client } = setup();
    await client.login('admin', 'right');
    let ended = 0;
    client.onSessionEnded(() => (ended += 1));
    server.revoked = true; // e.g. revoked from another device
    const error = await client.get('/a').catch((e: unknown) => e);
    expect((error as ApiError).status).toBe(401);
    expect(ended).toBe(1);
    expect(store.value).toBeNull();
    expect(client.signedIn).toBe(false);
  });

  it('carries the problem detail and risk reason of a refusal', async () => {
    const { client } = setup();
    await client.login('admin', 'right');
    const error = await client.request('POST', '/orders', { quantity: '5' }).catch((e: unknown) => e);
    expect((error as ApiError).status).toBe(422);
    expect((error as ApiError).message).toBe('order refused by pre-trade risk: quantity 5 above 2 (MAX_ORDER_QUANTITY)');
  });

  it('logs out and forgets the tokens', async () => {
    const { server, store, client } = setup();
    await client.login('admin', 'right');
    await client.logout();
    expect(store.value).toBeNull();
    expect(server.calls).toContain('POST /api/v1/auth/logout');
    await expect(client.get('/a')).rejects.toBeInstanceOf(ApiError);
  });
});

describe('problemMessage', () => {
  it('names the fields the schema refused', () => {
    const text = problemMessage(422, {
      detail: 'The request does not match the schema.',
      errors: [{ loc: ['body', 'quantity'], msg: 'String should match pattern' }],
    });
    expect(text).toBe('The request does not match the schema. — quantity: String should match pattern');
  });

  it('falls back to the status', () => {
    expect(problemMessage(503, {})).toBe('HTTP 503');
  });
});

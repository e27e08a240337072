// A user's path through the web UI, in headless Chromium against a real `tradeforge up`:
// log in; the dashboard shows the instruments and a live price; a limit order placed on the
// ticket appears among the open orders and is cancelled; a market order fills and shows as a
// fill and a position; an API key is created (its secret shown once) and revoked; a backtest
// runs and shows its equity curve, metrics and trades; log out. One screenshot per page goes
// to $E2E_SCREENSHOTS (default: a new temporary directory, printed).
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect, type Page, test } from '@playwright/test';

import { ADMIN_PASSWORD, Platform } from './platform';

const platform = new Platform();
let shots = '';
const DECIMAL = /^\d+\.\d+$/;

test.beforeAll(async () => {
  await platform.start();
  shots = process.env.E2E_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'tradeforge-screens-'));
  mkdirSync(shots, { recursive: true });
  console.log(`screenshots: ${shots}`);
});

test.afterAll(async () => {
  await platform.stop();
});

async function go(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

test('a user trades, manages keys, runs a backtest and logs out', async ({ page }) => {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    const text = message.text();
    // Refusals the journey provokes (a wrong password, a risk denial)
    // are logged by Chromium as failed resources; scripts errors and CSP violations are not.
    if (message.type() === 'error' && !/^Failed to load resource: the server responded/.test(text)) {
      problems.push(`console: ${text}`);
    }
  });
  const refreshes: number[] = [];
  page.on('response', (response) => {
    if (response.url().endsWith('/api/v1/auth/refresh')) refreshes.push(response.status());
  });
  const base = platform.url;

  await test.step('log in', async () => {
    await page.goto(`${base}/trading`); // a client route: the gateway serves the app
    await expect(page).toHaveURL(/\/login$/);
    await page.getByLabel('User name').fill('admin');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page.getByRole('alert')).toContainText('invalid');
    await shot(page, '01-login');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page).toHaveURL(/\/trading$/); // back where the user was going
    await expect(page.getByTestId('who')).toContainText('admin');
  });

  let lastPrice = '';
  let otherSession = ''; // an access token of a second login of the admin's
  await test.step('the dashboard shows the instruments and a live price', async () => {
    await go(page, 'Dashboard');
    const markets = page.getByTestId('markets');
    await expect(markets.locator('tbody tr')).toHaveCount(2);
    await expect(markets).toContainText('BTC/USDT.SIM');
    await expect(markets).toContainText('ETH/USDT.SIM');
    const price = page.getByTestId('last-BTC/USDT.SIM');
    await expect(price).toHaveText(DECIMAL);
    lastPrice = (await price.textContent()) ?? '';
    await expect(page.getByTestId('live-status')).toHaveText('live');
    await expect(page.getByTestId('candle-chart').locator('canvas').first()).toBeVisible();
    await expect(page.getByTestId('candle-chart')).not.toHaveAttribute('data-points', '0');
    // The order book the node keeps from the generated market: bids and asks, best first.
    const book = page.getByRole('region', { name: 'Order book' }).getByTestId('book');
    await expect(book.locator('tbody tr').first()).toBeVisible();
    const bid = Number((await book.locator('tbody tr').first().locator('td').nth(1).textContent()) ?? 'NaN');
    const ask = Number((await book.locator('tbody tr').first().locator('td').nth(2).textContent()) ?? 'NaN');
    expect(bid).toBeLessThan(ask);
    // The portfolio: its figures, or plainly "not available" where the server lacks the route.
    await expect(page.getByRole('region', { name: 'Portfolio', exact: true })).toContainText(/Equity|not available on this server/);
    await page.getByRole('button', { name: 'ETH/USDT.SIM' }).click();
    await expect(page.getByRole('region', { name: /ETH\/USDT\.SIM · 1m candles/ })).toBeVisible();
    await shot(page, '02-dashboard');
  });

  await test.step('a limit order rests among the open orders and is cancelled', async () => {
    await go(page, 'Trading');
    const ticket = page.getByRole('form', { name: 'Order ticket' });
    await ticket.getByLabel('Type').selectOption('LIMIT');
    await ticket.getByLabel('Quantity').fill('0.000015');
    await ticket.getByLabel('Limit price').fill('1000.005');
    await ticket.getByRole('button', { name: 'Buy BTC' }).click();
    // Checked before sending: off the lot and the tick.
    await expect(ticket).toContainText('quantity must be a multiple of the lot 0.00001');
    await expect(ticket).toContainText('price must be a multiple of the tick 0.01');

    const below = `${Math.floor(Number(lastPrice) * 0.9)}.00`; // far below the market: it rests
    await ticket.getByLabel('Quantity').fill('0.01');
    await ticket.getByLabel('Limit price').fill(below);
    await ticket.getByRole('button', { name: 'Buy BTC' }).click();
    await expect(page.getByTestId('ticket-result')).toContainText('ACCEPTED');
    const orderId = ((await page.getByTestId('ticket-result').locator('.mono').textContent()) ?? '').trim();
    expect(orderId).toMatch(/^ui-/);
    const row = page.getByTestId('open-orders').locator(`tr[data-order="${orderId}"]`);
    await expect(row).toContainText('LIMIT');
    await expect(row).toContainText(below);
    await expect(row).toContainText('0.01');
    await shot(page, '03-trading-open-order');
    // Modify: a larger quantity at a price one tick lower.
    await row.getByRole('button', { name: 'Modify' }).click();
    const modify = row.getByRole('form', { name: `Modify ${orderId}` });
    await modify.getByLabel('New quantity').fill('0.03');
    const lower = `${Number(below.split('.')[0]) - 1}.00`;
    await modify.getByLabel('New price').fill(lower);
    await modify.getByRole('button', { name: 'Save' }).click();
    await expect(row.locator('td').nth(4)).toHaveText(/^0\.03/); // quantity column
    await expect(row).toContainText(lower);
    await row.getByRole('button', { name: 'Cancel' }).click();
    await expect(row).toHaveCount(0);
    await expect(page.getByTestId('closed-orders').locator(`tr[data-order="${orderId}"]`)).toContainText('CANCELED');
  });

  await test.step('a market order fills and shows as a fill and a position', async () => {
    const ticket = page.getByRole('form', { name: 'Order ticket' });
    await ticket.getByLabel('Type').selectOption('MARKET');
    await expect(ticket.getByLabel('Limit price')).toHaveCount(0);
    await ticket.getByLabel('Quantity').fill('0.02');
    await ticket.getByRole('button', { name: 'Buy BTC' }).click();
    const result = page.getByTestId('ticket-result');
    await expect(result).toContainText('FILLED');
    const orderId = ((await result.locator('.mono').textContent()) ?? '').trim();
    await expect(page.getByTestId('fills').locator('tr', { hasText: orderId })).toContainText('0.02');
    const position = page.getByTestId('positions').locator('tr', { hasText: 'BTC/USDT.SIM' });
    await expect(position).toContainText('manual');
    await expect(position).toContainText('0.02');
    await shot(page, '04-trading-filled');
  });

  await test.step('an order refused by pre-trade risk shows the reason', async () => {
    // Tighten a limit over the API (another session of the admin's).
    const login = await page.request.post(`${base}/api/v1/auth/login`, {
      data: { username: 'admin', password: ADMIN_PASSWORD },
    });
    otherSession = ((await login.json()) as { access_token: string }).access_token;
    const token = otherSession;
    const limits = await page.request.put(`${base}/api/v1/risk/limits`, {
      headers: { Authorization: `Bearer ${token}` },
      data: { limits: { max_order_quantity: '1' }, reason: 'e2e' },
    });
    expect(limits.status()).toBe(200);
    const ticket = page.getByRole('form', { name: 'Order ticket' });
    await ticket.getByLabel('Quantity').fill('2');
    await ticket.getByRole('button', { name: 'Buy BTC' }).click();
    await expect(page.getByTestId('ticket-error')).toContainText('MAX_ORDER_QUANTITY');
    await go(page, 'Risk');
    await expect(page.getByTestId('denials')).toContainText('MAX_ORDER_QUANTITY');
    await expect(page.getByTestId('risk-limits').locator('[data-key="max_order_quantity"] dd')).toHaveText('1');
    // The kill switch: tripped (with a reason) and released.
    const global = page.getByTestId('kill-switches').locator('tr[data-scope="global"]');
    await expect(global).toContainText('off');
    await expect(global.getByRole('button', { name: 'Trip' })).toBeDisabled(); // a reason first
    await global.getByLabel('Reason').fill('e2e drill');
    await global.getByRole('button', { name: 'Trip' }).click();
    await expect(global).toContainText('ACTIVE');
    await expect(global).toContainText('e2e drill');
    await shot(page, '05-risk');
    await global.getByRole('button', { name: 'Release' }).click();
    await expect(global).toContainText('off');
  });

  await test.step('an API key is created, its secret shown once, and revoked', async () => {
    await go(page, 'Account');
    const form = page.getByRole('form', { name: 'New API key' });
    await form.getByLabel('Name', { exact: true }).fill('e2e-bot');
    await form.getByRole('button', { name: 'Create key' }).click();
    const secret = page.getByTestId('new-key-secret');
    await expect(secret).toHaveText(/^tf_key_[0-9A-Za-z]{49}$/);
    const value = (await secret.textContent()) ?? '';
    const row = page.getByTestId('api-keys').locator('tr[data-key="e2e-bot"]');
    await expect(row).toContainText('read');
    await expect(row).not.toContainText(value); // the list never shows the secret
    await shot(page, '06-account-new-key');
    // The key works, then no more once revoked.
    const before = await page.request.get(`${base}/api/v1/instruments`, { headers: { Authorization: `Bearer ${value}` } });
    expect(before.status()).toBe(200);
    await page.reload(); // the session survives a reload (refresh token); the secret does not
    await expect(page.getByTestId('who')).toContainText('admin');
    await expect(page.getByTestId('new-key')).toHaveCount(0);
    await expect(page.getByText(value)).toHaveCount(0);
    await row.getByRole('button', { name: 'Revoke' }).click();
    await expect(row.getByRole('button', { name: 'Revoke' })).toHaveCount(0);
    await expect(row).toContainText('revoked');
    const after = await page.request.get(`${base}/api/v1/instruments`, { headers: { Authorization: `Bearer ${value}` } });
    expect(after.status()).toBe(401);
    // Sessions: this tab's, and the second login, revoked from here.
    const sessions = page.getByTestId('sessions');
    await expect(sessions).toContainText('this tab');
    const other = sessions.locator('tbody tr', { hasNotText: 'this tab' });
    await expect(other).toHaveCount(1);
    const me = await page.request.get(`${base}/api/v1/auth/me`, { headers: { Authorization: `Bearer ${otherSession}` } });
    expect(me.status()).toBe(200);
    await other.getByRole('button', { name: 'Revoke' }).click();
    await expect(other).toHaveCount(0);
    await expect(sessions.locator('tbody tr')).toHaveCount(1);
    const gone = await page.request.get(`${base}/api/v1/auth/me`, { headers: { Authorization: `Bearer ${otherSession}` } });
    expect(gone.status()).toBe(401);
    await expect(page.getByTestId('who')).toContainText('admin'); // this tab's session lives on
  });

  await test.step('a backtest runs and shows its equity curve and metrics', async () => {
    await go(page, 'Backtests');
    const form = page.getByRole('form', { name: 'New backtest' });
    await expect(form.getByLabel('Strategy')).toHaveValue('sma_cross');
    await form.getByLabel('fast').fill('1');
    await form.getByRole('button', { name: 'Run backtest' }).click();
    await expect(form).toContainText('at least 2'); // the declared range, checked before sending
    await form.getByLabel('fast').fill('10');
    await form.getByLabel('slow').fill('30');
    await form.getByRole('button', { name: 'Run backtest' }).click();
    await expect(page).toHaveURL(/\/backtests\/[^/]+$/);
    const jobId = page.url().split('/').pop() ?? '';
    const detail = page.getByTestId('backtest-detail');
    await expect(detail.locator('.status').first()).toHaveText('succeeded', { timeout: 60_000 });
    const equity = page.getByTestId('equity-chart');
    await expect(equity.locator('canvas').first()).toBeVisible();
    expect(Number(await equity.getAttribute('data-points'))).toBeGreaterThan(100);
    await expect(page.getByTestId('metrics').locator('tr')).not.toHaveCount(0);
    // The figures are the API's exact strings.
    const token = await page.evaluate(() => sessionStorage.getItem('tradeforge.refresh'));
    expect(token).not.toBeNull();
    const jobs = page.getByTestId('backtest-jobs').locator('tr', { hasText: jobId });
    await expect(jobs).toContainText('succeeded');
    await expect(jobs).toContainText('100%');
    const trades = page.getByTestId('trades').locator('tbody tr');
    expect(await trades.count()).toBeGreaterThan(0);
    await expect(detail.locator('.stat', { hasText: 'Initial cash' })).toContainText('1000000');
    await shot(page, '07-backtest');
  });

  await test.step('a strategy instance is created from its parameter form, run and removed', async () => {
    await go(page, 'Strategies');
    const card = page.getByTestId('registry').locator('article', { hasText: 'sma_cross' });
    await expect(card).toContainText('fast = 10');
    await card.getByRole('button', { name: 'New instance' }).click();
    await expect(card.getByLabel('slow')).toHaveValue('30'); // the declared defaults
    await card.getByLabel('Instance id (optional)').fill('e2e-sma');
    await card.getByLabel('size').fill('0.01');
    await card.getByLabel('slow').fill('1');
    await card.getByRole('button', { name: 'Create instance' }).click();
    await expect(card).toContainText('at least 3');
    await card.getByLabel('slow').fill('20');
    await card.getByRole('button', { name: 'Create instance' }).click();
    const row = page.getByTestId('instances').locator('tr', { hasText: 'e2e-sma' }).first();
    await expect(row).toContainText('sma_cross');
    await expect(row).toContainText('stopped');
    await expect(row).toContainText('slow=20');
    await row.getByRole('button', { name: 'Start' }).click();
    await expect(row).toContainText('running');
    await row.getByRole('button', { name: 'Details' }).click();
    const details = page.locator('tr.details-row');
    await expect(details).toContainText('Realised PnL');
    await expect(details.locator('pre.log')).toContainText('started');
    await shot(page, '08-strategies');
    await row.getByRole('button', { name: 'Stop' }).click();
    await expect(row).toContainText('stopped');
    await row.getByRole('button', { name: 'Delete' }).click();
    await expect(page.getByTestId('instances').locator('tr', { hasText: 'e2e-sma' })).toHaveCount(0);
  });

  await test.step('an admin creates a viewer, who may look but not trade', async () => {
    await go(page, 'Account');
    const form = page.getByRole('form', { name: 'New user' });
    await form.getByLabel('User name').fill('e2e-viewer');
    await form.getByLabel('Password').fill('short');
    await form.getByLabel('Role').selectOption('viewer');
    await form.getByRole('button', { name: 'Create user' }).click();
    await expect(page.getByRole('region', { name: 'Users' }).getByRole('alert')).toContainText('12'); // the policy, from the API
    await form.getByLabel('Password').fill('viewer-passphrase-2026');
    await form.getByRole('button', { name: 'Create user' }).click();
    await expect(page.getByTestId('users').locator('tr', { hasText: 'e2e-viewer' })).toContainText('viewer');
    await page.getByRole('button', { name: 'Log out' }).click();
    await expect(page).toHaveURL(/\/login$/);
    await page.getByLabel('User name').fill('e2e-viewer');
    await page.getByLabel('Password').fill('viewer-passphrase-2026');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page.getByTestId('who')).toContainText('e2e-viewer');
    await go(page, 'Trading');
    await expect(page.getByRole('region', { name: 'Order ticket' })).toContainText('Your role may not place orders.');
    await expect(page.getByTestId('open-orders')).toHaveCount(0); // the admin's orders are not a viewer's
    await go(page, 'Risk');
    await expect(page.getByRole('button', { name: 'Edit limits' })).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Trip' })).toHaveCount(0);
    await go(page, 'Account');
    await expect(page.getByRole('region', { name: 'Users' })).toHaveCount(0);
  });

  await test.step('log out', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await expect(page).toHaveURL(/\/login$/);
    await page.goto(`${base}/account`);
    await expect(page).toHaveURL(/\/login$/); // the session is gone, not just hidden
    await expect(page.evaluate(() => sessionStorage.getItem('tradeforge.refresh'))).resolves.toBeNull();
  });

  expect(problems).toEqual([]);
  // The tokens were rotated along the way, one refresh at a time (a refresh token presented
  // twice would have ended the session: a 401 here, and the journey sent back to the login).
  console.log(`token refreshes: ${refreshes.length}`);
  expect(refreshes.length).toBeGreaterThanOrEqual(2); // the reload, and at least one on the way
  expect(refreshes.filter((status) => status !== 200)).toEqual([]);
});

// A real `tradeforge up` for the browser test: the repository's .venv, a temporary data
// directory holding a generated history dataset (for backtests), a free port, a known admin
// password and a short access-token lifetime (31 s: the UI refreshes a token older than 1 s, so
// it rotates its tokens many times during the run, with many requests in flight).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ADMIN_PASSWORD = 'web-ui-e2e-horse-battery';
const REPO = resolve(import.meta.dirname, '..', '..');
const TRADEFORGE = process.env.TRADEFORGE ?? join(REPO, '.venv', 'bin', 'tradeforge');
const READY_TIMEOUT_MS = 60_000;

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

export class Platform {
  dataDir = '';
  log = '';
  url = '';
  private proc: ChildProcess | null = null;

  private env(): NodeJS.ProcessEnv {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TRADEFORGE__')));
    return {
      ...env,
      TRADEFORGE__AUTH__ADMIN_PASSWORD: ADMIN_PASSWORD,
      TRADEFORGE__AUTH__ACCESS_TTL_S: '31',
      TRADEFORGE__GATEWAY__WEB_DIR: join(REPO, 'web', 'dist'),
    };
  }

  private tail(): string {
    return this.log && existsSync(this.log) ? readFileSync(this.log, 'utf8').slice(-3000) : '(no log)';
  }

  async start(): Promise<void> {
    if (!existsSync(TRADEFORGE)) {
      throw new Error(`${TRADEFORGE} is missing: run \`make install\` in the repository first`);
    }
    if (!existsSync(join(REPO, 'web', 'dist', 'index.html'))) {
      throw new Error('web/dist is missing: run `npm run build` in web/ first');
    }
    this.dataDir = mkdtempSync(join(tmpdir(), 'tradeforge-e2e-'));
    this.log = join(this.dataDir, 'up.log');
    const generated = spawnSync(
      TRADEFORGE,
      ['--data-dir', this.dataDir, 'data', 'generate', '--instrument', 'BTC/USDT.SIM', '--bars', '5000', '--seed', '7'],
      { env: this.env(), encoding: 'utf8' },
    );
    if (generated.status !== 0) {
      throw new Error(`tradeforge data generate failed (${generated.status}): ${generated.stderr}`);
    }
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    const out = openSync(this.log, 'a');
    const proc = spawn(TRADEFORGE, ['--data-dir', this.dataDir, 'up', '--port', String(port)], {
      env: this.env(),
      stdio: ['ignore', out, out],
    });
    this.proc = proc;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`tradeforge up exited (${proc.exitCode ?? proc.signalCode}) before it was ready:\n${this.tail()}`);
      }
      try {
        const answer = await fetch(`${this.url}/readyz`);
        if (answer.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    this.proc.kill('SIGKILL');
    throw new Error(`tradeforge up was not ready within ${READY_TIMEOUT_MS / 1000} s:\n${this.tail()}`);
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (proc && proc.exitCode === null) {
      const exited = new Promise((done) => proc.once('exit', done));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    }
    if (this.dataDir && !process.env.KEEP_E2E_DATA) rmSync(this.dataDir, { recursive: true, force: true });
  }
}

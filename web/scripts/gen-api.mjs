// Regenerates src/api/schema.d.ts from the gateway's OpenAPI document.
//
// The document is built by the Python app itself (no server needed): the embedded platform's
// FastAPI app is created over a throw-away data directory and asked for app.openapi().
// Run from web/: `npm run gen:api` (needs the repository's .venv: `make install`).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..', '..');
const python = join(repo, '.venv', 'bin', 'python');
const work = mkdtempSync(join(tmpdir(), 'tf-openapi-'));
const dump = `
import json, sys
from pathlib import Path
from tradeforge.runtime.platform import embedded_app
app, _node, _auth = embedded_app(Path(sys.argv[1]))
json.dump(app.openapi(), open(sys.argv[2], "w"), indent=1, sort_keys=True)
`;
try {
  const schema = join(work, 'openapi.json');
  execFileSync(python, ['-c', dump, join(work, 'data'), schema], {
    stdio: ['ignore', 'inherit', 'ignore'],
    env: { ...process.env, TRADEFORGE__AUTH__ADMIN_PASSWORD: 'schema-dump-only-password-1' },
  });
  const out = join(repo, 'web', 'src', 'api', 'schema.d.ts');
  execFileSync(join(repo, 'web', 'node_modules', '.bin', 'openapi-typescript'), [schema, '-o', out], {
    stdio: 'inherit',
  });
  writeFileSync(join(work, 'done'), '');
} finally {
  rmSync(work, { recursive: true, force: true });
}

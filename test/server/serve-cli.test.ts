/**
 * `fracflow serve` as a process: it prints its URL (and with --allow-control the token), serves the
 * store (an SQLite file, or a PostgreSQL database on a server started here), creates the pathways
 * indexes on a writable store, stops cleanly on SIGTERM; bad options and a missing store are refused
 * with messages naming them.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPathwaysStore } from '../helpers/pathways-store.js';
import { repoRoot, runCli, tsxLoader } from '../helpers/cli.js';
import { skipWithoutPostgres, startPostgres } from '../support/postgres.js';

const dir = mkdtempSync(join(tmpdir(), 'fracflow-serve-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Start `serve` with `args`, wait for its URL line, run `fn`, then SIGTERM it and return its exit code and output. */
async function serving(args: string[], fn: (url: string, out: string) => Promise<void>): Promise<{ code: number | null; out: string; err: string }> {
  const p = spawn(process.execPath, ['--import', tsxLoader, join(repoRoot, 'src', 'cli', 'index.ts'), 'serve', '--port', '0', ...args], { env: { ...process.env, NODE_OPTIONS: '' } });
  let out = '', err = '';
  p.stdout.on('data', (c) => (out += String(c)));
  p.stderr.on('data', (c) => (err += String(c)));
  const exited = new Promise<number | null>((resolve) => p.on('exit', (code) => resolve(code)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve printed no URL in 60 s: ${out} ${err}`)), 60000);
      const check = () => {
        const m = /dashboard: (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      };
      p.stdout.on('data', check);
      void exited.then((code) => reject(new Error(`serve exited ${code}: ${err}`)));
    });
    await fn(url, out);
  } finally {
    p.kill('SIGTERM');
  }
  return { code: await exited, out, err };
}

test('serve: prints its URL, serves the store read-only, makes the pathways indexes once, exits 0 on SIGTERM', async () => {
  const db = join(dir, 'small.db');
  await buildPathwaysStore(db, 100);
  const first = await serving(['--db', db], async (url, out) => {
    assert.match(out, /read-only/);
    assert.doesNotMatch(out, /control token/);
    const status = (await (await fetch(`${url}/api/status`)).json()) as { stage: string; done: number }[];
    assert.equal(status.find((s) => s.stage === 'find_paths')!.done, 20);
    const r = await fetch(`${url}/api/control/scale`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(r.status, 403);
  });
  assert.equal(first.code, 0, first.err);
  assert.match(first.err, /serve: created \d+ indexes for the pathways table/);
  const second = await serving(['--db', db, '--allow-control'], async (_url, out) => {
    assert.match(out, /controls on/);
    assert.match(out, /control token: [A-Za-z0-9_-]{32}/);
  });
  assert.equal(second.code, 0, second.err);
  assert.doesNotMatch(second.err, /created/, 'the indexes exist already');
});

test('serve: a bad port or host and a missing store are refused by name', () => {
  const port = runCli(['serve', '--port', '70000', '--db', join(dir, 'x.db')]);
  assert.notEqual(port.status, 0);
  assert.match(port.stderr, /--port must be an integer from 0 to 65535, got "70000"/);
  const host = runCli(['serve', '--host', 'a b', '--db', join(dir, 'x.db')]);
  assert.notEqual(host.status, 0);
  assert.match(host.stderr, /--host must be an address or host name, got "a b"/);
  const missing = runCli(['serve', '--port', '0', '--db', join(dir, 'missing.db')]);
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /missing\.db: cannot open the database file: no such file/);
});

test('serve: SIGTERM sent the moment the URL is read stops it with exit 0 (signal handlers are in place before the URL is printed)', async () => {
  const db = join(dir, 'small.db');
  for (let k = 0; k < 3; k++) {
    const r = await serving(['--db', db], async () => {});
    assert.deepEqual([r.code, k], [0, k], r.err);
  }
});

test('serve --db postgres://…: prints the URL without the password, makes the indexes once, serves read-only, exits 0 on SIGTERM', { skip: skipWithoutPostgres() }, async () => {
  const pg = await startPostgres();
  try {
    const url = await pg.createDatabase('served');
    await buildPathwaysStore(url, 100);
    const first = await serving(['--db', url], async (base, out) => {
      assert.match(out, /\(store postgres:\/\/fracflow@127\.0\.0\.1:\d+\/served, read-only\)/);
      const status = (await (await fetch(`${base}/api/status`)).json()) as { stage: string; done: number }[];
      assert.equal(status.find((s) => s.stage === 'find_paths')!.done, 20);
      const page = (await (await fetch(`${base}/api/pathways?limit=5&sort=formula`)).json()) as { total: number; rows: unknown[] };
      assert.deepEqual([page.total, page.rows.length], [100, 5]);
    });
    assert.equal(first.code, 0, first.err);
    assert.match(first.err, /serve: created \d+ indexes for the pathways table \(descriptors_dash_/);
    const second = await serving(['--db', url, '--allow-control'], async (base, out) => {
      assert.match(out, /control token: [A-Za-z0-9_-]{32}/);
      const r = await fetch(`${base}/api/control/scale`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-fracflow-token': /control token: (\S+)/.exec(out)![1]! }, body: JSON.stringify({ stage: 'images', workers: 3 }) });
      assert.equal(r.status, 200, await r.clone().text());
    });
    assert.equal(second.code, 0, second.err);
    assert.doesNotMatch(second.err, /created/, 'the indexes exist already');
    for (const r of [first, second]) assert.ok(!`${r.out}${r.err}`.includes(pg.password), 'the password is never printed');
  } finally {
    pg.stop();
  }
});

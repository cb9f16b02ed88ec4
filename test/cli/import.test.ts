/**
 * `fracflow import` from folders and from the Materials Project API (a loopback stand-in server
 * built from the bundled data, with a 429 and a malformed document), run as a real process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runCli } from '../helpers/cli.js';
import { fixturesDir } from '../helpers/reference.js';
import { bundledMpDocuments, startMpServer } from '../helpers/mp-server.js';
import { openStore } from '../../src/engine/store.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'fracflow-import-'));

/** The CLI in a child process without blocking this process's event loop (the server runs here). */
function runCliAsync(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'index.ts'), ...args], {
      cwd: repoRoot,
      env: { ...process.env, NODE_OPTIONS: '', MP_API_KEY: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

test('import of a folder: every structure file, recursively; a broken file is recorded and the rest goes on', () => {
  const dir = tmp();
  mkdirSync(join(dir, 'sub'));
  copyFileSync(join(fixturesDir, 'structures', 'CaF2_fluorite_Fm-3m.cif'), join(dir, 'CaF2.cif'));
  copyFileSync(join(fixturesDir, 'structures', 'LiF_P1_oxidation.cif'), join(dir, 'sub', 'LiF.cif'));
  writeFileSync(join(dir, 'sub', 'broken.cif'), 'data_x\n_cell_length_a 5\n');
  writeFileSync(join(dir, 'README.txt'), 'not a structure\n');
  const db = join(dir, 'f.db');
  const flat = runCli(['import', dir, '--db', db]);
  assert.equal(flat.status, 0, flat.stderr);
  assert.match(flat.stdout, /^user\s+1\s+0\s+0\s+0\s+0$/m);
  const deep = runCli(['import', dir, '--recursive', '--db', db]);
  assert.equal(deep.status, 1);
  assert.match(deep.stdout, /^user\s+1\s+0\s+1\s+0\s+1$/m);
  assert.ok(deep.stderr.includes(`failed: user:${dir}/sub/broken.cif: ${dir}/sub/broken.cif:`), deep.stderr);
  const store = openStore(db);
  assert.equal(store.structureCount(), 2);
  store.close();
});

test('import --mp-api-key pages through the API (429 retried, a malformed document recorded) into the store', async () => {
  const docs = bundledMpDocuments().slice(0, 120);
  (docs[7]!['structure'] as { lattice: { matrix: number[][] } }).lattice.matrix[0] = [0, 0, 0];
  const server = await startMpServer({ documents: docs, apiKey: 'k-123', faults: [{ request: 1, status: 429, headers: { 'Retry-After': '0' } }] });
  try {
    const db = join(tmp(), 'mp.db');
    const r = await runCliAsync(['import', '--mp-api-key', 'k-123', '--mp-base-url', server.baseUrl, '--db', db]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /^mp-api\s+119\s+0\s+0\s+0\s+1$/m);
    assert.match(r.stderr, /mp-api: page \d+: HTTP 429; retry 1/);
    assert.match(r.stderr, /failed: mp-api:mp-\d+: .*volume is zero/);
    assert.ok(!r.stderr.includes('k-123') && !r.stdout.includes('k-123'), 'the key is never printed');
    assert.ok(server.requests.every((q) => q.headers['x-api-key'] === 'k-123'));
    const store = openStore(db);
    assert.equal(store.structureCount(), 119);
    assert.ok(store.getStructure(`mp-api:${String(docs[0]!['material_id'])}`));
    store.close();
    // A second import updates nothing and doubles nothing.
    const again = await runCliAsync(['import', '--mp-api-key', 'k-123', '--mp-base-url', server.baseUrl, '--db', db]);
    assert.match(again.stdout, /^mp-api\s+0\s+0\s+119\s+0\s+1$/m);
  } finally {
    await server.close();
  }
});

test('import --mp-api without a key, or with a wrong one, stops with the hint', async () => {
  const server = await startMpServer({ documents: bundledMpDocuments().slice(0, 5), apiKey: 'right' });
  try {
    const none = await runCliAsync(['import', '--mp-api', '--mp-base-url', server.baseUrl, '--db', ':memory:']);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /missing API key: set MP_API_KEY or pass --mp-api-key/);
    const wrong = await runCliAsync(['import', '--mp-api', '--mp-base-url', server.baseUrl, '--db', ':memory:'], { MP_API_KEY: 'wrong' });
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /invalid or missing API key/);
    const nothing = runCli(['import', '--db', ':memory:']);
    assert.equal(nothing.status, 2);
    assert.match(nothing.stderr, /give structure files or folders to import, or --mp-api/);
  } finally {
    await server.close();
  }
});

/**
 * `fracflow screen` from source in a child process (src/cli/index.ts through tsx): a screen of a folder with the ranking and the checkpoint, the same screen resumed as JSON
 * lines, the live-API import against the loopback MP server (a 429 retried, a malformed page refused),
 * and the option checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundledMpDocuments, startMpServer } from '../helpers/mp-server.js';
import { runCli } from '../helpers/cli.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const entry = join(root, 'src', 'cli', 'index.ts');
const structures = join(root, 'test', 'stages', 'fixtures', 'structures');
const tmp = () => mkdtempSync(join(tmpdir(), 'fracflow-screen-cli-'));
/** The source id of the fluorite fixture: its path relative to the working directory (the repository). */
const CAF2_ID = 'user:test/stages/fixtures/structures/CaF2_fluorite_Fm-3m.cif';

/** Asynchronous, so the loopback server in this process keeps answering while the child runs. */
function screen(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, 'screen', '--progress', 'off', ...args], { cwd: root, env: { ...process.env, NODE_OPTIONS: '', MP_API_KEY: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((res) => child.on('close', (status) => res({ status, stdout, stderr })));
}

test('fracflow screen --input DIR: stage summary, ranking, checkpoint; rerun prints the ranking as JSON lines', async () => {
  const dir = tmp();
  const db = join(dir, 's.db');
  const out = join(dir, 'out');
  const r = await screen(['--input', structures, '--db', db, '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /find_paths: 3\/4 done, 1 failed/);
  assert.match(r.stdout, /top \d+ pathways \(gate: dimensionality >= 1; ewald_energy ascending, then nsites_777\):/);
  assert.match(r.stdout, /user:test\/stages\/fixtures\/structures\/CaF2_fluorite_Fm-3m\.cif\s+CaF2\s+0\s+2\.7315\s+6\s+24\s+-1\s+3\s+3\s+3\s/);
  for (const f of ['fracflow.db', 'find_paths.csv', 'find_paths.arrow', 'pathways.csv', 'pathways.arrow', 'descriptors.csv', 'descriptors.arrow', 'images.csv', 'images.arrow']) assert.ok(existsSync(join(out, 'checkpoint', f)), f);

  const again = await screen(['--input', structures, '--db', db, '--out', out, '--json']);
  assert.equal(again.status, 0, again.stderr);
  const rows = again.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const caf2 = rows.find((x) => x['structure_id'] === CAF2_ID && x['hop_index'] === 0)!;
  assert.equal(caf2['dimensionality'], 3);
  assert.ok(Math.abs((caf2['length'] as number) - 2.73155) < 1e-4);
});

test('fracflow screen --until find_paths: no ranking; export pathways lists one row per pathway', async () => {
  const dir = tmp();
  const db = join(dir, 's.db');
  const r = await screen(['--input', structures, '--db', db, '--out', join(dir, 'out'), '--until', 'find_paths']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /find_paths: 3\/4 done, 1 failed/);
  assert.doesNotMatch(r.stdout, /^descriptors:/m);
  assert.match(r.stdout, /stopped after find_paths: no ranking/);
  const x = runCli(['export', 'pathways', '--db', db, '--format', 'json']);
  assert.equal(x.status, 0, x.stderr);
  const rows = x.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const caf2 = rows.filter((p) => p['structure_id'] === CAF2_ID);
  assert.deepEqual(caf2.map((p) => p['hop_index']), [0, 1, 2, 3]);
  assert.ok(Math.abs((caf2[0]!['length'] as number) - 2.73155) < 1e-4);
  assert.equal(caf2[0]!['nsites_777'], 24);
  assert.ok(rows.every((p) => p['equivalence'] === 'fracflow'));
  // --equivalence reaches find_paths: the pymatgen mode's rows join the default ones under their own keys.
  const pm = await screen(['--input', structures, '--db', db, '--out', join(dir, 'out'), '--until', 'find_paths', '--equivalence', 'pymatgen']);
  assert.equal(pm.status, 0, pm.stderr);
  assert.match(pm.stdout, /find_paths: 6\/8 done, 2 failed/);
  const both = runCli(['export', 'pathways', '--db', db, '--format', 'json']).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const pmRows = both.filter((p) => p['equivalence'] === 'pymatgen');
  assert.equal(pmRows.length, rows.length, 'the fixture structures have the same pathways in both modes');
  assert.ok(pmRows.every((p) => String(p['key']).includes('|hops-pymatgen|')));
  const bad = await screen(['--input', structures, '--db', db, '--until', 'dft']);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /--until.*dft.*find_paths, descriptors, images/s);
});

test('fracflow screen --mp-api-key: imports through a 429 from the loopback server, then screens', async () => {
  const docs = bundledMpDocuments().filter((d) => (d['nsites'] as number) <= 3).slice(0, 2);
  assert.equal(docs.length, 2);
  const server = await startMpServer({ documents: docs, apiKey: 'k-123', faults: [{ request: 1, status: 429, headers: { 'retry-after': '0' } }] });
  try {
    const dir = tmp();
    const r = await screen(['--mp-api-key', 'k-123', '--mp-base-url', server.baseUrl, '--db', join(dir, 's.db'), '--out', join(dir, 'out')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /mp-api\s+2\s+0\s+0\s+0/);
    assert.match(r.stdout, /find_paths: 2\/2 done, 0 failed/);
    assert.equal(server.requests.length, 2, 'the 429 was retried once');
    assert.equal(server.requests[1]!.headers['x-api-key'], 'k-123');
  } finally {
    await server.close();
  }
});

test('fracflow screen --mp-api-key: a malformed page ends the screen with the reason', async () => {
  const docs = bundledMpDocuments().slice(0, 2);
  const server = await startMpServer({ documents: docs, apiKey: 'k-123', faults: [{ request: 1, status: 200, body: '<html>oops</html>' }] });
  try {
    const dir = tmp();
    const r = await screen(['--mp-api-key', 'k-123', '--mp-base-url', server.baseUrl, '--db', join(dir, 's.db'), '--out', join(dir, 'out')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /fracflow: Materials Project API: malformed page 1 .*not valid JSON/);
  } finally {
    await server.close();
  }
});

test('fracflow screen --input: a missing path or a folder with nothing readable stops with the reason and exit 2', async () => {
  const dir = tmp();
  const db = join(dir, 's.db');
  const missing = await screen(['--input', join(dir, 'nope'), '--db', db, '--out', join(dir, 'out')]);
  assert.equal(missing.status, 2);
  assert.equal(missing.stderr, `fracflow: no such file or folder: ${join(dir, 'nope')}\n`);
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  writeFileSync(join(empty, 'notes.txt'), 'no structures here\n');
  writeFileSync(join(empty, 'bad.cif'), 'data_x\n_cell_length_a 5\n');
  const nothing = await screen(['--input', empty, '--db', db, '--out', join(dir, 'out')]);
  assert.equal(nothing.status, 2);
  assert.match(nothing.stderr, new RegExp(`^fracflow: nothing to screen: ${empty} gave no structure \\(1 failure recorded in the store's import_errors, listed by \`fracflow errors import_errors\`; the first: ${empty}/bad\\.cif:1: no data block has an atom-site loop`));
  assert.ok(!existsSync(join(dir, 'out', 'checkpoint')), 'no screen ran');
  // --max-sites is the screen's scope: a structure above it is imported and is a failed find_paths
  // row naming the limit (a result, exit 0), not an import error.
  const small = await screen(['--input', join(structures, 'CaF2_fluorite_Fm-3m.cif'), '--max-sites', '4', '--until', 'find_paths', '--db', join(dir, 'small.db'), '--out', join(dir, 'out')]);
  assert.equal(small.status, 0, small.stderr);
  assert.match(small.stdout, /find_paths: 0\/1 done, 1 failed/);
  const why = runCli(['errors', '--db', join(dir, 'small.db')]);
  assert.match(why.stdout, /the structure has 12 sites, more than the limit of 4 sites per structure for the find_paths stage; to analyse it whole, raise the limit with --max-sites 12/);
});

test('fracflow screen: bad options are named with their values', async () => {
  const cases: [string[], RegExp][] = [
    [['--ion', 'Xx'], /--ion must be an element symbol, got "Xx"/],
    [['--limit', '-1'], /--limit must be an integer >= 0, got "-1"/],
    [['--workers', '0'], /--workers must be an integer >= 1, got "0"/],
    [['--max-length', '0'], /--max-length must be a positive number, got "0"/],
    [['--max-sites', '0'], /--max-sites must be a positive integer \(sites per structure\), got "0"/],
    [['--max-file-mb', '1000', '--input', structures], /maxBytes must be at most 536870888 \(512\.0 MiB, the longest text Node\.js can hold\), got 1048576000/],
    [['--mode', 'slow'], /argument 'slow' is invalid\. Allowed choices are fractured, fixed/],
    [['--equivalence', 'ddi'], /argument 'ddi' is invalid\. Allowed choices are fracflow, pymatgen/],
    [['--input', structures, '--mp-api-key', 'k'], /give either --input or --mp-api \/ --mp-api-key, not both/],
  ];
  for (const [args, re] of cases) {
    const r = await screen([...args, '--db', ':memory:']);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
  }
});

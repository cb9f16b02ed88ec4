/**
 * The dashboard on a PostgreSQL store, against the same dashboard on SQLite: the four fixture
 * structures screened into each, and every JSON endpoint (status, overview, errors, queues, pathways
 * pages under each sort and filter, each pathway's view, each structure, a failed row's history)
 * answers the same on both, once what differs by nature (times, holder names, output folders) is set
 * aside. Then the workers by host with their heartbeats on the overview of both; a read-only
 * PostgreSQL dashboard store writes nothing; `plot pathway` on PostgreSQL writes SQLite's SVG; and in
 * headless Chromium the overview on PostgreSQL shows `status --json`'s numbers and the workers by
 * host, and a row another process finishes without a reload. Skipped only without the PostgreSQL
 * binaries outside CI (the browser part also without Chromium).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { skipWithoutPostgres, startPostgres, type PgServer } from '../support/postgres.js';
import { screenedStore, withDashboard } from '../helpers/dashboard.js';
import { browserUnavailable, launchBrowser } from '../helpers/browser.js';
import { runCli, tsxLoader } from '../helpers/cli.js';
import { openDashboardStore, openQueue } from '../../src/store/index.js';
import { startDashboard, type Dashboard } from '../../src/server/server.js';
import type { QueueStore, StageStatus, WorkerRecord } from '../../src/store/interface.js';

const skip = skipWithoutPostgres();
let pg: PgServer | null = null;
let sqlite: { dir: string; db: string; outDir: string } | null = null;
let postgres: { dir: string; db: string; outDir: string } | null = null;

before(async () => {
  if (skip) return;
  pg = await startPostgres();
  postgres = await screenedStore({ db: await pg.createDatabase('screen') });
  sqlite = await screenedStore();
});

after(() => {
  pg?.stop();
  for (const f of [sqlite, postgres]) if (f) rmSync(f.dir, { recursive: true, force: true });
});

async function json(url: string): Promise<unknown> {
  const r = await fetch(url);
  const body = (await r.json()) as unknown;
  assert.equal(r.status, 200, `${url}: ${JSON.stringify(body)}`);
  return body;
}

/**
 * What differs between two screens by nature taken out: times and rates (the two ran at different
 * moments), lease holders (process ids), and each store's output folder (replaced by `<out>`).
 */
function neutral(v: unknown, outDir: string): unknown {
  const TIMES = new Set(['at', 'startedAt', 'finishedAt', 'availableAt', 'heartbeatAt', 'rowsPerSec', 'etaSec', 'claimedBy']);
  if (Array.isArray(v)) return v.map((x) => neutral(x, outDir));
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => !TIMES.has(k)).map(([k, x]) => [k, neutral(x, outDir)]));
  if (typeof v === 'string') return v.split(outDir).join('<out>');
  return v;
}

test('every JSON endpoint answers on PostgreSQL what it answers on SQLite after the same screen', { skip }, async () => {
  await withDashboard(sqlite!.db, {}, async (s) => {
    await withDashboard(postgres!.db, {}, async (p) => {
      const same = async (path: string) => {
        const [a, b] = await Promise.all([json(s.url + path), json(p.url + path)]);
        assert.deepEqual(neutral(b, postgres!.outDir), neutral(a, sqlite!.outDir), path);
        return a;
      };
      const status = (await same('/api/status')) as StageStatus[];
      assert.deepEqual(status.map((x) => [x.stage, x.failed]), [['find_paths', 1], ['descriptors', 0], ['images', 0]]);
      // The overview: status, priorities, cutoffs, the events it lists and the workers; the
      // throughput's buckets are times, so compared by their totals per stage.
      type Overview = { throughput: { stage: string; done: number; failed: number }[] } & Record<string, unknown>;
      const [oa, ob] = (await Promise.all([json(s.url + '/api/overview'), json(p.url + '/api/overview')])) as [Overview, Overview];
      const totals = (o: Overview) => status.map((x) => {
        const ts = o.throughput.filter((t) => t.stage === x.stage);
        return [x.stage, ts.reduce((n, t) => n + t.done, 0), ts.reduce((n, t) => n + t.failed, 0)];
      });
      assert.deepEqual(totals(ob), totals(oa));
      assert.deepEqual(totals(oa), status.map((x) => [x.stage, x.done, x.failed]));
      assert.deepEqual(neutral({ ...ob, throughput: null }, postgres!.outDir), neutral({ ...oa, throughput: null }, sqlite!.outDir));
      const errors = (await same('/api/errors')) as { stage: string; examples: string[] }[];
      assert.match(JSON.stringify(errors), /ion F has no sites in the structure/);
      await same(`/api/row?stage=find_paths&key=${encodeURIComponent(errors[0]!.examples[0]!)}`);
      await same('/api/queues?n=50');
      // Pages of the pathways table under every sort, both directions, and each filter.
      const all = (await same('/api/pathways?limit=500')) as { total: number; rows: { key: string; structure_id: string }[] };
      assert.ok(all.total >= 8, `${all.total} pathways`);
      for (const sort of ['structure_id', 'formula', 'hop_index', 'length', 'ewald_energy', 'dimensionality', 'percolation_3d', 'state', 'images_state', 'ionic_radii_overlap_anions']) {
        for (const desc of ['', '&desc=1']) await same(`/api/pathways?sort=${sort}${desc}&limit=500`);
        await same(`/api/pathways?sort=${sort}&offset=3&limit=4`);
      }
      for (const filter of ['search=caf2', 'search=Mg', 'state=done', 'minDim=2', 'maxEwald=0.05', 'minDim=1&maxEwald=1&search=F']) await same(`/api/pathways?${filter}`);
      // Each pathway's view (computed from the stored cell and hop list) and each structure.
      for (const r of all.rows) await same(`/api/pathway?key=${encodeURIComponent(r.key)}`);
      for (const id of new Set(all.rows.map((r) => r.structure_id))) await same(`/api/structure?id=${encodeURIComponent(id)}`);
    });
  });
});

/** Three workers on two hosts (none of them this machine, so liveness is by heartbeat alone): one beat a minute ago. */
async function registerWorkers(q: QueueStore, now: number): Promise<void> {
  await q.registerWorker({ id: 'node-a:101:w', host: 'node-a', pid: 101, stage: 'descriptors', threads: 4, job: 'slurm:77_1' }, now - 120000);
  await q.registerWorker({ id: 'node-b:202:w', host: 'node-b', pid: 202, stage: 'images', threads: 2 }, now - 90000);
  await q.registerWorker({ id: 'node-a:102:w', host: 'node-a', pid: 102, stage: 'images', threads: 1 }, now - 60000);
  assert.deepEqual(await q.heartbeatWorker('node-a:101:w', 1234, now - 1000), { threads: 4 });
  assert.deepEqual(await q.heartbeatWorker('node-b:202:w', 56, now - 2000), { threads: 2 });
  assert.deepEqual(await q.heartbeatWorker('node-a:102:w', 7, now - 60000), { threads: 1 });
}

test('overview: the registered workers with their heartbeats, the same on both backends, a silent one stale', { skip }, async () => {
  const now = Date.now();
  const writers = [await openQueue(sqlite!.db), await openQueue(postgres!.db)];
  try {
    for (const q of writers) await registerWorkers(q, now);
  } finally {
    for (const q of writers) await q.close();
  }
  await withDashboard(sqlite!.db, {}, async (s) => {
    await withDashboard(postgres!.db, {}, async (p) => {
      const [a, b] = (await Promise.all([json(s.url + '/api/overview'), json(p.url + '/api/overview')])) as { workers: WorkerRecord[] }[];
      assert.deepEqual(b!.workers, a!.workers);
      assert.deepEqual(
        b!.workers.map((w) => [w.host, w.id, w.stage, w.threads, w.job, w.rowsDone, now - w.heartbeatAt, w.stale]),
        [
          ['node-a', 'node-a:101:w', 'descriptors', 4, 'slurm:77_1', 1234, 1000, false],
          ['node-b', 'node-b:202:w', 'images', 2, null, 56, 2000, false],
          ['node-a', 'node-a:102:w', 'images', 1, null, 7, 60000, true],
        ],
      );
    });
  });
});

test('a read-only PostgreSQL dashboard store creates no index and the server refuses its writes', { skip }, async () => {
  const ro = await openDashboardStore(postgres!.db, { readonly: true });
  try {
    assert.deepEqual(await ro.prepareDashboard(), []);
    await assert.rejects(ro.scale('images', 3), /: cannot execute [A-Z ]+ in a read-only transaction \(25006\)/);
    assert.equal((await ro.status()).find((x) => x.stage === 'images')!.workers, 1);
  } finally {
    await ro.close();
  }
  const rw = await openDashboardStore(postgres!.db);
  try {
    const made = await rw.prepareDashboard();
    assert.ok(made.includes('descriptors_dash_ewald_energy') && made.includes('descriptors_dash_structure_id') && made.includes('images_dash_state'), made.join(', '));
    assert.deepEqual(await rw.prepareDashboard(), [], 'made once');
  } finally {
    await rw.close();
  }
});

test('plot pathway on PostgreSQL: the SVG SQLite gives for the same pathway; the password is never printed', { skip }, async () => {
  const key = ((await withDashboard(sqlite!.db, {}, async (d) => json(`${d.url}/api/pathways?search=CaF2_fluorite&sort=hop_index&limit=1`))) as { rows: { key: string }[] }).rows[0]!.key;
  const a = join(sqlite!.dir, 'a.svg');
  const b = join(postgres!.dir, 'b.svg');
  const rs = runCli(['plot', 'pathway', key, '--db', sqlite!.db, '--out', a]);
  assert.equal(rs.status, 0, rs.stderr);
  const rp = runCli(['plot', 'pathway', key, '--db', postgres!.db, '--out', b]);
  assert.equal(rp.status, 0, rp.stderr);
  assert.equal(readFileSync(b, 'utf8'), readFileSync(a, 'utf8'));
  const missing = runCli(['plot', 'pathway', 'no-such-key', '--db', postgres!.db, '--out', b]);
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /plot: no pathway with key "no-such-key" in postgres:\/\/fracflow@127\.0\.0\.1:\d+\/screen \(keys are those of the descriptors table\)/);
  assert.ok(!`${rp.stdout}${rp.stderr}${missing.stdout}${missing.stderr}`.includes(pg!.password));
});

const noBrowser = skip || (browserUnavailable() ?? false);

test('in Chromium: the overview on PostgreSQL shows status --json, the workers by host, and a row another process finishes', { skip: noBrowser }, async () => {
  const store = await openDashboardStore(postgres!.db);
  let dash: Dashboard | null = null;
  let browser: Browser | null = null;
  try {
    dash = await startDashboard({ store, port: 0, pollMs: 200 });
    browser = await launchBrowser();
    const page: Page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    const cli = runCli(['status', '--json', '--db', postgres!.db]);
    assert.equal(cli.status, 0, cli.stderr);
    const status = JSON.parse(cli.stdout) as StageStatus[];
    await page.goto(`${dash.url}/`);
    await page.waitForSelector('#live.on');
    const cells = (sel: string) => page.evaluate(`Object.fromEntries([...document.querySelectorAll('${sel} [data-field]')].map((td) => [td.dataset.field, td.textContent]))`) as Promise<Record<string, string>>;
    for (const s of status) {
      const row = await cells(`#stages tr[data-stage="${s.stage}"]`);
      assert.deepEqual([row['pending'], row['running'], row['done'], row['failed'], row['workers']].map(Number), [s.pending, s.running, s.done, s.failed, s.workers], s.stage);
    }
    // Workers grouped by host: node-a's two in one group (its name once), node-b's one; the silent one stale.
    const hosts = (await page.evaluate(`[...document.querySelectorAll('#workers tbody[data-host]')].map((b) => [b.dataset.host, b.querySelector('[data-field="host"]').textContent, [...b.querySelectorAll('tr')].map((tr) => tr.dataset.worker)])`)) as [string, string, string[]][];
    assert.deepEqual(hosts, [['node-a', 'node-a (2)', ['node-a:101:w', 'node-a:102:w']], ['node-b', 'node-b (1)', ['node-b:202:w']]]);
    const a1 = await cells('#workers tr[data-worker="node-a:101:w"]');
    assert.deepEqual([a1['stage'], a1['threads'], a1['rowsDone'], a1['state']], ['descriptors', '4', '1234', 'live']);
    assert.match(a1['heartbeat']!, /^\d+ s ago$/);
    assert.equal((await cells('#workers tr[data-worker="node-a:102:w"]'))['state'], 'stale');
    // A heartbeat from another process shows without a reload.
    await page.evaluate('window.marker = 7');
    const w = await openQueue(postgres!.db);
    try {
      await w.heartbeatWorker('node-b:202:w', 999);
      assert.equal(await w.requeue('find_paths', 'failed'), 1);
    } finally {
      await w.close();
    }
    await page.waitForFunction(() => (globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }).document.querySelector('#workers tr[data-worker="node-b:202:w"] [data-field="rowsDone"]')?.textContent === '999', undefined, { timeout: 15000 });
    const out = execFileSync(process.execPath, ['--import', tsxLoader, join(import.meta.dirname, 'fixtures', 'finish-row.ts'), postgres!.db, 'find_paths'], { encoding: 'utf8' });
    assert.match(out, /"finished":\["user:test\/stages\/fixtures\/structures\/NaCl_rocksalt.vasp/);
    await page.waitForFunction(() => (globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }).document.querySelector('#stages tr[data-stage="find_paths"] td[data-field="done"]')?.textContent === '4', undefined, { timeout: 15000 });
    assert.equal(await page.evaluate('window.marker'), 7, 'the same page, not reloaded');
    assert.ok(!(await page.content()).includes(pg!.password), 'the page names the store without its password');
  } finally {
    await browser?.close();
    await dash?.close();
    await store.close();
  }
});

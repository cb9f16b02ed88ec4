/**
 * The pathways table over a 50,000-pathway store (filled through the store interface, see
 * test/helpers/pathways-store.ts), through the dashboard's HTTP API: every page of a sort walked end
 * to end covers each row once in the right order (nulls last), and filters, search (wildcards taken
 * literally), descending and images-state sorts agree with the same selection made in plain
 * JavaScript over all rows; bad parameters are refused with messages naming them; the queue head
 * follows a priority swap sent with the control token.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPathwaysStore } from '../helpers/pathways-store.js';
import { withDashboard } from '../helpers/dashboard.js';
import { openStore } from '../../src/store/sqlite/diffusion.js';
import { openQueueStore } from '../../src/store/index.js';
import type { PathwayPage, PathwaySummary, QueueEntry } from '../../src/store/interface.js';

const N = 50000;
let dir = '';
let db = '';
type Row = { id: number; key: string; state: string; structure_id: string; formula: string; length: number; dimensionality: number | null; ewald_energy: number | null; images_state: string | null };
let all: Row[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fracflow-pathways-'));
  db = join(dir, 'big.db');
  const r = await buildPathwaysStore(db, N);
  assert.equal(r.pathways, N);
  const store = openQueueStore(db);
  const created = await store.prepareDashboard();
  await store.close();
  assert.ok(created.includes('descriptors_dash_ewald_energy'), created.join(', '));
  // The reference: every row, read once, selected and sorted in plain JavaScript below.
  const s = openStore(db, { readonly: true });
  all = s.sql.all<Row>(`SELECT d.id, d.key, d.state, d.structure_id, d.formula, d.length, d.dimensionality, d.ewald_energy, i.state AS images_state
                          FROM descriptors d LEFT JOIN images i ON i.key = d.key`);
  s.close();
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function page(url: string, path: string): Promise<PathwayPage> {
  const r = await fetch(url + path);
  const body = (await r.json()) as PathwayPage & { error?: string };
  assert.equal(r.status, 200, body.error);
  return body;
}

/** Ascending (or descending) by `col`, nulls last either way, ties by id in the same direction. */
function expected(rows: Row[], col: keyof Row, desc = false, tie: (r: Row) => number = (r) => r.id): Row[] {
  const sign = desc ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = a[col], y = b[col];
    if (x === null && y === null) return sign * (a.id - b.id);
    if (x === null) return 1;
    if (y === null) return -1;
    if (x < y) return -sign;
    if (x > y) return sign;
    return sign * (tie(a) - tie(b));
  });
}

test('pathways table: 50,000 rows by ewald_energy, walked in pages of 500, each row once in order with nulls last', async () => {
  assert.equal(all.length, N);
  const nulls = all.filter((r) => r.ewald_energy === null).length;
  assert.ok(nulls > 1000 && nulls < N / 2, `${nulls} null ewald_energy rows in the store`);
  await withDashboard(db, {}, async (d) => {
    const keys: string[] = [];
    for (let offset = 0; offset < N; offset += 500) {
      const p = await page(d.url, `/api/pathways?offset=${offset}&limit=500`);
      assert.equal(p.total, N);
      keys.push(...p.rows.map((r) => r.key));
    }
    assert.equal(new Set(keys).size, N, 'every row once');
    assert.deepEqual(keys, expected(all, 'ewald_energy').map((r) => r.key));
    const past = await page(d.url, `/api/pathways?offset=${N}&limit=50`);
    assert.deepEqual([past.total, past.rows.length], [N, 0]);
  });
});

test('pathways table: filters, literal search, descending and images-state sorts equal the selection made in JavaScript', async () => {
  await withDashboard(db, {}, async (d) => {
    const check = async (query: string, rows: Row[], col: keyof Row, desc = false, tie?: (r: Row) => number) => {
      const want = expected(rows, col, desc, tie);
      for (const offset of [0, 50, Math.max(0, want.length - 30)]) {
        const p = await page(d.url, `/api/pathways?${query}&offset=${offset}&limit=50`);
        assert.equal(p.total, rows.length, query);
        assert.deepEqual(p.rows.map((r: PathwaySummary) => r.key), want.slice(offset, offset + 50).map((r) => r.key), `${query} offset ${offset}`);
      }
    };
    await check('minDim=3', all.filter((r) => r.dimensionality !== null && r.dimensionality >= 3), 'ewald_energy');
    await check('maxEwald=0.01&sort=length&desc=1', all.filter((r) => r.ewald_energy !== null && r.ewald_energy <= 0.01), 'length', true);
    await check('state=failed&sort=structure_id', all.filter((r) => r.state === 'failed'), 'structure_id');
    await check('search=MP-1012', all.filter((r) => r.structure_id.toLowerCase().includes('mp-1012') || r.formula.toLowerCase().includes('mp-1012')), 'ewald_energy');
    await check('search=KMg&minDim=1', all.filter((r) => r.formula.includes('KMg') && r.dimensionality !== null && r.dimensionality >= 1), 'ewald_energy');
    // The images rows of one state are in images-id order, which is their admission order (descriptors id order here).
    await check('sort=images_state', all, 'images_state', false, (r) => r.id);
    const wild = await page(d.url, `/api/pathways?search=${encodeURIComponent('mp-10_2%')}`);
    assert.equal(wild.total, 0, 'the user\'s % and _ are literal characters, not wildcards');
  });
});

test('pathways table: bad parameters are refused with a message naming the parameter and the value', async () => {
  await withDashboard(db, {}, async (d) => {
    for (const [query, message] of [
      ['sort=key;DROP', 'sort must be one of structure_id'],
      ['limit=0', 'limit must be an integer from 1 to 500, got "0"'],
      ['limit=501', 'limit must be an integer from 1 to 500, got "501"'],
      ['offset=-1', 'offset must be an integer from 0 to'],
      ['state=lost', 'state must be pending, running, done or failed, got "lost"'],
      ['minDim=two', 'minDim must be a number, got "two"'],
      ['maxEwald=NaN', 'maxEwald must be a number, got "NaN"'],
      [`search=${'x'.repeat(201)}`, 'search must be at most 200 characters, got 201'],
    ]) {
      const r = await fetch(`${d.url}/api/pathways?${query}`);
      assert.equal(r.status, 400, query);
      assert.match(((await r.json()) as { error: string }).error, new RegExp(message!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), query);
    }
  });
});

test('queues: the images head shows its priority values, and a priority swap sent with the token reorders it', async () => {
  await withDashboard(db, { allowControl: true, token: 'test-token' }, async (d) => {
    const head = async () => ((await (await fetch(`${d.url}/api/queues?n=20`)).json()) as { stage: string; head: QueueEntry[] }[]).find((q) => q.stage === 'images')!.head;
    const before = await head();
    assert.equal(before.length, 20);
    for (let k = 1; k < before.length; k++) assert.ok(before[k - 1]!.priority >= before[k]!.priority, 'head in descending priority');
    const r = await fetch(`${d.url}/api/control/priority`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-fracflow-token': 'test-token' }, body: JSON.stringify({ stage: 'images', priority: 'length' }) });
    assert.equal(r.status, 200, await r.clone().text());
    const after = await head();
    const longest = Math.max(...all.filter((x) => x.images_state === 'pending').map((x) => x.length));
    assert.ok(Math.abs(after[0]!.priority - longest) < 1e-12, `head priority ${after[0]!.priority} = longest pending length ${longest}`);
    assert.notDeepEqual(after.map((e) => e.key), before.map((e) => e.key));
  });
});

/**
 * The pathways table over a 50,000-pathway PostgreSQL store (filled through the store interface, see
 * test/helpers/pathways-store.ts), through the dashboard's HTTP API, as test/server/pathways-page.test.ts
 * does on SQLite: `serve`'s indexes made (and the tables vacuumed) once; every page of the default sort
 * walked end to end covers each row once in order with nulls last; filters, search (case-insensitive,
 * wildcards literal), descending, text and images-state sorts equal the same selection made in plain
 * JavaScript over the rows `export` gives. Skipped only without the PostgreSQL binaries outside CI.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildPathwaysStore } from '../helpers/pathways-store.js';
import { withDashboard } from '../helpers/dashboard.js';
import { skipWithoutPostgres, startPostgres, type PgServer } from '../support/postgres.js';
import { openDashboardStore, openQueue } from '../../src/store/index.js';
import type { PathwayPage } from '../../src/store/interface.js';

const N = 50000;
const skip = skipWithoutPostgres();
let pg: PgServer | null = null;
let db = '';
type Row = { id: number; key: string; state: string; structure_id: string; formula: string; length: number; dimensionality: number | null; ewald_energy: number | null; images_state: string | null };
let all: Row[] = [];

function lines(b: Uint8Array): Record<string, unknown>[] {
  return Buffer.from(b).toString('utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}

before(async () => {
  if (skip) return;
  pg = await startPostgres();
  db = await pg.createDatabase('big');
  const r = await buildPathwaysStore(db, N);
  assert.equal(r.pathways, N);
  const store = await openDashboardStore(db);
  try {
    const created = await store.prepareDashboard();
    assert.ok(created.includes('descriptors_dash_ewald_energy') && created.includes('descriptors_dash_search'), created.join(', '));
  } finally {
    await store.close();
  }
  // The reference: every row as `export` writes it, selected and sorted in plain JavaScript below.
  const q = await openQueue(db);
  try {
    const images = new Map(lines(await q.exportTable('images', 'json')).map((i) => [i['key'] as string, i['state'] as string]));
    all = lines(await q.exportTable('descriptors', 'json')).map((d) => ({
      id: d['id'] as number, key: d['key'] as string, state: d['state'] as string, structure_id: d['structure_id'] as string, formula: d['formula'] as string,
      length: d['length'] as number, dimensionality: d['dimensionality'] as number | null, ewald_energy: d['ewald_energy'] as number | null, images_state: images.get(d['key'] as string) ?? null,
    }));
  } finally {
    await q.close();
  }
});

after(() => pg?.stop());

async function page(url: string, path: string): Promise<PathwayPage> {
  const r = await fetch(url + path);
  const body = (await r.json()) as PathwayPage & { error?: string };
  assert.equal(r.status, 200, body.error);
  return body;
}

/** Ascending (or descending) by `col`, nulls last either way, ties by `tie` (the row id) in the same direction. */
function expected(rows: Row[], col: keyof Row, desc = false): Row[] {
  const sign = desc ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = a[col], y = b[col];
    if (x === null && y === null) return sign * (a.id - b.id);
    if (x === null) return 1;
    if (y === null) return -1;
    if (x < y) return -sign;
    if (x > y) return sign;
    return sign * (a.id - b.id);
  });
}

test('PostgreSQL pathways table: 50,000 rows by ewald_energy, walked in pages of 500, each row once in order with nulls last', { skip }, async () => {
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

test('PostgreSQL pathways table: filters, search, descending, text and images-state sorts equal the selection made in JavaScript', { skip }, async () => {
  await withDashboard(db, {}, async (d) => {
    const check = async (query: string, rows: Row[], col: keyof Row, desc = false) => {
      const want = expected(rows, col, desc);
      const nonNull = want.filter((r) => r[col] !== null).length;
      // The first page, one inside, one across the end of the non-null rows, one past it, and the last.
      for (const offset of new Set([0, 50, Math.max(0, nonNull - 20), nonNull + 10, Math.max(0, want.length - 30)])) {
        const p = await page(d.url, `/api/pathways?${query}&offset=${offset}&limit=50`);
        assert.equal(p.total, rows.length, query);
        assert.deepEqual(p.rows.map((r) => r.key), want.slice(offset, offset + 50).map((r) => r.key), `${query} offset ${offset}`);
      }
    };
    await check('minDim=3', all.filter((r) => r.dimensionality !== null && r.dimensionality >= 3), 'ewald_energy');
    await check('maxEwald=0.01&sort=length&desc=1', all.filter((r) => r.ewald_energy !== null && r.ewald_energy <= 0.01), 'length', true);
    await check('state=failed&sort=structure_id', all.filter((r) => r.state === 'failed'), 'structure_id');
    await check('sort=formula&desc=1', all, 'formula', true);
    await check('sort=ewald_energy&desc=1', all, 'ewald_energy', true);
    await check('search=MP-1012', all.filter((r) => r.structure_id.toLowerCase().includes('mp-1012') || r.formula.toLowerCase().includes('mp-1012')), 'ewald_energy');
    await check('search=kmg&minDim=1', all.filter((r) => r.formula.includes('KMg') && r.dimensionality !== null && r.dimensionality >= 1), 'ewald_energy');
    await check('sort=images_state', all, 'images_state');
    await check('sort=images_state&desc=1', all, 'images_state', true);
    const wild = await page(d.url, `/api/pathways?search=${encodeURIComponent('mp-10_2%')}`);
    assert.equal(wild.total, 0, 'the user\'s % and _ are literal characters, not wildcards');
  });
});

/**
 * The dashboard's store verbs (DashboardStore, SQLite) called directly: their validation messages,
 * throughput buckets that add up to the stage counts, the change mark moving on another connection's
 * commit and only then, the queue head in claim order, a structure's hops, and null for what is not
 * there; and hopProfile's message for a hop outside the list.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPathwaysStore } from '../helpers/pathways-store.js';
import { openQueueStore, type SqliteQueueStore } from '../../src/store/index.js';
import { hopProfile } from '../../src/analysis/hop-profile.js';
import { readStructure } from '../../src/structure/io.js';
import { findHops } from '../../src/analysis/pathfinder.js';
import type { PathwayQuery } from '../../src/store/interface.js';

const dir = mkdtempSync(join(tmpdir(), 'fracflow-dash-store-'));
const db = join(dir, 'store.db');
let store: SqliteQueueStore;

before(async () => {
  await buildPathwaysStore(db, 500, 7);
  store = openQueueStore(db);
});

after(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('pathwaysPage: each bad field refused with a message naming it and the value', async () => {
  const base: PathwayQuery = { offset: 0, limit: 10 };
  for (const [q, message] of [
    [{ ...base, offset: -1 }, 'pathways page: offset must be a non-negative integer, got -1'],
    [{ ...base, offset: 1.5 }, 'pathways page: offset must be a non-negative integer, got 1.5'],
    [{ ...base, limit: 0 }, 'pathways page: limit must be an integer from 1 to 500, got 0'],
    [{ ...base, limit: 501 }, 'pathways page: limit must be an integer from 1 to 500, got 501'],
    [{ ...base, sort: 'key; DROP TABLE x' }, 'pathways page: sort must be one of structure_id'],
    [{ ...base, state: 'lost' }, 'pathways page: state must be one of pending, running, done, failed, got "lost"'],
    [{ ...base, minDimensionality: Number.NaN }, 'pathways page: minDimensionality must be a number, got null'],
    [{ ...base, maxEwaldEnergy: Infinity }, 'pathways page: maxEwaldEnergy must be a number, got null'],
    [{ ...base, search: 'x'.repeat(201) }, 'pathways page: search must be a string of at most 200 characters'],
  ] as [PathwayQuery, string][]) {
    await assert.rejects(store.pathwaysPage(q), (e: Error) => e.message.startsWith(message), message);
  }
});

test('queueHead, rowHistory, throughputHistory, events: bad arguments refused by name', async () => {
  await assert.rejects(store.queueHead('images', 0), /queue head: n must be an integer from 1 to 1000, got 0/);
  await assert.rejects(store.queueHead('nope', 5), /queue head: no stage named "nope" in this store/);
  await assert.rejects(store.rowHistory('nope', 'k'), /row history: no stage named "nope" in this store/);
  await assert.rejects(store.throughputHistory(10, 0), /throughput history: bucketMs must be at least 1000, got 10/);
  await assert.rejects(store.throughputHistory(1000, Number.NaN), /throughput history: since must be a time in ms, got null/);
  await assert.rejects(store.events(0), /events: limit must be an integer from 1 to 10000, got 0/);
});

test('throughputHistory: the buckets of each stage add up to its done and failed rows', async () => {
  const points = await store.throughputHistory(60000, 0);
  const status = await store.status();
  for (const s of status) {
    const mine = points.filter((p) => p.stage === s.stage);
    assert.equal(mine.reduce((a, p) => a + p.done, 0), s.done, `${s.stage} done`);
    assert.equal(mine.reduce((a, p) => a + p.failed, 0), s.failed, `${s.stage} failed`);
    for (let k = 1; k < mine.length; k++) assert.ok(mine[k]!.at > mine[k - 1]!.at);
  }
  assert.ok(points.some((p) => p.stage === 'descriptors' && p.failed > 0), 'the failed descriptors rows are counted');
});

test('changeMark: unchanged by reads, moved by another connection\'s commit and by this connection\'s own', async () => {
  const a = await store.changeMark();
  await store.pathwaysPage({ offset: 0, limit: 5 });
  assert.equal(await store.changeMark(), a);
  const other = openQueueStore(db);
  try {
    await other.scale('images', 4);
  } finally {
    await other.close();
  }
  const b = await store.changeMark();
  assert.notEqual(b, a);
  await store.scale('images', 2);
  assert.notEqual(await store.changeMark(), b);
  const events = await store.events(5);
  assert.deepEqual(events.slice(0, 2).map((e) => [e.kind, e.detail]), [['scale', { from: 4, to: 2 }], ['scale', { from: 2, to: 4 }]]);
});

test('queueHead: ready rows in claim order (submitted first, then priority, then admission) with their priorities', async () => {
  const head = await store.queueHead('images', 10);
  assert.equal(head.length, 10);
  for (let k = 1; k < head.length; k++) assert.ok(head[k - 1]!.priority >= head[k]!.priority);
  await store.submit('images', head[9]!.key);
  const after = await store.queueHead('images', 10);
  assert.equal(after[0]!.key, head[9]!.key, 'a submitted row leads the queue');
  assert.equal(after[0]!.boost, 1);
});

test('structureHops and pathwayDetail: a structure\'s hops in order; null for what the store does not hold', async () => {
  const s = await store.structureHops('mp-100003');
  assert.ok(s);
  assert.deepEqual(s.hops.map((h) => h.hop_index), [0, 1, 2, 3, 4]);
  assert.equal(s.formula, 'NaF', 'the helper gives structure k the formula FORMULAS[k mod 12]');
  assert.equal(await store.structureHops('mp-999999'), null);
  assert.equal(await store.pathwayDetail('no-such-key'), null);
  assert.equal(await store.rowHistory('images', 'no-such-key'), null);
  const d = await store.pathwayDetail(s.hops[0]!.key);
  assert.equal(d!.species.length, d!.frac.length / 3);
  assert.equal(d!.lattice.length, 9);
});

test('hopProfile: a hop index outside the hop list is refused by name', () => {
  const s = readStructure(join(import.meta.dirname, '..', 'stages', 'fixtures', 'structures', 'CaF2_fluorite_Fm-3m.cif'));
  const hops = findHops(s, { ion: 'F', maxLengthAng: 5, limit: 5 });
  assert.throws(() => hopProfile(s, hops, 99, { ion: 'F', maxLengthAng: 5, limit: 5, idpp: 'exact' }), /hop 99 is not among the \d+ hops of the pathway's hop list/);
});

test('prepareDashboard: nothing on a read-only connection; the indexes once on a writable one, then nothing', async () => {
  const ro = openQueueStore(db, { readonly: true });
  try {
    assert.deepEqual(await ro.prepareDashboard(), []);
  } finally {
    await ro.close();
  }
  const made = await store.prepareDashboard();
  assert.ok(made.includes('descriptors_dash_ewald_energy') && made.includes('descriptors_dash_search') && made.includes('images_dash_state') && made.includes('descriptors_dash_finished'), made.join(', '));
  assert.deepEqual(await store.prepareDashboard(), []);
});

/** The embedded SQLite store: migrations, upserts without duplicates, round trip of structures. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { openStore, structureHash } from '../../src/engine/store.js';
import { importFiles, importBundled } from '../../src/stages/import.js';
import { createStructure } from '../../src/structure/structure.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'fracflow-store-'));

function caf2(shift = 0) {
  return createStructure({
    lattice: [5.463, 0, 0, 0, 5.463, 0, 0, 0, 5.463],
    species: ['Ca', 'F', 'F'],
    frac: [shift, 0, 0, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75],
    oxidationStates: [2, -1, -1],
    info: { id: 'x', e_above_hull: 0.01 },
  });
}

test('migrations are recorded once and a reopened file keeps its schema and rows', () => {
  const db = join(tmp(), 's.db');
  const a = openStore(db);
  assert.deepEqual(a.schemaVersions(), [1, 2, 3]);
  a.upsertStructures([{ sourceId: 'mp-1', dataset: 't', structure: caf2() }]);
  a.close();
  const b = openStore(db);
  assert.deepEqual(b.schemaVersions(), [1, 2, 3]);
  assert.equal(b.structureCount(), 1);
  assert.equal(b.sql.pragma('journal_mode'), 'wal');
  b.close();
});

test('upsert by source id: same content is unchanged, changed content updates in place, never doubled', () => {
  const s = openStore(':memory:');
  assert.deepEqual(s.upsertStructures([{ sourceId: 'mp-1', dataset: 't', structure: caf2() }]), { inserted: 1, updated: 0, unchanged: 0 });
  assert.deepEqual(s.upsertStructures([{ sourceId: 'mp-1', dataset: 't', structure: caf2() }]), { inserted: 0, updated: 0, unchanged: 1 });
  assert.deepEqual(s.upsertStructures([{ sourceId: 'mp-1', dataset: 't', structure: caf2(0.01) }]), { inserted: 0, updated: 1, unchanged: 0 });
  assert.equal(s.structureCount(), 1);
  const back = s.getStructure('mp-1')!;
  assert.equal(structureHash(back), structureHash(caf2(0.01)));
  assert.deepEqual(Array.from(back.oxidationStates!), [2, -1, -1]);
  const row = s.sql.get<Record<string, unknown>>('SELECT e_above_hull, reduced_formula, nsites FROM structures');
  assert.deepEqual(row, { e_above_hull: 0.01, reduced_formula: 'CaF2', nsites: 3 });
  s.close();
});

test('a file with one bad record imports the others and records the bad one with its cause', () => {
  const dir = tmp();
  const good = (id: string) => ({ material_id: id, lattice: [[4, 0, 0], [0, 4, 0], [0, 0, 4]], species: ['Li', 'F'], frac_coords: [[0, 0, 0], [0.5, 0.5, 0.5]] });
  const bad = { material_id: 'mp-3', lattice: [[4, 0, 0], [0, 4, 0], [0, 0, 4]], species: ['Li', 'F'], frac_coords: [[0, 0, 0], [0.01, 0.01, 0.01]] };
  const nan = { material_id: 'mp-4', lattice: [[4, 0, 0], [0, 4, 0], [0, 0, 4]], species: ['Li', 'F'], frac_coords: [[0, 0, 0], ['NaN', 0.5, 0.5]] };
  const file = join(dir, 'dump.jsonl.gz');
  writeFileSync(file, gzipSync([good('mp-1'), bad, good('mp-2'), nan].map((r) => JSON.stringify(r)).join('\n') + '\n'));
  const s = openStore(':memory:');
  const report = importFiles(s, [file], 'dump');
  assert.deepEqual(report, { dataset: 'dump', inserted: 2, updated: 0, unchanged: 0, failed: 2 });
  const errors = s.importErrors();
  assert.equal(errors.length, 2);
  assert.match(errors[0]!.message, /0\.\d+ Å apart \(closer than 0\.5 Å\): overlapping atoms/);
  assert.equal(errors[0]!.sourceId, 'mp-3');
  assert.match(errors[1]!.message, /not a finite number|non-finite|NaN/i);
  s.close();
});

test('bundled datasets import with mp-ids as keys; curated MP records merge with the MP file', () => {
  const s = openStore(':memory:');
  const mp = importBundled(s, 'mp');
  assert.deepEqual(mp, { dataset: 'mp', inserted: 450, updated: 0, unchanged: 0, failed: 0 });
  const cur = importBundled(s, 'curated');
  assert.equal(cur.failed, 0);
  assert.equal(cur.unchanged, 16);
  assert.equal(cur.inserted, 27);
  assert.ok(s.getStructure('mp-241'));
  s.close();
});

/**
 * The embedded SQLite store: migrations (also of a store made before source ids were
 * dataset-qualified), upserts without duplicates, content duplicates marked, round trip of
 * structures, the bundled import's counts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { MIGRATIONS, migrate, openSql, openStore, structureHash } from '../../src/store/sqlite/diffusion.js';
import { importFiles, importBundled } from '../../src/workflow/import.js';
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
  assert.deepEqual(a.schemaVersions(), [1, 2, 3, 4, 5]);
  a.upsertStructures([{ sourceId: 'mp-1', dataset: 't', structure: caf2() }]);
  a.close();
  const b = openStore(db);
  assert.deepEqual(b.schemaVersions(), [1, 2, 3, 4, 5]);
  assert.equal(b.structureCount(), 1);
  assert.equal(b.sql.pragma('journal_mode'), 'wal');
  b.close();
});

test('upsert by source id: same content is unchanged, changed content updates in place, never doubled', () => {
  const s = openStore(':memory:');
  const none = { duplicates: 0, duplicatePairs: [] };
  assert.deepEqual(s.upsertStructures([{ sourceId: 'mp-1', dataset: 't', structure: caf2() }]), { inserted: 1, updated: 0, unchanged: 0, ...none });
  assert.deepEqual(s.upsertStructures([{ sourceId: 'mp-1', dataset: 't', structure: caf2() }]), { inserted: 0, updated: 0, unchanged: 1, ...none });
  assert.deepEqual(s.upsertStructures([{ sourceId: 'mp-1', dataset: 't', structure: caf2(0.01) }]), { inserted: 0, updated: 1, unchanged: 0, ...none });
  assert.equal(s.structureCount(), 1);
  const back = s.getStructure('mp-1')!;
  assert.equal(structureHash(back), structureHash(caf2(0.01)));
  assert.deepEqual(Array.from(back.oxidationStates!), [2, -1, -1]);
  const row = s.sql.get<Record<string, unknown>>('SELECT e_above_hull, reduced_formula, nsites FROM structures');
  assert.deepEqual(row, { e_above_hull: 0.01, reduced_formula: 'CaF2', nsites: 3 });
  s.close();
});

test('content duplicates: kept under their own ids, marked duplicate_of the first imported, re-pointed when the original changes', () => {
  const s = openStore(':memory:');
  const dup = (id: string) => s.sql.get<{ d: string | null }>('SELECT duplicate_of AS d FROM structures WHERE source_id = ?', [id])!.d;
  const r = s.upsertStructures([
    { sourceId: 'a:1', dataset: 'a', structure: caf2() },
    { sourceId: 'b:1', dataset: 'b', structure: caf2() },
    { sourceId: 'b:2', dataset: 'b', structure: caf2(0.02) },
  ]);
  assert.deepEqual(r, { inserted: 3, updated: 0, unchanged: 0, duplicates: 1, duplicatePairs: [{ sourceId: 'b:1', duplicateOf: 'a:1' }] });
  assert.equal(s.structureCount(), 3, 'nothing overwritten');
  assert.deepEqual([dup('a:1'), dup('b:1'), dup('b:2')], [null, 'a:1', null]);
  // A later import of the same content is a duplicate too, even from another call.
  assert.equal(s.upsertStructures([{ sourceId: 'c:1', dataset: 'c', structure: caf2() }]).duplicates, 1);
  assert.equal(dup('c:1'), 'a:1');
  // The original changes content: the lowest-id row left in its old group becomes the original, and
  // the changed row joins the group of its new content as a duplicate of that group's original b:2
  // (which keeps its place although a:1 has the lower id: its results stand for the content).
  const moved = s.upsertStructures([{ sourceId: 'a:1', dataset: 'a', structure: caf2(0.02) }]);
  assert.deepEqual([moved.updated, moved.duplicates, moved.duplicatePairs], [1, 1, [{ sourceId: 'a:1', duplicateOf: 'b:2' }]]);
  assert.deepEqual([dup('a:1'), dup('b:1'), dup('c:1'), dup('b:2')], ['b:2', null, 'b:1', null]);
  assert.deepEqual(s.structureSummary().map((x) => [x.dataset, x.structures, x.duplicates]), [['a', 1, 1], ['b', 2, 0], ['c', 1, 1]]);
  s.close();
});

test('a file with one bad record imports the others and records the bad one with its file, record and cause', () => {
  const dir = tmp();
  const good = (id: string, x = 0.5) => ({ material_id: id, lattice: [[4, 0, 0], [0, 4, 0], [0, 0, 4]], species: ['Li', 'F'], frac_coords: [[0, 0, 0], [x, 0.5, 0.5]] });
  const bad = { material_id: 'mp-3', lattice: [[4, 0, 0], [0, 4, 0], [0, 0, 4]], species: ['Li', 'F'], frac_coords: [[0, 0, 0], [0.01, 0.01, 0.01]] };
  const nan = { material_id: 'mp-4', lattice: [[4, 0, 0], [0, 4, 0], [0, 0, 4]], species: ['Li', 'F'], frac_coords: [[0, 0, 0], ['NaN', 0.5, 0.5]] };
  const file = join(dir, 'dump.jsonl.gz');
  writeFileSync(file, gzipSync([good('mp-1'), bad, good('mp-2', 0.4), nan].map((r) => JSON.stringify(r)).join('\n') + '\n'));
  const s = openStore(':memory:');
  const report = importFiles(s, [file], 'dump');
  assert.deepEqual(report, { dataset: 'dump', inserted: 2, updated: 0, unchanged: 0, duplicates: 0, failed: 2, duplicateExamples: [] });
  // A temporary folder is not below the working directory: the path is absolute; each record of the
  // multi-record file carries its index.
  assert.deepEqual(s.sql.all('SELECT source_id FROM structures ORDER BY id'), [{ source_id: `dump:${file}#0` }, { source_id: `dump:${file}#2` }]);
  const errors = s.importErrors();
  assert.equal(errors.length, 2);
  assert.match(errors[0]!.message, /0\.\d+ Å apart \(closer than 0\.5 Å\): overlapping atoms/);
  assert.deepEqual([errors[0]!.sourceId, errors[0]!.file, errors[0]!.record, errors[0]!.recordId], [`dump:${file}#1`, file, 1, 'mp-3']);
  assert.match(errors[1]!.message, /not a finite number|non-finite|NaN/i);
  s.close();
  // `cwd` says what the ids are relative to; the file is still read where it is.
  const t = openStore(':memory:');
  importFiles(t, [file], 'dump', undefined, { cwd: dir });
  assert.deepEqual(t.sql.all('SELECT source_id FROM structures ORDER BY id'), [{ source_id: 'dump:dump.jsonl.gz#0' }, { source_id: 'dump:dump.jsonl.gz#2' }]);
  assert.equal(t.importErrors()[0]!.sourceId, 'dump:dump.jsonl.gz#1');
  t.close();
});

test('bundled datasets import under dataset-qualified ids: colliding MP ids are kept apart, content duplicates reported', () => {
  const s = openStore(':memory:');
  const mp = importBundled(s, 'mp');
  assert.deepEqual(mp, { dataset: 'mp', inserted: 450, updated: 0, unchanged: 0, duplicates: 0, failed: 0, duplicateExamples: [] });
  // Before, the 16 curated records with an MP id "updated" (or left) the MP rows of that id.
  const cur = importBundled(s, 'curated');
  assert.deepEqual([cur.inserted, cur.updated, cur.unchanged, cur.duplicates, cur.failed], [43, 0, 0, 21, 0]);
  assert.deepEqual(cur.duplicateExamples[0], { sourceId: 'curated:mp-1138', duplicateOf: 'mp:mp-1138' });
  const task = importBundled(s, 'mp-task');
  assert.deepEqual([task.inserted, task.updated, task.unchanged, task.duplicates, task.failed], [483, 0, 0, 73, 0]);
  assert.equal(s.structureCount(), 976);
  assert.equal(s.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM structures WHERE duplicate_of IS NULL')!.n, 882, 'distinct contents: what a screen computes');
  assert.ok(s.getStructure('mp:mp-241'));
  assert.equal(s.getStructure('mp-241'), null, 'no bare MP ids any more');
  // Two mp-task records share the orig_id mvc-3781: the second gets its record index.
  assert.deepEqual(s.sql.all("SELECT source_id, duplicate_of FROM structures WHERE source_id LIKE 'mp-task:mvc-3781%' ORDER BY id"), [
    { source_id: 'mp-task:mvc-3781', duplicate_of: null },
    { source_id: 'mp-task:mvc-3781#1', duplicate_of: 'mp-task:mvc-3781' },
  ]);
  // Curated records without an id are numbered by their record.
  assert.ok(s.getStructure('curated:#17'));
  const again = importBundled(s, 'curated');
  assert.deepEqual([again.inserted, again.updated, again.unchanged, again.duplicates], [0, 0, 43, 21]);
  s.close();
});

test('a store made before dataset-qualified ids: migration 3 marks its content duplicates; a re-import under the new ids adds rows marked duplicate_of the old ones', () => {
  const db = join(tmp(), 'old.db');
  const sql = openSql(db);
  migrate(sql, MIGRATIONS.slice(0, 2));
  sql.close();
  // The old ids: a bare MP id, and a curated row of the same content under another id.
  const seed = openSql(db);
  const old = openStore(':memory:');
  old.upsertStructures([{ sourceId: 'x', dataset: 'mp', structure: caf2() }]);
  const cols = 'dataset, formula, reduced_formula, nsites, volume_ang3, density_g_cm3, e_above_hull, formation_energy_per_atom, lattice, species, frac_coords, oxidation_states, info_json, content_hash, code_version';
  const row = old.sql.get<Record<string, unknown>>(`SELECT ${cols} FROM structures`)!;
  old.close();
  for (const id of ['mp-2741', 'curated:3']) {
    seed.run(`INSERT INTO structures (source_id, ${cols}) VALUES (@id, ${cols.split(', ').map((c) => `@${c}`).join(', ')})`, { id, ...(row as Record<string, never>) });
  }
  seed.close();
  const s = openStore(db);
  assert.deepEqual(s.schemaVersions(), [1, 2, 3, 4, 5]);
  assert.deepEqual(s.sql.all('SELECT source_id, duplicate_of FROM structures ORDER BY id'), [
    { source_id: 'mp-2741', duplicate_of: null },
    { source_id: 'curated:3', duplicate_of: 'mp-2741' },
  ]);
  const r = s.upsertStructures([{ sourceId: 'mp:mp-2741', dataset: 'mp', structure: caf2() }]);
  assert.deepEqual(r.duplicatePairs, [{ sourceId: 'mp:mp-2741', duplicateOf: 'mp-2741' }], 'the old row stays the original: its screen results stand');
  assert.equal(s.importErrors().length, 0);
  s.close();
});

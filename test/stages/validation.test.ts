/**
 * The stage modules' public boundaries: parameter validation (each message names the parameter and
 * the value), the structure columns, the pathway folder names, and the per-row work functions (a
 * pathway whose hop no longer matches is refused with the reason).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readStructure } from '../../src/structure/io.js';
import { StageError } from '../../src/stage-kit/stage.js';
import { pathwaysOfRow, screenParams, structureFromColumns, mapRows, findPathsStage } from '../../src/stages/pathways.js';
import { openSql } from '../../src/store/sqlite/diffusion.js';
import { descriptorsOfRow, descriptorsStage } from '../../src/stages/descriptors.js';
import { imagesOfRow, imagesParams, imagesStage, pathwayFolderName } from '../../src/stages/images.js';
import { fileSourceId, recordSourceId } from '../../src/workflow/import.js';
import { createStructure } from '../../src/structure/structure.js';
import { runScreen, screenStages } from '../../src/workflow/screen.js';

const here = dirname(fileURLToPath(import.meta.url));
const caf2File = join(here, 'fixtures', 'structures', 'CaF2_fluorite_Fm-3m.cif');

function blob(a: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float64Array.from(a).buffer);
}

function caf2Row(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const s = readStructure(caf2File);
  return {
    key: 'caf2|F|5|5|h', structure_id: 'caf2', find_paths_key: 'caf2|F|5|5|h', ion: 'F', max_length: 5, hop_limit: 5,
    lattice: blob(s.lattice), species: s.species.join(' '), frac_coords: blob(s.frac), oxidation_states: null, ...extra,
  };
}

test('screenParams: defaults, and each bad parameter named with its value', () => {
  assert.deepEqual(screenParams(), { ion: 'F', maxLengthAng: 5, limit: 5, equivalence: 'fracflow' });
  assert.deepEqual(screenParams({ ion: 'Li+', maxLengthAng: 4.5, limit: 0, equivalence: 'pymatgen' }), { ion: 'Li', maxLengthAng: 4.5, limit: 0, equivalence: 'pymatgen' });
  assert.throws(() => screenParams({ ion: 'fluorine' }), new StageError('ion must be an element symbol such as F or Li, got "fluorine"'));
  assert.throws(() => screenParams({ maxLengthAng: -1 }), new StageError('maxLengthAng must be a positive number, got -1'));
  assert.throws(() => screenParams({ maxLengthAng: NaN }), new StageError('maxLengthAng must be a positive number, got null'));
  assert.throws(() => screenParams({ limit: 2.5 }), new StageError('limit must be a non-negative integer, got 2.5'));
  assert.throws(() => findPathsStage({ limit: -1 }), /limit must be a non-negative integer, got -1/);
  assert.throws(() => screenParams({ equivalence: 'ddi' as 'pymatgen' }), new StageError(`equivalence must be 'fracflow' or 'pymatgen', got "ddi"`));
  assert.throws(() => descriptorsStage('exact', { equivalence: 'x' as 'pymatgen' }), new StageError(`equivalence must be 'fracflow' or 'pymatgen', got "x"`));
});

test('imagesParams and screenStages: bad output folder, supercell length and worker count are named', () => {
  assert.equal(imagesParams().supercellMinLengthAng, 7);
  assert.throws(() => imagesParams({ outDir: '' }), new StageError('images outDir must be a non-empty path, got ""'));
  assert.throws(() => imagesParams({ supercellMinLengthAng: 0 }), new StageError('images supercellMinLengthAng must be a positive number, got 0'));
  assert.throws(() => imagesStage({ supercellMinLengthAng: -3 }), /supercellMinLengthAng must be a positive number, got -3/);
  assert.throws(() => screenStages({}, {}, 0), new StageError('workers must be a positive integer, got 0'));
  assert.deepEqual(screenStages().map((s) => s.name), ['find_paths', 'descriptors', 'images']);
  assert.equal(screenStages({}, { outDir: '/x/y', supercellMinLengthAng: 10 }).at(-1)!.params['supercellMinLengthAng'], 10);
});

test('runScreen: a bad top count is named before anything runs', async () => {
  await assert.rejects(runScreen({ db: ':memory:', top: -1 }), new StageError('top must be a non-negative integer, got -1'));
});

test('structureFromColumns: species and binary columns are checked', () => {
  const r = caf2Row();
  assert.equal(structureFromColumns(r['lattice'], r['species'], r['frac_coords'], null).species.length, 12);
  assert.throws(() => structureFromColumns(r['lattice'], null, r['frac_coords'], null), new StageError('species must be a space-separated string, got null'));
  assert.throws(() => structureFromColumns('abc', r['species'], r['frac_coords'], null), new StageError('lattice must be a binary column of float64 values, got string'));
  assert.throws(() => structureFromColumns(r['lattice'], r['species'], new Uint8Array(5), null), new StageError('frac_coords must be a binary column of float64 values, got object'));
  assert.throws(() => structureFromColumns(r['lattice'], r['species'], r['frac_coords'], 7), new StageError('oxidation_states must be a binary column of float64 values, got number'));
});

test('pathwayFolderName keeps letters, digits, dot, dash and underscore, then a short hash of the key', () => {
  const sha = (k: string) => createHash('sha256').update(k, 'utf8').digest('hex').slice(0, 16);
  assert.equal(pathwayFolderName('mp:mp-1234|F|5|5|abc#0'), `mp_mp-1234_F_5_5_abc_0-${sha('mp:mp-1234|F|5|5|abc#0')}`);
  assert.equal(pathwayFolderName('user:a/b c.d'), `user_a_b_c.d-${sha('user:a/b c.d')}`);
});

test('pathwayFolderName is injective where sanitising alone is not: a/b, a_b, a:b, A_B get four folders', () => {
  const keys = ['a/b', 'a_b', 'a:b', 'A_B', 'a b', 'a\\b'];
  const names = keys.map(pathwayFolderName);
  assert.equal(new Set(names).size, keys.length, names.join(' '));
  // Distinct also where the file system ignores letter case.
  assert.equal(new Set(names.map((n) => n.toLowerCase())).size, keys.length);
  for (const n of names) assert.match(n, /^[A-Za-z0-9._~-]+-[0-9a-f]{16}$/);
});

test('pathwayFolderName: no separator, never . or .., at most 113 characters whatever the key', () => {
  const long = `user:${'deep/'.repeat(200)}x.cif#3|F|5|5|0123456789ab#4`;
  for (const key of ['..', '.', '/', '../../etc/passwd', long, '\u00e9\u4e2d', '']) {
    const n = pathwayFolderName(key);
    assert.ok(!n.includes('/') && !n.includes('\\') && n !== '.' && n !== '..', `${JSON.stringify(key)} -> ${n}`);
    assert.ok(n.length <= 96 + 1 + 1 + 16, `${n.length} characters`);
  }
  const n = pathwayFolderName(long);
  assert.ok(n.startsWith('user_deep_deep_') && n.includes('~') && n.includes('0123456789ab_4-'), n);
});

test('mapRows: a row that throws names its structure; rows already computed are not recomputed', () => {
  const memo = new Map<string, number>();
  let calls = 0;
  const f = (r: Record<string, unknown>) => {
    calls++;
    if (r['key'] === 'bad') throw new RangeError('no good');
    return 1;
  };
  assert.deepEqual(mapRows([{ key: 'a' }, { key: 'b' }], memo, f), [1, 1]);
  assert.throws(() => mapRows([{ key: 'a' }, { key: 'bad', structure_id: 'mp-9' }], memo, f), new Error('mp-9: RangeError: no good'));
  assert.equal(calls, 3, 'a and b once each, then the failing row');
});

const FP = { ion: 'F', maxLengthAng: 5, limit: 5, equivalence: 'fracflow' as const, maxSites: 5000 };
const DP = { ion: 'F', maxLengthAng: 5, limit: 5, equivalence: 'fracflow' as const, idpp: 'exact' as const };

test('pathwaysOfRow: CaF2 conventional cell -> primitive, 4 hops, nsites_777 24, one pathways row per hop carrying the sanitised cell and the hop list; descriptors and images take them as they are', () => {
  const { row: p, pathways } = pathwaysOfRow(caf2Row(), FP);
  assert.equal(p['sanitized_nsites'], 3);
  assert.equal(p['n_hops'], 4);
  assert.equal(p['nsites_777'], 24);
  assert.equal(p['space_group'], 'F m -3 m (225)');
  assert.deepEqual(pathways.map((r) => [r['key'], r['source'], r['hop_index']]), [0, 1, 2, 3].map((k) => [`caf2|F|5|5|h#${k}`, 'caf2|F|5|5|h', k]));
  assert.equal(p['dmin'], pathways[0]!['length']);
  const cell = structureFromColumns(pathways[0]!['lattice'], pathways[0]!['species'], pathways[0]!['frac_coords'], pathways[0]!['oxidation_states']);
  assert.equal(cell.species.length, 3, 'the sanitised (primitive) cell');
  const row0 = { ...pathways[0]!, find_paths_key: pathways[0]!['source'] };
  const d = descriptorsOfRow(row0, DP);
  assert.equal(d['dimensionality'], 3);
  assert.throws(() => descriptorsOfRow({ ...row0, key: 'k#7', hop_index: 7 }, DP), new Error('hop 7 is not among the hops of its pathways row (caf2|F|5|5|h)'));
  const out = mkdtempSync(join(tmpdir(), 'fracflow-images-'));
  const params = imagesParams({ outDir: out });
  assert.throws(() => imagesOfRow({ ...row0, hop_index: 9 }, params), /hop 9 is not among the hops of its pathways row/);
  const img = imagesOfRow(row0, params);
  assert.ok(img['file_set'] instanceof Uint8Array, 'the files go out as data for the sink');
});

test('fileSourceId: relative below the working directory, absolute elsewhere, normalised, with the record index', () => {
  assert.equal(fileSourceId('user', 'runs/./a/../b.cif', undefined, '/home/u'), 'user:runs/b.cif');
  assert.equal(fileSourceId('user', '/home/u/runs/b.cif', 3, '/home/u'), 'user:runs/b.cif#3');
  assert.equal(fileSourceId('user', '../x.cif', undefined, '/home/u/runs'), 'user:/home/u/x.cif');
  assert.equal(fileSourceId('user', '..x.cif', undefined, '/home/u'), 'user:..x.cif', 'a name starting with two dots is still below');
  assert.equal(fileSourceId('mine', '/home/u', undefined, '/home/u'), 'mine:/home/u', 'the working directory itself');
});

test('recordSourceId: dataset-qualified id, else orig_id, else the record index; a repeated id gets its index', () => {
  const s = (info: Record<string, unknown>) => createStructure({ lattice: [4, 0, 0, 0, 4, 0, 0, 0, 4], species: ['F'], frac: [0, 0, 0], info });
  const seen = new Set<string>();
  assert.equal(recordSourceId(s({ id: 'mp-1' }), 'mp', 0, seen), 'mp:mp-1');
  assert.equal(recordSourceId(s({ orig_id: 'mvc-1' }), 'mp-task', 1, seen), 'mp-task:mvc-1');
  assert.equal(recordSourceId(s({}), 'curated', 2, seen), 'curated:#2');
  assert.equal(recordSourceId(s({ id: 'mp-1' }), 'mp', 3, seen), 'mp:mp-1#3');
});

test('a store from before pathways was a table of its own (an earlier fracflow made it a view) is refused with the way out, and reset clears it', async () => {
  const { Engine } = await import('../../src/engine/engine.js');
  const { openStore } = await import('../../src/store/sqlite/diffusion.js');
  const { resetEngine } = await import('../../src/store/sqlite/ops.js');
  const store = openStore(':memory:');
  try {
    await (await Engine.open({ db: store.sql, stages: [findPathsStage()] })).close();
    store.sql.exec('DROP TABLE pathways; DELETE FROM engine_emits; CREATE VIEW pathways AS SELECT key FROM find_paths');
    await assert.rejects(Engine.open({ db: store.sql, stages: [findPathsStage()] }), /^StageError: stage find_paths: pathways is a view in this store \(made by an earlier fracflow\); run `fracflow reset --yes` \(imported structures stay\) and run again$/);
    assert.deepEqual(resetEngine(store.sql), ['find_paths']);
    await (await Engine.open({ db: store.sql, stages: [findPathsStage()] })).close();
    assert.deepEqual(store.sql.all("SELECT type, name FROM sqlite_master WHERE name = 'pathways'"), [{ type: 'table', name: 'pathways' }]);
  } finally {
    store.close();
  }
});

/**
 * The command line, run as a real process: the main job (`run`), `import`, `info`, `neighbors`, and
 * how bad input is reported (message naming the file and cause, non-zero exit, nothing written).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { fixturesDir } from '../helpers/reference.js';
import { openStore } from '../../src/store/sqlite/diffusion.js';
import { readStructure } from '../../src/structure/io.js';
import { neighborList } from '../../src/kernels/neighbors.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'fracflow-cli-'));
const caf2Cif = join(fixturesDir, 'structures', 'CaF2_fluorite_Fm-3m.cif');

test('run imports every default bundled dataset into the store and prints a summary; a second run changes nothing', () => {
  const dir = tmp();
  const db = join(dir, 'fracflow.db');
  const first = runCli(['run', '--db', db]);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /dataset\s+inserted\s+updated\s+unchanged\s+duplicates\s+failed/);
  assert.match(first.stdout, /^mp\s+450\s+0\s+0\s+0\s+0$/m);
  // Every record under its own id; the 21 curated and 73 task-input records whose content equals an
  // earlier one's are counted as duplicates (16 of the curated ones are the MP file's own structures).
  assert.match(first.stdout, /^curated\s+43\s+0\s+0\s+21\s+0$/m);
  assert.match(first.stdout, /^mp-task\s+483\s+0\s+0\s+73\s+0$/m);
  assert.match(first.stdout, /^curated: 21 structures have the content of an earlier one \(kept, not screened again\), e\.g\. curated:mp-1138 = mp:mp-1138, /m);
  assert.match(first.stdout, /dataset\s+structures\s+duplicates\s+sites/);
  const store = openStore(db);
  try {
    const n = store.structureCount();
    assert.equal(n, 450 + 43 + 483);
    assert.deepEqual(store.importErrors(), []);
    const caf2 = store.getStructure('mp:mp-2741');
    assert.ok(caf2);
    assert.deepEqual([...new Set(caf2.species)].sort(), ['Ca', 'F']);
  } finally {
    store.close();
  }
  const second = runCli(['run', '--db', db]);
  assert.equal(second.status, 0, second.stderr);
  assert.match(second.stdout, /^mp\s+0\s+0\s+450\s+0\s+0$/m);
  assert.match(second.stdout, /^curated\s+0\s+0\s+43\s+21\s+0$/m);
  const again = openStore(db);
  assert.equal(again.structureCount(), 450 + 43 + 483);
  again.close();
});

test('run --datasets takes a subset and rejects an unknown name with the list of choices', () => {
  const dir = tmp();
  const ok = runCli(['run', '--db', join(dir, 'a.db'), '--datasets', 'curated']);
  assert.equal(ok.status, 0, ok.stderr);
  // On its own, curated's duplicates are the 5 prototypes it lists twice.
  assert.match(ok.stdout, /^curated\s+43\s+0\s+0\s+5\s+0$/m);
  const bad = runCli(['run', '--db', join(dir, 'b.db'), '--datasets', 'icsd']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown bundled dataset "icsd"; choose from mp, curated, mp-task, perov5/);
});

test('import keeps going past a bad file and records its message', () => {
  const dir = tmp();
  const bad = join(dir, 'broken.cif');
  writeFileSync(
    bad,
    'data_broken\n_cell_length_a 5.4x\n_cell_length_b 5\n_cell_length_c 5\n_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n' +
      'loop_\n_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nF1 F 0 0 0\n',
  );
  const db = join(dir, 'f.db');
  const r = runCli(['import', caf2Cif, bad, '--db', db]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /broken\.cif.*_cell_length_a/);
  const store = openStore(db);
  try {
    assert.equal(store.structureCount(), 1);
    const errors = store.importErrors();
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /_cell_length_a/);
  } finally {
    store.close();
  }
});

test('info prints formula, sites, lattice, volume and density', () => {
  const r = runCli(['info', caf2Cif, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout) as { reduced_formula: string; nsites: number; volume: number; density: number; abc: number[] };
  assert.equal(info.reduced_formula, 'CaF2');
  assert.equal(info.nsites, 12);
  assert.ok(Math.abs(info.volume - 5.4631 ** 3) < 1e-6);
  // 4 CaF2 (4 × 78.0748 u × 1.66054e-24 g/u) in (5.4631 Å)³ = 163.047 Å³: 3.1806 g/cm³.
  assert.ok(Math.abs(info.density - 3.1806) < 1e-4, String(info.density));
  const text = runCli(['info', caf2Cif]);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^CaF2 \(Ca4 F8\)/);
  assert.match(text.stdout, /volume\s+163\.\d+ Å³/);
});

test('neighbors --json prints i, j, S, d sorted by (i, j, S), identical to the library call', () => {
  const r = runCli(['neighbors', caf2Cif, '--cutoff', '3', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { i: number[]; j: number[]; S: number[][]; d: number[] };
  const nl = neighborList(readStructure(caf2Cif), 3, { sorted: true });
  assert.equal(out.i.length, nl.count);
  assert.deepEqual(out.i, Array.from(nl.i));
  assert.deepEqual(out.j, Array.from(nl.j));
  assert.deepEqual(out.S.flat(), Array.from(nl.S));
  assert.deepEqual(out.d, Array.from(nl.d!));
  assert.equal(out.i.length, 112);
  const csv = runCli(['neighbors', caf2Cif, '--cutoff', '3', '--csv', '--backend', 'ts']);
  assert.equal(csv.status, 0, csv.stderr);
  const lines = csv.stdout.trim().split('\n');
  assert.equal(lines[0], 'i,j,Sa,Sb,Sc,d');
  assert.equal(lines.length, 113);
});

test('bad input: a missing file, an unknown element, a bad cutoff and a left-handed cell are reported clearly', () => {
  const dir = tmp();
  const missing = runCli(['info', join(dir, 'nope.cif')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /file not found: .*nope\.cif/);

  const poscar = join(dir, 'POSCAR');
  writeFileSync(poscar, 'bad\n1.0\n4 0 0\n0 4 0\n0 0 4\nXx F\n1 1\nDirect\n0 0 0\n0.5 0.5 0.5\n');
  const unknown = runCli(['info', poscar]);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /POSCAR.*unknown element "Xx"/);

  const cutoff = runCli(['neighbors', caf2Cif, '--cutoff', '-1']);
  assert.notEqual(cutoff.status, 0);
  assert.match(cutoff.stderr, /--cutoff must be a positive number, got "-1"/);

  const left = join(dir, 'left.json');
  writeFileSync(left, JSON.stringify({ lattice: [[0, 4, 0], [4, 0, 0], [0, 0, 4]], species: ['F'], frac_coords: [[0, 0, 0]], material_id: 'mp-0' }));
  const refused = runCli(['info', left]);
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /cell volume is negative .* left-handed/);
  const allowed = runCli(['info', left, '--allow-left-handed', '--json']);
  assert.equal(allowed.status, 0, allowed.stderr);
  assert.ok(existsSync(left));
});

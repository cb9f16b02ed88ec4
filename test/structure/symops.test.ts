/**
 * The operation search of src/structure/symops.ts, which follows spglib's rules (the reference stack's
 * symmetry finder): its Delaunay reduction against spglib's own on every reference lattice and 60
 * random skewed ones; its answer against spglib on 120 randomly rotated, shifted, re-based and
 * shuffled cells (spglib run on those same cells, test/fixtures/reference/symmetry); the structures
 * where moyo's rules gave another group, each with its cause; and its declining on supercells.
 * (Agreement over every bundled structure: test/structure/spglib-agreement.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { delaunayReduce, pureTranslationLattice, searchOperations } from '../../src/structure/symops.js';
import { clearSymmetryCache, moyoSymmetry, symmetry, symmetryCacheSize, symmetryOrbits, primitiveReduction } from '../../src/structure/symmetry.js';
import { createStructure, type Structure } from '../../src/structure/structure.js';
import { loadBundled } from '../../src/io/bundled.js';
import { referenceDir } from '../helpers/reference.js';

const SYMPREC = 0.1;

interface Row { id: string; lattice: number[][]; species: string[]; frac_coords: number[][]; number: number; n_operations: number; classes: number[][] }
interface DelaunayRow { id: string; lattice: number[][]; 'reduced_0.1': number[][] | null; 'reduced_1e-05': number[][] | null }
const reference = JSON.parse(gunzipSync(readFileSync(join(referenceDir, 'symmetry', 'spglib_symmetry.json.gz'))).toString()) as { transformed: Row[]; delaunay: DelaunayRow[] };

test('Delaunay reduction: spglib\'s reduced basis on every reference lattice and 60 random skewed ones, eps 0.1 and 1e-5', () => {
  let compared = 0;
  for (const row of reference.delaunay) {
    for (const eps of [0.1, 1e-5]) {
      const want = row[eps === 0.1 ? 'reduced_0.1' : 'reduced_1e-05'];
      const got = delaunayReduce(row.lattice.flat(), eps);
      if (want === null) {
        assert.equal(got, null, `${row.id} eps ${eps}`);
        continue;
      }
      assert.ok(got, `${row.id} eps ${eps}: no reduction`);
      want.flat().forEach((x, k) => assert.ok(Math.abs(x - got.basis[k]!) < 1e-9, `${row.id} eps ${eps}: ${Array.from(got.basis).join(',')} vs ${want.flat().join(',')}`));
      compared++;
    }
  }
  assert.ok(compared >= 250, `${compared}`);
});

test('rotated, shifted, re-based and shuffled cells: spglib\'s space group, operation count and equivalent sites', () => {
  assert.ok(reference.transformed.length >= 100);
  for (const row of reference.transformed) {
    const s = createStructure({ lattice: row.lattice, species: row.species, frac: row.frac_coords, info: { id: row.id } }, { checkOverlap: false, allowLeftHanded: true });
    const sym = symmetry(s, { symprec: SYMPREC });
    assert.equal(sym.number, row.number, `${row.id} (lattice ${JSON.stringify(row.lattice)})`);
    assert.equal(sym.operationCount, row.n_operations, row.id);
    assert.deepEqual(sym.classes, row.classes, row.id);
  }
});

function bundled(name: string, id: string | number): Structure {
  const all = loadBundled(name);
  return typeof id === 'number' ? all[id]! : all.find((s) => s.info.id === id)!;
}

test('where moyo\'s rules gave another group: spglib\'s, with the cause of each', () => {
  const cases: [string, Structure, number, number, string][] = [
    // The translation must map the pivot exactly: F displaced 0.07 Å and Mo 0.04 Å the other way
    // along x leave the mirror x → −x off by more than 0.1 Å there, though a fitted one is within it.
    ['perov5-4640', bundled('perov5', 'perov5-4640'), 25, 4, 'exact-pivot translation'],
    ['mp-767044', bundled('mp', 'mp-767044'), 1, 1, 'exact-pivot translation'],
    // The angle tolerance: a rhombohedral cell 61.0°/58.9°/58.9° is cubic within 5° (moyo's
    // symprec-driven angle test allows only ~1° here).
    ['mp-task[280] Rb2VF6', bundled('mp-task', 280), 225, 48, 'angle tolerance'],
    // Operations that do not make a group within symprec are re-checked at lower tolerances.
    ['mp-752767', bundled('mp', 'mp-752767'), 5, 2, 'group check'],
  ];
  for (const [label, s, number, count, cause] of cases) {
    const own = searchOperations(s, SYMPREC)!;
    assert.equal(own.operationCount, count, `${label} (${cause})`);
    assert.equal(symmetry(s).number, number, `${label} (${cause})`);
    assert.notEqual(moyoSymmetry(s).number, number, `${label}: moyo now agrees; the case no longer shows the cause`);
  }
});

test('searchOperations and pureTranslationLattice check their tolerances', () => {
  const s = bundled('mp', 'mp-241');
  for (const bad of [0, 1, Number.NaN]) {
    assert.throws(() => searchOperations(s, bad), new RegExp(`symprec must be a distance in \\(0, 1\\) Å, got ${String(bad)}`));
    assert.throws(() => pureTranslationLattice(s, bad), new RegExp(`symprec must be a distance in \\(0, 1\\) Å, got ${String(bad)}`));
  }
  for (const bad of [0, -1, 90, Number.NaN]) assert.throws(() => searchOperations(s, SYMPREC, bad), new RegExp(`angleToleranceDeg must be an angle in \\(0, 90\\) degrees, got ${String(bad)}`));
});

test('a supercell is declined (pure translations), and symmetryOrbits then takes its primitive cell\'s orbits', () => {
  const s0 = createStructure({ lattice: [5.46, 0, 0, 0, 5.46, 0, 0, 0, 5.46], species: ['Ca', 'F', 'F'], frac: [[0, 0, 0], [0.25, 0.25, 0.25], [0.75, 0.75, 0.75]] });
  // Conventional fluorite cell: four lattice points.
  const species: string[] = [];
  const frac: number[][] = [];
  for (const t of [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]) {
    for (let i = 0; i < 3; i++) {
      species.push(s0.species[i]!);
      frac.push([0, 1, 2].map((k) => s0.frac[3 * i + k]! + t[k]!));
    }
  }
  const s = createStructure({ lattice: s0.lattice, species, frac });
  assert.equal(searchOperations(s, SYMPREC), null);
  clearSymmetryCache();
  assert.deepEqual(Array.from(symmetryOrbits(s)), [0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1]);
  assert.equal(symmetry(s).number, 225);
  assert.equal(symmetry(s).operationCount, 192);
});

test('symmetry cache: content-equal structures share one analysis; clearSymmetryCache empties it; a hit keeps the caller\'s info', () => {
  clearSymmetryCache();
  assert.equal(symmetryCacheSize(), 0);
  const mk = (id: string) => createStructure({ lattice: [4, 0, 0, 0, 4, 0, 0, 0, 4], species: ['Li', 'F'], frac: [[0, 0, 0], [0.5, 0.5, 0.5]], info: { id } });
  const a = mk('a'), b = mk('b');
  const sa = symmetry(a);
  assert.equal(symmetry(b), sa);
  assert.ok(symmetryCacheSize() >= 1);
  const ra = primitiveReduction(a);
  const rb = primitiveReduction(b);
  assert.equal(ra.primitive, a);
  assert.equal(rb.primitive, b);
  assert.equal(rb.symmetry, ra.symmetry);
  // A different coordinate (any digit) is a different entry.
  const c = createStructure({ lattice: [4, 0, 0, 0, 4, 0, 0, 0, 4], species: ['Li', 'F'], frac: [[0, 0, 0], [0.5, 0.5, 0.5000001]] });
  assert.notEqual(symmetry(c), sa);
  clearSymmetryCache();
  assert.equal(symmetryCacheSize(), 0);
  assert.notEqual(symmetry(a), sa);
});

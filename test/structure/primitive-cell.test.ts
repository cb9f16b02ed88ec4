/**
 * The reduction of large supercells by their own pure translations (src/structure/primitive-cell.ts,
 * pureTranslationLattice in src/structure/symops.ts, the large-cell route of primitiveReduction and
 * symmetry in src/structure/symmetry.ts): the exact translation lattice, the first-copy assignment
 * against a plain scan, and on supercells of more than MOYO_WHOLE_CELL_MAX_SITES sites the same
 * primitive cell, space group, orbits, operations and Wyckoff letters as moyo's analysis of the
 * whole cell (run here on cells where moyo takes seconds), and the pymatgen references of the
 * 324-site CaF2 cell. Random inputs print their seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TranslationLattice, firstCopies } from '../../src/structure/primitive-cell.js';
import { pureTranslationLattice } from '../../src/structure/symops.js';
import {
  MOYO_WHOLE_CELL_MAX_SITES,
  clearSymmetryCache,
  primitiveReduction,
  sitePermutations,
  symmetry,
  symmetryOrbits,
  moyoSymmetry,
  type SymmetryInfo,
} from '../../src/structure/symmetry.js';
import { sanitize } from '../../src/structure/sanitize.js';
import { createStructure, type Structure } from '../../src/structure/structure.js';
import { det3, fracToCart, inv3, mul3 } from '../../src/structure/lattice.js';
import { supercell } from '../../src/kernels/supercell.js';
import { loadBundled } from '../../src/io/bundled.js';
import { referenceDir, referenceRecords, referenceStructure } from '../helpers/reference.js';
import { fmt, rng } from '../helpers/random.js';

const record = (id: string) => referenceStructure(referenceRecords().find((r) => r.id === id)!);

/** Whether the rows of `a` and `b` span the same lattice (a · b⁻¹ integral and unimodular). */
function sameLattice(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  const m = mul3(a, inv3(b));
  return m.every((x) => Math.abs(x - Math.round(x)) < 1e-6) && Math.abs(Math.abs(det3(m)) - 1) < 1e-6;
}

test('TranslationLattice: the centring translations of F, I and C cells; redundant generators; membership', () => {
  const cases: [string, number[][], number][] = [
    ['F', [[0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]], 4],
    ['I', [[0.5, 0.5, 0.5]], 2],
    ['C', [[0.5, 0.5, 0]], 2],
    ['3×1×2 supercell', [[1 / 3, 0, 0], [2 / 3, 0, 0], [0, 0, 0.5], [1 / 3, 0, 0.5], [2 / 3, 0, 0.5]], 6],
  ];
  for (const [name, ts, points] of cases) {
    const D = 12;
    const lat = new TranslationLattice(D);
    // Each generator twice and their sum once: the lattice does not change.
    for (const t of [...ts, ...ts]) lat.add(t.map((x) => Math.round(x * D)));
    lat.add(ts.reduce((acc, t) => acc.map((x, q) => x + Math.round(t[q]! * D)), [0, 0, 0]));
    assert.equal(lat.pointsPerCell, points, name);
    for (const t of ts) assert.ok(lat.contains(t.map((x) => Math.round(x * D))), `${name}: contains ${t}`);
    assert.ok(lat.contains([D, -2 * D, 5 * D]), `${name}: contains the cell's own vectors`);
    assert.ok(!lat.contains([1, 0, 0]), `${name}: 1/12 a is no translation`);
    // The basis spans the same lattice as the cell vectors plus the generators.
    const B = lat.basis();
    assert.ok(Math.abs(det3(B) - 1 / points) < 1e-12, `${name}: det ${det3(B)}`);
    for (const t of ts) {
      const c = fracToCart(inv3(B), t);
      assert.ok(Array.from(c).every((x) => Math.abs(x - Math.round(x)) < 1e-12), `${name}: ${t} in the basis`);
    }
  }
  assert.throws(() => new TranslationLattice(0), /denominator must be an integer in \[1, 2\^26\), got 0/);
});

test('firstCopies assigns each site to the lowest-index earlier copy, as a scan of every kept site does', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const r = rng(seed);
    const lattice = [4 + 3 * r(), 0, 0, r() - 0.5, 4 + 3 * r(), 0, r() - 0.5, r() - 0.5, 4 + 3 * r()];
    const tol = 0.1;
    const base: number[][] = Array.from({ length: 3 + Math.floor(r() * 10) }, () => [r(), r(), r()]);
    const species: string[] = [];
    const frac: number[] = [];
    // Copies of the base sites shifted by lattice vectors and jittered within the tolerance, plus
    // near-duplicates of two species at one point (only the same species may match).
    for (let k = 0; k < 200; k++) {
      const b = Math.floor(r() * base.length);
      species.push(b % 2 ? 'F' : 'Ca');
      for (let q = 0; q < 3; q++) frac.push(base[b]![q]! + Math.floor(r() * 5) - 2 + (r() - 0.5) * 0.004);
    }
    const got = firstCopies(species, frac, lattice, tol);
    // The plain scan: every earlier kept site, first match wins.
    const kept: number[] = [];
    for (let i = 0; i < species.length; i++) {
      let match = -1;
      for (let q = 0; q < kept.length && match < 0; q++) {
        const j = kept[q]!;
        if (species[j] !== species[i]) continue;
        const d = [0, 1, 2].map((k) => frac[3 * i + k]! - frac[3 * j + k]!);
        const c = fracToCart(lattice, d.map((x) => x - Math.round(x)));
        if (Math.hypot(c[0]!, c[1]!, c[2]!) <= tol) {
          match = q;
          assert.deepEqual(Array.from(got.shift.subarray(3 * i, 3 * i + 3)), d.map((x) => Math.round(x) + 0), `seed ${seed}: shift of site ${i}`);
        }
      }
      if (match < 0) kept.push(i);
      assert.equal(got.siteToKept[i], match < 0 ? kept.length - 1 : match, `seed ${seed}: site ${i}`);
    }
    assert.deepEqual(got.kept, kept, `seed ${seed}`);
  }
});

test('pureTranslationLattice: r lattice points for an r-fold supercell (diagonal, sheared, skewed), 1 for a primitive or defective cell', () => {
  const caf2 = record('CaF2_prim');
  for (const m of [[2, 0, 0, 0, 2, 0, 0, 0, 2], [1, 0, 0, 0, 1, 0, 1, 0, 3], [2, 1, 0, -1, 2, 0, 0, 1, 3], [3, 0, 0, 0, 1, 0, 0, 0, 1]]) {
    const sc = supercell(caf2, m);
    const found = pureTranslationLattice(sc, 0.1);
    assert.ok(found, `[${m}]: declined`);
    assert.equal(found.ratio, Math.abs(det3(m)), `[${m}]`);
    assert.ok(sameLattice(mul3(found.basis, sc.lattice), caf2.lattice), `[${m}]: the basis spans CaF2's primitive lattice`);
  }
  assert.equal(pureTranslationLattice(caf2, 0.1)!.ratio, 1);
  // One F replaced by Cl: no translation maps the cell onto itself any more.
  const sc = supercell(caf2, [2, 0, 0, 0, 2, 0, 0, 0, 2]);
  const sp = sc.species.slice();
  sp[sp.indexOf('F')] = 'Cl';
  assert.equal(pureTranslationLattice(createStructure({ lattice: sc.lattice, species: sp, frac: sc.frac }), 0.1)!.ratio, 1);
  // Conventional cells of the reference set: F (4), I (2) and C (2) centring.
  for (const [id, r] of [['CaF2', 4], ['LiF', 4], ['CaF2_2x2x2', 32]] as const) assert.equal(pureTranslationLattice(record(id), 0.1)!.ratio, r, id);
});

function checkOperations(s: Structure, sym: SymmetryInfo, label: string): void {
  const perms = sitePermutations(s, sym);
  for (let k = 0; k < sym.operationCount; k++) {
    assert.equal(Math.abs(det3(sym.rotations.subarray(9 * k, 9 * k + 9))), 1, `${label}: op ${k} unimodular`);
    const seen = new Set<number>();
    for (let i = 0; i < s.species.length; i++) seen.add(perms.perm[k * s.species.length + i]!);
    assert.equal(seen.size, s.species.length, `${label}: op ${k} permutes the sites`);
  }
}

const opKey = (sym: SymmetryInfo, k: number) =>
  `${Array.from(sym.rotations.subarray(9 * k, 9 * k + 9)).join(',')}|${Array.from(sym.translations.subarray(3 * k, 3 * k + 3), (x) => {
    const w = x - Math.floor(x);
    return (w > 1 - 1e-6 ? 0 : w).toFixed(6);
  }).join(',')}`;

test('a supercell above MOYO_WHOLE_CELL_MAX_SITES: the symmetry derived from its primitive cell is moyo\'s analysis of the whole cell', () => {
  // Cells of 216–324 sites, where moyo's own analysis still takes only seconds.
  const cases: [string, Structure][] = [
    ['CaF2_3x3x3', record('CaF2_3x3x3')],
    ['LiF 3×3×3', supercell(record('LiF'), [3, 0, 0, 0, 3, 0, 0, 0, 3])],
    ['AlF3 [2 1 0; 0 2 0; 0 1 3]', supercell(record('AlF3'), [2, 1, 0, 0, 2, 0, 0, 1, 3])],
    ['mp_mp-1195732 2×2×2', supercell(record('mp_mp-1195732'), [2, 0, 0, 0, 2, 0, 0, 0, 2])],
  ];
  for (const [label, s] of cases) {
    assert.ok(s.species.length > MOYO_WHOLE_CELL_MAX_SITES, label);
    clearSymmetryCache();
    const derived = symmetry(s);
    const whole = moyoSymmetry(s);
    const red = primitiveReduction(s);
    assert.equal(red.primitive.species.length * Math.abs(det3(red.T)), s.species.length, label);
    for (const f of ['number', 'symbol', 'hallNumber', 'symprecUsed', 'operationCount'] as const) assert.equal(derived[f], whole[f], `${label}: ${f}`);
    // Every operation of the primitive cell times every pure translation is listed or counted as
    // dropped (moyo leaves some of the dropped ones out of its count: 0 for this AlF3 cell).
    assert.equal(derived.operationCount + derived.droppedOperations, red.symmetry.operationCount * Math.abs(det3(red.T)), label);
    assert.deepEqual(Array.from(derived.orbits), Array.from(whole.orbits), label);
    assert.deepEqual(derived.classes, whole.classes, label);
    assert.deepEqual(derived.wyckoffs, whole.wyckoffs, label);
    assert.deepEqual(derived.classWyckoffSymbols, whole.classWyckoffSymbols, label);
    const ops = (sym: SymmetryInfo) => Array.from({ length: sym.operationCount }, (_, k) => opKey(sym, k)).sort();
    assert.deepEqual(ops(derived), ops(whole), `${label}: operations`);
    checkOperations(s, derived, label);
    assert.deepEqual(Array.from(symmetryOrbits(s)), Array.from(derived.orbits), label);
  }
});

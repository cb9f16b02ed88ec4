/**
 * Supercell invariants on random triclinic cells and random integer matrices (seeded; the seed and
 * matrix are printed on failure), the near-cubic search, and every validation message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStructure, cartesian, type Structure } from '../../src/structure/structure.js';
import { det3, inv3, perpendicularHeights } from '../../src/structure/lattice.js';
import { neighborList } from '../../src/kernels/neighbors.js';
import {
  MAX_SUPERCELL_SITES,
  minLengthScaling,
  nearCubicSupercellMatrix,
  supercell,
  supercellFracWasm,
  supercellHeights,
  supercellLatticePointsTs,
  SupercellStatusError,
  supercellCoordinatesTs,
} from '../../src/kernels/supercell.js';
import { rng, fmt } from '../helpers/random.js';



function randomStructure(rand: () => number, n: number): Structure {
  for (;;) {
    const lat = [3 + 3 * rand(), 0, 0, (rand() - 0.5) * 2, 3 + 3 * rand(), 0, (rand() - 0.5) * 2, (rand() - 0.5) * 2, 3 + 3 * rand()];
    const frac: number[] = [];
    for (let i = 0; i < 3 * n; i++) frac.push(rand() * 1.4 - 0.2);
    const species = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 'Ca' : 'F'));
    const oxi = species.map((e) => (e === 'Ca' ? 2 : -1));
    try {
      return createStructure({ lattice: lat, species, frac, oxidationStates: oxi, siteProperties: { label: species.map((e, i) => `${e}${i}`) } });
    } catch {
      // overlapping draw: try again
    }
  }
}

function randomMatrix(rand: () => number): number[] {
  for (;;) {
    const m = Array.from({ length: 9 }, (_, k) => (k % 4 === 0 ? 1 + Math.floor(rand() * 3) : Math.floor(rand() * 5) - 2));
    const d = det3(m);
    if (d > 0 && d <= 12) return m;
  }
}

const CAF2 = createStructure({
  lattice: [5.463, 0, 0, 0, 5.463, 0, 0, 0, 5.463],
  species: ['Ca', 'Ca', 'Ca', 'Ca', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F'],
  frac: [0, 0, 0, 0.5, 0.5, 0, 0.5, 0, 0.5, 0, 0.5, 0.5, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.25, 0.75, 0.75, 0.75, 0.25, 0.25, 0.75, 0.25, 0.75, 0.25, 0.75, 0.25, 0.75, 0.75, 0.25, 0.25, 0.25, 0.75],
});
const CAF2_PRIM = createStructure({
  lattice: [0, 2.7315, 2.7315, 2.7315, 0, 2.7315, 2.7315, 2.7315, 0],
  species: ['Ca', 'F', 'F'],
  frac: [0, 0, 0, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75],
});

test('random cells and matrices: WASM equals the TS twin bit for bit; every site is an old site moved by a lattice vector; carried data follow their sites', () => {
  for (let seed = 1; seed <= 25; seed++) {
    const rand = rng(seed);
    const s = randomStructure(rand, 2 + Math.floor(rand() * 8));
    const m = randomMatrix(rand);
    const ctx = `seed ${seed}, matrix [${m.join(', ')}], lattice [${fmt(s.lattice)}]`;
    const w = supercell(s, m);
    const t = supercell(s, m, { backend: 'ts' });
    const det = det3(m);
    const n = s.species.length;
    assert.equal(w.species.length, n * det, ctx);
    assert.equal(w.frac.length, t.frac.length, ctx);
    for (let k = 0; k < w.frac.length; k++) assert.ok(Object.is(w.frac[k], t.frac[k]), `${ctx}: coordinate ${k}: ${w.frac[k]} vs ${t.frac[k]}`);
    assert.deepEqual(Array.from(w.lattice), Array.from(t.lattice), ctx);
    // Supercell site i·det + p, expressed in the old cell, differs from old site i by an integer vector,
    // and the det images of one site are distinct modulo the new lattice.
    const oldFrac = cartesianToFrac(s.lattice, cartesian(w));
    for (let i = 0; i < n; i++) {
      const seen = new Set<string>();
      for (let p = 0; p < det; p++) {
        const q = i * det + p;
        for (let k = 0; k < 3; k++) {
          const diff = oldFrac[3 * q + k]! - s.frac[3 * i + k]!;
          assert.ok(Math.abs(diff - Math.round(diff)) < 1e-9, `${ctx}: site ${q} is not an image of old site ${i} (axis ${k}, off by ${diff})`);
        }
        seen.add(Array.from(w.frac.subarray(3 * q, 3 * q + 3), (x) => Math.round(x * 1e6) % 1e6).join(','));
        assert.equal(w.species[q], s.species[i], ctx);
        assert.equal(w.oxidationStates![q], s.oxidationStates![i], ctx);
        assert.equal(w.siteProperties['label']![q], s.siteProperties['label']![i], ctx);
      }
      assert.equal(seen.size, det, `${ctx}: images of site ${i} coincide`);
    }
    assert.ok(Math.abs(Math.abs(det3(w.lattice)) - det * Math.abs(det3(s.lattice))) < 1e-9 * det * Math.abs(det3(s.lattice)), ctx);
  }
});

function cartesianToFrac(lattice: ArrayLike<number>, cart: Float64Array): Float64Array {
  const inv = inv3(lattice);
  const out = new Float64Array(cart.length);
  for (let i = 0; i < cart.length; i += 3)
    for (let k = 0; k < 3; k++) out[i + k] = cart[i]! * inv[k]! + cart[i + 1]! * inv[3 + k]! + cart[i + 2]! * inv[6 + k]!;
  return out;
}

test('supercell consistency: each site keeps its neighbour count (triclinic, cutoff above the old cell height)', () => {
  for (let seed = 101; seed <= 106; seed++) {
    const rand = rng(seed);
    const s = randomStructure(rand, 3 + Math.floor(rand() * 4));
    const m = randomMatrix(rand);
    const cutoff = 1.2 * Math.max(...perpendicularHeights(s.lattice));
    const ctx = `seed ${seed}, matrix [${m.join(', ')}], cutoff ${cutoff.toPrecision(17)}, lattice [${fmt(s.lattice)}]`;
    const base = neighborList(s, cutoff);
    const big = supercell(s, m);
    const nl = neighborList(big, cutoff);
    const det = det3(m);
    const perSite = (count: number, i: Int32Array, nSites: number) => {
      const c = new Array<number>(nSites).fill(0);
      for (let p = 0; p < count; p++) c[i[p]!]!++;
      return c;
    };
    const a = perSite(base.count, base.i, s.species.length);
    const b = perSite(nl.count, nl.i, big.species.length);
    for (let q = 0; q < b.length; q++) assert.equal(b[q], a[Math.floor(q / det)], `${ctx}: site ${q}`);
  }
});

test('diagonal scaling: coordinates are the correctly rounded (f + t) / n, wrapped', () => {
  const s = createStructure({ lattice: [4, 0, 0, 0.3, 5, 0, 0.2, -0.4, 6], species: ['F', 'Li'], frac: [-0.1, 0.35, 1.7, 0.3, 0.9, 0.05] });
  const sc = supercell(s, [3, 2, 5]);
  let q = 0;
  for (let i = 0; i < 2; i++)
    for (let a = 0; a < 3; a++)
      for (let b = 0; b < 2; b++)
        for (let c = 0; c < 5; c++) {
          const want = [(s.frac[3 * i]! + a) / 3, (s.frac[3 * i + 1]! + b) / 2, (s.frac[3 * i + 2]! + c) / 5].map((x) => x - Math.floor(x));
          assert.deepEqual(Array.from(sc.frac.subarray(3 * q, 3 * q + 3)), want, `site ${q}`);
          q++;
        }
  assert.deepEqual(Array.from(sc.lattice), [12, 0, 0, 0.6, 10, 0, 1, -2, 30]);
});

test('nearCubicSupercellMatrix: heights >= L, never more cells than the diagonal rule, cubic cells give n·I', () => {
  assert.deepEqual(nearCubicSupercellMatrix(CAF2, 10), [2, 0, 0, 0, 2, 0, 0, 0, 2]);
  assert.deepEqual(nearCubicSupercellMatrix(CAF2, 5), [1, 0, 0, 0, 1, 0, 0, 0, 1]);
  for (const [s, name] of [[CAF2, 'CaF2'], [CAF2_PRIM, 'CaF2_prim']] as const) {
    for (const L of [7, 10, 12]) {
      const m = nearCubicSupercellMatrix(s, L);
      const h = supercellHeights(s, m);
      assert.ok(Math.min(...h) >= L * (1 - 1e-9), `${name} L=${L}: heights ${h} for [${m.join(', ')}]`);
      assert.ok(det3(m) > 0);
      const diag = perpendicularHeights(s.lattice).map((x) => Math.ceil(L / x));
      assert.ok(det3(m) <= diag[0]! * diag[1]! * diag[2]!, `${name} L=${L}`);
    }
  }
  // CaF2 at 7 Å: 4 cells (48 atoms) instead of the 2×2×2 = 8 of the diagonal rule.
  assert.equal(det3(nearCubicSupercellMatrix(CAF2, 7)), 4);
});

test('nearCubicSupercellMatrix is minimal: no integer matrix with entries in [-2, 2] and fewer cells has every height >= L', () => {
  for (const [s, L, name] of [[CAF2_PRIM, 7, 'CaF2_prim'], [CAF2, 7, 'CaF2']] as const) {
    const best = det3(nearCubicSupercellMatrix(s, L));
    const l = s.lattice;
    const lim = L * (1 - 1e-9);
    // Each height is at most its vector's length, so rows shorter than L are pruned as soon as they are chosen.
    const rowsOf = (x: number, y: number, z: number) => [0, 1, 2].map((c) => x * l[c]! + y * l[3 + c]! + z * l[6 + c]!);
    const long = (v: number[]) => Math.hypot(v[0]!, v[1]!, v[2]!) >= lim;
    const candidates: number[][] = [];
    for (let x = -2; x <= 2; x++) for (let y = -2; y <= 2; y++) for (let z = -2; z <= 2; z++) if (long(rowsOf(x, y, z))) candidates.push([x, y, z]);
    let found: string | null = null;
    for (const r0 of candidates) for (const r1 of candidates) {
      // Cofactors of rows 0 and 1: det = r2 · (r0 × r1).
      const k0 = r0[1]! * r1[2]! - r0[2]! * r1[1]!, k1 = r0[2]! * r1[0]! - r0[0]! * r1[2]!, k2 = r0[0]! * r1[1]! - r0[1]! * r1[0]!;
      if (k0 === 0 && k1 === 0 && k2 === 0) continue;
      for (const r2 of candidates) {
        const det = r2[0]! * k0 + r2[1]! * k1 + r2[2]! * k2;
        if (det <= 0 || det >= best) continue;
        const m = [...r0, ...r1, ...r2];
        const rows = [...rowsOf(r0[0]!, r0[1]!, r0[2]!), ...rowsOf(r1[0]!, r1[1]!, r1[2]!), ...rowsOf(r2[0]!, r2[1]!, r2[2]!)];
        if (Math.min(...perpendicularHeights(rows)) >= lim) found ??= m.join(', ');
      }
    }
    assert.ok(candidates.length > 10, `${name}: ${candidates.length} candidate rows`);
    assert.equal(found, null, `${name} L=${L}: [${found}] has fewer cells than ${best}`);
  }
});

test('validation: every bad matrix, length and option is refused with a message naming it', () => {
  assert.throws(() => supercell(CAF2, [2, 2]), /matrix must be 3 numbers \(diagonal\) or 9 integers \(row-major 3×3\), got 2 numbers \[2, 2\]/);
  assert.throws(() => supercell(CAF2, 2 as unknown as number[]), /matrix must be 3 numbers \(diagonal\) or 9 integers \(row-major 3×3\), got 2/);
  assert.throws(() => supercell(CAF2, [2, 1.5, 2]), /matrix entries must be integers, got 1.5 in \[2, 1.5, 2\]/);
  assert.throws(() => supercell(CAF2, [2, Number.NaN, 2]), /matrix entries must be integers, got NaN/);
  assert.throws(() => supercell(CAF2, [2, 1001, 1]), /entries must be at most 1000 in magnitude, got 1001/);
  assert.throws(() => supercell(CAF2, [2, 0, 2]), /matrix \[2, 0, 0, 0, 0, 0, 0, 0, 2\] has determinant 0; it must be > 0/);
  assert.throws(() => supercell(CAF2, [1, 0, 0, 0, 0, 1, 0, 1, 0]), /has determinant -1; it must be > 0 \(a left-handed or degenerate scaling is refused\)/);
  assert.throws(() => supercell(CAF2, [1000, 1000, 1000]), new RegExp(`would give 12000000000 sites \\(12 × 1000000000\\); at most ${MAX_SUPERCELL_SITES}`));
  assert.throws(() => supercell(CAF2, [1, 1, 1], { backend: 'gpu' as 'ts' }), /backend must be 'wasm' or 'ts', got gpu/);
  for (const bad of [0, -1, Number.NaN, Infinity]) {
    assert.throws(() => minLengthScaling(CAF2, bad), new RegExp(`minLengthScaling: minLengthAng must be a positive finite number of Å, got ${bad}`));
    assert.throws(() => nearCubicSupercellMatrix(CAF2, bad), new RegExp(`nearCubicSupercellMatrix: minLengthAng must be a positive finite number of Å, got ${bad}`));
  }
  assert.throws(() => nearCubicSupercellMatrix(CAF2, 10, { maxCandidates: 0 }), /maxCandidates must be a positive integer, got 0/);
  assert.throws(() => nearCubicSupercellMatrix(CAF2_PRIM, 15, { maxCandidates: 100 }), /more than 100 candidate sublattices examined for minLengthAng 15 without reaching the diagonal bound \(\d+ cells\)/);
});

test('kernel status codes become errors naming the matrix (WASM and TS twin)', () => {
  const id = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  for (const [m, re] of [
    [[1, 0, 0, 0, 1.5, 0, 0, 0, 1], /supercell: matrix \[1, 0, 0, 0, 1.5, 0, 0, 0, 1\] must hold integers of magnitude <= 1000/],
    [[1, 0, 0, 0, 1, 0, 0, 0, -1], /supercell: matrix \[1, 0, 0, 0, 1, 0, 0, 0, -1\] has determinant -1; it must be > 0/],
  ] as const) {
    assert.throws(() => supercellFracWasm([0, 0, 0], m), (e: unknown) => e instanceof SupercellStatusError && re.test(e.message));
    assert.throws(() => supercellLatticePointsTs(m), (e: unknown) => e instanceof SupercellStatusError && re.test(e.message));
  }
  assert.throws(() => supercellFracWasm([0, Number.NaN, 0], id), /supercell: a fractional coordinate is NaN or infinite/);
  assert.throws(() => supercellCoordinatesTs([0, Infinity, 0], id, supercellLatticePointsTs(id)), /supercell: a fractional coordinate is NaN or infinite/);
  assert.throws(() => supercellCoordinatesTs([0, 0, 0], [2, 0, 0, 0, 1, 0, 0, 0, 1], supercellLatticePointsTs(id)), /supercell: output buffer too small for matrix \[2, 0, 0, 0, 1, 0, 0, 0, 1\]/);
});

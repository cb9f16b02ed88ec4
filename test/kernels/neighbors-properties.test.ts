/**
 * Property tests of the neighbour search: invariances and consistency that must hold for any input.
 * Random cases print their seed and transform (17 significant digits) on failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { neighborList, neighborSearchWasm, sortNeighborList, type NeighborList } from '../../src/kernels/neighbors.js';
import { neighborSearchTs, NeighborStatusError } from '../../src/kernels/neighbors-ts.js';
import { createStructure, cartesian, type Structure } from '../../src/structure/structure.js';
import { referenceRecords, referenceStructure } from '../helpers/reference.js';
import { fmt, randomRotation, rng, rotate } from '../helpers/random.js';



function byId(id: string): Structure {
  return referenceStructure(referenceRecords().find((r) => r.id === id)!);
}

/** Random triclinic cell with N random sites at least `minSep` apart (rejection sampling). */
function randomStructure(rand: () => number, n: number): Structure {
  for (;;) {
    const lat = [3 + 3 * rand(), 0, 0, (rand() - 0.5) * 2, 3 + 3 * rand(), 0, (rand() - 0.5) * 2, (rand() - 0.5) * 2, 3 + 3 * rand()];
    const frac: number[] = [];
    for (let i = 0; i < 3 * n; i++) frac.push(rand() * 1.4 - 0.2); // some outside [0,1)
    try {
      return createStructure({ lattice: lat, species: Array(n).fill('F'), frac });
    } catch {
      // overlapping draw: try again
    }
  }
}

function pairKeySet(nl: NeighborList): Map<string, number> {
  const m = new Map<string, number>();
  for (let p = 0; p < nl.count; p++) m.set(`${nl.i[p]},${nl.j[p]},${nl.S[3 * p]},${nl.S[3 * p + 1]},${nl.S[3 * p + 2]}`, nl.d![p]!);
  return m;
}

test('rotation and translation leave the pair set and distances unchanged (random triclinic cells)', () => {
  for (let seed = 1; seed <= 12; seed++) {
    const rand = rng(seed);
    const s = randomStructure(rand, 5 + Math.floor(rand() * 20));
    const cutoff = 2 + 6 * rand();
    // Random rotation from a random unit quaternion; random translation.
    const R = randomRotation(rand);
    const rot = (v: ArrayLike<number>) => rotate(R, v);
    const t = [rand() * 10 - 5, rand() * 10 - 5, rand() * 10 - 5];
    const cart = rot(cartesian(s));
    for (let k = 0; k < cart.length; k++) cart[k]! += t[k % 3]!;
    const moved = createStructure({ lattice: rot(s.lattice), species: s.species, cart });
    const a = pairKeySet(neighborList(s, cutoff));
    const b = pairKeySet(neighborList(moved, cutoff));
    const ctx = `seed ${seed}, cutoff ${cutoff.toPrecision(17)}, rotation [${fmt(R)}], translation [${fmt(t)}]`;
    // Translation can move a site across the cell boundary only through its fractional coordinate,
    // which we keep unwrapped, so (i, j, S) keys are invariant, not only distances.
    assert.equal(b.size, a.size, `pair count changed: ${ctx}`);
    for (const [k, d] of a) {
      const d2 = b.get(k);
      assert.ok(d2 !== undefined && Math.abs(d2 - d) < 1e-9, `pair ${k}: ${d} vs ${d2}: ${ctx}`);
    }
  }
});

test('(i, j, S) is present exactly when (j, i, -S) is, with the same distance', () => {
  for (const id of ['CaF2_prim_skewed', 'CeF3', 'pmg_LiFePO4', 'mp_mp-1203874']) {
    const nl = neighborList(byId(id), 6);
    const m = pairKeySet(nl);
    for (let p = 0; p < nl.count; p++) {
      const key = `${nl.j[p]},${nl.i[p]},${-nl.S[3 * p]!},${-nl.S[3 * p + 1]!},${-nl.S[3 * p + 2]!}`.replace(/-0/g, '0');
      const d = m.get(key);
      assert.ok(d !== undefined, `${id}: reverse of pair ${p} missing`);
      assert.ok(Math.abs(d - nl.d![p]!) < 1e-12, `${id}: reverse distance differs`);
    }
  }
});

test('a 2×2×2 supercell has 8× the pairs, with the same distance multiset per site class', () => {
  for (const id of ['CaF2_prim_skewed', 'LiF_prim', 'CeF3']) {
    const s = byId(id);
    const n = s.species.length;
    const frac: number[] = [];
    const species: string[] = [];
    for (let a = 0; a < 2; a++)
      for (let b = 0; b < 2; b++)
        for (let c = 0; c < 2; c++)
          for (let i = 0; i < n; i++) {
            species.push(s.species[i]!);
            frac.push((s.frac[3 * i]! + a) / 2, (s.frac[3 * i + 1]! + b) / 2, (s.frac[3 * i + 2]! + c) / 2);
          }
    const lat = Array.from(s.lattice, (v) => 2 * v);
    const sc = createStructure({ lattice: lat, species, frac }, { allowLeftHanded: true });
    for (const cutoff of [3, 5, 8, 13]) {
      const small = neighborList(s, cutoff);
      const big = neighborList(sc, cutoff);
      assert.equal(big.count, 8 * small.count, `${id} at ${cutoff} Å`);
      const sum = (nl: NeighborList) => nl.d!.reduce((x, y) => x + y, 0);
      assert.ok(Math.abs(sum(big) - 8 * sum(small)) < 1e-8 * sum(big), `${id} at ${cutoff} Å: distance sums`);
    }
  }
});

test('a cutoff exactly equal to a neighbour distance includes that neighbour', () => {
  for (const id of ['CaF2', 'CaF2_prim_skewed', 'mp_mp-1180135']) {
    const s = byId(id);
    const all = sortNeighborList(neighborList(s, 6));
    const distinct = [...new Set(all.d!)].sort((a, b) => a - b).slice(0, 12);
    for (const d of distinct) {
      const expected = all.d!.filter((x) => x <= d).length;
      const wasm = neighborList(s, d);
      const ts = neighborList(s, d, { backend: 'ts' });
      assert.equal(wasm.count, expected, `${id}: cutoff ${d.toPrecision(17)}`);
      assert.equal(ts.count, expected, `${id}: cutoff ${d.toPrecision(17)} (ts)`);
      assert.ok(wasm.d!.some((x) => x === d), `${id}: the neighbour at exactly ${d} is reported`);
    }
  }
});

test('cutoffs far above the perpendicular cell heights walk several images per axis', () => {
  // Primitive fluorite: heights ≈ 3.15 Å; at 20 Å the stencil spans 7 images per side.
  const s = byId('CaF2_prim_skewed');
  const wasm = sortNeighborList(neighborList(s, 20, { vectors: true }));
  // Brute force over a generous box of images.
  const cart = cartesian(s);
  const L = s.lattice;
  let count = 0;
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++)
      for (let a = -30; a <= 30; a++)
        for (let b = -30; b <= 30; b++)
          for (let c = -30; c <= 30; c++) {
            if (i === j && a === 0 && b === 0 && c === 0) continue;
            const dx = cart[3 * j]! - cart[3 * i]! + a * L[0]! + b * L[3]! + c * L[6]!;
            const dy = cart[3 * j + 1]! - cart[3 * i + 1]! + a * L[1]! + b * L[4]! + c * L[7]!;
            const dz = cart[3 * j + 2]! - cart[3 * i + 2]! + a * L[2]! + b * L[5]! + c * L[8]!;
            if (Math.hypot(dx, dy, dz) <= 20) count++;
          }
  assert.equal(wasm.count, count);
  const maxShift = Math.max(...Array.from(wasm.S, Math.abs));
  assert.ok(maxShift >= 5, `expected shifts of several images, got max |S| = ${maxShift}`);
});

test('WASM kernel and TS twin agree on random triclinic cells, vectors included', () => {
  for (let seed = 100; seed < 110; seed++) {
    const rand = rng(seed);
    const s = randomStructure(rand, 1 + Math.floor(rand() * 60));
    const cutoff = 1 + 9 * rand();
    const pos = cartesian(s);
    const a = neighborSearchWasm(s.lattice, pos, cutoff, { vectors: true });
    const b = neighborSearchTs(s.lattice, pos, cutoff, { vectors: true });
    const ctx = `seed ${seed}, cutoff ${cutoff.toPrecision(17)}`;
    assert.equal(a.count, b.count, ctx);
    assert.deepEqual(a.i, b.i, ctx);
    assert.deepEqual(a.j, b.j, ctx);
    assert.deepEqual(a.S, b.S, ctx);
    for (let p = 0; p < 3 * a.count; p++) assert.ok(Math.abs(a.D![p]! - b.D![p]!) <= 1e-12 * Math.max(1, Math.abs(a.D![p]!)), ctx);
  }
});

test('a single site and its own images are neighbours; no self pair at S = 0', () => {
  const s = createStructure({ lattice: [3, 0, 0, 0, 3, 0, 0, 0, 3], species: ['F'], frac: [0.2, 0.3, 0.4] });
  const nl = neighborList(s, 3);
  assert.equal(nl.count, 6);
  for (let p = 0; p < nl.count; p++) assert.equal(nl.d![p], 3);
  assert.equal(neighborList(s, 2.999).count, 0);
});

test('invalid kernel inputs give errors that name the cause', () => {
  const s = byId('CaF2');
  assert.throws(() => neighborList(s, 0), /cutoffAng must be a positive finite number of Å, got 0/);
  assert.throws(() => neighborList(s, Number.NaN), /cutoffAng must be a positive finite number of Å, got NaN/);
  assert.throws(() => neighborList(s, -1, { backend: 'ts' }), /got -1/);
  assert.throws(() => neighborList(s, 3, { backend: 'gpu' as never }), /backend must be 'wasm' or 'ts', got gpu/);
  const pos = cartesian(s);
  pos[4] = Number.NaN;
  assert.throws(() => neighborSearchWasm(s.lattice, pos, 3), (e: unknown) => e instanceof NeighborStatusError && /NaN or infinite/.test(e.message));
  assert.throws(() => neighborSearchTs(s.lattice, pos, 3), /NaN or infinite/);
  const flat = [1, 0, 0, 0, 1, 0, 1, 1, 0];
  assert.throws(() => neighborSearchWasm(flat, [0, 0, 0], 3), /cell is singular/);
  assert.throws(() => neighborSearchTs(flat, [0, 0, 0], 3), /cell is singular/);
  // 0.01 Å thick slab with a 5 Å cutoff would need 500 images along c.
  const slab = [5, 0, 0, 0, 5, 0, 0, 0, 0.01];
  assert.throws(() => neighborSearchWasm(slab, [0, 0, 0], 5), /more than 64 cell images/);
  assert.throws(() => neighborSearchTs(slab, [0, 0, 0], 5), /more than 64 cell images/);
});

test('output buffers grow when the first size estimate is too small', () => {
  // A dense cluster in a large cell beats the uniform-density estimate.
  const n = 200;
  const frac: number[] = [];
  const rand = rng(7);
  for (let i = 0; i < n; i++) frac.push(0.5 + 0.05 * rand(), 0.5 + 0.05 * rand(), 0.5 + 0.05 * rand());
  const lat = [60, 0, 0, 0, 60, 0, 0, 0, 60];
  const pos = cartesian(createStructure({ lattice: lat, species: Array(n).fill('H'), frac }, { checkOverlap: false }));
  const a = neighborSearchWasm(lat, pos, 6);
  const b = neighborSearchTs(lat, pos, 6);
  assert.equal(a.count, n * (n - 1));
  assert.equal(b.count, n * (n - 1));
});

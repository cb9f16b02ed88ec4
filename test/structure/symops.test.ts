/**
 * The operation search of src/structure/symops.ts against moyo (src/structure/symmetry.ts): wherever it
 * answers, the same operations (rotation set exactly, translations modulo 1 to 1e-6, site
 * permutations) and orbits as moyo's dataset, and it declines exactly where moyo's own first search
 * does not stand (non-primitive cell, tolerance changed), on every reference structure up to 200
 * sites, every bundled structure up to 200 sites and randomly transformed cells.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { searchOperations, type FoundOperations } from '../../src/structure/symops.js';
import { clearSymmetryCache, sitePermutations, symmetry, symmetryCacheSize, symmetryOrbits, primitiveReduction } from '../../src/structure/symmetry.js';
import { createStructure, type Structure } from '../../src/structure/structure.js';
import { det3, fracToCart, inv3, mul3 } from '../../src/structure/lattice.js';
import { loadBundled } from '../../src/io/bundled.js';
import { referenceRecords, referenceStructure } from '../helpers/reference.js';
import { fmt, randomRotation, randomUnimodular, rng } from '../helpers/random.js';

const SYMPREC = 0.1;

/** Differences from moyo's operations, or [] when the sets agree. */
function compare(s: Structure, o: FoundOperations): string[] {
  const m = symmetry(s, { symprec: SYMPREC });
  const n = s.species.length;
  const out: string[] = [];
  if (m.symprecUsed !== SYMPREC) out.push(`moyo changed the tolerance to ${m.symprecUsed}`);
  if (Math.abs(Math.abs(det3(m.primitiveLinear)) - 1) > 1e-6) out.push('moyo finds a smaller primitive cell');
  if (o.operationCount !== m.operationCount) out.push(`${o.operationCount} operations, moyo ${m.operationCount}`);
  if (out.length > 0) return out;
  const key = (R: ArrayLike<number>, k: number) => Array.from({ length: 9 }, (_, q) => R[9 * k + q]).join(',');
  const index = new Map<string, number>();
  for (let k = 0; k < m.operationCount; k++) index.set(key(m.rotations, k), k);
  const mp = sitePermutations(s, m);
  for (let k = 0; k < o.operationCount; k++) {
    const j = index.get(key(o.rotations, k));
    if (j === undefined) {
      out.push(`rotation ${key(o.rotations, k)} is not moyo's`);
      continue;
    }
    for (let q = 0; q < 3; q++) {
      const d = o.translations[3 * k + q]! - m.translations[3 * j + q]!;
      if (Math.abs(d - Math.round(d)) > 1e-6) out.push(`translation of rotation ${key(o.rotations, k)} differs by ${d}`);
    }
    for (let i = 0; i < n; i++) if (o.perm[k * n + i] !== mp.perm[j * n + i]) out.push(`operation ${key(o.rotations, k)} maps site ${i} elsewhere`);
  }
  clearSymmetryCache();
  const orbits = symmetryOrbits(s, { symprec: SYMPREC });
  if (orbits.join() !== m.orbits.join()) out.push(`orbits ${orbits.join()} vs moyo ${m.orbits.join()}`);
  return out;
}

/** Whether moyo's first symmetry search stands: primitive input, tolerance kept. */
function moyoPrimitiveAtSymprec(s: Structure): boolean {
  const m = symmetry(s, { symprec: SYMPREC });
  return m.symprecUsed === SYMPREC && Math.abs(Math.abs(det3(m.primitiveLinear)) - 1) < 1e-6 && m.droppedOperations === 0;
}

test('reference structures: the operation search gives moyo\'s operations and orbits, and declines only where moyo changes cell or tolerance', () => {
  let found = 0;
  for (const r of referenceRecords().filter((x) => x.n_sites <= 200)) {
    const s = referenceStructure(r);
    const o = searchOperations(s, SYMPREC);
    if (o === null) {
      assert.ok(!moyoPrimitiveAtSymprec(s), `${r.id}: the search declined, but moyo finds the operations of this primitive cell at ${SYMPREC} Å`);
      continue;
    }
    assert.deepEqual(compare(s, o), [], r.id);
    found++;
  }
  assert.ok(found >= 45, `only ${found} reference structures searched`);
});

test('bundled datasets: same operations and orbits as moyo on every structure the search answers', () => {
  let found = 0, declined = 0, total = 0;
  for (const name of ['mp', 'curated', 'mp-task', 'perov5']) {
    for (const s of loadBundled(name)) {
      if (s.species.length > 200) continue;
      total++;
      const o = searchOperations(s, SYMPREC);
      if (o === null) {
        if (moyoPrimitiveAtSymprec(s)) declined++;
        continue;
      }
      assert.deepEqual(compare(s, o), [], `${name} ${String(s.info.id)}`);
      found++;
    }
  }
  assert.ok(found > 0.95 * total, `${found} of ${total} answered`);
  assert.equal(declined, 0, `the search declined on ${declined} primitive cells moyo handles at ${SYMPREC} Å`);
});

test('transformed cells (rotation, origin shift, unimodular basis change, shuffled sites): still moyo\'s operations', () => {
  const records = referenceRecords().filter((x) => x.group === 'mp' || x.group === 'pymatgen_bundled');
  for (let seed = 1; seed <= 40; seed++) {
    const rec = records[seed % records.length]!;
    const s0 = referenceStructure(rec);
    const r = rng(seed);
    const Q = randomRotation(r);
    const Qt = [Q[0]!, Q[3]!, Q[6]!, Q[1]!, Q[4]!, Q[7]!, Q[2]!, Q[5]!, Q[8]!];
    const U = randomUnimodular(r);
    const shift = [r() - 0.5, r() - 0.5, r() - 0.5];
    const n = s0.species.length;
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const lat = mul3(U, mul3(s0.lattice, Qt));
    const f = fracToCart(inv3(lat), fracToCart(Qt, fracToCart(s0.lattice, s0.frac)));
    const s = createStructure(
      { lattice: lat, species: order.map((i) => s0.species[i]!), frac: order.map((i) => [0, 1, 2].map((k) => f[3 * i + k]! + shift[k]!)) },
      { checkOverlap: false, allowLeftHanded: true },
    );
    const msg = `${rec.id}: seed ${seed}, rotation ${fmt(Q)}, unimodular ${U.join(',')}, shift ${fmt(shift)}`;
    const o = searchOperations(s, SYMPREC);
    if (o === null) {
      assert.ok(!moyoPrimitiveAtSymprec(s), `${msg}: declined`);
      continue;
    }
    assert.deepEqual(compare(s, o), [], msg);
  }
});

test('a supercell is declined (pure translations), and symmetryOrbits then takes moyo\'s orbits', () => {
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
  assert.deepEqual(Array.from(symmetryOrbits(s)), Array.from(symmetry(s).orbits));
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

/**
 * The fast IDPP mode (assembly/idpp-fast.ts and its TS twin): the twins agree to the last bit (also on
 * a cell with many tied pair images, which takes the kernel's grow-and-retry path), converged runs
 * keep the endpoints and stop on the convergence measure, and tied pair images sharing the weight make
 * the result independent of the cell basis and orientation — where the exact mode's choice between
 * tied images is not. Random cases print their seed and transform (17 digits) on failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { idpp, type IdppOptions } from '../../src/kernels/idpp.js';
import { createStructure, cartesian, type Structure } from '../../src/structure/structure.js';
import { inv3, mul3, fracToCart } from '../../src/structure/lattice.js';
import { referenceDir } from '../helpers/reference.js';
import { rng, fmt, randomRotation, randomUnimodular, rotate } from '../helpers/random.js';

const dir = join(referenceDir, 'idpp');
const opts = { checkOverlap: false, allowLeftHanded: true };

/** An exact (unjittered) supercell hop of the reference set: pairs at exactly half a lattice vector. */
function exactHop(id: string, hop: number): [Structure, Structure] {
  const all = (JSON.parse(readFileSync(join(dir, 'paths_subset.json'), 'utf8')) as {
    hops: { id: string; hop_index: number; lattice: number[][]; image_species: string[]; frac_coords: number[][][] }[];
  }).hops;
  const h = all.find((x) => x.id === id && x.hop_index === hop)!;
  return [
    createStructure({ lattice: h.lattice, species: h.image_species, frac: h.frac_coords[0]! }, opts),
    createStructure({ lattice: h.lattice, species: h.image_species, frac: h.frac_coords[6]! }, opts),
  ];
}

function jitteredHop(id: string, hop: number): [Structure, Structure] {
  const d = JSON.parse(readFileSync(join(dir, 'jittered', `${id}.json`), 'utf8')) as {
    lattice: number[][];
    hops: { hop_index: number; image_species: string[]; start_frac_coords: number[][]; end_frac_coords: number[][] }[];
  };
  const h = d.hops.find((x) => x.hop_index === hop)!;
  return [
    createStructure({ lattice: d.lattice, species: h.image_species, frac: h.start_frac_coords }, opts),
    createStructure({ lattice: d.lattice, species: h.image_species, frac: h.end_frac_coords }, opts),
  ];
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let q = 0; q < a.length; q++) m = Math.max(m, Math.abs(a[q]! - b[q]!));
  return m;
}

const FAST: IdppOptions = { mode: 'fast', minDistanceAng: 0 };

/** The shortest F vacancy hop of the exact 2×2×2 CaF2 supercell (95 atoms, many tied pairs): moving F first. */
function caf2Supercell(): [Structure, Structure] {
  const rec = readFileSync(join(referenceDir, 'structures.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; lattice: number[][]; species: string[]; frac_coords: number[][] })
    .find((r) => r.id === 'CaF2_2x2x2')!;
  const same = (f: number[], g: number[]) => f.every((x, k) => Math.abs(x - g[k]! - Math.round(x - g[k]!)) < 1e-8);
  const a = [0.375, 0.125, 0.375], b = [0.125, 0.125, 0.375];
  const host = rec.frac_coords.map((f, i) => ({ f, sp: rec.species[i]! })).filter((x) => !same(x.f, a) && !same(x.f, b));
  const species = ['F', ...host.map((x) => x.sp)];
  return [a, b].map((site) => createStructure({ lattice: rec.lattice, species, frac: [site, ...host.map((x) => x.f)] }, opts)) as [Structure, Structure];
}

test('fast mode: the WASM kernel and its TS twin agree to the last bit (ties, jitter, mic, a species subset)', () => {
  // [name, endpoints, options, converges within the default 1000 force evaluations]
  const cases: [string, [Structure, Structure], IdppOptions, boolean][] = [
    // 95 atoms with many tied pairs: more tie terms than the first scratch holds, so the retry runs.
    ['CaF2 2x2x2 supercell hop', caf2Supercell(), FAST, true],
    ['MgF2 exact hop 2', exactHop('MgF2', 2), FAST, true],
    ['AlF3 jittered hop 1', jitteredHop('AlF3', 1), FAST, true],
    // An 11-atom cell without supercell: the path runs along the atoms' own images and does not settle.
    ['CaF2 jittered hop 1, mic', jitteredHop('CaF2', 1), { ...FAST, mic: true, maxIter: 200 }, false],
    ['CaF2 jittered hop 0, only F moves', jitteredHop('CaF2', 0), { ...FAST, species: ['F'] }, true],
  ];
  for (const [name, [s, e], o, converges] of cases) {
    const w = idpp(s, e, { ...o, backend: 'wasm' });
    const t = idpp(s, e, { ...o, backend: 'ts' });
    assert.equal(w.iterations, t.iterations, name);
    assert.equal(w.converged, t.converged, name);
    assert.equal(w.converged, converges, `${name}: converged ${w.converged} after ${w.iterations} force evaluations`);
    for (let k = 0; k < w.images.length; k++) assert.deepEqual(Array.from(w.images[k]!.frac), Array.from(t.images[k]!.frac), `${name}: image ${k}`);
  }
});

test('fast mode: endpoints stay as given, and a converged run needs fewer force evaluations than the exact mode takes steps', () => {
  const [s, e] = jitteredHop('AlF3', 1);
  const fast = idpp(s, e, FAST);
  const exact = idpp(s, e, { minDistanceAng: 0 });
  assert.deepEqual(Array.from(fast.images[0]!.frac), Array.from(s.frac));
  assert.deepEqual(Array.from(fast.images[6]!.frac), Array.from(e.frac));
  assert.ok(fast.converged);
  assert.ok(fast.iterations < exact.iterations, `fast ${fast.iterations} vs exact ${exact.iterations}`);
  // A looser measure stops earlier: the measure, not a step cap, ends the run.
  const loose = idpp(s, e, { ...FAST, gtol: 1e-3, tol: 1e-5 });
  assert.ok(loose.converged && loose.iterations < fast.iterations, `gtol 1e-3: ${loose.iterations}, 1e-5: ${fast.iterations}`);
  const capped = idpp(s, e, { ...FAST, maxIter: 3 });
  assert.equal(capped.iterations, 3);
  assert.equal(capped.converged, false);
});

/** The same hop in another basis (U·L, fractional coordinates f·U⁻¹) and orientation (rows rotated by R). */
function reset(s: Structure, U: number[], R: number[]): Structure {
  const Rt = [R[0]!, R[3]!, R[6]!, R[1]!, R[4]!, R[7]!, R[2]!, R[5]!, R[8]!];
  const lat = mul3(U, mul3(s.lattice, Rt));
  const cart = fracToCart(Rt, cartesian(s));
  return createStructure({ lattice: lat, species: s.species, frac: fracToCart(inv3(lat), cart) }, opts);
}

test('fast mode: tied pair images share the weight, so the relaxed path does not depend on the cell basis or orientation', () => {
  for (const [id, hop] of [['CaF2', 0], ['MgF2', 2], ['pmg_Li3V2PO43', 2]] as const) {
    const [s, e] = exactHop(id, hop);
    const base = idpp(s, e, FAST);
    assert.ok(base.converged, `${id} hop ${hop}`);
    for (let seed = 1; seed <= 2; seed++) {
      const r = rng(100 * hop + seed);
      const U = randomUnimodular(r);
      const R = randomRotation(r);
      const other = idpp(reset(s, U, R), reset(e, U, R), FAST);
      const dev = Math.max(...base.images.map((im, k) => maxDiff(rotate(R, cartesian(im)), cartesian(other.images[k]!))));
      // Converged to gtol 1e-5 from different rounding: the two minima agree to ~1e-5 Å.
      assert.ok(other.converged && dev < 1e-4, `${id} hop ${hop}: ${dev} Å apart after a change of basis; seed ${seed}, U [${U.join(', ')}], R [${fmt(R)}]`);
    }
  }
});

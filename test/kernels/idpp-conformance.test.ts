/**
 * IDPP against pymatgen-analysis-diffusion's IDPPSolver (test/fixtures/reference/idpp, see the
 * README there): every image of 162 jittered vacancy hops to 1e-6 Å per atom, the WASM kernel
 * against its TS twin, the straight-line guard against pymatgen's NaN hops, iteration counts; and
 * pymatgen's choice between equally near pair images (tieBreak 'pymatgen') against
 * test/fixtures/reference/descriptors-notes/pair-images.json.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { idpp, IdppGuardError, type IdppResult } from '../../src/kernels/idpp.js';
import { pymatgenPairShifts } from '../../src/kernels/idpp-ts.js';
import { createStructure, type Structure } from '../../src/structure/structure.js';
import { fracToCart } from '../../src/structure/lattice.js';
import { referenceDir } from '../helpers/reference.js';

interface JitteredHop {
  hop_index: number;
  length: number;
  image_species: string[];
  start_frac_coords: number[][];
  end_frac_coords: number[][];
  frac_coords: number[][][];
  min_linear_pair_distance: number;
  nan: boolean;
}

interface JitteredFile {
  id: string;
  lattice: number[][];
  hops: JitteredHop[];
}

interface PathsHop {
  id: string;
  hop_index: number;
  lattice: number[][];
  image_species: string[];
  frac_coords: (number | null)[][][];
  iterations: number;
  converged: boolean;
}

const dir = join(referenceDir, 'idpp');
const jittered: JitteredFile[] = readdirSync(join(dir, 'jittered'))
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(dir, 'jittered', f), 'utf8')) as JitteredFile);
const pathsSubset = (JSON.parse(readFileSync(join(dir, 'paths_subset.json'), 'utf8')) as { hops: PathsHop[] }).hops;

function endpoint(lattice: number[][], species: string[], frac: number[][]): Structure {
  return createStructure({ lattice, species, frac }, { checkOverlap: false, allowLeftHanded: true });
}

/** Largest Cartesian distance (Å) between matching atoms of the result and reference frames. */
function maxImageDeviation(r: IdppResult, lattice: Float64Array, ref: number[][][]): { dev: number; image: number; atom: number } {
  let worst = { dev: 0, image: -1, atom: -1 };
  ref.forEach((frame, k) => {
    const a = fracToCart(lattice, r.images[k]!.frac);
    const b = fracToCart(lattice, frame.flat());
    for (let i = 0; i < a.length / 3; i++) {
      const d = Math.hypot(a[3 * i]! - b[3 * i]!, a[3 * i + 1]! - b[3 * i + 1]!, a[3 * i + 2]! - b[3 * i + 2]!);
      if (d > worst.dev) worst = { dev: d, image: k, atom: i };
    }
  });
  return worst;
}

test('all 162 jittered vacancy hops: every image equals pymatgen IDPPSolver within 1e-6 Å per atom', () => {
  let hops = 0;
  let overall = 0;
  for (const f of jittered) {
    for (const h of f.hops) {
      hops++;
      const s = endpoint(f.lattice, h.image_species, h.start_frac_coords);
      const e = endpoint(f.lattice, h.image_species, h.end_frac_coords);
      // 18 hops pass closer than the default 0.5 Å guard to another atom; pymatgen still returns
      // finite images for them, so compare those with the guard off.
      const r = idpp(s, e, { minDistanceAng: h.min_linear_pair_distance < 0.5 ? 0 : 0.5 });
      assert.equal(r.images.length, 7);
      const w = maxImageDeviation(r, s.lattice, h.frac_coords);
      assert.ok(w.dev <= 1e-6, `${f.id} hop ${h.hop_index}: image ${w.image} atom ${w.atom} is ${w.dev} Å from pymatgen (${r.iterations} iterations)`);
      overall = Math.max(overall, w.dev);
    }
  }
  assert.equal(hops, 162);
  assert.ok(overall < 1e-6);
});

test('the plain-TS twin gives bit-identical images, iterations and flag to the WASM kernel (every 4th hop)', () => {
  let k = 0;
  for (const f of jittered) {
    for (const h of f.hops) {
      if (k++ % 4 !== 0) continue;
      const s = endpoint(f.lattice, h.image_species, h.start_frac_coords);
      const e = endpoint(f.lattice, h.image_species, h.end_frac_coords);
      const opts = { minDistanceAng: 0, maxIter: 300 };
      const w = idpp(s, e, { ...opts, backend: 'wasm' });
      const t = idpp(s, e, { ...opts, backend: 'ts' });
      assert.equal(t.iterations, w.iterations, `${f.id} hop ${h.hop_index}`);
      assert.equal(t.converged, w.converged, `${f.id} hop ${h.hop_index}`);
      for (let m = 0; m < w.images.length; m++) {
        const a = w.images[m]!.frac, b = t.images[m]!.frac;
        // Same operations in the same order, and IEEE sqrt/division in both: equal to the last bit.
        for (let q = 0; q < a.length; q++) assert.equal(b[q], a[q], `${f.id} hop ${h.hop_index} image ${m} coordinate ${q}`);
      }
    }
  }
});

test('the default 0.5 Å guard refuses exactly the jittered hops whose straight line passes closer, naming image, atoms and distance', () => {
  let refused = 0;
  for (const f of jittered) {
    for (const h of f.hops) {
      if (h.min_linear_pair_distance >= 0.5) continue;
      const s = endpoint(f.lattice, h.image_species, h.start_frac_coords);
      const e = endpoint(f.lattice, h.image_species, h.end_frac_coords);
      assert.throws(
        () => idpp(s, e),
        (err: unknown) => {
          assert.ok(err instanceof IdppGuardError, String(err));
          assert.equal(err.kind, 'too-close');
          assert.ok(Math.abs(err.value - h.min_linear_pair_distance) < 1e-9, `${f.id} hop ${h.hop_index}: ${err.value} vs ${h.min_linear_pair_distance}`);
          assert.match(err.message, new RegExp(`straight-line image ${err.image} puts atoms ${err.atomI} \\(\\w+\\) and ${err.atomJ} \\(\\w+\\) `));
          assert.match(err.message, /closer than minDistanceAng = 0\.5 Å/);
          return true;
        },
      );
      refused++;
    }
  }
  assert.equal(refused, 18);
});

test('CaF2 4.73 Å hop (pymatgen returns NaN): the guard names the image and the Ca the path runs through', () => {
  const h = pathsSubset.find((x) => x.id === 'CaF2' && x.hop_index === 2)!;
  assert.equal(h.frac_coords[3]![0]![0], null, 'reference is NaN here');
  const s = endpoint(h.lattice, h.image_species, h.frac_coords[0] as number[][]);
  const e = endpoint(h.lattice, h.image_species, h.frac_coords[6] as number[][]);
  assert.throws(() => idpp(s, e), (err: unknown) => {
    assert.ok(err instanceof IdppGuardError);
    assert.equal(err.image, 3);
    assert.equal(err.atomI, 0);
    assert.equal(h.image_species[err.atomJ], 'Ca');
    assert.ok(err.value < 1e-12, String(err.value));
    assert.match(err.message, /^idpp: straight-line image 3 puts atoms 0 \(F\) and \d+ \(Ca\) /);
    return true;
  });
  // With the distance guard off, the zero distance makes the objective non-finite: still refused.
  assert.throws(() => idpp(s, e, { minDistanceAng: 0 }), (err: unknown) => {
    assert.ok(err instanceof IdppGuardError);
    assert.equal(err.kind, 'non-finite');
    assert.equal(err.image, 3);
    assert.match(err.message, /^idpp: image 3: atoms 0 \(F\) and \d+ \(Ca\) are at distance 0, so the objective is not finite$/);
    return true;
  });
});

test('iteration count and converged flag follow pymatgen (39-site hop converging after 513 iterations)', () => {
  const h = pathsSubset.find((x) => x.id === 'pmg_Li3V2PO43' && x.hop_index === 2)!;
  const s = endpoint(h.lattice, h.image_species, h.frac_coords[0] as number[][]);
  const e = endpoint(h.lattice, h.image_species, h.frac_coords[6] as number[][]);
  for (const backend of ['wasm', 'ts'] as const) {
    const r = idpp(s, e, { backend });
    assert.equal(r.iterations, 513, backend);
    assert.equal(r.converged, true, backend);
    const w = maxImageDeviation(r, s.lattice, h.frac_coords as number[][][]);
    assert.ok(w.dev <= 1e-6, `${backend}: image ${w.image} atom ${w.atom} off by ${w.dev} Å`);
  }
  // One iteration fewer: not converged, and the count is the limit.
  const cut = idpp(s, e, { maxIter: 512 });
  assert.equal(cut.iterations, 512);
  assert.equal(cut.converged, false);
});

interface PairImagesPathway {
  id: string;
  index: number;
  n_sites: number;
  lattice: number[][];
  species: string[];
  start_frac: number[][];
  end_frac: number[][];
  shifts: number[];
}
const pairImages = (JSON.parse(readFileSync(join(referenceDir, 'descriptors-notes', 'pair-images.json'), 'utf8')) as { pathways: PairImagesPathway[] }).pathways;

/** Squared length of (f_j + S − f_i)·cell. */
function pairD2(cell: Float64Array, f: Float64Array, i: number, j: number, s: number[]): number {
  const d = [0, 1, 2].map((c) => f[3 * j + c]! - f[3 * i + c]! + s[c]!);
  return fracToCart(cell, d).reduce((q, x) => q + x * x, 0);
}

test("pymatgenPairShifts equals pymatgen's get_distance_and_image for every pair of every interior image, ties included (3 DDI pathways)", () => {
  assert.equal(pairImages.length, 3);
  for (const p of pairImages) {
    const cell = Float64Array.from(p.lattice.flat());
    const start = Float64Array.from(p.start_frac.flat());
    const end = Float64Array.from(p.end_frac.flat());
    const n = p.n_sites;
    const got = pymatgenPairShifts(cell, start, end, n, 5);
    assert.equal(got.length, p.shifts.length, `${p.id}: table length`);
    let ties = 0;
    let q = 0;
    for (let k = 1; k <= 5; k++) {
      const f = start.map((v, c) => v + (k / 6) * (end[c]! - v));
      for (let i = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++, q += 3) {
          const want = p.shifts.slice(q, q + 3);
          assert.deepEqual([got[q], got[q + 1], got[q + 2]], want, `${p.id} ${p.index}: image ${k}, pair ${i}-${j}`);
          // Count pairs with a second, equally near image one cell away along some axis.
          const d2 = pairD2(cell, f, i, j, want);
          for (let c = 0; c < 3 && d2 > 0; c++) {
            for (const step of [-1, 1]) {
              const other = [...want];
              other[c] = other[c]! + step;
              if (Math.abs(pairD2(cell, f, i, j, other) - d2) <= 1e-9 * d2) ties++;
            }
          }
        }
      }
    }
    assert.ok(ties > 0, `${p.id}: the pathway has equally near images (${ties}), so the rule is exercised`);
  }
});

test("tieBreak 'pymatgen': WASM and TS twin agree bit for bit; it moves tied paths and leaves tie-free ones unchanged", () => {
  const p = pairImages.find((x) => x.id === 'CeF3')!;
  const s = endpoint(p.lattice, p.species, p.start_frac);
  const e = endpoint(p.lattice, p.species, p.end_frac);
  const opts = { minDistanceAng: 0, maxIter: 200, tieBreak: 'pymatgen' as const };
  const w = idpp(s, e, { ...opts, backend: 'wasm' });
  const t = idpp(s, e, { ...opts, backend: 'ts' });
  assert.equal(t.iterations, w.iterations);
  for (let m = 0; m < w.images.length; m++) {
    for (let q = 0; q < w.images[m]!.frac.length; q++) assert.equal(t.images[m]!.frac[q], w.images[m]!.frac[q], `image ${m} coordinate ${q}`);
  }
  const d = idpp(s, e, { minDistanceAng: 0, maxIter: 200 });
  const dev = maxImageDeviation(d, s.lattice, w.images.map((im) => Array.from({ length: im.frac.length / 3 }, (_, a) => Array.from(im.frac.subarray(3 * a, 3 * a + 3)))));
  assert.ok(dev.dev > 1e-3, `on CeF3's tied pairs the two rules give different paths (${dev.dev} Å)`);
  // Jittered hops have no exact ties: the chosen images, hence the runs, are the same.
  let k = 0;
  for (const f of jittered) {
    for (const h of f.hops) {
      if (k++ % 16 !== 0) continue;
      const a = endpoint(f.lattice, h.image_species, h.start_frac_coords);
      const b = endpoint(f.lattice, h.image_species, h.end_frac_coords);
      const x = idpp(a, b, { minDistanceAng: 0, maxIter: 100 });
      const y = idpp(a, b, { minDistanceAng: 0, maxIter: 100, tieBreak: 'pymatgen' });
      for (let m = 0; m < x.images.length; m++) {
        for (let q = 0; q < x.images[m]!.frac.length; q++) assert.equal(y.images[m]!.frac[q], x.images[m]!.frac[q], `${f.id} hop ${h.hop_index} image ${m}`);
      }
    }
  }
});

/**
 * Ionic-radii overlap: the DDI reference values (pymatgen 2022.11.7 `get_neighbors` + `Species.ionic_radius`,
 * test/fixtures/reference/supercell/ddi-overlap.json), pymatgen's radius lookup rules, invariants on
 * random triclinic cells checked against the neighbour list (seeded; seed and transform printed on
 * failure), nulls with reasons, and every validation message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { referenceDir } from '../helpers/reference.js';
import { createStructure, cartesian, type Structure } from '../../src/structure/structure.js';
import { parseSpeciesLabel } from '../../src/structure/elements.js';
import { ionicRadius, ionicRadiusEntry, speciesLabel } from '../../src/structure/ionic-radii.js';
import { neighborList } from '../../src/kernels/neighbors.js';
import { radiiOverlap, overlapTs, overlapWasm, OverlapStatusError, type OverlapResult } from '../../src/kernels/overlap.js';
import { fmt, randomRotation, rng, rotate } from '../helpers/random.js';

interface DdiPathway {
  id: string;
  index: number;
  supercell_lattice: number[][];
  start_species: string[];
  images_all_cart: (number | null)[][][];
  images_have_nan: boolean;
  moving_ion_radius: number;
  overlap_cation_max_per_image?: number[];
  overlap_anion_max_per_image?: number[];
  overlap_neighbour_counts_image0?: { cation: number; anion: number; neutral: number };
  ionic_radii_overlap_cations: number | null;
  ionic_radii_overlap_anions: number | null;
}

const ddi = JSON.parse(readFileSync(join(referenceDir, 'supercell', 'ddi-overlap.json'), 'utf8')) as { pathways: DdiPathway[] };

function ddiImages(p: DdiPathway): Structure[] {
  const sp = p.start_species.map((x) => parseSpeciesLabel(x)!);
  return p.images_all_cart.map((cart) => {
    if (p.images_have_nan) {
      // The NaN images cannot pass createStructure; build them raw to reach the kernel's own check.
      const lattice = new Float64Array(p.supercell_lattice.flat());
      const frac = new Float64Array(cart.length * 3).fill(Number.NaN);
      return { lattice, species: sp.map((x) => x.element), frac, oxidationStates: new Float64Array(sp.map((x) => x.oxidationState!)), siteProperties: {}, info: {} };
    }
    return createStructure(
      { lattice: p.supercell_lattice, species: sp.map((x) => x.element), cart: cart as number[][], oxidationStates: sp.map((x) => x.oxidationState) },
      { checkOverlap: false },
    );
  });
}

test('DDI reference: per-image maxima, image-0 neighbour counts and signed largest change (images rounded to 1e-8 Å)', () => {
  let checked = 0;
  for (const p of ddi.pathways) {
    if (p.images_have_nan) continue;
    const images = ddiImages(p);
    const w = radiiOverlap(images, 0);
    const t = radiiOverlap(images, 0, { backend: 'ts' });
    const ctx = `${p.id} index ${p.index}`;
    assert.deepEqual(w, t, `${ctx}: WASM and TS twin differ`);
    assert.equal(w.movingRadiusAng, p.moving_ion_radius, ctx);
    assert.equal(w.movingSpecies, 'F-', ctx);
    assert.equal(w.nImages, 7);
    // Coordinates were rounded to 1e-8 Å, so distances (and overlaps) carry up to ~2e-8 Å of that.
    const tol = 3e-8;
    w.cations.maxPerImage.forEach((x, k) => assert.ok(Math.abs(x! - p.overlap_cation_max_per_image![k]!) < tol, `${ctx} image ${k}: cation ${x} vs ${p.overlap_cation_max_per_image![k]}`));
    w.anions.maxPerImage.forEach((x, k) => assert.ok(Math.abs(x! - p.overlap_anion_max_per_image![k]!) < tol, `${ctx} image ${k}: anion ${x} vs ${p.overlap_anion_max_per_image![k]}`));
    assert.ok(Math.abs(w.cations.change! - p.ionic_radii_overlap_cations!) < 2 * tol, `${ctx}: cation change ${w.cations.change} vs ${p.ionic_radii_overlap_cations}`);
    assert.ok(Math.abs(w.anions.change! - p.ionic_radii_overlap_anions!) < 2 * tol, `${ctx}: anion change ${w.anions.change} vs ${p.ionic_radii_overlap_anions}`);
    const c0 = p.overlap_neighbour_counts_image0!;
    assert.deepEqual([w.cations.neighborCounts[0], w.anions.neighborCounts[0], w.neutral.neighborCounts[0]], [c0.cation, c0.anion, c0.neutral], ctx);
    // No neutral sites: a null with its reason, never a sentinel.
    assert.equal(w.neutral.maxPerImage[0], null);
    assert.equal(w.neutral.reasonPerImage[0], 'no neutral within 8 Å of site 0');
    assert.equal(w.neutral.change, null);
    assert.equal(w.neutral.changeReason, 'image 0: no neutral within 8 Å of site 0');
    checked++;
  }
  assert.ok(checked >= 8, `checked ${checked} pathways`);
  assert.ok(ddi.pathways.some((p) => (p.ionic_radii_overlap_cations ?? 0) < 0), 'the set includes a negative largest change');
});

test('DDI reference: NaN images (straight path through an atom) are refused, not turned into numbers', () => {
  const p = ddi.pathways.find((x) => x.images_have_nan);
  assert.ok(p, 'the fixture has a NaN pathway');
  const images = ddiImages(p);
  for (const backend of ['wasm', 'ts'] as const) {
    assert.throws(() => radiiOverlap(images, 0, { backend }), (e: unknown) => e instanceof OverlapStatusError && /radii overlap: a position is NaN or infinite/.test(e.message));
  }
});

test('ionic radii follow pymatgen Species.ionic_radius (values checked with pymatgen 2022.11.7)', () => {
  assert.equal(ionicRadius('F', -1), 1.19);
  assert.equal(ionicRadius('Ca', 2), 1.14);
  assert.equal(ionicRadius('Fe', 3), 0.785);
  assert.deepEqual(ionicRadiusEntry('Cr', 3), { radiusAng: 0.755, table: 'Ionic radii ls' });
  assert.deepEqual(ionicRadiusEntry('Ni', 2), { radiusAng: 0.83, table: 'Ionic radii ls' });
  // Fractional states miss the integer-keyed table, then fall back to hs/ls at int(state).
  assert.deepEqual(ionicRadiusEntry('Fe', 2.5), { radiusAng: 0.92, table: 'Ionic radii hs' });
  assert.equal(ionicRadius('Co', 3.7), 0.75);
  assert.equal(ionicRadius('Ca', 2.5), null);
  assert.equal(ionicRadius('Mn', -1.5), null);
  assert.equal(ionicRadius('Ca', 0), null);
  assert.equal(ionicRadius('Xe', 0), null);
  assert.equal(ionicRadius('H', 1), null);
  assert.throws(() => ionicRadius('Qq', 1), /ionicRadius: unknown element "Qq"/);
  assert.throws(() => ionicRadius('F', Number.NaN), /ionicRadius: oxidation state of F must be a finite number, got NaN/);
  assert.deepEqual([speciesLabel('F', -1), speciesLabel('Ca', 2), speciesLabel('Xe', 0), speciesLabel('O', -2)], ['F-', 'Ca2+', 'Xe', 'O2-']);
});


const ELEMENTS: [string, number][] = [['Ca', 2], ['F', -1], ['Mg', 2], ['O', -2], ['Li', 1], ['Xe', 0]];

/** Random triclinic cell (thin enough that 8 Å reaches several images), random ions, a few images moving site 0. */
function randomImages(rand: () => number, n: number, nImages: number): Structure[] {
  for (;;) {
    const lat = [3 + 3 * rand(), 0, 0, (rand() - 0.5) * 2, 3 + 3 * rand(), 0, (rand() - 0.5) * 2, (rand() - 0.5) * 2, 3 + 3 * rand()];
    const frac: number[] = [];
    for (let i = 0; i < 3 * n; i++) frac.push(rand() * 1.4 - 0.2);
    const picks = Array.from({ length: n }, (_, i) => ELEMENTS[i === 0 ? 1 : Math.floor(rand() * (ELEMENTS.length - 1))]!);
    try {
      const first = createStructure({ lattice: lat, species: picks.map((x) => x[0]), frac, oxidationStates: picks.map((x) => x[1]) });
      return Array.from({ length: nImages }, (_, k) => {
        const f = Float64Array.from(first.frac);
        f[0] = f[0]! + 0.08 * k;
        f[1] = f[1]! - 0.05 * k;
        return { ...first, frac: f };
      });
    } catch {
      // overlapping draw: try again
    }
  }
}

/** The same quantities from the neighbour list, independently. */
function bruteForce(images: Structure[], m: number, cutoff: number): { max: (number | null)[][]; count: number[][] } {
  const max: (number | null)[][] = [];
  const count: number[][] = [];
  for (const im of images) {
    const nl = neighborList(im, cutoff);
    const mx: (number | null)[] = [null, null, null];
    const ct = [0, 0, 0];
    const rm = ionicRadius(im.species[m]!, im.oxidationStates![m]!)!;
    for (let p = 0; p < nl.count; p++) {
      if (nl.i[p] !== m) continue;
      const j = nl.j[p]!;
      const o = im.oxidationStates![j]!;
      const k = o > 0 ? 0 : o < 0 ? 1 : 2;
      ct[k]!++;
      const r = ionicRadius(im.species[j]!, o);
      if (r === null) continue;
      const v = rm + r - nl.d![p]!;
      if (mx[k] === null || v > mx[k]!) mx[k] = v;
    }
    max.push(mx);
    count.push(ct);
  }
  return { max, count };
}

test('random triclinic cells: WASM equals the TS twin, maxima and counts agree with the neighbour list (cutoff above the cell height)', () => {
  for (let seed = 1; seed <= 15; seed++) {
    const rand = rng(seed);
    const images = randomImages(rand, 3 + Math.floor(rand() * 10), 1 + Math.floor(rand() * 4));
    const cutoff = 3 + 6 * rand();
    const ctx = `seed ${seed}, cutoff ${cutoff.toPrecision(17)}, lattice [${fmt(images[0]!.lattice)}]`;
    const w = radiiOverlap(images, 0, { cutoffAng: cutoff });
    const t = radiiOverlap(images, 0, { cutoffAng: cutoff, backend: 'ts' });
    assert.deepEqual(w, t, `${ctx}: WASM and TS twin differ`);
    const ref = bruteForce(images, 0, cutoff);
    const kinds = [w.cations, w.anions, w.neutral];
    images.forEach((_, im) => {
      for (let k = 0; k < 3; k++) {
        assert.equal(kinds[k]!.neighborCounts[im], ref.count[im]![k], `${ctx}: image ${im} kind ${k} count`);
        const got = kinds[k]!.maxPerImage[im];
        if (k === 2) {
          // Neutral sites (Xe, state 0) have no radius: null, never a number.
          assert.equal(got, null, ctx);
          continue;
        }
        if (ref.count[im]![k] === 0) assert.equal(got, null, ctx);
        else assert.ok(Math.abs(got! - ref.max[im]![k]!) < 1e-12, `${ctx}: image ${im} kind ${k}: ${got} vs ${ref.max[im]![k]}`);
      }
    });
    // Signed largest change: the rel with the largest |rel|, first of ties.
    for (const kr of [w.cations, w.anions]) {
      if (kr.maxPerImage.some((x) => x === null)) {
        assert.equal(kr.change, null, ctx);
        assert.match(kr.changeReason!, /^image \d+: no (cation|anion) within/, ctx);
        continue;
      }
      const rel = kr.maxPerImage.map((x) => x! - kr.maxPerImage[0]!);
      let best = rel[0]!;
      for (const r of rel) if (Math.abs(r) > Math.abs(best)) best = r;
      assert.equal(kr.change, best, ctx);
    }
  }
});

test('rotation and translation of every image leave the result unchanged', () => {
  for (let seed = 50; seed <= 55; seed++) {
    const rand = rng(seed);
    const images = randomImages(rand, 6, 3);
    // Random rotation from a random unit quaternion; random translation.
    const R = randomRotation(rand);
    const rot = (v: ArrayLike<number>) => rotate(R, v);
    const tr = [rand() * 10 - 5, rand() * 10 - 5, rand() * 10 - 5];
    const moved = images.map((im) => {
      const cart = rot(cartesian(im));
      for (let k = 0; k < cart.length; k++) cart[k]! += tr[k % 3]!;
      return createStructure({ lattice: rot(im.lattice), species: im.species, cart, oxidationStates: im.oxidationStates }, { checkOverlap: false });
    });
    const a = radiiOverlap(images, 0);
    const b = radiiOverlap(moved, 0);
    const ctx = `seed ${seed}, rotation [${fmt(R)}], translation [${fmt(tr)}]`;
    for (const key of ['cations', 'anions', 'neutral'] as const) {
      assert.deepEqual(b[key].neighborCounts, a[key].neighborCounts, ctx);
      a[key].maxPerImage.forEach((v, k) => {
        const u = b[key].maxPerImage[k];
        if (v === null) assert.equal(u, null, ctx);
        else assert.ok(Math.abs(u! - v) < 1e-11, `${ctx}: ${key} image ${k}: ${u} vs ${v}`);
      });
    }
  }
});

const LIF = (oxiLi: number, species = 'Li'): Structure =>
  createStructure({
    lattice: [4.03, 0, 0, 0, 4.03, 0, 0, 0, 4.03],
    species: [species, species, species, species, 'F', 'F', 'F', 'F'],
    frac: [0, 0, 0, 0.5, 0.5, 0, 0.5, 0, 0.5, 0, 0.5, 0.5, 0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.5, 0.5, 0.5, 0.5],
    oxidationStates: [oxiLi, oxiLi, oxiLi, oxiLi, -1, -1, -1, -1],
  });

test('nulls with reasons: a neighbour without a radius, a moving site without one, no neighbour of a kind', () => {
  // H+ has no ionic radius in pymatgen: the cation maxima are null, the anions are still defined.
  const h = radiiOverlap([LIF(1, 'H')], 4);
  assert.deepEqual(h.cations.maxPerImage, [null]);
  assert.equal(h.cations.reasonPerImage[0], 'no ionic radius for cation neighbour H+ (site 0)');
  assert.equal(h.cations.changeReason, 'image 0: no ionic radius for cation neighbour H+ (site 0)');
  assert.ok(h.anions.maxPerImage[0]! > -10 && h.anions.change === 0);
  // LiF rock salt: nearest F-F 2.85 Å, r(F-) = 1.19: overlap 2·1.19 − 4.03/√2.
  assert.ok(Math.abs(h.anions.maxPerImage[0]! - (2.38 - 4.03 / Math.SQRT2)) < 1e-12);
  // Moving H+: every maximum is null.
  const m = radiiOverlap([LIF(1, 'H')], 0);
  assert.equal(m.movingRadiusAng, null);
  assert.equal(m.movingSpecies, 'H+');
  assert.equal(m.anions.reasonPerImage[0], 'no ionic radius for the moving site H+ (site 0)');
  assert.equal(m.cations.maxPerImage[0], null);
  // A cutoff below every distance: no neighbour at all.
  const none = radiiOverlap([LIF(1)], 4, { cutoffAng: 1 });
  assert.deepEqual(none.cations.neighborCounts, [0]);
  assert.equal(none.cations.reasonPerImage[0], 'no cation within 1 Å of site 4');
  assert.equal(none.anions.reasonPerImage[0], 'no anion within 1 Å of site 4');
  // A neutral neighbour (state 0) has no radius either.
  const xe = createStructure({ lattice: [5, 0, 0, 0, 5, 0, 0, 0, 5], species: ['F', 'Xe'], frac: [0, 0, 0, 0.5, 0.5, 0.5], oxidationStates: [-1, 0] });
  const rx = radiiOverlap([xe], 0);
  assert.equal(rx.neutral.reasonPerImage[0], 'no ionic radius for neutral neighbour Xe (site 1)');
  let xeWithin8 = 0;
  for (let a = -3; a <= 2; a++) for (let b = -3; b <= 2; b++) for (let c = -3; c <= 2; c++) if (Math.hypot(2.5 + 5 * a, 2.5 + 5 * b, 2.5 + 5 * c) <= 8) xeWithin8++;
  assert.equal(rx.neutral.neighborCounts[0], xeWithin8);
  // The eight body centres at 2.5·√3 = 4.33 Å; the next shell is at 8.29 Å.
  assert.equal(xeWithin8, 8);
});

test('validation: messages name the bad input', () => {
  const s = LIF(1);
  assert.throws(() => radiiOverlap([], 0), /radiiOverlap: images must be a non-empty array of structures, got an empty array/);
  assert.throws(() => radiiOverlap(s as unknown as Structure[], 0), /images must be a non-empty array of structures, got \[object Object\]/);
  assert.throws(() => radiiOverlap([s], 8), /movingSite must be a site index in \[0, 7\], got 8/);
  assert.throws(() => radiiOverlap([s], 1.5), /movingSite must be a site index in \[0, 7\], got 1.5/);
  assert.throws(() => radiiOverlap([s], 0, { cutoffAng: -1 }), /cutoffAng must be a positive finite number of Å, got -1/);
  assert.throws(() => radiiOverlap([s], 0, { backend: 'gpu' as 'ts' }), /backend must be 'wasm' or 'ts', got gpu/);
  const bare = { ...s, oxidationStates: null };
  assert.throws(() => radiiOverlap([bare], 0), /image 0 has no oxidation states; ionic radii need one per site \(decorate the structure first\)/);
  assert.throws(() => radiiOverlap([s, bare], 0), /image 1 has no oxidation states/);
  const fewer = createStructure({ lattice: s.lattice, species: ['Li'], frac: [0, 0, 0], oxidationStates: [1] });
  assert.throws(() => radiiOverlap([s, fewer], 0), /image 1 has 1 sites, image 0 has 8/);
  assert.throws(() => radiiOverlap([s, LIF(1, 'Na')], 0), /image 1 site 0 is Na\+, image 0 has Li\+: images must list the same species in the same order/);
  assert.throws(() => radiiOverlap([s, LIF(2)], 0), /image 1 site 0 is Li2\+, image 0 has Li\+/);
});

test('kernel status codes become errors naming the input (WASM and TS twin)', () => {
  const cell = [4, 0, 0, 0, 4, 0, 0, 0, 4];
  const pos = [0, 0, 0, 2, 2, 2];
  const radius = [1.19, 1.14];
  const kind = [1, 0];
  for (const run of [overlapWasm, overlapTs]) {
    const check = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof OverlapStatusError && re.test(e.message));
    check(() => run(cell, pos, 2, 1, 0, radius, kind, 0), /radii overlap: cutoff must be a positive finite number of Å, got 0/);
    check(() => run(cell, pos, 2, 1, 2, radius, kind, 8), /radii overlap: moving site 2 is not a site index/);
    check(() => run([4, 0, 0, 8, 0, 0, 0, 0, 4], pos, 2, 1, 0, radius, kind, 8), /radii overlap: a cell is singular \(zero volume\)/);
    check(() => run(cell, [0, 0, 0, 2, Number.NaN, 2], 2, 1, 0, radius, kind, 8), /radii overlap: a position is NaN or infinite/);
    check(() => run(cell, pos, 2, 1, 0, radius, kind, 1000), /radii overlap: cutoff 1000 Å needs more than 64 cell images along one axis; the cell is too thin for this cutoff/);
  }
});

test('result shape: JSON-serialisable, one entry per image, no sentinel numbers', () => {
  const images = [LIF(1), LIF(1)];
  const r: OverlapResult = radiiOverlap(images, 4);
  const back = JSON.parse(JSON.stringify(r)) as OverlapResult;
  assert.deepEqual(back, r);
  assert.equal(r.cations.maxPerImage.length, 2);
  assert.equal(r.cations.change, 0);
  for (const k of [r.cations, r.anions]) for (const v of k.maxPerImage) assert.ok(v !== null && v > -5 && v < 5);
});

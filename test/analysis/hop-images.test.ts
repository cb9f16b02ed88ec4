/**
 * hopImages and the hop exports: straight-line vacancy images against pymatgen-analysis-diffusion's
 * `get_structures(nimages=5, vac_mode=True)` (site order of every image and the moving ion's
 * coordinates, 1e-9), vacancy/interstitial site counts, supercell mapping, IDPP, extxyz/CIF exports
 * read back, the JSON hop list round trip, and every validation message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findHops } from '../../src/analysis/pathfinder.js';
import { hopBetween, hopImages, shortestBasisSupercell, hopsFromJson, hopsToJson, imagesToExtxyz, imagesToOverlayCif } from '../../src/analysis/hop-images.js';
import { readExtxyz } from '../../src/structure/extxyz.js';
import { readCif } from '../../src/structure/cif.js';
import { det3, fracToCart, inv3, mul3 } from '../../src/structure/lattice.js';
import { rng, fmt, randomRotation, randomUnimodular } from '../helpers/random.js';
import { referenceDir, referenceRecords, referenceStructure } from '../helpers/reference.js';

interface RefImages { hop_index: number; n_sites_per_image: number; linear_moving_ion_frac: number[][]; image_species: string[] }
const refImages = JSON.parse(readFileSync(join(referenceDir, 'paths', 'hop_images.json'), 'utf8')) as Record<string, RefImages[]>;
const refPaths = JSON.parse(readFileSync(join(referenceDir, 'paths', 'distinct_paths.json'), 'utf8')) as Record<string, { settings: Record<string, { hops: { isite_frac: number[]; esite_frac: number[] }[] }> }>;
const record = (id: string) => referenceRecords().find((r) => r.id === id)!;

test('straight-line vacancy images match get_structures(nimages=5, vac_mode=True) on every reference hop', () => {
  let n = 0;
  for (const [id, entries] of Object.entries(refImages)) {
    const r = record(id);
    if (!r || r.n_sites > 100) continue;
    const s = referenceStructure(r);
    for (const e of entries) {
      const h = refPaths[id]!.settings['L5']!.hops[e.hop_index]!;
      const hop = hopBetween(s, r.migrating, h.isite_frac, h.esite_frac);
      const { images } = hopImages(s, hop, { images: 5 });
      assert.equal(images.length, 7);
      for (let k = 0; k < 7; k++) {
        const im = images[k]!;
        assert.equal(im.species.length, e.n_sites_per_image, `${id} hop ${e.hop_index}`);
        assert.deepEqual(im.species, e.image_species, `${id} hop ${e.hop_index}: site order`);
        for (let c = 0; c < 3; c++) {
          assert.ok(Math.abs(im.frac[c]! - e.linear_moving_ion_frac[k]![c]!) < 2e-9, `${id} hop ${e.hop_index} image ${k}: ${im.frac[c]} vs ${e.linear_moving_ion_frac[k]![c]}`);
        }
      }
      n++;
    }
  }
  assert.ok(n >= 150, `${n} hops compared`);
});

test('vacancy mode empties the end site in the start image and the start site in the end image', () => {
  const s = referenceStructure(record('CaF2'));
  const hop = findHops(s).hops[0]!;
  const { images, hostSites } = hopImages(s, hop, { images: 3 });
  assert.equal(hostSites, 12);
  assert.equal(images.length, 5);
  const near = (im: typeof images[number], p: number[]) => {
    let count = 0;
    for (let i = 0; i < im.species.length; i++) {
      const d = [0, 1, 2].map((k) => im.frac[3 * i + k]! - p[k]!);
      const w = fracToCart(im.lattice, d.map((x) => x - Math.round(x)));
      if (Math.hypot(w[0]!, w[1]!, w[2]!) < 1e-6) count++;
    }
    return count;
  };
  for (const im of images) assert.equal(im.species.length, 11);
  assert.equal(near(images[0]!, hop.startFrac), 1, 'start image: the ion on the start site');
  assert.equal(near(images[0]!, hop.endFrac), 0, 'start image: the end site is empty');
  assert.equal(near(images[4]!, hop.endFrac), 1, 'end image: the ion on the end site');
  assert.equal(near(images[4]!, hop.startFrac), 0, 'end image: the start site is empty');
  assert.deepEqual(Array.from(images[4]!.frac.subarray(0, 3)), hop.endFrac);
});

test('interstitial mode keeps only the moving ion of its element', () => {
  const s = referenceStructure(record('CaF2'));
  const hop = findHops(s).hops[0]!;
  const { images } = hopImages(s, hop, { vacancyMode: false });
  for (const im of images) {
    assert.equal(im.species.length, 5);
    assert.deepEqual(im.species, ['F', 'Ca', 'Ca', 'Ca', 'Ca']);
  }
});

test('a supercell is built first and the hop is mapped into it', () => {
  const s = referenceStructure(record('CaF2'));
  const hop = findHops(s).hops[0]!;
  const r = hopImages(s, hop, { supercellMinLength: 7 });
  assert.deepEqual(r.scaling, [2, 2, 2]);
  assert.equal(r.hostSites, 96);
  for (const im of r.images) assert.equal(im.species.length, 95);
  const c0 = fracToCart(r.images[0]!.lattice, r.images[0]!.frac.subarray(0, 3));
  const c6 = fracToCart(r.images[6]!.lattice, r.images[6]!.frac.subarray(0, 3));
  const want0 = fracToCart(s.lattice, hop.startFrac);
  const want6 = fracToCart(s.lattice, hop.endFrac);
  for (let k = 0; k < 3; k++) {
    assert.ok(Math.abs(c0[k]! - want0[k]!) < 1e-9);
    assert.ok(Math.abs(c6[k]! - want6[k]!) < 1e-9);
  }
});

test('the shortest-basis supercell is the same lattice in any setting of the cell (seeded unimodular changes and rotations)', () => {
  // The same lattice: each basis is an integer combination of the other (C = A·B⁻¹ integer, |det C| = 1).
  const same = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    const c = mul3(a, inv3(b));
    return Math.abs(Math.abs(det3(c)) - 1) < 1e-9 && Array.from(c).every((x) => Math.abs(x - Math.round(x)) < 1e-6);
  };
  const seed = Number(process.env.FRACFLOW_TEST_SEED ?? 20261207);
  const r = rng(seed);
  for (const id of ['CaF2', 'MgF2', 'AlF3', 'CaF2_prim_skewed', 'pmg_LiFePO4', 'pmg_TlBiSe2', 'mp_mp-4360']) {
    const s = referenceStructure(record(id));
    const base = shortestBasisSupercell(s.lattice, 7);
    const superBase = mul3(base.matrix, s.lattice);
    assert.ok(det3(base.matrix) > 0, `${id}: matrix [${base.matrix.join(', ')}]`);
    for (let k = 0; k < 3; k++) assert.ok(Math.hypot(superBase[3 * k]!, superBase[3 * k + 1]!, superBase[3 * k + 2]!) > 7, `${id}: supercell vector ${k} shorter than 7 Å`);
    for (let t = 0; t < 4; t++) {
      const U = randomUnimodular(r);
      const R = randomRotation(r);
      const Rt = [R[0]!, R[3]!, R[6]!, R[1]!, R[4]!, R[7]!, R[2]!, R[5]!, R[8]!];
      const lat = mul3(U, mul3(s.lattice, Rt));
      const other = shortestBasisSupercell(lat, 7);
      // Rotated back into the original frame: the same set of translations.
      const superOther = mul3(mul3(other.matrix, lat), R);
      assert.ok(same(superOther, superBase), `${id}, seed ${seed} case ${t}: unimodular [${U.join(', ')}], rotation [${fmt(R)}]: supercell [${fmt(superOther)}] against [${fmt(superBase)}]`);
      assert.deepEqual([...other.scaling].sort(), [...base.scaling].sort(), `${id}, seed ${seed} case ${t}`);
    }
  }
});

test('a shortest-basis supercell maps the hop into it as the given-cell one does', () => {
  const s = referenceStructure(record('CaF2'));
  const hop = findHops(s).hops[0]!;
  const r = hopImages(s, hop, { supercellMinLength: 7, supercellBasis: 'shortest' });
  assert.deepEqual(r.scaling, [2, 2, 2]);
  assert.equal(r.hostSites, 96);
  const c0 = fracToCart(r.images[0]!.lattice, r.images[0]!.frac.subarray(0, 3));
  const c6 = fracToCart(r.images[6]!.lattice, r.images[6]!.frac.subarray(0, 3));
  const want0 = fracToCart(s.lattice, hop.startFrac);
  const want6 = fracToCart(s.lattice, hop.endFrac);
  for (let k = 0; k < 3; k++) {
    assert.ok(Math.abs(c0[k]! - want0[k]!) < 1e-9);
    assert.ok(Math.abs(c6[k]! - want6[k]!) < 1e-9);
  }
});

test('IDPP images keep the endpoints and the site order', () => {
  const s = referenceStructure(record('mp_mp-2068'));
  const hop = findHops(s).hops[0]!;
  const lin = hopImages(s, hop, { images: 3 });
  const r = hopImages(s, hop, { images: 3, idpp: { maxIter: 50 } });
  assert.ok(r.idpp && r.idpp.iterations > 0 && r.idpp.iterations <= 50);
  assert.equal(r.images.length, 5);
  assert.deepEqual(Array.from(r.images[0]!.frac), Array.from(lin.images[0]!.frac));
  assert.deepEqual(Array.from(r.images[4]!.frac), Array.from(lin.images[4]!.frac));
  assert.deepEqual(r.images[2]!.species, lin.images[2]!.species);
  const moved = [0, 1, 2].some((k) => Math.abs(r.images[2]!.frac[k]! - lin.images[2]!.frac[k]!) > 1e-6);
  assert.ok(moved, 'IDPP moved the middle image');
});

test('extxyz holds one frame per image and the overlay CIF the host once plus every ion position', () => {
  const s = referenceStructure(record('CaF2'));
  const hop = findHops(s).hops[0]!;
  const { images } = hopImages(s, hop);
  const frames = readExtxyz(imagesToExtxyz(images));
  assert.equal(frames.length, 7);
  frames.forEach((f, k) => {
    assert.deepEqual(f.species, images[k]!.species);
    const a = fracToCart(f.lattice, f.frac), b = fracToCart(images[k]!.lattice, images[k]!.frac);
    for (let q = 0; q < a.length; q++) assert.ok(Math.abs(a[q]! - b[q]!) < 1e-9);
  });
  // The fixed-structure readers refuse sites closer than 0.5 Å, which the overlaid images are, so
  // the atom-site rows are counted directly.
  const cif = imagesToOverlayCif(images);
  const rows = cif.split('\n').filter((l) => /^\s+[A-Z][a-z]?\s+[A-Z][a-z]?\d+\s+1\s/.test(l)).map((l) => l.trim().split(/\s+/));
  assert.equal(rows.length, 7 + 10);
  assert.equal(rows.filter((r) => r[0] === 'F').length, 7 + 6);
  for (let k = 0; k < 7; k++) {
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(Number(rows[k]![3 + c]) - images[k]!.frac[c]!) < 1e-12, `ion position ${k}`);
  }
  assert.ok(readCif(imagesToOverlayCif([images[0]!, images[6]!])).length === 1, 'start + end overlay is an ordinary structure');
  assert.throws(() => imagesToOverlayCif(images.slice(0, 1)), /need at least 2 images to overlay, got 1/);
});

test('the JSON hop list round-trips exactly and names a bad field', () => {
  const res = findHops(referenceStructure(record('mp_mp-1195732')), { limit: 0 });
  const back = hopsFromJson(hopsToJson(res));
  assert.deepEqual(back, JSON.parse(JSON.stringify(res)));
  assert.deepEqual(back.hops.map((h) => h.lengthAng), res.hops.map((h) => h.lengthAng));
  assert.throws(() => hopsFromJson('{'), /hop list: not JSON/);
  assert.throws(() => hopsFromJson('{"format": "x"}'), /hop list: format must be "fracflow-hops\/1", got "x"/);
  assert.throws(() => hopsFromJson('{"format": "fracflow-hops/1"}'), /hop list: "hops" must be an array/);
  const bad = JSON.parse(hopsToJson(res));
  bad.hops[1].endFrac = [0, 1];
  assert.throws(() => hopsFromJson(JSON.stringify(bad)), /hop list: hops\[1\]\.endFrac must be 3 finite numbers/);
  const bad2 = JSON.parse(hopsToJson(res));
  bad2.hops[0].lengthAng = 'x';
  assert.throws(() => hopsFromJson(JSON.stringify(bad2)), /hop list: hops\[0\]\.lengthAng must be a number/);
  const bad3 = JSON.parse(hopsToJson(res));
  bad3.hops[0].ion = 3;
  assert.throws(() => hopsFromJson(JSON.stringify(bad3)), /hop list: hops\[0\]\.ion must be a string/);
});

test('hopImages and hopBetween validate their input', () => {
  const s = referenceStructure(record('CaF2'));
  const hop = findHops(s).hops[0]!;
  assert.throws(() => hopImages(s, hop, { images: 0 }), /images must be an integer >= 1, got 0/);
  assert.throws(() => hopImages(s, hop, { images: 2.5 }), /images must be an integer >= 1, got 2.5/);
  assert.throws(() => hopImages(s, hop, { supercellMinLength: -2 }), /supercellMinLength must be a positive number of Å, got -2/);
  assert.throws(() => hopImages(s, hop, { vacancyMode: 'yes' as unknown as boolean }), /vacancyMode must be true or false, got yes/);
  assert.throws(() => hopImages(s, hop, { supercellBasis: 'niggli' as 'given' }), /supercellBasis must be 'given' or 'shortest', got "niggli"/);
  assert.throws(() => hopImages(s, hop, { supercellMinLength: 7, supercellBasis: 'shortest', pymatgenCoordinates: true }), /pymatgenCoordinates needs the given cell's supercell \(supercellBasis 'given'\), got supercellBasis 'shortest'/);
  assert.throws(() => hopImages(s, { ...hop, startSite: 99 }), /hop startSite 99 is not a site of the structure \(12 sites\)/);
  assert.throws(() => hopImages(s, { ...hop, endSite: 0 }), /hop endSite 0 is Ca, not the migrating ion F/);
  const other = referenceStructure(record('CaF2_prim'));
  assert.throws(() => hopImages(other, { ...hop, startSite: 1, endSite: 2 }), /is not on site 1: the hop belongs to another structure or cell/);
  assert.throws(() => hopBetween(s, 'F', [0.1, 0.1, 0.1], hop.endFrac), /no F site at the hop start \[0.1, 0.1, 0.1\]/);
  assert.throws(() => hopBetween(s, 'F', hop.startFrac, [0.5, 0.5, 0.5]), /no F site at the hop end \[0.5, 0.5, 0.5\]/);
});

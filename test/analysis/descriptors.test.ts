/**
 * pathwayDescriptors, descriptorsForHop, imageDescriptors, cumBarrierDimensionalities: sanity on CaF2
 * (the check), null-with-reason columns, invariances (cell setting, rotation) and every
 * validation message. Random rotations print their seed and matrix (17 digits) on failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { fixturesDir, referenceRecords, referenceStructure } from '../helpers/reference.js';
import { readStructure } from '../../src/structure/io.js';
import { createStructure, withChanges, type Structure } from '../../src/structure/structure.js';
import { PathfinderError } from '../../src/analysis/pathfinder.js';
import { hopBetween, hopImages } from '../../src/analysis/hop-images.js';
import {
  DescriptorError,
  cumBarrierDimensionalities,
  descriptorContext,
  descriptorsForHop,
  imageDescriptors,
  pathwayDescriptors,
} from '../../src/analysis/descriptors.js';
import { rng, fmt } from '../helpers/random.js';

const caf2 = () => readStructure(join(fixturesDir, 'structures', 'CaF2_fluorite_Fm-3m.cif'));
const ref = (id: string): Structure => referenceStructure(referenceRecords().find((r) => r.id === id)!);


test('descriptors: CaF2 shortest F hop is 2.7315 Å and percolates in 3-D (issue sanity check)', () => {
  const rows = pathwayDescriptors(caf2());
  assert.ok(rows.length >= 2);
  const r = rows[0]!;
  assert.ok(Math.abs(r.length - 2.7315) < 1e-3, `length ${r.length}`);
  assert.equal(r.dimensionality, 3);
  assert.equal(r.dimensionality_cumlengths, 3);
  assert.equal(r.oxidation_state, -1);
  assert.equal(r.dmin, r.length);
  assert.equal(r.length_rel_dmin, 0);
  assert.ok(Math.abs(r.ion_fraction - 2 / 3) < 1e-15);
  // Sanitised to the 3-site primitive cell: 2×2×2 supercell of it, 23 sites per image.
  assert.equal(r.nsites, 3);
  assert.deepEqual(r.supercell_scaling, [2, 2, 2]);
  assert.equal(r.n_sites_per_image, 23);
  assert.equal(r.nsites_777, 24);
  for (const x of rows) {
    assert.ok(x.ewald_energy !== null && x.ewald_energy >= 0, `hop ${x.hop_index}: ewald_energy ${x.ewald_energy}`);
    assert.ok(x.percolation_3d !== null && Math.abs(x.percolation_3d - 2.7315) < 1e-3);
    assert.ok(Math.abs(x.length_rel_dmin - (x.length - r.length) / r.length) < 1e-15);
  }
});

test('descriptors: --no-sanitize keeps the given cell; sanitising the conventional and primitive cells agrees', () => {
  const conv = pathwayDescriptors(caf2(), { sanitize: false, limit: 2 });
  assert.equal(conv[0]!.nsites, 12);
  assert.equal(conv[0]!.n_sites_per_image, 95);
  const a = pathwayDescriptors(caf2(), { limit: 2 });
  const b = pathwayDescriptors(ref('CaF2_prim'), { limit: 2 });
  for (let k = 0; k < 2; k++) {
    assert.ok(Math.abs(a[k]!.length - b[k]!.length) < 1e-4, `hop ${k}: ${a[k]!.length} vs ${b[k]!.length}`);
    for (const col of ['nsites', 'nsites_777', 'nsites_101010', 'nsites_121212', 'n_sites_per_image', 'dimensionality', 'dimensionality_cumlengths', 'multiplicity'] as const) {
      assert.equal(a[k]![col], b[k]![col], `hop ${k} ${col}`);
    }
  }
});

/**
 * Rotation leaves the IDPP trajectory unchanged (measured on this hop: images equal to 1e-12 through
 * 330 iterations), but pymatgen's stopping test (Σ|Δobjective| < 1e-5 and max|F| < 1e-3) is crossed
 * at a step that depends on the last bits (seed 3: 338 vs 360 iterations), which moves ewald_energy
 * by ~3e-4. So the graph, size and length columns must be exact and the IDPP-derived ones within the
 * reference's own 75th-percentile spread (6e-4; 2e-3 Å, see descriptors-conformance.test.ts).
 */
test('descriptors: rotating the given cell changes no descriptor of the same hop (seeded)', () => {
  const s0 = ref('mp_mp-4360');
  const ctx0 = descriptorContext(s0, { sanitize: false, limit: 2 });
  const base = ctx0.hops.hops.map((h) => descriptorsForHop(ctx0, h));
  for (const seed of [3, 4]) {
    const rand = rng(seed);
    let q = [rand() - 0.5, rand() - 0.5, rand() - 0.5, rand() - 0.5];
    const qn = Math.hypot(...q);
    q = q.map((x) => x / qn);
    const [w, x, y, z] = q as [number, number, number, number];
    const R = [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w), 2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w), 2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)];
    const L = new Float64Array(9);
    for (let v = 0; v < 3; v++) for (let r = 0; r < 3; r++) L[3 * v + r] = R[3 * r]! * s0.lattice[3 * v]! + R[3 * r + 1]! * s0.lattice[3 * v + 1]! + R[3 * r + 2]! * s0.lattice[3 * v + 2]!;
    const ctx = descriptorContext(withChanges(s0, { lattice: L }), { sanitize: false, limit: 2 });
    const where = `seed ${seed}, rotation [${fmt(R)}]`;
    ctx0.hops.hops.forEach((h, k) => {
      const r = descriptorsForHop(ctx, { ...hopBetween(ctx.structure, 'F', h.startFrac, h.endFrac), index: k, multiplicity: h.multiplicity });
      const b = base[k]!;
      assert.ok(Math.abs(ctx.hops.hops[k]!.lengthAng - h.lengthAng) < 1e-9, `${where}: hop ${k} length in the rotated hop list`);
      assert.ok(Math.abs(r.length - b.length) < 1e-9, `${where}: hop ${k} length`);
      assert.equal(r.dimensionality, b.dimensionality, `${where}: hop ${k} dimensionality`);
      assert.equal(r.dimensionality_cumlengths, b.dimensionality_cumlengths, `${where}: hop ${k} cumlengths`);
      for (const col of ['nsites_777', 'nsites_101010', 'nsites_121212', 'n_sites_per_image', 'oxidation_state'] as const) assert.equal(r[col], b[col], `${where}: hop ${k} ${col}`);
      assert.ok(Math.abs(r.ewald_energy! - b.ewald_energy!) <= 6e-4, `${where}: hop ${k} ewald ${r.ewald_energy} vs ${b.ewald_energy}`);
      assert.ok(Math.abs(r.ionic_radii_overlap_cations! - b.ionic_radii_overlap_cations!) <= 2e-3, `${where}: hop ${k} overlap cations`);
      assert.ok(Math.abs(r.ionic_radii_overlap_anions! - b.ionic_radii_overlap_anions!) <= 2e-3, `${where}: hop ${k} overlap anions`);
    });
  }
});

test('descriptors: dimensionality groups hops by symmetry class, not by length (KMgF3: two 3.99 Å classes)', () => {
  const rows = pathwayDescriptors(ref('KMgF3'), { sanitize: false, limit: 3 });
  assert.ok(Math.abs(rows[1]!.length - rows[2]!.length) < 1e-9, 'hops 1 and 2 have equal length');
  // F on face centres: the 3.99 Å hop along the face normal makes chains, the in-plane one layers;
  // together (a length proxy) they make the 3-D network that cumlengths sees.
  assert.deepEqual([rows[1]!.dimensionality, rows[2]!.dimensionality].sort(), [1, 2]);
  assert.equal(rows[1]!.dimensionality_cumlengths, 3);
  assert.equal(rows[2]!.dimensionality_cumlengths, 3);
});

test('descriptors: dimensionality_cumbarriers follows ewald_energy, null where ewald_energy is null', () => {
  const rows = pathwayDescriptors(ref('KMgF3'), { sanitize: false });
  const withE = rows.filter((r) => r.ewald_energy !== null);
  const nullE = rows.filter((r) => r.ewald_energy === null);
  assert.ok(withE.length >= 2 && nullE.length >= 1, 'KMgF3 has pathways with and without ewald_energy (IDPP through Mg)');
  for (const r of nullE) {
    assert.equal(r.dimensionality_cumbarriers, null);
    assert.match(r.dimensionality_cumbarriers_reason!, /ewald_energy is null: IDPP failed/);
  }
  const sorted = [...withE].sort((a, b) => a.ewald_energy! - b.ewald_energy!);
  for (let k = 1; k < sorted.length; k++) assert.ok(sorted[k]!.dimensionality_cumbarriers! >= sorted[k - 1]!.dimensionality_cumbarriers!, 'cumbarriers grows with the cost');
  // The cheapest class alone is open at its own cost: cumbarriers ≥ that class's own dimensionality.
  assert.ok(sorted[0]!.dimensionality_cumbarriers! >= sorted[0]!.dimensionality);

  const ctx = descriptorContext(ref('KMgF3'), { sanitize: false, limit: 2 });
  const one = descriptorsForHop(ctx, ctx.hops.hops[0]!);
  assert.equal(one.dimensionality_cumbarriers, null);
  assert.match(one.dimensionality_cumbarriers_reason!, /needs the ewald_energy of every hop class/);
  cumBarrierDimensionalities(ctx, [one]);
  assert.equal(one.dimensionality_cumbarriers, one.dimensionality, 'only its own class is open');
});

test('descriptors: another ion (Li in LiF) works and carries its own oxidation state', () => {
  const rows = pathwayDescriptors(ref('LiF'), { ion: 'Li', limit: 1 });
  assert.equal(rows[0]!.ion, 'Li');
  assert.equal(rows[0]!.oxidation_state, 1);
  assert.equal(rows[0]!.oxidation_method, 'bond-valence');
  assert.ok(Math.abs(rows[0]!.length - 2.8496) < 1e-3);
  assert.equal(rows[0]!.dimensionality, 3);
});

test('descriptors: a species without an ionic radius makes that overlap null with the reason (H+ in rock salt)', () => {
  const s = ref('LiF');
  const states = s.species.map((x) => (x === 'F' ? -1 : 1));
  const h = createStructure({ lattice: s.lattice, species: s.species.map((x) => (x === 'Li' ? 'H' : x)), frac: s.frac, oxidationStates: states });
  const r = pathwayDescriptors(h, { limit: 1 })[0]!;
  assert.equal(r.oxidation_method, 'input');
  assert.equal(r.ionic_radii_overlap_cations, null);
  assert.match(r.ionic_radii_overlap_cations_reason!, /no ionic radius for cation neighbour H\+/);
  assert.notEqual(r.ionic_radii_overlap_anions, null, 'the anion overlap does not need the H radius');
  assert.notEqual(r.ewald_energy, null);
});

test('descriptors: no charge-balanced oxidation states: oxidation state, ewald and overlaps null with the reason', () => {
  const s = caf2();
  const bad = withChanges(s, { oxidationStates: Float64Array.from(s.species, (x) => (x === 'Ca' ? 3 : -1)) });
  const r = pathwayDescriptors(bad, { limit: 1, sanitize: false })[0]!;
  assert.equal(r.oxidation_state, null);
  assert.equal(r.oxidation_method, null);
  assert.match(r.oxidation_reason!, /no charge-balanced oxidation states \(input: net charge 4\)/);
  assert.equal(r.ewald_energy, null);
  assert.match(r.ewald_reason!, /no oxidation states/);
  assert.equal(r.ionic_radii_overlap_cations, null);
  assert.equal(r.ionic_radii_overlap_anions, null);
  assert.equal(r.n_sites_per_image, 95);
  assert.equal(r.dimensionality, 3, 'graph descriptors do not need oxidation states');
});

test('descriptors: imageDescriptors gives 0 for a path whose images are all the start', () => {
  const s = withChanges(caf2(), { oxidationStates: Float64Array.from(caf2().species, (x) => (x === 'Ca' ? 2 : -1)) });
  const hop = hopBetween(s, 'F', [0.25, 0.25, 0.25], [0.25, 0.25, 0.75]);
  const start = hopImages(s, hop, { images: 1 }).images[0]!;
  const d = imageDescriptors([start, start, start]);
  assert.equal(d.ewald_energy, 0);
  assert.equal(d.ionic_radii_overlap_cations, 0);
  assert.equal(d.ionic_radii_overlap_anions, 0);
});

test('descriptors: validation messages name the option and the value', () => {
  const s = caf2();
  const cases: [object, RegExp][] = [
    [{ maxLengthAng: -1 }, /maxLengthAng must be a positive number of Å, got -1/],
    [{ maxLengthAng: Number.NaN }, /maxLengthAng must be a positive number of Å, got NaN/],
    [{ limit: 1.5 }, /limit must be a non-negative integer \(0 = all\), got 1\.5/],
    [{ sanitize: 'no' }, /sanitize must be true or false, got no/],
    [{ supercellMinLengthAng: 0 }, /supercellMinLengthAng must be a positive number of Å, got 0/],
    [{ ion: 9 }, /ion must be an element symbol, got 9/],
  ];
  for (const [o, re] of cases) assert.throws(() => pathwayDescriptors(s, o as never), (e: unknown) => e instanceof DescriptorError && re.test((e as Error).message), JSON.stringify(o));
  assert.throws(() => pathwayDescriptors(s, null as never), /options must be an object, got null/);
  assert.throws(() => pathwayDescriptors(s, { ion: 'Li' }), (e: unknown) => e instanceof PathfinderError && /ion Li has no sites/.test((e as Error).message));

  const ctx = descriptorContext(s, { sanitize: false, limit: 1 });
  assert.throws(() => descriptorsForHop(ctx, { ...ctx.hops.hops[0]!, ion: 'Ca' }), /hop ion Ca is not the context's ion F/);
  const far = { ...hopBetween(ctx.structure, 'F', [0.25, 0.25, 0.25], [0.25, 0.25, 2.25]) };
  assert.throws(() => descriptorsForHop(ctx, far), /is not an edge of the F hop graph of this structure/);
  const row = descriptorsForHop(ctx, ctx.hops.hops[0]!);
  assert.throws(() => cumBarrierDimensionalities(ctx, [{ ...row, hop_index: 7 }]), /row hop_index 7 is not a hop of the context \(1 hops\)/);

  assert.throws(() => imageDescriptors([]), /images must be at least 2 structures \(start … end\), got 0/);
  assert.throws(() => imageDescriptors('x' as never), /images must be at least 2 structures \(start … end\), got x/);
  const plain = ref('CaF2');
  assert.throws(() => imageDescriptors([plain, plain]), /images\[0\] has no oxidation states/);
});

test('descriptors: oxidation states retry bond valence with every site on its own, as ValenceIonicRadiusEvaluator (Cr4OF11)', () => {
  const ref = JSON.parse(readFileSync(join(fixturesDir, 'reference', 'descriptors', 'vire', 'Cr4OF11.json'), 'utf8')) as { structure: unknown; vire_valences_per_site: number[] };
  const s = withChanges(readStructure(JSON.stringify(ref.structure), 'pymatgen-json'), { oxidationStates: null });
  const ctx = descriptorContext(s, { sanitize: false, limit: 1 });
  assert.equal(ctx.oxidation.method, 'bond-valence');
  assert.deepEqual(Array.from(ctx.oxidation.states!), ref.vire_valences_per_site);
  const row = descriptorsForHop(ctx, ctx.hops.hops[0]!);
  assert.equal(row.oxidation_state, -1);
  assert.equal(row.oxidation_reason, null);
});

test('descriptors: when both bond-valence tries and the composition guess fail, the reason lists every try (XeF2 in fluorite)', () => {
  const s = ref('CaF2_prim');
  const xe = createStructure({ lattice: s.lattice, species: s.species.map((x) => (x === 'Ca' ? 'Xe' : x)), frac: s.frac });
  const r = pathwayDescriptors(xe, { sanitize: false, limit: 1 })[0]!;
  assert.equal(r.oxidation_state, null);
  assert.equal(r.oxidation_method, null);
  assert.equal(
    r.oxidation_reason,
    'no charge-balanced oxidation states (composition-guess: no charge-balanced combination of common oxidation states; input: the structure carries no oxidation states; ' +
      'bond-valence: Structure contains elements not in set of BV parameters!; bond-valence: with every site on its own: Structure contains elements not in set of BV parameters!)',
  );
  assert.equal(r.ewald_energy, null);
  assert.equal(r.dimensionality, 3);
});

test('descriptors: a neutral moving ion (all oxidation states 0) has no relative Ewald change: null with the reason', () => {
  const s = ref('CaF2_prim');
  const neutral = withChanges(s, { oxidationStates: new Float64Array(s.species.length) });
  const r = pathwayDescriptors(neutral, { sanitize: false, limit: 1 })[0]!;
  assert.equal(r.oxidation_method, 'input');
  assert.equal(r.oxidation_state, 0);
  assert.equal(r.ewald_energy, null);
  assert.equal(r.ewald_reason, 'the moving ion has zero Ewald site energy in the start structure (relative change undefined)');
  assert.equal(r.dimensionality_cumbarriers, null);
  assert.match(r.ionic_radii_overlap_anions_reason!, /no ionic radius for the moving site/);
});

test('descriptors: pymatgen-rounded images — option validation, no effect without a supercell, same points as the exact supercell', () => {
  const s = ref('CeF3');
  const ctx = descriptorContext(s, { sanitize: false, limit: 1 });
  const hop = ctx.hops.hops[0]!;
  assert.throws(() => hopImages(ctx.structure, hop, { pymatgenCoordinates: 'yes' as unknown as boolean }), /^HopImagesError: pymatgenCoordinates must be true or false, got yes$/);
  const a = hopImages(ctx.structure, hop, { images: 3 });
  const b = hopImages(ctx.structure, hop, { images: 3, pymatgenCoordinates: true });
  a.images.forEach((im, k) => assert.deepEqual(Array.from(b.images[k]!.frac), Array.from(im.frac), `image ${k}: without supercellMinLength the option changes nothing`));
  const x = hopImages(ctx.structure, hop, { images: 3, supercellMinLength: 7 });
  const y = hopImages(ctx.structure, hop, { images: 3, supercellMinLength: 7, pymatgenCoordinates: true });
  assert.equal(y.images[0]!.species.length, x.images[0]!.species.length);
  x.images.forEach((im, k) => {
    for (let q = 0; q < im.frac.length; q++) {
      const d = y.images[k]!.frac[q]! - im.frac[q]!;
      assert.ok(Math.abs(d - Math.round(d)) < 1e-12, `image ${k} coordinate ${q}: the same point up to rounding or a whole cell (${d})`);
    }
  });
});

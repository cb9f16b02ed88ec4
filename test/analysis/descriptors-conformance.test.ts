/**
 * pathwayDescriptors / descriptorsForHop / imageDescriptors against the DDI descriptors recomputed
 * with pymatgen 2022.11.7 + pymatgen-analysis-diffusion d613b5e (test/fixtures/reference/descriptors,
 * README there). Run on the given (unsanitised) cell, as the reference was.
 *
 * Exact: hop lengths (to 1e-9 Å: the reference is DistinctPathFinder's float), supercell scaling,
 * sites per image, nsites_*, oxidation states, dimensionality alone and cumlengths, and which pathways
 * fail IDPP (a straight line through a cation). ewald_energy and the overlaps come from IDPP images,
 * which are not bit-stable (README "IDPP reproducibility"), so they are compared twice: (1) on the
 * reference's own images (coordinates rounded to 1e-8 Å) to 1e-6, which checks the Ewald, overlap and
 * max/argmax logic exactly; (2) end to end from our IDPP images, within the reference's own measured
 * spread (see `SPREAD`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { referenceDir, referenceRecords, referenceStructure } from '../helpers/reference.js';
import { createStructure, type Structure } from '../../src/structure/structure.js';
import { cartToFrac } from '../../src/structure/lattice.js';
import { parseSpecies } from '../../src/structure/oxidation.js';
import { hopBetween } from '../../src/analysis/hop-images.js';
import { descriptorContext, descriptorsForHop, imageDescriptors, pathwayDescriptors } from '../../src/analysis/descriptors.js';

interface RefPathway {
  index: number;
  length: number;
  isite_frac: number[];
  esite_frac: number[];
  oxidation_state: number;
  nsites_777: number;
  nsites_101010: number;
  nsites_121212: number;
  dimensionality: number;
  dimensionality_cumlengths: number;
  dimensionality_length_proxy: number;
  supercell_scaling: number[];
  supercell_lattice: number[][];
  n_sites_per_image: number;
  start_species: string[];
  images_have_nan: boolean;
  images_all_cart?: number[][][];
  ewald_energy: number | null;
  ionic_radii_overlap_cations: number | null;
  ionic_radii_overlap_anions: number | null;
  fp_sensitivity?: { ewald_energy_abs_diff: number; overlap_cations_abs_diff: number; overlap_anions_abs_diff: number; max_moving_ion_shift_A: number };
}
interface RefFile {
  id: string;
  structure_level: { all_lengths: number[]; nsites_777: number; supercell_scaling: number[] };
  pathways: RefPathway[];
}

const dir = join(referenceDir, 'descriptors');
const refs: RefFile[] = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as RefFile);

function structureOf(id: string): Structure {
  const rec = referenceRecords().find((r) => r.id === id);
  assert.ok(rec, `reference structure ${id} is in structures.jsonl`);
  return referenceStructure(rec);
}

/**
 * The spread of IDPP-derived descriptors measured on the reference itself (README "IDPP
 * reproducibility", all 43 non-NaN pathways of both sets under a 1e-9 Å translation of the inputs):
 * maximum |Δ| 0.027 for ewald_energy and 0.14 Å for the overlaps, 75th percentile 6e-4 and 2e-3 Å.
 * Our IDPP kernel breaks exact minimum-image ties (pairs at half a supercell vector, present in every
 * doubled axis) by a fixed rule where pymatgen's choice follows the last bit of its input, so the
 * per-pathway probe (one sample of that spread, sometimes exactly 0) is not a bound we can meet
 * pathway by pathway. Each pathway must lie within the set maximum (plus a 1e-6 floor), and the
 * median deviation over all pathways within the set's 75th percentile.
 */
const SPREAD = {
  ewald: { max: 0.027, p75: 6e-4 },
  overlap: { max: 0.14, p75: 2e-3 },
} as const;
const FLOOR = 1e-6;

function median(x: number[]): number {
  const s = [...x].sort((p, q) => p - q);
  return s[Math.floor(s.length / 2)]!;
}

const deviations = { ewald: [] as number[], cat: [] as number[], an: [] as number[] };

test('descriptors conformance: fixtures present (12 structures, 24 pathways)', () => {
  assert.equal(refs.length, 12);
  assert.equal(refs.reduce((n, r) => n + r.pathways.length, 0), 24);
});

for (const ref of refs) {
  test(`descriptors conformance ${ref.id}: per-pathway exact columns, ewald and overlaps`, () => {
    const s = structureOf(ref.id);
    const ctx = descriptorContext(s, { sanitize: false });
    for (const p of ref.pathways) {
      const where = `${ref.id} pathway ${p.index}`;
      const hop = { ...hopBetween(ctx.structure, 'F', p.isite_frac, p.esite_frac), index: p.index };
      const r = descriptorsForHop(ctx, hop);
      assert.ok(Math.abs(r.length - p.length) < 1e-9, `${where}: length ${r.length} vs ${p.length}`);
      assert.deepEqual(r.supercell_scaling, p.supercell_scaling, `${where}: supercell scaling`);
      assert.equal(r.n_sites_per_image, p.n_sites_per_image, `${where}: sites per image`);
      assert.deepEqual([r.nsites_777, r.nsites_101010, r.nsites_121212], [p.nsites_777, p.nsites_101010, p.nsites_121212], `${where}: nsites`);
      assert.equal(r.oxidation_state, p.oxidation_state, `${where}: oxidation state`);
      assert.equal(r.dimensionality, p.dimensionality, `${where}: dimensionality (symmetry class alone)`);
      assert.equal(r.dimensionality_cumlengths, p.dimensionality_cumlengths, `${where}: dimensionality_cumlengths`);
      if (p.images_have_nan) {
        for (const k of ['ewald_energy', 'ionic_radii_overlap_cations', 'ionic_radii_overlap_anions'] as const) {
          assert.equal(r[k], null, `${where}: ${k} is null where pymatgen's IDPP gives NaN`);
        }
        assert.match(r.ewald_reason ?? '', /IDPP failed/, `${where}: reason`);
        continue;
      }
      const checks = [
        ['ewald_energy', r.ewald_energy, p.ewald_energy, 'ewald'],
        ['ionic_radii_overlap_cations', r.ionic_radii_overlap_cations, p.ionic_radii_overlap_cations, 'cat'],
        ['ionic_radii_overlap_anions', r.ionic_radii_overlap_anions, p.ionic_radii_overlap_anions, 'an'],
      ] as const;
      for (const [name, got, want, kind] of checks) {
        assert.ok(got !== null && want !== null, `${where}: ${name} ${got} vs ${want}`);
        const tol = (kind === 'ewald' ? SPREAD.ewald.max : SPREAD.overlap.max) + FLOOR;
        deviations[kind].push(Math.abs(got - want));
        assert.ok(Math.abs(got - want) <= tol, `${where}: ${name} ${got} vs ${want} (|diff| ${Math.abs(got - want).toExponential(3)} > tol ${tol.toExponential(3)})`);
      }
    }
  });
}

test('descriptors conformance: median deviation of ewald_energy and overlaps within the reference spread', () => {
  assert.equal(deviations.ewald.length, 21, 'the per-structure tests ran first and compared 21 pathways');
  const m = { ewald: median(deviations.ewald), cat: median(deviations.cat), an: median(deviations.an) };
  assert.ok(m.ewald <= SPREAD.ewald.p75 + FLOOR, `median |Δ ewald_energy| ${m.ewald}`);
  assert.ok(m.cat <= SPREAD.overlap.p75 + FLOOR, `median |Δ overlap cations| ${m.cat}`);
  assert.ok(m.an <= SPREAD.overlap.p75 + FLOOR, `median |Δ overlap anions| ${m.an}`);
});

test('descriptors conformance: ewald_energy and overlaps on the reference images themselves agree to 1e-6', () => {
  let compared = 0;
  for (const ref of refs) {
    for (const p of ref.pathways) {
      if (p.images_have_nan || !p.images_all_cart) continue;
      const lattice = p.supercell_lattice.flat();
      const parsed = p.start_species.map((x) => parseSpecies(x));
      const images = p.images_all_cart.map((cart) =>
        createStructure(
          { lattice, species: parsed.map((x) => x.element), frac: cartToFrac(lattice, cart.flat()), oxidationStates: parsed.map((x) => x.oxi) },
          { checkOverlap: false, allowLeftHanded: true },
        ),
      );
      const d = imageDescriptors(images);
      const where = `${ref.id} pathway ${p.index}`;
      assert.ok(Math.abs(d.ewald_energy! - p.ewald_energy!) <= 1e-6, `${where}: ewald_energy ${d.ewald_energy} vs ${p.ewald_energy}`);
      assert.ok(Math.abs(d.ionic_radii_overlap_cations! - p.ionic_radii_overlap_cations!) <= 1e-6, `${where}: cations ${d.ionic_radii_overlap_cations} vs ${p.ionic_radii_overlap_cations}`);
      assert.ok(Math.abs(d.ionic_radii_overlap_anions! - p.ionic_radii_overlap_anions!) <= 1e-6, `${where}: anions ${d.ionic_radii_overlap_anions} vs ${p.ionic_radii_overlap_anions}`);
      compared++;
    }
  }
  assert.equal(compared, 21);
});

test('descriptors conformance: pathwayDescriptors finds the reference hop lengths, in order, on the given cell', () => {
  for (const ref of refs) {
    const rows = pathwayDescriptors(structureOf(ref.id), { sanitize: false });
    const want = ref.structure_level.all_lengths.slice(0, 5);
    assert.equal(rows.length, want.length, `${ref.id}: number of pathways`);
    rows.forEach((r, k) => {
      assert.ok(Math.abs(r.length - want[k]!) < 1e-6, `${ref.id} row ${k}: length ${r.length} vs ${want[k]}`);
      assert.equal(r.hop_index, k);
      assert.equal(r.nsites_777, ref.structure_level.nsites_777, `${ref.id}: nsites_777`);
      assert.deepEqual(r.supercell_scaling, ref.structure_level.supercell_scaling, `${ref.id}: supercell scaling`);
    });
    // The reference's first two pathways are matched by symmetry class: same length and same
    // dimensionality alone when the length is unique among the rows.
    for (const p of ref.pathways) {
      const same = rows.filter((r) => Math.abs(r.length - p.length) < 1e-6);
      if (same.length === 1) assert.equal(same[0]!.dimensionality, p.dimensionality, `${ref.id} pathway ${p.index}: dimensionality`);
    }
  }
});

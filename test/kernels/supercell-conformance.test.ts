/**
 * Supercells against pymatgen 2022.11.7: `Structure.make_supercell` site by site in pymatgen's order
 * (test/fixtures/reference/supercell/pymatgen-make-supercell.json, scripts/ref/supercell_reference.py)
 * and the shared `supercell.json` counts (scaling floor(L / a_i) + 1, sites, abc, volume for L = 6, 10).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { referenceDir, referenceRecords, referenceStructure } from '../helpers/reference.js';
import { createStructure, volume } from '../../src/structure/structure.js';
import {
  minLengthScaling,
  supercell,
  supercellLatticePointsTs,
  supercellLatticePointsWasm,
  latticeLengths,
} from '../../src/kernels/supercell.js';

interface PmgCase {
  id: string;
  case: string;
  left_handed_input: boolean;
  matrix: number[];
  lattice: number[][];
  species: string[];
  oxidation_states: number[] | null;
  frac_coords: number[][];
  lattice_points: number[][];
}

const dir = join(referenceDir, 'supercell');
const pmg = JSON.parse(readFileSync(join(dir, 'pymatgen-make-supercell.json'), 'utf8')) as { meta: Record<string, string>; cases: PmgCase[] };
const counts = JSON.parse(readFileSync(join(dir, 'supercell.json'), 'utf8')) as Record<
  string,
  { abc: number[]; '6': { scaling: number[]; n_sites: number; abc: number[]; volume: number }; '10': { scaling: number[]; n_sites: number; abc: number[]; volume: number } }
>;

function record(id: string) {
  const r = referenceRecords().find((x) => x.id === id);
  assert.ok(r, `no reference structure ${id}`);
  return r;
}

/** Periodic distance of two fractional coordinates (pymatgen may give exactly 1.0 where we give 0.0). */
const periodicDiff = (a: number, b: number) => {
  const d = a - b;
  return Math.abs(d - Math.round(d));
};

test('make_supercell: lattice, species, oxidation states and coordinates in pymatgen order, both backends', () => {
  assert.equal(pmg.meta['pymatgen'], '2022.11.7');
  assert.ok(pmg.cases.some((c) => c.left_handed_input), 'the reference set includes a left-handed input lattice');
  for (const c of pmg.cases) {
    const s = referenceStructure(record(c.id), c.oxidation_states !== null);
    const ctx = `${c.id} ${c.case} matrix [${c.matrix.join(', ')}]`;
    for (const backend of ['wasm', 'ts'] as const) {
      const sc = supercell(s, c.matrix, { backend });
      assert.equal(sc.species.length, c.species.length, `${ctx}: site count`);
      for (let k = 0; k < 9; k++) {
        const ref = c.lattice[Math.floor(k / 3)]![k % 3]!;
        assert.ok(Math.abs(sc.lattice[k]! - ref) <= 1e-12 * Math.max(1, Math.abs(ref)), `${ctx}: lattice[${k}] ${sc.lattice[k]} vs ${ref}`);
      }
      assert.deepEqual(sc.species, c.species, `${ctx}: species order`);
      if (c.oxidation_states) assert.deepEqual(Array.from(sc.oxidationStates!), c.oxidation_states, `${ctx}: oxidation states`);
      else assert.equal(sc.oxidationStates, null);
      let worst = 0;
      for (let i = 0; i < c.species.length; i++) {
        for (let k = 0; k < 3; k++) {
          const x = sc.frac[3 * i + k]!;
          assert.ok(x >= 0 && x < 1, `${ctx}: site ${i} coordinate ${x} not wrapped into [0, 1)`);
          worst = Math.max(worst, periodicDiff(x, c.frac_coords[i]![k]!));
        }
      }
      assert.ok(worst < 1e-12, `${ctx} (${backend}): largest fractional difference from pymatgen ${worst}`);
    }
  }
});

test('lattice points come in pymatgen lattice_points_in_supercell order (WASM and TS twin)', () => {
  for (const c of pmg.cases) {
    const w = supercellLatticePointsWasm(c.matrix);
    const t = supercellLatticePointsTs(c.matrix);
    const ref = c.lattice_points.flat();
    assert.deepEqual(Array.from(w), ref, `${c.id} ${c.case}`);
    assert.deepEqual(Array.from(t), ref, `${c.id} ${c.case}`);
  }
});

test('supercell.json: scaling floor(L / a_i) + 1, site count, abc and volume for L = 6 and 10 on every reference structure', () => {
  let checked = 0;
  for (const r of referenceRecords()) {
    const ref = counts[r.id];
    assert.ok(ref, `supercell.json has ${r.id}`);
    const s = referenceStructure(r);
    const abc = latticeLengths(s.lattice);
    for (let k = 0; k < 3; k++) assert.ok(Math.abs(abc[k]! - ref.abc[k]!) <= 1e-8 * ref.abc[k]!, `${r.id}: a_${k} ${abc[k]} vs ${ref.abc[k]}`);
    for (const L of [6, 10] as const) {
      const want = ref[String(L) as '6' | '10'];
      const scaling = minLengthScaling(s, L);
      assert.deepEqual(scaling, want.scaling, `${r.id} L=${L}`);
      const sc = supercell(s, scaling);
      assert.equal(sc.species.length, want.n_sites, `${r.id} L=${L}: sites`);
      const abcS = latticeLengths(sc.lattice);
      for (let k = 0; k < 3; k++) assert.ok(Math.abs(abcS[k]! - want.abc[k]!) <= 1e-8 * want.abc[k]!, `${r.id} L=${L}: a_${k} ${abcS[k]} vs ${want.abc[k]}`);
      assert.ok(Math.abs(volume(sc) - want.volume) <= 1e-8 * want.volume, `${r.id} L=${L}: volume ${volume(sc)} vs ${want.volume}`);
      checked++;
    }
  }
  assert.equal(checked, 2 * referenceRecords().length);
});

test('minLengthScaling uses Python float floor division, not the rounded quotient', () => {
  // a = 10/3 rounded (3.3333333333333335): 10 / a rounds to 3.0 but the exact quotient is below 3, so
  // Python gives 10.0 // a == 2.0 (checked with /usr/bin/python3 3.11) and the scaling is 3, not 4.
  const s = createStructure({ lattice: [10 / 3, 0, 0, 0, 5, 0, 0, 0, 5], species: ['F'], frac: [0, 0, 0] });
  assert.equal(10 / s.lattice[0]!, 3);
  assert.deepEqual(minLengthScaling(s, 10), [3, 3, 3]);
  // An axis of exactly L is doubled (7.0 // 7.0 == 1).
  const t = createStructure({ lattice: [7, 0, 0, 0, 3.5, 0, 0, 0, 8], species: ['F'], frac: [0, 0, 0] });
  assert.deepEqual(minLengthScaling(t, 7), [2, 3, 1]);
});

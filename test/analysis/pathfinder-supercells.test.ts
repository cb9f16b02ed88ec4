/**
 * A supercell gives the space group and hop list (order, lengths, multiplicity per cell) of its
 * primitive cell, whether moyo analyses it whole (up to MOYO_WHOLE_CELL_MAX_SITES sites) or it is
 * reduced by its own translations first; supercells whose lattice has lower symmetry than the crystal
 * keep all its operations; the 324-site CaF2 cell (reduced by its translations) matches the
 * pymatgen references.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findHops, type HopResult } from '../../src/analysis/pathfinder.js';
import { MOYO_WHOLE_CELL_MAX_SITES, clearSymmetryCache } from '../../src/structure/symmetry.js';
import { det3 } from '../../src/structure/lattice.js';
import { supercell } from '../../src/kernels/supercell.js';
import type { Structure } from '../../src/structure/structure.js';
import { referenceDir, referenceRecords, referenceStructure } from '../helpers/reference.js';

const record = (id: string) => referenceStructure(referenceRecords().find((r) => r.id === id)!);

/** Per hop: the two ends as (element, sites of the class per formula unit) and the multiplicity per formula unit. */
function signature(res: HopResult, s: Structure): string[] {
  const perFormula = s.species.filter((x) => x === res.ion).length;
  return res.hops.map((h) => {
    const ends = [h.startSite, h.endSite].map((site, k) => `${s.species[site]}${res.classes[k === 0 ? h.startClass : h.endClass]!.length / perFormula}`).sort();
    return `${ends.join('-')} m=${h.multiplicity / perFormula}`;
  });
}

/** A supercell matrix of determinant k³ that is not diagonal (the supercell is sheared). */
const sheared = (k: number) => [k, 1, 0, 0, k, 0, 0, 1, k];

test('a supercell gives the space group, hop list (order, lengths, multiplicities) of its primitive cell, through either route', () => {
  const cases: [string, string][] = [
    ['CaF2_prim', 'F'], ['LiF_prim', 'F'], ['KMgF3', 'F'], ['MgF2', 'F'], ['AlF3', 'F'], ['CeF3', 'F'], ['mp_mp-1195732', 'F'], ['pmg_Li3V2PO43', 'Li'],
  ];
  let large = 0;
  for (const [id, ion] of cases) {
    const s = record(id);
    const base = findHops(s, { ion, limit: 0 });
    // 1×1×2 (lower lattice symmetry than the crystal), and a sheared k×k×k cell of more than 200 sites.
    const k = Math.ceil(Math.cbrt((MOYO_WHOLE_CELL_MAX_SITES + 1) / s.species.length));
    for (const m of [[1, 0, 0, 0, 1, 0, 0, 0, 2], sheared(k)]) {
      const sc = supercell(s, m);
      if (sc.species.length > MOYO_WHOLE_CELL_MAX_SITES) large++;
      const det = Math.abs(det3(m));
      const msg = `${id} [${m.join(' ')}] (${sc.species.length} sites)`;
      clearSymmetryCache();
      const got = findHops(sc, { ion, limit: 0 });
      assert.equal(got.spaceGroup.number, base.spaceGroup.number, msg);
      assert.equal(got.distinctCount, base.distinctCount, `${msg}: ${JSON.stringify(got.hops.map((h) => h.lengthAng))} vs ${JSON.stringify(base.hops.map((h) => h.lengthAng))}`);
      // 1e-6 Å: the reference coordinates are rounded to 1e-10, so orbit members differ by ~1e-9 Å.
      got.hops.forEach((h, q) => assert.ok(Math.abs(h.lengthAng - base.hops[q]!.lengthAng) < 1e-6, `${msg}: hop ${q} ${h.lengthAng} vs ${base.hops[q]!.lengthAng}`));
      assert.deepEqual(got.hops.map((h) => h.multiplicity), base.hops.map((h) => det * h.multiplicity), msg);
      assert.deepEqual(signature(got, sc), signature(base, s), msg);
    }
  }
  assert.equal(large, cases.length, 'every structure was also tried above MOYO_WHOLE_CELL_MAX_SITES');
});

test('regression (operations lost in a supercell of lower lattice symmetry): CaF2 1×1×2, 2×2×1 and 2×2×4 cells give the 4 hops of the cubic cell', () => {
  // moyo lists for such a cell only the 16 of fluorite's 48 point operations that map it onto itself,
  // without counting the rest as dropped; the primitive cell's symmetry came from that list, and 6
  // hops were reported instead of 4.
  const cubic = findHops(record('CaF2'), { limit: 0 });
  assert.equal(cubic.hops.length, 4);
  for (const id of ['CaF2_1x1x2', 'CaF2_2x2x1', 'CaF2_2x2x4']) {
    const s = record(id);
    const got = findHops(s, { limit: 0 });
    assert.deepEqual(got.hops.map((h) => h.lengthAng.toFixed(9)), cubic.hops.map((h) => h.lengthAng.toFixed(9)), id);
    const ratio = s.species.length / 12;
    assert.deepEqual(got.hops.map((h) => h.multiplicity), cubic.hops.map((h) => ratio * h.multiplicity), id);
  }
});

test('CaF2_3x3x3 (324 sites, reduced by its own translations): DistinctPathFinder\'s hops and Wyckoff symbols, pymatgen\'s space group', () => {
  const ref = JSON.parse(readFileSync(join(referenceDir, 'paths', 'distinct_paths.json'), 'utf8')) as Record<string, { settings: Record<string, { lengths: number[]; n_hops: number; hops: { iindex: number; iwyckoff: string }[] }> }>;
  const groups = JSON.parse(readFileSync(join(referenceDir, 'paths', 'spacegroups.json'), 'utf8')) as Record<string, [string, number]>;
  const s = record('CaF2_3x3x3');
  assert.ok(s.species.length > MOYO_WHOLE_CELL_MAX_SITES);
  for (const [name, opts] of [['L3.5', { maxLengthAng: 3.5 }], ['L5', { maxLengthAng: 5 }], ['auto_gt1d', { auto: '>1d' as const }]] as const) {
    const want = ref['CaF2_3x3x3']!.settings[name]!;
    const got = findHops(s, { limit: 0, ...opts });
    assert.equal(got.spaceGroup.number, groups['CaF2_3x3x3']![1]);
    assert.equal(got.distinctCount, want.n_hops, name);
    const mine = got.hops.map((h) => h.lengthAng).sort((a, b) => a - b);
    const theirs = want.lengths.slice().sort((a, b) => a - b);
    mine.forEach((x, q) => assert.ok(Math.abs(x - theirs[q]!) <= 1e-4, `${name}: ${x} vs ${theirs[q]}`));
    for (const h of want.hops) assert.equal(got.classWyckoffSymbols[h.iindex], h.iwyckoff, `${name}: class ${h.iindex}`);
  }
});

/**
 * Distinct hops against pymatgen-analysis-diffusion's DistinctPathFinder (test/fixtures/reference/paths,
 * see its README): for L = 3.5 Å, 5 Å and the automatic '>1d' / '1d' cutoffs, the same cutoff, the same
 * number of hops and the same lengths (sorted, 1e-4 Å) on every structure up to 100 sites, except the
 * cases listed with their reason in exceptions.json. For every agreeing case the equivalence-class
 * index and Wyckoff symbol of the start site of each hop agree too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findHops, type FindHopsOptions } from '../../src/analysis/pathfinder.js';
import { primitiveReduction } from '../../src/structure/symmetry.js';
import { referenceDir, referenceRecords, referenceStructure } from '../helpers/reference.js';

interface RefHop { length: number; iindex: number; eindex: number; iwyckoff: string; ewyckoff: string }
interface RefSetting { max_path_length_used: number; n_hops: number; lengths: number[]; hops: RefHop[] }
type RefFile = Record<string, { migrating: string; settings: Record<string, RefSetting> }>;
const ref = JSON.parse(readFileSync(join(referenceDir, 'paths', 'distinct_paths.json'), 'utf8')) as RefFile;
const exceptionFile = JSON.parse(readFileSync(join(referenceDir, 'paths', 'exceptions.json'), 'utf8')) as {
  hops: Record<string, { settings: string[]; reason: string }>;
  wyckoff: { reason: string; cases: Record<string, Record<string, [string, string]>> };
};
const exceptions = exceptionFile.hops;
const wyckoffExceptions = exceptionFile.wyckoff.cases;

const SETTINGS: [string, FindHopsOptions][] = [
  ['L3.5', { maxLengthAng: 3.5 }],
  ['L5', { maxLengthAng: 5 }],
  ['auto_gt1d', { auto: '>1d' }],
  ['auto_1d', { auto: '1d' }],
];

const records = referenceRecords().filter((r) => ref[r.id] && r.n_sites <= 100);

test('the hop reference covers handbuilt, supercell, pymatgen and MP structures', () => {
  assert.ok(records.length >= 60, `${records.length}`);
  for (const g of ['handbuilt', 'supercell', 'pymatgen_bundled', 'mp']) assert.ok(records.some((r) => r.group === g), g);
  for (const id of Object.keys(exceptions)) assert.ok(exceptions[id]!.reason.length > 100, `${id} needs an explanation`);
});

test('findHops matches DistinctPathFinder (count, lengths to 1e-4 Å, cutoff) except the listed cases', () => {
  let compared = 0;
  for (const r of records) {
    const s = referenceStructure(r);
    const reduction = primitiveReduction(s);
    for (const [name, opts] of SETTINGS) {
      const want = ref[r.id]!.settings[name]!;
      const got = findHops(s, { ion: r.migrating, limit: 0, reduction, ...opts });
      const mine = got.hops.map((h) => h.lengthAng).sort((a, b) => a - b);
      const theirs = want.lengths.slice().sort((a, b) => a - b);
      const agree = mine.length === theirs.length && mine.every((x, k) => Math.abs(x - theirs[k]!) <= 1e-4);
      const listed = exceptions[r.id]?.settings.includes(name) ?? false;
      assert.equal(Math.abs(got.maxLengthAng - want.max_path_length_used) < 1e-12, true, `${r.id} ${name}: cutoff ${got.maxLengthAng} vs ${want.max_path_length_used}`);
      if (listed) {
        assert.equal(agree, false, `${r.id} ${name} agrees now: remove it from exceptions.json`);
        continue;
      }
      assert.ok(agree, `${r.id} ${name}: ${JSON.stringify(mine)} vs ${JSON.stringify(theirs)}`);
      assert.equal(got.distinctCount, want.n_hops);
      // Start sites are class representatives, as in DistinctPathFinder.
      for (const h of got.hops) assert.equal(got.classes[h.startClass]![0], h.startSite, `${r.id} ${name}: start is the first site of its class`);
      compared++;
    }
  }
  assert.ok(compared >= 240, `${compared} comparisons`);
});

test('equivalence classes and Wyckoff symbols match pymatgen except the listed origin choices', () => {
  for (const r of records) {
    const got = findHops(referenceStructure(r), { ion: r.migrating, limit: 0 });
    const seen = new Map<string, string>();
    for (const st of Object.values(ref[r.id]!.settings)) {
      for (const h of st.hops ?? []) {
        seen.set(String(h.iindex), h.iwyckoff);
        seen.set(String(h.eindex), h.ewyckoff);
      }
    }
    for (const [idx, theirs] of seen) {
      const mine = got.classWyckoffSymbols[Number(idx)];
      const listed = wyckoffExceptions[r.id]?.[idx];
      if (listed) assert.deepEqual([theirs, mine], listed, `${r.id} class ${idx}: listed difference changed`);
      else assert.equal(mine, theirs, `${r.id} class ${idx}`);
    }
  }
});

/**
 * Large inputs: what `fracflow paths` and `fracflow descriptors` compute, timed against the site count.
 *
 * Cases (built here from test/fixtures/reference/structures.jsonl):
 * - supercells of conventional rocksalt LiF (8 sites): 2×2×2 … 8×8×8, and 6×6×7 = 2016 sites;
 * - supercells of AlF3 (R-3c, 24 sites; low-symmetry hops): 2×2×2, 3×3×3, 4×4×4;
 * - large primitive cells: the LiF supercells with one F replaced by Cl (a defect cell; no pure
 *   translation is left, so nothing reduces it).
 *
 * Per case, from a cleared symmetry cache, one call each (best of 3 below 600 sites):
 * - `paths_s`: `findHops(s)` (L = 5 Å, 5 hops) with the space group and Wyckoff symbols read — what
 *   `fracflow paths` prints;
 * - `symmetry_s`: `symmetry(s)`, the input cell's space group and operations;
 * - `descriptors_s`: `pathwayDescriptors(s)` (5 hops) for supercells; for the defect cells the first
 *   hop only (`limit: 1`), reported as `descriptors_hop_s` (their cost is per hop: IDPP images of
 *   every site).
 * Cases above FRACFLOW_BENCH_MAX_SITES sites (default: all) are skipped, so the same file can time
 * an earlier version of the code, whose whole-cell symmetry analysis takes minutes at 1000 sites:
 * FRACFLOW_BENCH_OUT names the results file (default `large-inputs`; the earlier code's figures are
 * kept as `large-inputs-baseline`), FRACFLOW_BENCH_CODE describes the code measured. The calls use
 * only options that version has too. Writes bench/results/<FRACFLOW_BENCH_OUT>.json.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { createStructure, type Structure } from '../src/structure/structure.js';
import { clearSymmetryCache, symmetry } from '../src/structure/symmetry.js';
import { findHops } from '../src/analysis/pathfinder.js';
import { pathwayDescriptors } from '../src/analysis/descriptors.js';
import { supercell } from '../src/kernels/supercell.js';
import { benchDir, quick, writeResults } from './common.js';

interface Rec { id: string; lattice: number[][]; species: string[]; frac_coords: number[][] }
const refDir = join(benchDir, '..', 'test', 'fixtures', 'reference');
const records = readFileSync(join(refDir, 'structures.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Rec);
const base = (id: string): Structure => {
  const r = records.find((x) => x.id === id)!;
  return createStructure({ lattice: r.lattice, species: r.species, frac: r.frac_coords }, { checkOverlap: false });
};

const maxSites = Number(process.env.FRACFLOW_BENCH_MAX_SITES ?? Infinity);
const out = process.env.FRACFLOW_BENCH_OUT ?? 'large-inputs';
const code = process.env.FRACFLOW_BENCH_CODE ?? 'working tree';
// The limit of the current code is raised for the 4096-site cells; an earlier version ignores the option.
const big = { maxSites: 100_000 } as Record<string, unknown>;

function defect(s: Structure): Structure {
  const species = s.species.slice();
  species[species.lastIndexOf('F')] = 'Cl';
  return createStructure({ lattice: s.lattice, species, frac: s.frac }, { checkOverlap: false });
}

const cases: { family: string; label: string; s: Structure }[] = [];
const lif = base('LiF');
for (const [a, b, c] of [[2, 2, 2], [3, 3, 3], [4, 4, 4], [5, 5, 5], [6, 6, 7], [8, 8, 8]] as const) {
  const s = supercell(lif, [a, 0, 0, 0, b, 0, 0, 0, c]);
  cases.push({ family: 'LiF supercell', label: `${a}×${b}×${c}`, s });
}
const alf3 = base('AlF3');
for (const k of [2, 3, 4]) cases.push({ family: 'AlF3 supercell', label: `${k}×${k}×${k}`, s: supercell(alf3, [k, 0, 0, 0, k, 0, 0, 0, k]) });
for (const [a, b, c] of [[3, 3, 3], [4, 4, 4], [5, 5, 5], [6, 6, 7]] as const) {
  cases.push({ family: 'LiF defect cell (primitive)', label: `${a}×${b}×${c}, one F → Cl`, s: defect(supercell(lif, [a, 0, 0, 0, b, 0, 0, 0, c])) });
}

/** Seconds of one cold call (symmetry cache cleared); best of 3 for small cells. */
function seconds(n: number, fn: () => void): number {
  const rounds = n < 600 && !quick ? 3 : 1;
  let best = Infinity;
  for (let k = 0; k < rounds; k++) {
    clearSymmetryCache();
    const t0 = performance.now();
    fn();
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best;
}

const loadBefore = loadavg()[0]!;
const rows: Record<string, unknown>[] = [];
for (const c of cases) {
  const n = c.s.species.length;
  if (n > maxSites) continue;
  const primitive = c.family.includes('defect');
  const row: Record<string, unknown> = { family: c.family, label: c.label, n_sites: n };
  row['paths_s'] = seconds(n, () => {
    const r = findHops(c.s, { ...big });
    if (r.spaceGroup.number < 1 || r.hops.some((h) => h.startWyckoff === '')) throw new Error('unreachable');
  });
  row['symmetry_s'] = seconds(n, () => symmetry(c.s));
  if (primitive) row['descriptors_hop_s'] = seconds(n, () => pathwayDescriptors(c.s, { limit: 1, ...big }));
  else row['descriptors_s'] = seconds(n, () => pathwayDescriptors(c.s, { ...big }));
  rows.push(row);
  console.log(JSON.stringify(row));
}
// The load average at the start and end: figures taken on a busy host are marked provisional.
writeResults(out, { code, max_sites: Number.isFinite(maxSites) ? maxSites : null, load_average: [loadBefore, loadavg()[0]!], cases: rows });

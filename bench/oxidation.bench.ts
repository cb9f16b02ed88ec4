/**
 * Oxidation-state benchmark: fracflow's bond-valence assignment against pymatgen's
 * `BVAnalyzer().get_valences` (medians per structure from bench/reference/shared-timings.json,
 * measured on the same structures with Debian pymatgen 2022.11.7, see /work/shared's TIMINGS.md copy).
 *
 * Per structure of test/fixtures/reference/structures.jsonl that has a pymatgen timing (≤ 400 sites):
 * - `full_ms`: `bondValenceStates(s)` from scratch (symmetry cache cleared before every call): symmetry
 *   orbits at symprec 0.1 (`symmetryOrbits`: the operation search of src/structure/symops.ts, moyo where
 *   it declines) + neighbour list + bond-valence sums + probabilities + charge-balance search (what
 *   pymatgen's figure covers);
 * - `orbits_ms`: the same with the symmetry orbits supplied by the caller (`orbits` option), i.e. the
 *   cost when the pipeline's symmetry analysis is shared with the path finder;
 * - `symmetry_ms`: the full moyo dataset alone (`symmetry(s)`, cache cleared);
 * - `orbits_search_ms`: the orbits step as `bondValenceStates` runs it (`symmetryOrbits(s)`, cache
 *   cleared); `own_search`: whether the operation search answered (else moyo did);
 * - `cached_ms`: `oxidationStates(s)` answered from the (reduced formula, hash) cache;
 * - `guess_ms`: the composition guess (`compositionGuessStates`).
 * Each figure is the best of several rounds of repeated calls (robust on a shared host).
 * Writes bench/results/oxidation.json.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createStructure, type Structure } from '../src/structure/structure.js';
import { clearSymmetryCache, symmetry, symmetryOrbits } from '../src/structure/symmetry.js';
import { searchOperations } from '../src/structure/symops.js';
import { bondValenceStates, oxidationStates, compositionGuessStates, clearOxidationCache } from '../src/analysis/oxidation.js';
import { benchDir, perCall, writeResults, quick } from './common.js';

interface Rec {
  id: string;
  n_sites: number;
  group: string;
  lattice: number[][];
  species: string[];
  frac_coords: number[][];
}

interface Timing {
  per_structure: Record<string, { n_sites: number; bv_get_valences?: { median_s: number } }>;
}

const perCallHere = (fn: () => void): number => perCall(fn, { roundMs: 20, maxReps: 500 });
const refDir = join(benchDir, '..', 'test', 'fixtures', 'reference');
const records = readFileSync(join(refDir, 'structures.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Rec);
const timings = JSON.parse(readFileSync(join(benchDir, 'reference', 'shared-timings.json'), 'utf8')) as Timing;


function moyoOnly(s: Structure): void {
  clearSymmetryCache();
  symmetry(s, { symprec: 0.1 });
}

const rows: Record<string, unknown>[] = [];
for (const r of records) {
  const t = timings.per_structure[r.id]?.bv_get_valences;
  if (!t || r.n_sites > 400) continue;
  const s = createStructure({ lattice: r.lattice, species: r.species, frac: r.frac_coords }, { allowLeftHanded: true, checkOverlap: false });
  let outcome = 'ok';
  let groups: Int32Array | null = null;
  let symmetryUsed = true;
  try {
    const b = bondValenceStates(s);
    groups = b.groups;
    symmetryUsed = b.symmetryUsed;
  } catch (e) {
    outcome = (e as Error).message;
  }
  const attempt = (fn: () => void) => () => {
    try {
      fn();
    } catch {
      // the error path (e.g. no charge-balanced assignment) is timed too: pymatgen's figure includes it
    }
  };
  const full = perCallHere(attempt(() => {
    clearSymmetryCache();
    bondValenceStates(s);
  }));
  const orbits = groups ? perCallHere(attempt(() => bondValenceStates(s, { orbits: groups! }))) : null;
  const symmetry = perCallHere(() => moyoOnly(s));
  const orbitsSearch = perCallHere(() => {
    clearSymmetryCache();
    symmetryOrbits(s, { symprec: 0.1 });
  });
  const ownSearch = s.species.length <= 200 && searchOperations(s, 0.1) !== null;
  clearOxidationCache();
  oxidationStates(s);
  const cached = perCallHere(() => void oxidationStates(s));
  const guess = perCallHere(() => void compositionGuessStates(s));
  const pmg = t.median_s * 1000;
  rows.push({ id: r.id, n_sites: r.n_sites, outcome, symmetry_used: symmetryUsed, pymatgen_ms: pmg, full_ms: full, orbits_ms: orbits, symmetry_ms: symmetry, orbits_search_ms: orbitsSearch, own_search: ownSearch, cached_ms: cached, guess_ms: guess });
  console.log(`${r.id.padEnd(20)} N=${String(r.n_sites).padStart(4)} pymatgen ${pmg.toFixed(2).padStart(8)} ms  full ${full.toFixed(3)} (${(pmg / full).toFixed(1)}×)  orbits given ${orbits === null ? '–' : orbits.toFixed(3)}  moyo ${symmetry.toFixed(3)}  orbits ${orbitsSearch.toFixed(3)}${ownSearch ? '' : ' (moyo)'}  cached ${cached.toFixed(4)}`);
}

writeResults('oxidation', { structures: rows.length, per_structure: rows });

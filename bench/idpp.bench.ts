/**
 * IDPP benchmark: WASM kernel vs its plain-TS twin, with identical settings to pymatgen's
 * IDPPSolver (5 interior images, maxiter 1000, tol 1e-5, gtol 1e-3, step 0.05, max_disp 0.05,
 * spring 5). pymatgen and ASE figures come from bench/reference/ase-idpp.json
 * (scripts/ref/ase_idpp_timing.py; pymatgen figures carried from the shared reference timings).
 *
 * Cases: the F vacancy hop of the CaF2 reference cell (11 atoms) and the shortest F vacancy hop of
 * the 2×2×2 CaF2 supercell (95 atoms), both built from test/fixtures/reference/structures.jsonl the
 * same way as the ASE script (moving F first, then the host without the two sites); and the whole
 * jittered conformance set (162 hops, guard off as in the conformance test).
 * A timed call is the whole `idpp(start, end)` (validation, copies in and out, Structures built).
 * Writes bench/results/idpp.json; `npm run bench:report` turns it into BENCHMARKS.md.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createStructure, type Structure } from '../src/structure/structure.js';
import { idpp, type IdppOptions } from '../src/kernels/idpp.js';
import { wasmPath } from '../src/paths.js';
import { benchDir, writeResults, quick } from './common.js';

const fixtures = join(benchDir, '..', 'test', 'fixtures', 'reference');

interface Rec {
  id: string;
  n_sites: number;
  lattice: number[][];
  species: string[];
  frac_coords: number[][];
}

export const IDPP_CASES = [
  { case: 'CaF2_hop0', id: 'CaF2', isite: [0.75, 0.25, 0.75], esite: [0.25, 0.25, 0.75] },
  { case: 'CaF2_2x2x2_hop0', id: 'CaF2_2x2x2', isite: [0.375, 0.125, 0.375], esite: [0.125, 0.125, 0.375] },
] as const;

const sameSite = (f: readonly number[], g: readonly number[]) =>
  f.every((x, k) => {
    const d = x - g[k]!;
    return Math.abs(d - Math.round(d)) < 1e-8;
  });

/** Vacancy-hop endpoints: the moving ion first (at isite / esite), then the host without both sites. */
export function hopEndpoints(rec: Rec, isite: readonly number[], esite: readonly number[]): [Structure, Structure] {
  const host = rec.frac_coords.map((f, i) => ({ f, sp: rec.species[i]! })).filter((s) => !sameSite(s.f, isite) && !sameSite(s.f, esite));
  const moverIndex = rec.frac_coords.findIndex((f) => sameSite(f, isite));
  if (host.length !== rec.n_sites - 2 || moverIndex < 0) throw new Error(`${rec.id}: hop sites not found`);
  const species = [rec.species[moverIndex]!, ...host.map((s) => s.sp)];
  const make = (site: readonly number[]) => createStructure({ lattice: rec.lattice, species, frac: [[...site], ...host.map((s) => s.f)] });
  return [make(isite), make(esite)];
}

function records(): Map<string, Rec> {
  const lines = readFileSync(join(fixtures, 'structures.jsonl'), 'utf8').trim().split('\n');
  return new Map(lines.map((l) => JSON.parse(l) as Rec).map((r) => [r.id, r]));
}

/** Best-of-rounds mean per call, WASM and TS interleaved so host noise hits both alike. */
function timeInterleaved(fw: () => void, ft: () => void, minRoundMs: number, rounds: number): { wasm: number; ts: number } {
  const per = (fn: () => void, reps: number) => {
    const t0 = performance.now();
    for (let q = 0; q < reps; q++) fn();
    return (performance.now() - t0) / reps;
  };
  const probe = per(fw, 1);
  const reps = Math.max(1, Math.ceil(minRoundMs / Math.max(probe, 1e-3)));
  let w = Infinity, t = Infinity;
  for (let r = 0; r < rounds; r++) {
    w = Math.min(w, per(fw, reps));
    t = Math.min(t, per(ft, reps));
  }
  return { wasm: w, ts: t };
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const bytes = readFileSync(wasmPath('idpp'));
  const mod = new WebAssembly.Module(bytes);
  new WebAssembly.Instance(mod, { env: { abort() {} } });
  const coldMs = performance.now() - t0;

  const recs = records();
  const rows: Record<string, unknown>[] = [];
  const fastRows: Record<string, unknown>[] = [];
  for (const c of IDPP_CASES) {
    const [s, e] = hopEndpoints(recs.get(c.id)!, c.isite, c.esite);
    const first = idpp(s, e, { backend: 'wasm' });
    const twin = idpp(s, e, { backend: 'ts' });
    if (twin.iterations !== first.iterations) throw new Error(`${c.case}: twin took ${twin.iterations} iterations, wasm ${first.iterations}`);
    const r = timeInterleaved(() => void idpp(s, e, { backend: 'wasm' }), () => void idpp(s, e, { backend: 'ts' }), quick ? 50 : 300, quick ? 3 : 9);
    rows.push({ case: c.case, n_sites: s.species.length, images: 5, iterations: first.iterations, converged: first.converged, wasm_ms: r.wasm, ts_ms: r.ts });
    console.log(`${c.case.padEnd(18)} N=${String(s.species.length).padStart(3)} iterations ${first.iterations} converged ${first.converged}  wasm ${r.wasm.toFixed(3)} ms  ts ${r.ts.toFixed(3)} ms`);
    // The fast mode (assembly/idpp-fast.ts) on the same hop: its WASM kernel against its TS twin.
    const fastOpts = (backend: 'wasm' | 'ts'): IdppOptions => ({ backend, mode: 'fast' });
    const ff = idpp(s, e, fastOpts('wasm'));
    const rf = timeInterleaved(() => void idpp(s, e, fastOpts('wasm')), () => void idpp(s, e, fastOpts('ts')), quick ? 50 : 300, quick ? 3 : 9);
    fastRows.push({ case: c.case, n_sites: s.species.length, images: 5, iterations: ff.iterations, converged: ff.converged, wasm_ms: rf.wasm, ts_ms: rf.ts });
    console.log(`${c.case.padEnd(18)} fast mode: ${ff.iterations} force evaluations, converged ${ff.converged}  wasm ${rf.wasm.toFixed(3)} ms  ts ${rf.ts.toFixed(3)} ms`);
  }

  // The whole jittered conformance set, one call per hop.
  const dir = join(fixtures, 'idpp', 'jittered');
  const hops: [Structure, Structure][] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) {
    const d = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { lattice: number[][]; hops: { image_species: string[]; start_frac_coords: number[][]; end_frac_coords: number[][] }[] };
    for (const h of d.hops) {
      const opts = { checkOverlap: false, allowLeftHanded: true };
      hops.push([
        createStructure({ lattice: d.lattice, species: h.image_species, frac: h.start_frac_coords }, opts),
        createStructure({ lattice: d.lattice, species: h.image_species, frac: h.end_frac_coords }, opts),
      ]);
    }
  }
  const opts = (backend: 'wasm' | 'ts'): IdppOptions => ({ backend, minDistanceAng: 0 });
  let iterations = 0;
  for (const [s, e] of hops) iterations += idpp(s, e, opts('wasm')).iterations;
  const set = timeInterleaved(
    () => { for (const [s, e] of hops) idpp(s, e, opts('wasm')); },
    () => { for (const [s, e] of hops) idpp(s, e, opts('ts')); },
    0, quick ? 1 : 3,
  );
  console.log(`jittered set (${hops.length} hops, ${iterations} iterations): wasm ${set.wasm.toFixed(1)} ms  ts ${set.ts.toFixed(1)} ms`);
  writeResults('idpp', {
    cold_compile_instantiate_ms: coldMs,
    cases: rows,
    fast_cases: fastRows,
    jittered_set: { hops: hops.length, iterations, total_wasm_ms: set.wasm, total_ts_ms: set.ts },
  });
}

if (process.argv[1]?.endsWith('idpp.bench.ts')) await main();

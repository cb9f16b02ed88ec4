/**
 * Supercell benchmark: the WASM kernel vs its plain-TS twin, and pymatgen `make_supercell` from
 * bench/reference/pymatgen-supercell.json (scripts/ref/supercell_timings.py, same inputs).
 *
 * Cases: CaF2 conventional n×n×n (n = 2, 3, 4, 6); the 71 reference structures
 * (test/fixtures/reference/structures.jsonl) at the DDI rule floor(L / a_i) + 1 for L = 7, 10, 12,
 * one timed call = the whole set. Two levels are timed: `supercell()` (the whole Structure: coordinates
 * + species, oxidation states, properties; the only part that differs between backends is the
 * coordinate kernel) and the coordinate kernel alone (`supercellFracWasm` vs `supercellCoordinatesTs`,
 * including the JS↔WASM copies). The near-cubic search (TS only, no twin) is timed on the set at 10 Å.
 * Writes bench/results/supercell.json.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { createStructure, type Structure } from '../src/structure/structure.js';
import {
  minLengthScaling,
  nearCubicSupercellMatrix,
  supercell,
  supercellCoordinatesTs,
  supercellFracWasm,
  supercellMatrix,
} from '../src/kernels/supercell.js';
import { wasmPath } from '../src/paths.js';
import { benchDir, quick, writeResults, timePair } from './common.js';

const A = 5.463;
const CAF2 = createStructure({
  lattice: [A, 0, 0, 0, A, 0, 0, 0, A],
  species: ['Ca', 'Ca', 'Ca', 'Ca', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F'],
  frac: [0, 0, 0, 0.5, 0.5, 0, 0.5, 0, 0.5, 0, 0.5, 0.5, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.25, 0.75, 0.75, 0.75, 0.25, 0.25, 0.75, 0.25, 0.75, 0.25, 0.75, 0.25, 0.75, 0.75, 0.25, 0.25, 0.25, 0.75],
  oxidationStates: [2, 2, 2, 2, -1, -1, -1, -1, -1, -1, -1, -1],
});

function referenceSet(): Structure[] {
  const lines = readFileSync(join(benchDir, '..', 'test', 'fixtures', 'reference', 'structures.jsonl'), 'utf8').trim().split('\n');
  return lines.map((l) => {
    const r = JSON.parse(l) as { id: string; lattice: number[][]; species: string[]; frac_coords: number[][]; oxidation_states: number[] | null };
    return createStructure({ lattice: r.lattice, species: r.species, frac: r.frac_coords, oxidationStates: r.oxidation_states, info: { id: r.id } }, { allowLeftHanded: true, checkOverlap: false });
  });
}

const timePairHere = (name: string, fnW: () => unknown, fnT: () => unknown) => timePair(name, fnW, fnT, 400);

async function main(): Promise<void> {
  const t0 = performance.now();
  new WebAssembly.Instance(new WebAssembly.Module(readFileSync(wasmPath('supercell'))), { env: { abort() {} } });
  const coldMs = performance.now() - t0;

  const caf2Rows: { n: number; n_sites: number; wasm_ms: number; ts_ms: number; kernel_wasm_ms: number; kernel_ts_ms: number }[] = [];
  for (const n of [2, 3, 4, 6]) {
    const m = supercellMatrix([n, n, n]);
    const full = await timePairHere(`CaF2 ${n}x${n}x${n}`, () => supercell(CAF2, m), () => supercell(CAF2, m, { backend: 'ts' }));
    const kern = await timePairHere(`CaF2 ${n}x${n}x${n} kernel`, () => supercellFracWasm(CAF2.frac, m), () => supercellCoordinatesTs(CAF2.frac, m));
    caf2Rows.push({ n, n_sites: 12 * n ** 3, wasm_ms: full.w, ts_ms: full.t, kernel_wasm_ms: kern.w, kernel_ts_ms: kern.t });
    console.log(`CaF2 ${n}x${n}x${n} (${12 * n ** 3} sites): supercell wasm ${full.w.toFixed(4)} ms, ts ${full.t.toFixed(4)} ms; kernel wasm ${kern.w.toFixed(4)} ms, ts ${kern.t.toFixed(4)} ms`);
  }

  const set = referenceSet();
  const setRows: { L: number; structures: number; sites_out: number; wasm_ms: number; ts_ms: number; kernel_wasm_ms: number; kernel_ts_ms: number }[] = [];
  for (const L of [7, 10, 12]) {
    const mats = set.map((s) => supercellMatrix(minLengthScaling(s, L)));
    let sites = 0;
    set.forEach((s, k) => (sites += supercell(s, mats[k]!).species.length));
    const full = await timePairHere(
      `set L=${L}`,
      () => set.forEach((s, k) => supercell(s, mats[k]!)),
      () => set.forEach((s, k) => supercell(s, mats[k]!, { backend: 'ts' })),
    );
    const kern = await timePairHere(
      `set L=${L} kernel`,
      () => set.forEach((s, k) => supercellFracWasm(s.frac, mats[k]!)),
      () => set.forEach((s, k) => supercellCoordinatesTs(s.frac, mats[k]!)),
    );
    setRows.push({ L, structures: set.length, sites_out: sites, wasm_ms: full.w, ts_ms: full.t, kernel_wasm_ms: kern.w, kernel_ts_ms: kern.t });
    console.log(`reference set (${set.length}) L=${L}: ${sites} sites; supercell wasm ${full.w.toFixed(3)} ms, ts ${full.t.toFixed(3)} ms; kernel wasm ${kern.w.toFixed(3)} ms, ts ${kern.t.toFixed(3)} ms`);
  }

  // Near-cubic search (TS only): one pass over the set at 10 Å, best of 3.
  let nearMs = Infinity;
  let nearSites = 0, ddiSites = 0;
  for (let rep = 0; rep < (quick ? 1 : 3); rep++) {
    const s0 = performance.now();
    const ms = set.map((s) => nearCubicSupercellMatrix(s, 10));
    nearMs = Math.min(nearMs, performance.now() - s0);
    nearSites = 0;
    ddiSites = 0;
    set.forEach((s, k) => {
      const m = ms[k]!;
      const det = m[0]! * (m[4]! * m[8]! - m[5]! * m[7]!) - m[1]! * (m[3]! * m[8]! - m[5]! * m[6]!) + m[2]! * (m[3]! * m[7]! - m[4]! * m[6]!);
      nearSites += det * s.species.length;
      const d = minLengthScaling(s, 10);
      ddiSites += d[0] * d[1] * d[2] * s.species.length;
    });
  }
  console.log(`near-cubic search, set at 10 Å: ${nearMs.toFixed(1)} ms total; ${nearSites} sites vs ${ddiSites} with the DDI rule`);

  writeResults('supercell', {
    cold_compile_instantiate_ms: coldMs,
    caf2_scaling: caf2Rows,
    reference_set: setRows,
    near_cubic_10A: { structures: set.length, total_ms: nearMs, sites_near_cubic: nearSites, sites_ddi_rule: ddiSites },
  });
}

if (process.argv[1]?.endsWith('supercell.bench.ts')) await main();

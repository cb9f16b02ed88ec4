/** BENCHMARKS.md section for the percolation benchmark (bench/percolation.bench.ts). */
import { join } from 'node:path';
import { benchDir } from '../common.js';
import { readJson, f, median, logSlope } from '../report-util.js';

interface PercolationResult {
  machine: Record<string, unknown>;
  cold_compile_instantiate_ms: number;
  reference_graphs: { id: string; n_nodes: number; n_edges: number; wasm_ms: number; ts_ms: number; pymatgen_ms: number }[];
  mp_fluorides_F5: { graphs: number; edges: number; dimensionality_wasm_ms: number; dimensionality_ts_ms: number; first_percolation_wasm_ms: number; first_percolation_ts_ms: number };
  caf2_scaling: { case: string; n_nodes: number; n_edges: number; wasm_ms: number; ts_ms: number; first_percolation_wasm_ms: number }[];
}

function percolationSection(r: PercolationResult): string[] {
  const m = r.machine;
  const g = r.reference_graphs;
  const vsPmg = g.map((x) => x.pymatgen_ms / x.wasm_ms);
  const vsTs = g.map((x) => x.ts_ms / x.wasm_ms);
  const mp = r.mp_fluorides_F5;
  const out: string[] = [];
  out.push('## Percolation dimensionality (`dimensionality`, `firstPercolationLengths`)', '');
  out.push(`Measured with \`npm run bench -- percolation\` on ${String(m['cpu'])}, Node ${String(m['node'])}, ${String(m['date']).slice(0, 10)}${m['quick'] ? ' (quick mode)' : ''}. ` +
    'Graphs are built beforehand (not timed). pymatgen figures: `get_dimensionality_larsen` on the same graphs (StructureGraph), medians from scripts/ref/dimensionality_reference.py. ' +
    `Cold start (compile + instantiate the module): ${f(r.cold_compile_instantiate_ms)} ms.`, '');
  out.push('| case | graphs | WASM ms | TS twin ms | pymatgen ms | WASM vs pymatgen | WASM vs TS |', '|---|---:|---:|---:|---:|---:|---:|');
  out.push(`| reference graphs (median per graph) | ${g.length} | ${f(median(g.map((x) => x.wasm_ms)), 4)} | ${f(median(g.map((x) => x.ts_ms)), 4)} | ${f(median(g.map((x) => x.pymatgen_ms)))} | ${median(vsPmg).toFixed(0)}× (worst ${Math.min(...vsPmg).toFixed(0)}×) | ${median(vsTs).toFixed(1)}× |`);
  out.push(`| MP fluorides, F–F hops ≤ 5 Å, dimensionality (whole set) | ${mp.graphs} | ${f(mp.dimensionality_wasm_ms)} | ${f(mp.dimensionality_ts_ms)} | | | ${(mp.dimensionality_ts_ms / mp.dimensionality_wasm_ms).toFixed(1)}× |`);
  out.push(`| MP fluorides, first percolation lengths (whole set) | ${mp.graphs} | ${f(mp.first_percolation_wasm_ms)} | ${f(mp.first_percolation_ts_ms)} | | | ${(mp.first_percolation_ts_ms / mp.first_percolation_wasm_ms).toFixed(1)}× |`);
  out.push('');
  out.push('| CaF2 cell | F nodes | edges (≤ 4 Å) | WASM ms | TS twin ms | first percolation (WASM) ms |', '|---|---:|---:|---:|---:|---:|');
  for (const x of r.caf2_scaling) out.push(`| ${x.case} | ${x.n_nodes} | ${x.n_edges} | ${f(x.wasm_ms, 4)} | ${f(x.ts_ms, 4)} | ${f(x.first_percolation_wasm_ms, 4)} |`);
  out.push('');
  out.push(`Growth with graph size (slope of log time vs log edges, CaF2 rows): ${logSlope(r.caf2_scaling.map((x) => [x.n_edges, x.wasm_ms] as [number, number])).toFixed(2)} (1.00 = linear).`, '');
  return out;
}

export const order = 35;

export function section(): string[] {
  const r = readJson<PercolationResult>(join(benchDir, 'results', 'percolation.json'));
  return r ? percolationSection(r) : ['## Percolation dimensionality', '', 'No results yet: run `npm run bench -- percolation`.', ''];
}

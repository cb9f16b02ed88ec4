/**
 * Generates BENCHMARKS.md from bench/results/*.json (our runs) and bench/reference/*.json
 * (pymatgen/ASE figures measured on the same inputs by scripts/ref/neighbor_timings.py).
 * Usage: npm run bench:report
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir } from './common.js';

interface NeighborsResult {
  machine: Record<string, unknown>;
  cold_compile_instantiate_ms: number;
  caf2_scaling: { case: string; n_sites: number; cutoff: number; pairs: number; wasm_ms: number; ts_ms: number }[];
  mp_fluorides_r5: {
    structures: number;
    pairs: number;
    total_wasm_ms: number;
    total_ts_ms: number;
    per_structure: { n_sites: number; wasm_ms: number; ts_ms: number }[];
  };
}

interface PymatgenRef {
  meta: Record<string, unknown>;
  caf2_scaling: { n_sites: number; cutoff: number; pairs?: number; pymatgen_ms: number; ase_ms?: number }[];
  mp_fluorides_r5: { per_structure: { material_id: string; n_sites: number; pymatgen_ms: number; ase_ms?: number }[]; total_ms: number; ase_total_ms?: number };
}

function readJson<T>(p: string): T | null {
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as T) : null;
}

const f = (x: number | undefined | null, d = 3) => (x === undefined || x === null || !Number.isFinite(x) ? '–' : x < 0.01 ? x.toPrecision(2) : x.toFixed(d));
const ratio = (a: number | undefined, b: number | undefined) => (a && b ? `${(a / b).toFixed(1)}×` : '–');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Least-squares slope of log(time) against log(N): 1 = linear growth. */
function logSlope(points: [number, number][]): number {
  const xs = points.map(([n]) => Math.log(n)), ys = points.map(([, t]) => Math.log(t));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length, my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0, den = 0;
  for (let k = 0; k < xs.length; k++) {
    num += (xs[k]! - mx) * (ys[k]! - my);
    den += (xs[k]! - mx) ** 2;
  }
  return num / den;
}

function neighborsSection(r: NeighborsResult, ref: PymatgenRef | null): string[] {
  const out: string[] = [];
  const m = r.machine;
  out.push('## Periodic neighbour search (`neighborList`)', '');
  out.push(`Measured with \`npm run bench -- neighbors\` on ${String(m['cpu'])} (${String(m['cores'])} cores), Node ${String(m['node'])}, ${String(m['date']).slice(0, 10)}${m['quick'] ? ' (quick mode: short timing windows)' : ''}. ` +
    'Times are tinybench medians per call, in ms, single thread, warm; the WASM figure includes copying positions into the module and the results out (the JS↔WASM crossing). ' +
    (ref ? `pymatgen ${String(ref.meta['pymatgen'])} \`Structure.get_neighbor_list\` (Cython) and ASE ${String(ref.meta['ase'])} \`neighbor_list('ijSd')\` were timed on the same structures by \`scripts/ref/neighbor_timings.py\` (medians, warm, one thread) on the same machine type.` : 'No pymatgen reference file found (bench/reference/pymatgen-neighbors.json).'), '');
  out.push(`Cold start (read + compile + instantiate the module, once per worker thread): ${f(r.cold_compile_instantiate_ms)} ms.`, '');
  out.push('### CaF2 conventional supercells', '');
  out.push('| cell | atoms | cutoff Å | pairs | WASM ms | TS twin ms | pymatgen ms | ASE ms | WASM vs TS | WASM vs pymatgen |');
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of r.caf2_scaling) {
    const p = ref?.caf2_scaling.find((x) => x.n_sites === row.n_sites && x.cutoff === row.cutoff);
    out.push(`| ${row.case} | ${row.n_sites} | ${row.cutoff} | ${row.pairs} | ${f(row.wasm_ms, 4)} | ${f(row.ts_ms, 4)} | ${f(p?.pymatgen_ms)} | ${f(p?.ase_ms)} | ${ratio(row.ts_ms, row.wasm_ms)} | ${ratio(p?.pymatgen_ms, row.wasm_ms)} |`);
  }
  out.push('');
  const slopes = [3, 5, 8].map((c) => {
    const pts = r.caf2_scaling.filter((x) => x.cutoff === c && x.n_sites >= 96).map((x) => [x.n_sites, x.wasm_ms] as [number, number]);
    return `${c} Å: ${logSlope(pts).toFixed(2)}`;
  });
  out.push(`Growth with atom count at fixed density (slope of log time vs log N, 96–3024 atoms; 1.00 = linear): ${slopes.join(', ')}.`, '');
  const mp = r.mp_fluorides_r5;
  out.push(`### All ${mp.structures} bundled MP fluorides at 5 Å`, '');
  const refTotal = ref?.mp_fluorides_r5.total_ms;
  out.push('| | WASM | TS twin | pymatgen | ASE |', '|---|---:|---:|---:|---:|');
  out.push(`| whole set, ms | ${f(mp.total_wasm_ms)} | ${f(mp.total_ts_ms)} | ${f(refTotal)} | ${f(ref?.mp_fluorides_r5.ase_total_ms)} |`);
  out.push(`| per structure (mean), ms | ${f(mp.total_wasm_ms / mp.structures, 4)} | ${f(mp.total_ts_ms / mp.structures, 4)} | ${f(refTotal ? refTotal / mp.structures : undefined, 4)} | ${f(ref?.mp_fluorides_r5.ase_total_ms ? ref.mp_fluorides_r5.ase_total_ms / mp.structures : undefined, 4)} |`);
  out.push('');
  if (ref && ref.mp_fluorides_r5.per_structure.length === mp.per_structure.length) {
    const ratios: number[] = [];
    const tsRatios: number[] = [];
    mp.per_structure.forEach((x, k) => {
      const p = ref.mp_fluorides_r5.per_structure[k]!;
      if (x.n_sites <= 100 && p.n_sites === x.n_sites) ratios.push(p.pymatgen_ms / x.wasm_ms);
      tsRatios.push(x.ts_ms / x.wasm_ms);
    });
    out.push(`Per structure (≤ 100 atoms, ${ratios.length} structures, each timed alone): WASM is ${median(ratios).toFixed(1)}× faster than pymatgen at the median ` +
      `(10th percentile ${[...ratios].sort((a, b) => a - b)[Math.floor(ratios.length * 0.1)]!.toFixed(1)}×, worst ${Math.min(...ratios).toFixed(1)}×); ` +
      `${median(tsRatios).toFixed(1)}× faster than the TS twin at the median.`, '');
  }
  return out;
}

function main(): void {
  const lines: string[] = ['# Benchmarks', '', 'Generated by `npm run bench:report` from `bench/results/*.json` and `bench/reference/*.json`; do not edit by hand. Re-run `npm run bench` to measure on your machine.', ''];
  const nb = readJson<NeighborsResult>(join(benchDir, 'results', 'neighbors.json'));
  const ref = readJson<PymatgenRef>(join(benchDir, 'reference', 'pymatgen-neighbors.json'));
  if (nb) lines.push(...neighborsSection(nb, ref));
  else lines.push('No results yet: run `npm run bench`.', '');
  writeFileSync(join(benchDir, '..', 'BENCHMARKS.md'), lines.join('\n'));
  console.log('wrote BENCHMARKS.md');
}

main();

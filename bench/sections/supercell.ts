/** BENCHMARKS.md section for the supercell benchmark (bench/supercell.bench.ts). */
import { join } from 'node:path';
import { benchDir } from '../common.js';
import { readJson, f, ratio } from '../report-util.js';

interface SupercellResult {
  machine: Record<string, unknown>;
  cold_compile_instantiate_ms: number;
  caf2_scaling: { n: number; n_sites: number; wasm_ms: number; ts_ms: number; kernel_wasm_ms: number; kernel_ts_ms: number }[];
  reference_set: { L: number; structures: number; sites_out: number; wasm_ms: number; ts_ms: number; kernel_wasm_ms: number; kernel_ts_ms: number }[];
  near_cubic_10A: { structures: number; total_ms: number; sites_near_cubic: number; sites_ddi_rule: number };
}

interface PymatgenRef {
  meta: Record<string, unknown>;
  reference_set: ({ id: string; n_sites: number } & Record<string, { scaling: number[]; n_sites: number; pymatgen_ms: number }>)[];
  caf2_scaling: { n: number; n_sites: number; pymatgen_ms: number }[];
}

function supercellSection(r: SupercellResult, ref: PymatgenRef | null): string[] {
  const m = r.machine;
  const out: string[] = ['## Supercells (`supercell`)', ''];
  out.push(
    `Measured with \`npm run bench -- supercell\` on ${String(m['cpu'])} (${String(m['cores'])} cores), Node ${String(m['node'])}, ${String(m['date']).slice(0, 10)}${m['quick'] ? ' (quick mode)' : ''}. ` +
      'tinybench medians per call, ms, warm, single thread. "supercell()" is the whole Structure (coordinates, species, oxidation states, properties); "kernel" is the coordinate kernel alone ' +
      '(`supercellFracWasm` with its copies in and out vs `supercellCoordinatesTs`). ' +
      (ref ? `pymatgen ${String(ref.meta['pymatgen'])} \`s.copy(); s.make_supercell(scaling)\` timed by \`scripts/ref/supercell_timings.py\` on the same inputs (medians, warm, one thread; the host was shared and loaded while it ran).` : 'No pymatgen reference file (bench/reference/pymatgen-supercell.json).'),
    '',
  );
  out.push(`Cold start (compile + instantiate): ${f(r.cold_compile_instantiate_ms)} ms.`, '');
  out.push('| CaF2 cell | sites | supercell() WASM | supercell() TS | kernel WASM | kernel TS | pymatgen | WASM vs TS | WASM vs pymatgen |');
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of r.caf2_scaling) {
    const p = ref?.caf2_scaling.find((x) => x.n === row.n);
    out.push(`| ${row.n}×${row.n}×${row.n} | ${row.n_sites} | ${f(row.wasm_ms, 4)} | ${f(row.ts_ms, 4)} | ${f(row.kernel_wasm_ms, 4)} | ${f(row.kernel_ts_ms, 4)} | ${f(p?.pymatgen_ms)} | ${ratio(row.ts_ms, row.wasm_ms)} | ${ratio(p?.pymatgen_ms, row.wasm_ms)} |`);
  }
  out.push('');
  out.push('The 71 reference structures (test/fixtures/reference/structures.jsonl) at the DDI rule floor(L / a_i) + 1, one call = the whole set:', '');
  out.push('| L Å | sites out | supercell() WASM | supercell() TS | kernel WASM | kernel TS | pymatgen (sum) | WASM vs TS | WASM vs pymatgen |');
  out.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of r.reference_set) {
    const key = `L${row.L}`;
    const pm = ref && ref.reference_set.length === row.structures ? ref.reference_set.reduce((s, x) => s + (x[key]?.pymatgen_ms ?? Number.NaN), 0) : undefined;
    out.push(`| ${row.L} | ${row.sites_out} | ${f(row.wasm_ms)} | ${f(row.ts_ms)} | ${f(row.kernel_wasm_ms)} | ${f(row.kernel_ts_ms)} | ${f(pm)} | ${ratio(row.ts_ms, row.wasm_ms)} | ${ratio(pm, row.wasm_ms)} |`);
  }
  out.push('');
  const nc = r.near_cubic_10A;
  out.push(
    `Near-cubic search (\`nearCubicSupercellMatrix\`, TypeScript only) over the same ${nc.structures} structures at 10 Å: ${f(nc.total_ms)} ms in all; ` +
      `${nc.sites_near_cubic} supercell sites against ${nc.sites_ddi_rule} with the DDI rule (and every perpendicular height ≥ 10 Å, which the DDI rule does not promise).`,
    '',
  );
  const twin = [...r.caf2_scaling.map((x) => x.ts_ms / x.wasm_ms), ...r.reference_set.map((x) => x.ts_ms / x.wasm_ms)];
  out.push('### Against the targets', '');
  out.push(
    `- WASM ≥ 1.5× its TS twin: **not met** (${Math.min(...twin).toFixed(1)}–${Math.max(...twin).toFixed(1)}×). The work is one division and three stores per output coordinate; V8 compiles the TS loop to code as fast as the WASM one, ` +
      'and the WASM call also copies the coordinates in and out. Tried: an integer-conversion floor instead of `f64.floor` and a branch instead of a select in the wrap (no change); ' +
      'a diagonal fast path with one division per loop level (on CaF2 12³ the WASM kernel went from 0.74 to 0.03 ms and the TS twin from ~0.4 to 0.1 ms; kept, and the end-to-end ratio stayed ~1× because copying the output out of WASM memory then dominates). The general-matrix path keeps the per-image formula (pymatgen order, correctly rounded coordinates).',
  );
  out.push('- Against pymatgen: see the last column — building supercells is no longer a measurable share of a pathway.', '');
  return out;
}

export const order = 50;

export function section(): string[] {
  const r = readJson<SupercellResult>(join(benchDir, 'results', 'supercell.json'));
  const ref = readJson<PymatgenRef>(join(benchDir, 'reference', 'pymatgen-supercell.json'));
  return r ? supercellSection(r, ref) : ['## Supercells', '', 'No results yet: run `npm run bench -- supercell`.', ''];
}

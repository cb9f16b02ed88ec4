/** BENCHMARKS.md section for the DDI descriptor benchmark (bench/descriptors.bench.ts). */
import { join } from 'node:path';
import { benchDir } from '../common.js';
import { readJson, f, median } from '../report-util.js';

interface SameRow { id: string; index: number; context_ms: number; hop_ms: number; ms: number; python_s: number }
interface Result {
  machine: Record<string, unknown>;
  cold_first_call_ms: number;
  python_s_per_pathway_issue: number;
  same_inputs: SameRow[];
  bundled: {
    dataset: string; structures_total: number; sample_every: number; structures: number; pathways: number;
    pathways_null_ewald: number; failed: { id: string; error: string }[]; wall_s: number; pathways_per_s: number;
    per_structure: { id: string; n_sites: number; pathways: number; ms: number }[];
  };
}

function descriptorsSection(r: Result): string[] {
  const m = r.machine;
  const same = r.same_inputs;
  const speedups = same.map((x) => (1000 * x.python_s) / x.ms);
  const b = r.bundled;
  const msPerPathway = (1000 * b.wall_s) / Math.max(1, b.pathways);
  const out: string[] = [];
  out.push('## DDI descriptors (`pathwayDescriptors`)', '');
  out.push(`Measured with \`npm run bench -- descriptors\` on ${String(m['cpu'])}, Node ${String(m['node'])}, ${String(m['date']).slice(0, 10)}${m['quick'] ? ' (quick mode)' : ''}, one thread. ` +
    'Per pathway: 7-image IDPP in the floor(7 / a_i) + 1 supercell, 7 Ewald site energies at accuracy 3, radii overlap within 8 Å; per structure: sanitise, distinct hops, ' +
    `oxidation states, hop graph and percolation. First call in a fresh process (wasm compile included): ${f(r.cold_first_call_ms)} ms.`, '');
  out.push(`### Same inputs as the Python reference (${same.length} pathways, given cells)`, '');
  out.push('Python: `timings_s.total` per pathway of test/fixtures/reference/descriptors (pymatgen 2022.11.7 + pymatgen-analysis-diffusion d613b5e, one thread, same machine type); ' +
    'fracflow: best of the rounds, the structure-level context shared out over its pathways.', '');
  out.push('| | median ms per pathway | max ms | median speed-up | worst speed-up |', '|---|---:|---:|---:|---:|');
  out.push(`| Python (pymatgen + pymatgen-analysis-diffusion) | ${f(median(same.map((x) => 1000 * x.python_s)), 0)} | ${f(Math.max(...same.map((x) => 1000 * x.python_s)), 0)} | | |`);
  out.push(`| fracflow | ${f(median(same.map((x) => x.ms)), 1)} | ${f(Math.max(...same.map((x) => x.ms)), 1)} | ${median(speedups).toFixed(0)}× | ${Math.min(...speedups).toFixed(0)}× |`);
  out.push('');
  out.push(`### Bundled Materials Project fluorides (1 in ${b.sample_every} of ${b.structures_total}: ${b.structures} structures, default options)`, '');
  out.push('| structures | pathways | failed structures | null ewald_energy | wall s | pathways/s (1 thread) | ms per pathway | vs Python ~1.4 s per pathway |', '|---:|---:|---:|---:|---:|---:|---:|---:|');
  out.push(`| ${b.structures} | ${b.pathways} | ${b.failed.length} | ${b.pathways_null_ewald} | ${f(b.wall_s, 1)} | ${f(b.pathways_per_s, 1)} | ${f(msPerPathway, 1)} | ${((1000 * r.python_s_per_pathway_issue) / msPerPathway).toFixed(0)}× |`);
  out.push('');
  const slow = [...b.per_structure].sort((x, y) => y.ms - x.ms).slice(0, 3);
  if (slow.length) out.push(`Slowest structures: ${slow.map((x) => `${x.id} (${x.n_sites} sites, ${x.pathways} pathways, ${f(x.ms, 0)} ms)`).join('; ')}.`, '');
  out.push(`Issue target for the descriptor stage: ≥ 10 pathways/s on 2 cores — one thread gives ${f(b.pathways_per_s, 1)} pathways/s here, ${b.pathways_per_s >= 10 ? 'met on one core' : '**not met on one core**'}.`, '');
  return out;
}

export const order = 45;

export function section(): string[] {
  const r = readJson<Result>(join(benchDir, 'results', 'descriptors.json'));
  return r ? descriptorsSection(r) : ['## DDI descriptors', '', 'No results yet: run `npm run bench -- descriptors`.', ''];
}

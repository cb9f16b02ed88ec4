/** BENCHMARKS.md section for the distinct-hop benchmark (bench/paths.bench.ts). */
import { join } from 'node:path';
import { benchDir } from '../common.js';
import { readJson, f, median } from '../report-util.js';

interface Row {
  id: string; group: string; n_sites: number; hops_l5: number;
  l5_ms: number; l35_ms: number; symmetry_ms: number; l5_reduced_ms: number;
  l5_warm_ms?: number; own_ops_ms?: number | null; l5_wyckoff_ms?: number; l5_pymatgen_mode_ms?: number;
  pymatgen_l5_ms: number; pymatgen_l35_ms: number | null;
}
interface PathsResult { machine: Record<string, unknown>; cold_first_call_ms: number; structures: number; per_structure: Row[] }

function block(title: string, rows: Row[]): string[] {
  const s5 = rows.map((x) => x.pymatgen_l5_ms / x.l5_ms);
  const s35 = rows.filter((x) => x.pymatgen_l35_ms !== null).map((x) => x.pymatgen_l35_ms! / x.l35_ms);
  const sRed = rows.map((x) => x.pymatgen_l5_ms / x.l5_reduced_ms);
  const out: string[] = [];
  out.push(`### ${title} (${rows.length} structures)`, '');
  out.push('| | median ms | max ms | median speed-up vs pymatgen | worst speed-up |', '|---|---:|---:|---:|---:|');
  out.push(`| pymatgen-analysis-diffusion, L = 5 Å | ${f(median(rows.map((x) => x.pymatgen_l5_ms)))} | ${f(Math.max(...rows.map((x) => x.pymatgen_l5_ms)))} | | |`);
  out.push(`| fracflow \`findHops\`, L = 5 Å (operations + hop search, from scratch) | ${f(median(rows.map((x) => x.l5_ms)), 4)} | ${f(Math.max(...rows.map((x) => x.l5_ms)))} | ${median(s5).toFixed(1)}× | ${Math.min(...s5).toFixed(1)}× |`);
  const wy = rows.filter((x) => typeof x.l5_wyckoff_ms === 'number');
  const sWy = wy.map((x) => x.pymatgen_l5_ms / x.l5_wyckoff_ms!);
  if (wy.length === rows.length) out.push(`| the same, space group and Wyckoff symbols read (moyo included) | ${f(median(wy.map((x) => x.l5_wyckoff_ms!)), 4)} | ${f(Math.max(...wy.map((x) => x.l5_wyckoff_ms!)))} | ${median(sWy).toFixed(1)}× | ${Math.min(...sWy).toFixed(1)}× |`);
  const pm = rows.filter((x) => typeof x.l5_pymatgen_mode_ms === 'number');
  const sPm = pm.map((x) => x.pymatgen_l5_ms / x.l5_pymatgen_mode_ms!);
  if (pm.length === rows.length) out.push(`| the same, \`equivalence: 'pymatgen'\` (DistinctPathFinder's list) | ${f(median(pm.map((x) => x.l5_pymatgen_mode_ms!)), 4)} | ${f(Math.max(...pm.map((x) => x.l5_pymatgen_mode_ms!)))} | ${median(sPm).toFixed(1)}× | ${Math.min(...sPm).toFixed(1)}× |`);
  out.push(`| fracflow \`findHops\`, L = 3.5 Å | ${f(median(rows.map((x) => x.l35_ms)), 4)} | ${f(Math.max(...rows.map((x) => x.l35_ms)))} | ${s35.length ? median(s35).toFixed(1) + '×' : '–'} | ${s35.length ? Math.min(...s35).toFixed(1) + '×' : '–'} |`);
  const own = rows.filter((x) => typeof x.own_ops_ms === 'number');
  if (own.length > 0) out.push(`| operation search alone (${own.length} structures it answers; moyo used for the rest) | ${f(median(own.map((x) => x.own_ops_ms!)), 4)} | ${f(Math.max(...own.map((x) => x.own_ops_ms!)))} | | |`);
  out.push(`| moyo symmetry alone (space group, Wyckoff, standard cell) | ${f(median(rows.map((x) => x.symmetry_ms)), 4)} | ${f(Math.max(...rows.map((x) => x.symmetry_ms)))} | | |`);
  out.push(`| L = 5 Å, primitive reduction supplied | ${f(median(rows.map((x) => x.l5_reduced_ms)), 4)} | ${f(Math.max(...rows.map((x) => x.l5_reduced_ms)))} | ${median(sRed).toFixed(1)}× | ${Math.min(...sRed).toFixed(1)}× |`);
  const warm = rows.filter((x) => x.l5_warm_ms !== undefined);
  if (warm.length === rows.length) {
    const sWarm = warm.map((x) => x.pymatgen_l5_ms / x.l5_warm_ms!);
    out.push(`| L = 5 Å, repeat call (symmetry cache hit; not from scratch) | ${f(median(warm.map((x) => x.l5_warm_ms!)), 4)} | ${f(Math.max(...warm.map((x) => x.l5_warm_ms!)))} | ${median(sWarm).toFixed(1)}× | ${Math.min(...sWarm).toFixed(1)}× |`);
  }
  out.push('');
  out.push(`Target ≥ 50× per structure at L = 5 Å: ${s5.filter((x) => x >= 50).length} of ${s5.length} structures reach it; median ${median(s5).toFixed(1)}× — ${median(s5) >= 50 ? 'met at the median' : '**not met at the median**'}. ` +
    'findHops gets the operations and equivalence classes of a primitive cell from its own operation search (src/structure/symops.ts: spglib\'s rules, the same operations and equivalent sites as spglib on every reference and bundled structure, test/structure/spglib-agreement.test.ts) and leaves the space group and Wyckoff symbols, which moyo names from the symmetrised cell, to the first read of those fields. ' +
    (wy.length === rows.length ? `With them read the median is ${median(sWy).toFixed(1)}× (${sWy.filter((x) => x >= 50).length} of ${sWy.length} at ≥ 50×): the moyo call alone exceeds pymatgen's time / 50 on ${rows.filter((x) => x.symmetry_ms > x.pymatgen_l5_ms / 50).length} of ${rows.length} structures.` : ''), '');
  return out;
}

function pathsSection(r: PathsResult): string[] {
  const m = r.machine;
  const out: string[] = [];
  out.push('## Distinct migration hops (`findHops`)', '');
  out.push(`Measured with \`npm run bench -- paths\` on ${String(m['cpu'])}, Node ${String(m['node'])}, ${String(m['date']).slice(0, 10)}${m['quick'] ? ' (quick mode)' : ''}. ` +
    'fracflow figures are the best of several rounds of repeated calls, ms per structure, all hops kept (`limit: 0`, as `get_paths()`); ' +
    'pymatgen figures are the medians of `DistinctPathFinder(s, ion, max_path_length=L, symprec=0.1)` + `get_paths()` from bench/reference/shared-timings.json ' +
    '(pymatgen-analysis-diffusion d613b5e on Debian pymatgen 2022.11.7, same machine type). ' +
    `First call in a fresh process: ${f(r.cold_first_call_ms)} ms.`, '');
  out.push(...block('Bundled Materials Project fluorides', r.per_structure.filter((x) => x.group === 'mp')));
  out.push(...block('All reference structures up to 100 sites', r.per_structure));
  return out;
}

export const order = 32;

export function section(): string[] {
  const r = readJson<PathsResult>(join(benchDir, 'results', 'paths.json'));
  return r ? pathsSection(r) : ['## Distinct migration hops', '', 'No results yet: run `npm run bench -- paths`.', ''];
}

/** BENCHMARKS.md section for large inputs (bench/large-inputs.bench.ts): paths and descriptors against the site count, before and after. */
import { join } from 'node:path';
import { benchDir } from '../common.js';
import { readJson, f, logSlope } from '../report-util.js';

interface Row { family: string; label: string; n_sites: number; paths_s: number; symmetry_s: number; descriptors_s?: number; descriptors_hop_s?: number }
interface Result { machine: Record<string, unknown>; code: string; max_sites: number | null; load_average?: [number, number]; cases: Row[] }

function busy(r: Result): string {
  const cores = Number(r.machine['cores']);
  const load = r.load_average ? Math.max(...r.load_average) : NaN;
  return Number.isFinite(load) && load > cores
    ? ` **Provisional**: the host was busy (load average up to ${load.toFixed(1)} on ${cores} cores).`
    : '';
}

const seconds = (x: number | undefined) => (x === undefined ? '–' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : f(x, 2));

export const order = 33;

export function section(): string[] {
  const now = readJson<Result>(join(benchDir, 'results', 'large-inputs.json'));
  const before = readJson<Result>(join(benchDir, 'results', 'large-inputs-baseline.json'));
  if (!now) return ['## Large inputs', '', 'No results yet: run `npm run bench -- large-inputs`.', ''];
  const out: string[] = ['## Large inputs (`fracflow paths`, `fracflow descriptors`)', ''];
  const m = now.machine;
  out.push(
    `Measured with \`npm run bench -- large-inputs\` on ${String(m['cpu'])}, Node ${String(m['node'])}, ${String(m['date']).slice(0, 10)}.${busy(now)} ` +
      'Seconds per call from a cleared symmetry cache (best of 3 below 600 sites, else one call). ' +
      '*paths*: `findHops` (L = 5 Å, 5 hops) with the space group and Wyckoff symbols read, what `fracflow paths` prints; *symmetry*: `symmetry(s)` of the input cell; ' +
      '*descriptors*: `pathwayDescriptors` (5 hops) — for the defect cells the first hop alone, since their cost is per hop (IDPP images of every site).' +
      (before ? ` *Before*: the same file run on ${before.code}, cells up to ${before.max_sites ?? 'any'} sites, ${String(before.machine['date']).slice(0, 10)}.${busy(before)}` : ''),
    '',
  );
  const old = new Map((before?.cases ?? []).map((r) => [`${r.family}|${r.label}`, r]));
  out.push('| cells | case | sites | paths before | paths now | symmetry before | symmetry now | descriptors before | descriptors now |', '|---|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of now.cases) {
    const b = old.get(`${r.family}|${r.label}`);
    const d = (x: Row | undefined) => seconds(x?.descriptors_s ?? x?.descriptors_hop_s);
    out.push(`| ${r.family} | ${r.label} | ${r.n_sites} | ${seconds(b?.paths_s)} | ${seconds(r.paths_s)} | ${seconds(b?.symmetry_s)} | ${seconds(r.symmetry_s)} | ${d(b)}${r.descriptors_hop_s !== undefined && b ? ' (1 hop)' : ''} | ${d(r)}${r.descriptors_hop_s !== undefined ? ' (1 hop)' : ''} |`);
  }
  out.push('');
  const slope = (rows: Row[], key: 'paths_s' | 'descriptors_s' | 'descriptors_hop_s') => {
    const pts = rows.filter((r) => r.n_sites >= 200 && typeof r[key] === 'number').map((r) => [r.n_sites, r[key]!] as [number, number]);
    return pts.length >= 2 ? `N^${logSlope(pts).toFixed(1)}` : '–';
  };
  const fam = (res: Result | null, family: string) => (res?.cases ?? []).filter((r) => r.family === family);
  out.push(
    `Growth with the site count (log–log slope over the cells of 200 sites and more): LiF supercells, paths ${slope(fam(before, 'LiF supercell'), 'paths_s')} before and ${slope(fam(now, 'LiF supercell'), 'paths_s')} now, ` +
      `descriptors ${slope(fam(before, 'LiF supercell'), 'descriptors_s')} before and ${slope(fam(now, 'LiF supercell'), 'descriptors_s')} now; ` +
      `defect cells (primitive), descriptors per hop ${slope(fam(now, 'LiF defect cell (primitive)'), 'descriptors_hop_s')} now. ` +
      'A supercell is reduced to its primitive cell by its own translations before moyo sees it (src/structure/symops.ts `pureTranslationLattice`), so its cost no longer follows moyo\'s whole-cell analysis; ' +
      'a large primitive cell still costs what its IDPP images cost.',
    '',
  );
  return out;
}

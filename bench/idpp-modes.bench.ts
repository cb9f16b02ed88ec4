/**
 * IDPP modes on the default screen's pathways: the descriptors of every pathway of the default bundled
 * set (mp + curated + mp-task, as `fracflow screen` imports them; F hops ≤ 5 Å, the 5 shortest), with
 * `pathwayDescriptors(s, { idpp: 'exact' })` and `{ idpp: 'fast' }`, on 2 cores (the structures dealt
 * round-robin to 2 child processes; wall time = the slower child).
 *
 * Per mode: pathways/s on 2 cores, IDPP force evaluations (exact: steps) and ms per pathway (the
 * descriptors of one hop: IDPP, 7 Ewald site energies, overlap; the per-structure context apart).
 * Between modes: Spearman rank correlation of ewald_energy and of both overlaps over all pathways where
 * both are non-null, and the largest absolute differences. Reproducibility: the same structures with
 * every Cartesian coordinate moved by a seeded uniform ±1e-9 Å, in both modes: the largest change of
 * each descriptor and how many pathways move by more than 1e-4 (all pathways, and those whose IDPP
 * converged both times).
 *
 * `FRACFLOW_BENCH_QUICK=1`: 60 structures. Writes bench/results/idpp-modes.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createStructure, cartesian, type Structure } from '../src/structure/structure.js';
import { defaultSet } from './pipeline.bench.js';
import { cumBarrierDimensionalities, descriptorContext, descriptorsForHop } from '../src/analysis/descriptors.js';
import type { IdppMode } from '../src/kernels/idpp.js';
import { spearman } from '../test/helpers/stats.js';
import { writeResults, quick } from './common.js';

const COLUMNS = ['ewald_energy', 'ionic_radii_overlap_cations', 'ionic_radii_overlap_anions'] as const;
type Column = (typeof COLUMNS)[number];
const SEED = 20261207;
const REPRO_TOL = 1e-4;

interface PathRow {
  id: string;
  hop: number;
  length: number;
  iterations: number | null;
  converged: boolean | null;
  hop_ms: number;
  ewald_energy: number | null;
  ionic_radii_overlap_cations: number | null;
  ionic_radii_overlap_anions: number | null;
  /** Why ewald_energy is null (IDPP refused or not converged, no oxidation states, …). */
  ewald_reason: string | null;
}
interface ChildOut { rows: PathRow[]; context_ms: number; failed: { id: string; error: string }[]; wall_ms: number; cpu_ms: number }
interface ChildJob { mode: IdppMode; perturb: boolean; part: number; parts: number; limit: number; out: string }


/** Every Cartesian coordinate moved by uniform ±1e-9 Å (mulberry32 seeded per structure). */
function perturbed(s: Structure, seed: number): Structure {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const cart = cartesian(s).map((x) => x + (2 * rand() - 1) * 1e-9);
  return createStructure({ lattice: s.lattice, species: s.species, cart, oxidationStates: s.oxidationStates }, { allowLeftHanded: true, checkOverlap: false });
}

function child(job: ChildJob): void {
  const set = defaultSet().slice(0, job.limit);
  const rows: PathRow[] = [];
  const failed: ChildOut['failed'] = [];
  let contextMs = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  set.forEach(({ id, structure }, k) => {
    if (k % job.parts !== job.part) return;
    const s = job.perturb ? perturbed(structure, SEED + k) : structure;
    try {
      const tc = performance.now();
      const ctx = descriptorContext(s, { idpp: job.mode });
      contextMs += performance.now() - tc;
      const got = ctx.hops.hops.map((h) => {
        const th = performance.now();
        const d = descriptorsForHop(ctx, h);
        return { d, ms: performance.now() - th };
      });
      const tb = performance.now();
      cumBarrierDimensionalities(ctx, got.map((g) => g.d));
      contextMs += performance.now() - tb;
      for (const { d, ms } of got) {
        rows.push({
          id, hop: d.hop_index, length: d.length, iterations: d.idpp_iterations, converged: d.idpp_converged, hop_ms: ms,
          ewald_energy: d.ewald_energy, ionic_radii_overlap_cations: d.ionic_radii_overlap_cations, ionic_radii_overlap_anions: d.ionic_radii_overlap_anions,
          ewald_reason: d.ewald_reason,
        });
      }
    } catch (e) {
      failed.push({ id, error: (e as Error).message.slice(0, 200) });
    }
  });
  const c1 = process.cpuUsage(c0);
  const out: ChildOut = { rows, context_ms: contextMs, failed, wall_ms: performance.now() - t0, cpu_ms: (c1.user + c1.system) / 1000 };
  writeFileSync(job.out, JSON.stringify(out));
}

/** One mode (original or perturbed structures) on 2 child processes at once. */
function runMode(dir: string, mode: IdppMode, perturb: boolean, limit: number): ModeRun {
  const parts = 2;
  const jobs = Array.from({ length: parts }, (_, part) => ({ mode, perturb, part, parts, limit, out: join(dir, `${mode}-${perturb ? 'p' : 'o'}-${part}.json`) }));
  // Both children at once, from one shell (spawnSync alone would run them one after the other).
  const t0 = performance.now();
  return runParallel(jobs, t0);
}

interface ModeRun { rows: PathRow[]; wall_ms: number; cpu_ms: number; context_ms: number; failed: ChildOut['failed'] }

function runParallel(jobs: ChildJob[], t0: number): ModeRun {
  const script = jobs.map((j) => `${JSON.stringify(process.execPath)} --import tsx ${JSON.stringify(fileURLToPath(import.meta.url))} --child '${JSON.stringify(j)}' &`).join('\n') + '\nwait\n';
  const r = spawnSync('bash', ['-c', script], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`children exited with ${r.status ?? r.signal}`);
  const wall = performance.now() - t0;
  const outs = jobs.map((j) => JSON.parse(readFileSync(j.out, 'utf8')) as ChildOut);
  return {
    rows: outs.flatMap((o) => o.rows).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.hop - b.hop)),
    wall_ms: wall,
    cpu_ms: outs.reduce((s, o) => s + o.cpu_ms, 0),
    context_ms: outs.reduce((s, o) => s + o.context_ms, 0),
    failed: outs.flatMap((o) => o.failed),
  };
}

const key = (r: PathRow) => `${r.id}#${r.hop}`;
const med = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[s.length >> 1]! : (s[(s.length >> 1) - 1]! + s[s.length >> 1]!) / 2;
};
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

function modeSummary(r: ModeRun) {
  const its = r.rows.map((x) => x.iterations).filter((x): x is number => x !== null);
  return {
    pathways: r.rows.length,
    failed_structures: r.failed.length,
    wall_s: r.wall_ms / 1000,
    pathways_per_s_2_cores: r.rows.length / (r.wall_ms / 1000),
    // On a shared machine the wall time measures the other processes too; the CPU time of the two
    // children (setup, IDPP, Ewald, overlaps, dimensionalities) is what 2 dedicated cores would take.
    cpu_s: r.cpu_ms / 1000,
    pathways_per_s_2_cores_from_cpu: (2 * r.rows.length) / (r.cpu_ms / 1000),
    context_ms_total: r.context_ms,
    hop_ms_median: med(r.rows.map((x) => x.hop_ms)),
    hop_ms_mean: r.rows.reduce((s, x) => s + x.hop_ms, 0) / Math.max(1, r.rows.length),
    hop_ms_p90: pct(r.rows.map((x) => x.hop_ms), 0.9),
    iterations_median: med(its),
    iterations_mean: its.reduce((s, x) => s + x, 0) / Math.max(1, its.length),
    iterations_p90: pct(its, 0.9),
    idpp_runs: its.length,
    not_converged: r.rows.filter((x) => x.converged === false).length,
    idpp_refused: r.rows.filter((x) => x.ewald_reason?.startsWith('IDPP failed') ?? false).length,
    ewald_null: r.rows.filter((x) => x.ewald_energy === null).length,
  };
}

/** Largest |a − b| per column between two row sets (matched by structure and hop), and how many pathways move by more than tol. */
function spread(a: PathRow[], b: PathRow[], convergedOnly: boolean) {
  const bm = new Map(b.map((x) => [key(x), x]));
  const out: Record<string, unknown> = {};
  let compared = 0;
  const moved = new Set<string>();
  for (const c of COLUMNS) {
    let worst = 0, at = '';
    for (const x of a) {
      const y = bm.get(key(x));
      if (!y || x[c] === null || y[c] === null) continue;
      if (convergedOnly && !(x.converged && y.converged)) continue;
      const d = Math.abs(x[c]! - y[c]!);
      if (d > REPRO_TOL) moved.add(key(x));
      if (d > worst) [worst, at] = [d, key(x)];
    }
    out[c] = { max_abs_diff: worst, at };
  }
  let nullFlips = 0;
  for (const x of a) {
    const y = bm.get(key(x));
    if (y && (!convergedOnly || (x.converged && y.converged))) compared++;
    // A descriptor that is null in one run and a number in the other (a run converged only once).
    if (y && COLUMNS.some((c) => (x[c] === null) !== (y[c] === null))) nullFlips++;
  }
  return { compared, moved_beyond_1e_4: moved.size, null_in_one_run_only: nullFlips, ...out };
}

function agreement(exact: PathRow[], fast: PathRow[]) {
  const fm = new Map(fast.map((x) => [key(x), x]));
  const out: Record<string, unknown> = {};
  for (const c of COLUMNS as readonly Column[]) {
    const xs: number[] = [], ys: number[] = [];
    const xc: number[] = [], yc: number[] = [];
    let worst = 0, at = '';
    for (const e of exact) {
      const f = fm.get(key(e));
      if (!f || e[c] === null || f[c] === null) continue;
      xs.push(e[c]!);
      ys.push(f[c]!);
      if (e.converged && f.converged) {
        xc.push(e[c]!);
        yc.push(f[c]!);
      }
      const d = Math.abs(e[c]! - f[c]!);
      if (d > worst) [worst, at] = [d, key(e)];
    }
    // Both converged: where the exact mode stops at its step cap it is not at the minimum the fast mode finds.
    out[c] = { pathways: xs.length, spearman: spearman(xs, ys), max_abs_diff: worst, at, both_converged: { pathways: xc.length, spearman: spearman(xc, yc) } };
  }
  return out;
}

/**
 * Which straight paths each mode refuses (ewald_reason "IDPP failed: …"), matched by pathway: the exact
 * mode (pymatgen's rule) only where the objective turns non-finite — a straight-line image on an atom
 * to the last bit; the fast mode wherever the straight line comes within 0.01 Å of another atom, at an
 * image or between images. Counts of each, of both, and of the fast mode's refusals that the exact
 * mode relaxes, by where the line meets the atom and how close the fast mode's image comes.
 */
function refusals(exact: PathRow[], fast: PathRow[]) {
  const em = new Map(exact.map((x) => [key(x), x]));
  const refused = (r: PathRow | undefined) => r?.ewald_reason?.startsWith('IDPP failed') ?? false;
  const out = { exact: exact.filter(refused).length, fast: fast.filter(refused).length, both: 0, exact_only: 0, fast_only_at_an_image: { distance_0: 0, below_1e_12: 0, below_0_01: 0 }, fast_only_between_images: 0 };
  for (const f of fast) {
    const e = em.get(key(f));
    if (refused(f) && refused(e)) out.both++;
    if (!refused(f) || refused(e)) continue;
    const at = /straight-line image \d puts atoms .*? ([0-9.e+-]+) Å apart/.exec(f.ewald_reason!);
    if (!at) out.fast_only_between_images++;
    else {
      const d = Number(at[1]);
      if (d === 0) out.fast_only_at_an_image.distance_0++;
      else if (d < 1e-12) out.fast_only_at_an_image.below_1e_12++;
      else out.fast_only_at_an_image.below_0_01++;
    }
  }
  out.exact_only = out.exact - out.both;
  return out;
}

async function main(): Promise<void> {
  const load0 = loadavg();
  const all = defaultSet();
  const limit = quick ? 60 : all.length;
  const dir = mkdtempSync(join(tmpdir(), 'fracflow-idpp-modes-'));
  try {
    const res: Record<string, ModeRun> = {};
    for (const mode of ['exact', 'fast'] as const) {
      for (const perturb of [false, true]) {
        const name = `${mode}${perturb ? '_perturbed' : ''}`;
        console.log(`-- ${name}: ${limit} structures on 2 processes`);
        res[name] = runMode(dir, mode, perturb, limit);
        const s = modeSummary(res[name]!);
        console.log(`   ${s.pathways} pathways in ${s.wall_s.toFixed(1)} s = ${s.pathways_per_s_2_cores.toFixed(1)}/s (from CPU time ${s.pathways_per_s_2_cores_from_cpu.toFixed(1)}/s); iterations median ${s.iterations_median}, not converged ${s.not_converged}; ms per pathway median ${s.hop_ms_median.toFixed(1)}`);
      }
    }
    const agree = agreement(res['exact']!.rows, res['fast']!.rows);
    console.log('exact vs fast:', JSON.stringify(agree));
    const refused = refusals(res['exact']!.rows, res['fast']!.rows);
    console.log('refused straight paths:', JSON.stringify(refused));
    const repro = {
      exact: { all: spread(res['exact']!.rows, res['exact_perturbed']!.rows, false), converged: spread(res['exact']!.rows, res['exact_perturbed']!.rows, true) },
      fast: { all: spread(res['fast']!.rows, res['fast_perturbed']!.rows, false), converged: spread(res['fast']!.rows, res['fast_perturbed']!.rows, true) },
    };
    console.log('perturbation:', JSON.stringify(repro));
    writeResults('idpp-modes', {
      load_average_start: load0,
      load_average_end: loadavg(),
      structures: limit,
      structures_in_default_set: all.length,
      perturbation: { seed: SEED, amplitude_ang: 1e-9, tolerance: REPRO_TOL },
      modes: { exact: modeSummary(res['exact']!), fast: modeSummary(res['fast']!), exact_perturbed: modeSummary(res['exact_perturbed']!), fast_perturbed: modeSummary(res['fast_perturbed']!) },
      agreement: agree,
      refusals: refused,
      reproducibility: repro,
      targets: { spearman: 0.99, fast_pathways_per_s_2_cores: 150, reproducibility: REPRO_TOL },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') child(JSON.parse(process.argv[3]!) as ChildJob);
else await main();

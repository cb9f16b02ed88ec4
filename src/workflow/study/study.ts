/**
 * `fracflow study architecture`: the fixed-workflow and the fractured architecture on the same work,
 * from a few dozen cores to 10,000, with the real engine on a virtual clock (simulate.ts).
 *
 * A cluster of C cores:
 * - cores per calculation: static min(staticCores, 2^⌊log2(C/8)⌋), NEB min(nebCores, 2^⌊log2(C/4)⌋)
 *   (at least 1), so that a small cluster still runs several calculations;
 * - fractured: each cheap stage gets max(1, ⌊0.002·C⌋) one-core slots; of the rest, `staticShare`
 *   goes to calc_static and what remains to calc_neb, in whole calculations (at least one each);
 * - fixed: ⌊C / NEB cores⌋ workflows at a time (each can always get the cores of its largest step),
 *   every step taking the cores it needs from the C cores (a cheap step one core).
 *
 * Variants (the fractured ones differ only in the images/calc_static priority and the NEB cutoff):
 * `fixed`; `fractured` (hand-written descriptor priority −x1, NEB cutoff broadening); `fractured-fifo`
 * (admission order); `fractured-swap` (admission order, swapped for the descriptor priority once 10 % of
 * the static calculations are done); `fractured-learned` (the descriptor priority, then a ridge model
 * of calc_static.barrier_ev on x1 and x2 fitted on the finished static rows, refitted every 2 % of the
 * pathways and swapped in as the images and calc_static priority — learned-priority.ts, on the engine's
 * tick); `fractured-no-broadening` (the NEB cutoff stays at its initial value).
 *
 * `fractured-shared` differs in how the cores are held: the stages' queues, priorities and broadening
 * are `fractured`'s, but the calculation stages may each run as many calculations as the cluster holds
 * and every stage draws its cores from the cluster's, a freed core going to the deepest stage's waiting
 * calculation first (SimRunnerOptions.deepestFirst) — the single-machine engine's CPU budget, on the
 * cluster. No allotment then sits idle while another stage waits.
 *
 * Metrics per run: makespan (first start to last end of a batch), each stage's utilisation of its
 * allotment over time (fixed: of the cluster), the time and core-hours until k of the N truly best
 * pathways (lowest true barrier among those that can reach NEB) have a finished NEB, the core-hours of
 * calculations on pathways outside the top N, broadenings.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Engine } from '../../engine/engine.js';
import type { VirtualClock } from '../../engine/clock.js';
import type { PrioritySpec, Stage } from '../../stage-kit/stage.js';
import { buildCorpus, type CostData, type StudyCorpus } from './corpus.js';
import { costModel, nebCoreHours, spreadFactor, staticCoreHours, wallMs, type CostModelParams } from './cost-model.js';
import type { SimRow } from './sim-runner.js';
import { simulate, type SimulationResult } from './simulate.js';
import { CALC_STAGES, DESCRIPTOR_PRIORITY, FIFO_PRIORITY, STUDY_STAGES, studyStages, type StudyStageName } from './stages.js';
import { linePlot, type Series } from './svg.js';

const HOUR_MS = 3600 * 1000;

export const STUDY_VARIANTS = ['fixed', 'fractured', 'fractured-fifo', 'fractured-swap', 'fractured-learned', 'fractured-no-broadening', 'fractured-shared'] as const;
export type StudyVariant = (typeof STUDY_VARIANTS)[number];

export interface StudyOptions {
  corpus: 'bundled' | number;
  cores: readonly number[];
  rho: readonly number[];
  seed: number;
  variants?: readonly StudyVariant[];
  /** The N truly best pathways whose NEB the metrics follow. Default 100. */
  topN?: number;
  ks?: readonly number[];
  model?: Partial<CostModelParams>;
  /**
   * Share of the calculation cores for calc_static in the fractured mode. Default: the static
   * design's share of the expected calculation core-hours (every pathway that can reach the calc
   * stages through both designs, from the cost model: what an operator can work out from the atom
   * counts before any calculation).
   */
  staticShare?: number;
  /**
   * NEB admission cutoff on the static barrier: initial, step (broadening), max (eV). Default 0.5, 0.25,
   * 1.0: at first the pathways whose static barrier puts them in roughly the lowest fifth, widened
   * twice when the NEB queue drains.
   */
  nebCutoffEv?: { initial: number; step: number; max: number };
  /**
   * The engine's control tick in virtual minutes. Default: a
   * thousandth of the longest makespan the cluster could need (every static and NEB calculation of the
   * pathways that can reach them, one after another on all cores), within 1 minute – 1 day.
   */
  tickMin?: number;
  /** Time steps in the per-step CSV and the utilisation plots. Default 200. */
  steps?: number;
  data?: CostData;
  barriers?: ReadonlyMap<string, number>;
  /** A line per finished run. */
  log?: (line: string) => void;
  /** Each run's metrics as it finishes. */
  onRun?: (m: RunMetrics) => void;
}

export const DEFAULT_NEB_CUTOFF_EV = Object.freeze({ initial: 0.5, step: 0.25, max: 1 });

export interface ClusterPlan {
  cores: number;
  staticCores: number;
  nebCores: number;
  /** Fractured: slots per stage. */
  workers: Record<StudyStageName, number>;
  /** Fixed: workflows at a time. */
  workflows: number;
}

function pow2floor(x: number): number {
  return x < 1 ? 1 : 2 ** Math.floor(Math.log2(x));
}

/** How a cluster of `cores` is used in each mode (see the module comment). */
export function clusterPlan(cores: number, m: CostModelParams, staticShare = 0.2): ClusterPlan {
  if (!(Number.isInteger(cores) && cores >= 8)) throw new RangeError(`study: cores must be an integer ≥ 8, got ${cores}`);
  if (!(staticShare > 0 && staticShare < 1)) throw new RangeError(`study: staticShare must be within (0, 1), got ${staticShare}`);
  const staticCores = Math.max(1, Math.min(m.staticCores, pow2floor(cores / 8)));
  const nebCores = Math.max(1, Math.min(m.nebCores, pow2floor(cores / 4)));
  const cheap = Math.max(1, Math.floor(0.002 * cores));
  const rest = cores - 3 * cheap;
  const st = Math.max(1, Math.floor((rest * staticShare) / staticCores));
  const neb = Math.max(1, Math.floor((rest - st * staticCores) / nebCores));
  return {
    cores, staticCores, nebCores,
    workers: { find_paths: cheap, descriptors: cheap, images: cheap, calc_static: st, calc_neb: neb },
    workflows: Math.max(1, Math.floor(cores / nebCores)),
  };
}

export interface RunMetrics {
  corpus: string;
  cores: number;
  rho: number;
  seed: number;
  variant: StudyVariant;
  makespan_h: number;
  /** Busy core-hours / (cores × makespan). */
  utilisation: number;
  core_hours: number;
  core_hours_calc: number;
  core_hours_outside_top_n: number;
  top_n: number;
  /** Hours from the start until k of the top N have a finished NEB (null: never). */
  t_top_h: Record<number, number | null>;
  /** Core-hours spent by then. */
  core_hours_top: Record<number, number | null>;
  static_runs: number;
  neb_runs: number;
  broadenings: number;
  priority_swaps: number;
  /** Learned-priority fits swapped in (all stages). */
  priority_fits: number;
  /** Wall-clock and CPU seconds (this process) the simulation took, and virtual-clock timers fired. */
  sim_s: number;
  cpu_s: number;
  timers: number;
}

export interface RunSeries {
  /** Per step: time (h), utilisation per stage, overall, top-N found, core-hours so far. */
  steps: { t_h: number; util: Record<string, number>; total: number; found: number; core_hours: number }[];
  /** Top-N pathways found against core-hours spent. */
  found: [number, number][];
}

/**
 * fractured-shared: the cheap stages keep their slots; each calculation stage may run as many
 * calculations as the cluster's cores hold (the cores themselves shared, see studyRun).
 */
export function sharedWorkers(plan: ClusterPlan): Record<StudyStageName, number> {
  return { ...plan.workers, calc_static: Math.max(1, Math.floor(plan.cores / plan.staticCores)), calc_neb: Math.max(1, Math.floor(plan.cores / plan.nebCores)) };
}

/** What a row of each study stage costs and returns. */
export function studyWork(corpus: StudyCorpus, m: CostModelParams, plan: ClusterPlan): (stage: Stage, key: string) => SimRow {
  const structures = new Map(corpus.structures.map((s) => [s.key, s]));
  return (stage, key) => {
    if (stage.name === 'find_paths') {
      const s = structures.get(key)!;
      return { ms: s.findPathsMs, out: { n_pathways: s.pathways.length }, emit: s.pathways.map((p) => ({ key: p.key, columns: { atoms_7: p.atoms7, atoms_10: p.atoms10 } })) };
    }
    const p = corpus.pathways.get(key);
    if (!p) throw new Error(`study: no pathway ${key}`);
    switch (stage.name) {
      case 'descriptors':
        return { ms: p.descriptorsMs, out: { x1: p.x1, x2: p.x2, dim: p.dim } };
      case 'images':
        return { ms: p.imagesMs, out: { files: 1 } };
      case 'calc_static':
        return { ms: wallMs(staticCoreHours(m, p.atoms7) * spreadFactor(m, p.spreadStatic), plan.staticCores), out: { barrier_ev: p.staticEv } };
      case 'calc_neb':
        return { ms: wallMs(nebCoreHours(m, p.atoms10) * spreadFactor(m, p.spreadNeb), plan.nebCores), out: { barrier_ev: p.barrierEv } };
      default:
        throw new Error(`study: no simulated work for stage ${stage.name}`);
    }
  };
}

/** The default static share (see StudyOptions.staticShare), within 0.01–0.99. */
export function defaultStaticShare(corpus: StudyCorpus, m: CostModelParams): number {
  let st = 0;
  let neb = 0;
  for (const p of corpus.pathways.values()) {
    if (p.dim < 1) continue;
    st += staticCoreHours(m, p.atoms7);
    neb += nebCoreHours(m, p.atoms10);
  }
  return Math.min(0.99, Math.max(0.01, st / (st + neb || 1)));
}

/** The default control tick (virtual minutes): see StudyOptions.tickMin. */
export function defaultTickMin(corpus: StudyCorpus, m: CostModelParams, cores: number): number {
  let coreHours = 0;
  for (const p of corpus.pathways.values()) if (p.dim >= 1) coreHours += staticCoreHours(m, p.atoms7) + nebCoreHours(m, p.atoms10);
  const boundMin = ((coreHours / cores) * 60) / 1000;
  return Math.round(Math.min(24 * 60, Math.max(1, boundMin)));
}

export interface RunSpec {
  corpus: StudyCorpus;
  cores: number;
  rho: number;
  seed: number;
  variant: StudyVariant;
  model: CostModelParams;
  /** null: the default (see StudyOptions.staticShare). */
  staticShare: number | null;
  nebCutoffEv: { initial: number; step: number; max: number };
  /** Virtual minutes; null: the default (see StudyOptions.tickMin). */
  tickMin: number | null;
  topN: number;
  ks: readonly number[];
  steps: number;
}

/** One simulated run and its metrics. */
export async function studyRun(r: RunSpec): Promise<{ metrics: RunMetrics; series: RunSeries; sim: SimulationResult }> {
  const plan = clusterPlan(r.cores, r.model, r.staticShare ?? defaultStaticShare(r.corpus, r.model));
  const fixed = r.variant === 'fixed';
  const shared = r.variant === 'fractured-shared';
  const startPriority: PrioritySpec = r.variant === 'fractured-fifo' || r.variant === 'fractured-swap' ? FIFO_PRIORITY : DESCRIPTOR_PRIORITY;
  const stages = studyStages({
    workers: shared ? sharedWorkers(plan) : plan.workers,
    priority: startPriority,
    nebCutoffEv: r.nebCutoffEv.initial,
    nebCutoffStepEv: r.variant === 'fractured-no-broadening' ? 0 : r.nebCutoffEv.step,
    nebCutoffMaxEv: r.nebCutoffEv.max,
  });
  const coresOf = (s: string) => (s === 'calc_static' ? plan.staticCores : s === 'calc_neb' ? plan.nebCores : 1);
  let swaps = 0;
  let staticDone = 0;
  let engine: Engine | null = null;
  const swapAt = Math.max(1, Math.round(0.1 * r.corpus.ranked.length));
  const t = performance.now();
  const cpu0 = process.cpuUsage();
  const sim = await simulate({
    stages,
    source: { stage: 'find_paths', rows: r.corpus.structures.map((s) => ({ key: s.key, nsites: s.nsites })) },
    work: studyWork(r.corpus, r.model, plan),
    cores: coresOf,
    mode: fixed ? 'fixed' : 'fractured',
    workflows: plan.workflows,
    coreBudget: fixed || shared ? r.cores : undefined,
    deepestFirst: shared,
    tickMs: (r.tickMin ?? defaultTickMin(r.corpus, r.model, r.cores)) * 60_000,
    learned: r.variant === 'fractured-learned'
      ? (['images', 'calc_static'] as const).map((stage) => ({
          stage, model: 'ridge' as const, target: { table: 'calc_static', column: 'barrier_ev' }, features: ['x1', 'x2'],
          every: Math.max(5, Math.round(0.02 * r.corpus.ranked.length)), minRows: 5,
        }))
      : undefined,
    setup: (e: Engine, _clock: VirtualClock) => {
      engine = e;
    },
    events: (ev) => {
      if (r.variant !== 'fractured-swap' || ev.type !== 'complete' || ev.stage !== 'calc_static') return;
      staticDone += ev.done;
      if (swaps === 0 && staticDone >= swapAt && engine) {
        swaps++;
        const en: Engine = engine;
        // A swap as an operator makes it (`fracflow engine priority`): recorded, pending rows re-scored.
        void en.setPriority('images', DESCRIPTOR_PRIORITY).then(() => en.setPriority('calc_static', DESCRIPTOR_PRIORITY));
      }
    },
  });
  const simS = (performance.now() - t) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const { metrics, series } = measure(r, plan, sim, simS, (cpu.user + cpu.system) / 1e6, swaps);
  return { metrics, series, sim };
}

function measure(r: RunSpec, plan: ClusterPlan, sim: SimulationResult, simS: number, cpuS: number, swaps: number): { metrics: RunMetrics; series: RunSeries } {
  const fixed = r.variant === 'fixed';
  const recs = sim.records;
  const end = Math.max(sim.t0, ...recs.map((b) => b.endMs));
  const makespanH = (end - sim.t0) / HOUR_MS;
  const ch = (b: { cores: number; startMs: number; endMs: number }) => (b.cores * (b.endMs - b.startMs)) / HOUR_MS;
  const topN = Math.min(r.topN, r.corpus.ranked.length);
  const top = new Set(r.corpus.ranked.slice(0, topN));
  const calc = recs.filter((b) => (CALC_STAGES as readonly string[]).includes(b.stage));
  const nebDone = recs.filter((b) => b.stage === 'calc_neb' && !b.cut);
  // Top-N pathways found (NEB finished) in time order, with the core-hours spent by then.
  const finds = nebDone.filter((b) => top.has(b.keys[0]!)).map((b) => b.endMs).sort((a, b) => a - b);
  const byEnd = [...recs].sort((a, b) => a.endMs - b.endMs);
  const spentBy = (tMs: number) => {
    // Core-hours of every batch up to tMs (running ones counted up to tMs).
    let s = 0;
    for (const b of recs) if (b.startMs < tMs) s += (b.cores * (Math.min(b.endMs, tMs) - b.startMs)) / HOUR_MS;
    return s;
  };
  const tTop: Record<number, number | null> = {};
  const chTop: Record<number, number | null> = {};
  for (const k of r.ks) {
    const f = k <= topN ? finds[k - 1] : undefined;
    tTop[k] = f === undefined ? null : (f - sim.t0) / HOUR_MS;
    chTop[k] = f === undefined ? null : spentBy(f);
  }
  const total = recs.reduce((s, b) => s + ch(b), 0);
  const metrics: RunMetrics = {
    corpus: r.corpus.name, cores: r.cores, rho: r.rho, seed: r.seed, variant: r.variant,
    makespan_h: makespanH,
    utilisation: makespanH > 0 ? total / (r.cores * makespanH) : 0,
    core_hours: total,
    core_hours_calc: calc.reduce((s, b) => s + ch(b), 0),
    core_hours_outside_top_n: calc.filter((b) => !top.has(b.keys[0]!)).reduce((s, b) => s + ch(b), 0),
    top_n: topN,
    t_top_h: tTop,
    core_hours_top: chTop,
    static_runs: recs.filter((b) => b.stage === 'calc_static' && !b.cut).length,
    neb_runs: nebDone.length,
    broadenings: sim.report.broadened.length,
    priority_swaps: swaps,
    priority_fits: sim.events.filter((e) => e.event.type === 'priority-fit').length,
    sim_s: simS,
    cpu_s: cpuS,
    timers: sim.timers,
  };
  // Per step: busy cores of each stage over its allotment (fixed, fractured-shared: over the cluster).
  const n = r.steps;
  const dt = Math.max(end - sim.t0, 1) / n;
  const busy = new Map<string, Float64Array>(STUDY_STAGES.map((s) => [s, new Float64Array(n)]));
  for (const b of recs) {
    const arr = busy.get(b.stage)!;
    const lo = Math.floor((b.startMs - sim.t0) / dt);
    const hi = Math.min(n - 1, Math.floor((b.endMs - sim.t0) / dt));
    for (let i = Math.max(0, lo); i <= hi; i++) {
      const a = Math.max(b.startMs, sim.t0 + i * dt);
      const z = Math.min(b.endMs, sim.t0 + (i + 1) * dt);
      if (z > a) arr[i]! += b.cores * (z - a);
    }
  }
  const coresOf = (s: StudyStageName) => (s === 'calc_static' ? plan.staticCores : s === 'calc_neb' ? plan.nebCores : 1);
  const allot = (s: StudyStageName) => (fixed || r.variant === 'fractured-shared' ? r.cores : plan.workers[s] * coresOf(s));
  const steps: RunSeries['steps'] = [];
  let cum = 0;
  let fi = 0;
  for (let i = 0; i < n; i++) {
    const util: Record<string, number> = {};
    let all = 0;
    for (const s of STUDY_STAGES) {
      const v = busy.get(s)![i]!;
      util[s] = v / (allot(s) * dt);
      all += v;
    }
    cum += all / HOUR_MS;
    const tEnd = sim.t0 + (i + 1) * dt;
    while (fi < finds.length && finds[fi]! <= tEnd) fi++;
    steps.push({ t_h: ((i + 1) * dt) / HOUR_MS, util, total: all / (r.cores * dt), found: fi, core_hours: cum });
  }
  const found: [number, number][] = [[0, 0]];
  let k = 0;
  for (const b of byEnd) {
    if (b.stage === 'calc_neb' && !b.cut && top.has(b.keys[0]!)) found.push([spentBy(b.endMs), ++k]);
  }
  return { metrics, series: { steps, found } };
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(6);
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function runId(m: RunMetrics): string {
  return `${m.corpus}_c${m.cores}_rho${m.rho}_s${m.seed}_${m.variant}`;
}

export interface StudyResult {
  runs: RunMetrics[];
  files: string[];
}

/** Every (cores, ρ, variant) run; CSV, SVG and a summary table in `outDir`. */
export async function runStudy(o: StudyOptions, outDir: string): Promise<StudyResult> {
  const model = costModel(o.model);
  const variants = o.variants ?? STUDY_VARIANTS;
  const ks = o.ks ?? [10, 50, 100];
  const topN = o.topN ?? 100;
  const staticShare = o.staticShare ?? null;
  const neb = o.nebCutoffEv ?? DEFAULT_NEB_CUTOFF_EV;
  const tickMin = o.tickMin ?? null;
  const steps = o.steps ?? 200;
  if (!Number.isInteger(o.seed)) throw new RangeError(`study: seed must be an integer, got ${o.seed}`);
  if (tickMin !== null && !(tickMin > 0)) throw new RangeError(`study: tickMin must be positive, got ${tickMin}`);
  mkdirSync(outDir, { recursive: true });
  const runs: RunMetrics[] = [];
  const stepRows: string[] = [];
  const files: string[] = [];
  const write = (name: string, text: string) => {
    writeFileSync(join(outDir, name), text);
    if (!files.includes(name)) files.push(name);
  };
  const kCols = ks.flatMap((k) => [`t_top${k}_h`, `core_hours_top${k}`]);
  const head = ['run', 'corpus', 'cores', 'rho', 'seed', 'variant', 'makespan_h', 'utilisation', 'core_hours', 'core_hours_calc', 'core_hours_outside_top_n', 'top_n', ...kCols, 'static_runs', 'neb_runs', 'broadenings', 'priority_swaps', 'priority_fits', 'sim_s', 'cpu_s', 'timers'];
  // The tables are written again after every run: a long study interrupted keeps the runs it finished.
  const tables = () => {
    write('runs.csv', [head.join(','), ...runs.map((m) => [runId(m), m.corpus, m.cores, m.rho, m.seed, m.variant, m.makespan_h, m.utilisation, m.core_hours, m.core_hours_calc, m.core_hours_outside_top_n, m.top_n, ...ks.flatMap((k) => [m.t_top_h[k], m.core_hours_top[k]]), m.static_runs, m.neb_runs, m.broadenings, m.priority_swaps, m.priority_fits, m.sim_s, m.cpu_s, m.timers].map(csvCell).join(','))].join('\n') + '\n');
    write('steps.csv', [['run', 't_h', ...STUDY_STAGES.map((s) => `util_${s}`), 'util_cluster', 'top_n_found', 'core_hours'].join(','), ...stepRows].join('\n') + '\n');
    write('summary.md', summaryTable(runs, ks));
  };
  for (const rho of o.rho) {
    const corpus = buildCorpus({ size: o.corpus, rho, seed: o.seed, data: o.data, barriers: o.barriers });
    for (const cores of o.cores) {
      const foundSeries: Series[] = [];
      for (const variant of variants) {
        const { metrics, series } = await studyRun({ corpus, cores, rho, seed: o.seed, variant, model, staticShare, nebCutoffEv: neb, tickMin, topN, ks, steps });
        runs.push(metrics);
        o.log?.(summaryLine(metrics, ks));
        o.onRun?.(metrics);
        const id = runId(metrics);
        for (const s of series.steps) stepRows.push([id, s.t_h, ...STUDY_STAGES.map((st) => s.util[st]), s.total, s.found, s.core_hours].map(csvCell).join(','));
        tables();
        foundSeries.push({ label: variant, points: series.found });
        if (variant === 'fixed' || variant === 'fractured' || variant === 'fractured-shared') {
          const util: Series[] = STUDY_STAGES.map((st) => ({ label: st, points: series.steps.map((s) => [s.t_h, s.util[st]!] as [number, number]) }));
          util.push({ label: 'cluster', points: series.steps.map((s) => [s.t_h, s.total] as [number, number]) });
          write(`utilisation_${id}.svg`, linePlot({ title: `${variant}, ${cores} cores, ${corpus.name}: utilisation (${variant === 'fractured' ? 'of each allotment' : 'share of the cluster'})`, xLabel: 'time (h)', yLabel: 'utilisation', series: util, yMax: 1 }));
        }
        // Drawn again after each variant: an interrupted study keeps the plot of the runs it finished.
        write(`topk_${corpus.name}_c${cores}_rho${rho}_s${o.seed}.svg`, linePlot({ title: `top-${Math.min(topN, corpus.ranked.length)} pathways with a finished NEB, ${cores} cores, ρ = ${rho}`, xLabel: 'core-hours spent', yLabel: 'true top-N found', series: foundSeries }));
      }
    }
  }
  return { runs, files };
}

function fmtH(v: number | null): string {
  return v === null ? '—' : v >= 100 ? v.toFixed(0) : v.toFixed(1);
}

export function summaryLine(m: RunMetrics, ks: readonly number[]): string {
  return `${m.corpus} ${m.cores} cores ρ=${m.rho} ${m.variant}: makespan ${fmtH(m.makespan_h)} h, utilisation ${(100 * m.utilisation).toFixed(0)} %, ${ks.map((k) => `top-${k} ${fmtH(m.t_top_h[k] ?? null)} h`).join(', ')}, outside top-${m.top_n} ${m.core_hours_outside_top_n.toPrecision(3)} core-h (${m.sim_s.toFixed(1)} s simulated)`;
}

/** The summary table (Markdown). */
export function summaryTable(runs: readonly RunMetrics[], ks: readonly number[]): string {
  const head = ['corpus', 'cores', 'ρ', 'variant', 'makespan (h)', 'utilisation', ...ks.map((k) => `top-${k} NEB (h)`), 'core-h outside top-N', 'core-h total', 'NEB runs', 'broadenings'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const m of runs) {
    lines.push(`| ${[m.corpus, m.cores, m.rho, m.variant, fmtH(m.makespan_h), `${(100 * m.utilisation).toFixed(0)} %`, ...ks.map((k) => fmtH(m.t_top_h[k] ?? null)), m.core_hours_outside_top_n.toPrecision(3), m.core_hours.toPrecision(3), m.neb_runs, m.broadenings].join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}

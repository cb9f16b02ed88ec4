/**
 * The architecture study (`fracflow study architecture`) as a benchmark: what it finds and what it
 * costs to simulate.
 *
 * 1. `bundled`: the bundled set's measured costs (882 structures, 3,839 pathways) on clusters of 64,
 *    1,000 and 10,000 cores, ρ = 0.3, 0.6, 0.9, every variant, seed 1 — the study's own figures;
 * 2. `scale`: a 10,000-structure corpus (the bundled set repeated) on 10,000 cores, ρ = 0.6, fixed and
 *    fractured: the wall-clock and CPU seconds one simulated run takes (the feasibility target is
 *    minutes per run).
 *
 * The simulations are deterministic; only their wall and CPU times depend on the machine (and on its
 * load: the load averages are recorded). `FRACFLOW_BENCH_QUICK=1`: 64 and 1,000 cores, ρ = 0.6, and a
 * 2,000-structure scale run. Writes bench/results/study.json; `npm run bench:report` renders it.
 */
import { loadavg, tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildCorpus } from '../src/workflow/study/corpus.js';
import { costModel } from '../src/workflow/study/cost-model.js';
import { DEFAULT_NEB_CUTOFF_EV, runStudy, studyRun, summaryLine, type RunMetrics, type StudyVariant } from '../src/workflow/study/study.js';
import { quick, writeResults } from './common.js';

const KS = [10, 50, 100];

async function main(): Promise<void> {
  const load0 = loadavg();
  const out = mkdtempSync(join(tmpdir(), 'fracflow-study-bench-'));
  let runs: RunMetrics[];
  try {
    const r = await runStudy({ corpus: 'bundled', cores: quick ? [64, 1000] : [64, 1000, 10000], rho: quick ? [0.6] : [0.3, 0.6, 0.9], seed: 1, log: (l) => console.log(l) }, out);
    runs = r.runs;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  const size = quick ? 2000 : 10000;
  const scale: (RunMetrics & { wall_s: number; cpu_s: number; pathways: number })[] = [];
  const corpus = buildCorpus({ size, rho: 0.6, seed: 1 });
  for (const variant of ['fractured', 'fixed'] as StudyVariant[]) {
    const t = performance.now();
    const c = process.cpuUsage();
    const { metrics } = await studyRun({ corpus, cores: 10000, rho: 0.6, seed: 1, variant, model: costModel(), staticShare: null, nebCutoffEv: DEFAULT_NEB_CUTOFF_EV, tickMin: null, topN: 100, ks: KS, steps: 200 });
    const cpu = process.cpuUsage(c);
    const row = { ...metrics, wall_s: (performance.now() - t) / 1000, cpu_s: (cpu.user + cpu.system) / 1e6, pathways: corpus.pathways.size };
    console.log(`${summaryLine(metrics, KS)}; wall ${row.wall_s.toFixed(1)} s, CPU ${row.cpu_s.toFixed(1)} s`);
    scale.push(row);
  }
  writeResults('study', { load_average_start: load0, load_average_end: loadavg(), ks: KS, runs, scale });
}

await main();

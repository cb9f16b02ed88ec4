/**
 * The architecture study (`fracflow study architecture`) as a benchmark: what it finds and what it
 * costs to simulate. Two parts, seed 1:
 *
 * 1. `bundled`: the bundled set's measured costs (882 structures, 3,839 pathways) on clusters of 64,
 *    1,000 and 10,000 cores, ρ = 0.3, 0.6, 0.9, every variant;
 * 2. `corpus`: a 10,000-structure corpus (the bundled set repeated under new keys) on 64, 1,000 and
 *    10,000 cores, ρ = 0.3 and 0.9, the variants fixed, fractured, fractured-swap (priority swapped
 *    mid-run), fractured-no-broadening and fractured-shared (admission order and the learned priority are left to the
 *    bundled part), one part per cluster size and ρ (results under corpus-10000/c<cores>-rho<ρ>/). Each run's
 *    wall and CPU seconds are recorded: the 10,000-core runs are the feasibility figure.
 *
 * The study's own files (runs.csv, steps.csv at 50 time steps, summary.md, the SVG plots) go to
 * bench/results/study/<corpus>/ and are committed with bench/results/study.json. The simulations are
 * deterministic; only their wall and CPU times depend on the machine and its load (recorded).
 *
 * A part can be run alone and some of its cells left out, so that a long study can be run in pieces:
 * `FRACFLOW_STUDY_PARTS=bundled,corpus`, and for the corpus part `FRACFLOW_STUDY_CORES=64,1000`,
 * `FRACFLOW_STUDY_RHO=0.9`, `FRACFLOW_STUDY_VARIANTS=fixed,fractured`. A part that runs replaces that
 * part's results (files and JSON); the others are kept as they were (each cluster size and ρ of the
 * corpus is a part of its own). `FRACFLOW_BENCH_QUICK=1`: the
 * bundled part on 64 and 1,000 cores at ρ 0.6, and a 2,000-structure corpus on 10,000 cores.
 */
import { loadavg } from 'node:os';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runStudy, STUDY_VARIANTS, type RunMetrics, type StudyVariant } from '../src/workflow/study/study.js';
import { benchDir, quick, writeResults } from './common.js';

const KS = [10, 50, 100];
const STEPS = 50;

export interface StudyPart {
  corpus: string;
  /** The cells asked for (cores, ρ, variants); runs lists those that finished. */
  cores: number[];
  rho: number[];
  variants: StudyVariant[];
  load_average_start: number[];
  load_average_end: number[];
  date: string;
  /** Where its files are, relative to the repository. */
  dir: string;
  runs: RunMetrics[];
}

function listEnv<T>(name: string, parse: (s: string) => T, fallback: T[]): T[] {
  const v = process.env[name];
  if (!v) return fallback;
  return v.split(',').map((s) => parse(s.trim()));
}

function variantOf(s: string): StudyVariant {
  if (!(STUDY_VARIANTS as readonly string[]).includes(s)) throw new Error(`FRACFLOW_STUDY_VARIANTS: no variant ${JSON.stringify(s)} (variants: ${STUDY_VARIANTS.join(', ')})`);
  return s as StudyVariant;
}

function numberOf(name: string): (s: string) => number {
  return (s) => {
    const n = Number(s);
    if (!Number.isFinite(n)) throw new Error(`${name}: not a number: ${JSON.stringify(s)}`);
    return n;
  };
}

async function main(): Promise<void> {
  const file = join(benchDir, 'results', 'study.json');
  const before = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { parts?: Record<string, StudyPart> }) : {};
  const parts: Record<string, StudyPart> = { ...(before.parts ?? {}) };
  const which = listEnv('FRACFLOW_STUDY_PARTS', (s) => s, ['bundled', 'corpus']);
  const save = () => writeResults('study', { ks: KS, steps: STEPS, parts });
  const runPart = async (key: string, corpus: 'bundled' | number, cores: number[], rho: number[], variants: StudyVariant[], sub = '') => {
    const name = corpus === 'bundled' ? 'bundled' : `corpus-${corpus}`;
    const dir = join(benchDir, 'results', 'study', name, sub);
    rmSync(dir, { recursive: true, force: true });
    const part: StudyPart = { corpus: name, cores, rho, variants, load_average_start: loadavg(), load_average_end: loadavg(), date: new Date().toISOString(), dir: `bench/results/study/${name}${sub ? `/${sub}` : ''}`, runs: [] };
    parts[key] = part;
    await runStudy({
      corpus, cores, rho, seed: 1, variants, ks: KS, steps: STEPS,
      log: (l) => console.log(l),
      onRun: (m) => {
        part.runs.push(m);
        part.load_average_end = loadavg();
        save();
      },
    }, dir);
  };
  if (which.includes('bundled')) {
    await runPart('bundled', 'bundled', quick ? [64, 1000] : [64, 1000, 10000], quick ? [0.6] : [0.3, 0.6, 0.9], [...STUDY_VARIANTS]);
  }
  if (which.includes('corpus')) {
    const cores = listEnv('FRACFLOW_STUDY_CORES', numberOf('FRACFLOW_STUDY_CORES'), quick ? [10000] : [64, 1000, 10000]);
    const rho = listEnv('FRACFLOW_STUDY_RHO', numberOf('FRACFLOW_STUDY_RHO'), quick ? [0.6] : [0.3, 0.9]);
    const variants = listEnv('FRACFLOW_STUDY_VARIANTS', variantOf, quick ? ['fixed', 'fractured', 'fractured-shared'] as StudyVariant[] : ['fixed', 'fractured', 'fractured-swap', 'fractured-no-broadening', 'fractured-shared'] as StudyVariant[]);
    // One part per cluster size and ρ (its own folder), so that they can be run one at a time.
    for (const r of rho) for (const c of cores) await runPart(`corpus-c${c}-rho${r}`, quick ? 2000 : 10000, [c], [r], variants, `c${c}-rho${r}`);
  }
  save();
}

await main();

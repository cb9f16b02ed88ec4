/**
 * `fracflow study architecture`: the fixed-workflow and the fractured architecture on the same work,
 * simulated with the real engine on a virtual clock (src/workflow/study/).
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { resolve } from 'node:path';
import { readBarriersCsv } from '../../workflow/study/corpus.js';
import { runStudy, STUDY_VARIANTS, type StudyVariant } from '../../workflow/study/study.js';

/** A comma-separated list of numbers, each checked; the message names the option and the value. */
function numberList(name: string, check: (x: number) => boolean, what: string) {
  return (v: string): number[] => {
    const xs = v.split(',').map((s) => s.trim());
    if (xs.length === 0 || xs.some((s) => s === '')) throw new InvalidArgumentError(`${name} must be a comma-separated list of ${what}, got ${JSON.stringify(v)}`);
    return xs.map((s) => {
      const x = Number(s);
      if (!Number.isFinite(x) || !check(x)) throw new InvalidArgumentError(`${name} must be a comma-separated list of ${what}, got ${JSON.stringify(s)} in ${JSON.stringify(v)}`);
      return x;
    });
  };
}

function corpusOption(v: string): 'bundled' | number {
  if (v === 'bundled') return v;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`--corpus must be 'bundled' or a positive integer (structures), got ${JSON.stringify(v)}`);
  return n;
}

function variantList(v: string): StudyVariant[] {
  const xs = v.split(',').map((s) => s.trim());
  for (const x of xs) if (!(STUDY_VARIANTS as readonly string[]).includes(x)) throw new InvalidArgumentError(`--variants: unknown variant ${JSON.stringify(x)} (choose from ${STUDY_VARIANTS.join(', ')})`);
  return xs as StudyVariant[];
}

interface StudyOpts {
  corpus: 'bundled' | number;
  cores: number[];
  rho: number[];
  seed: number;
  variants?: StudyVariant[];
  barriers?: string;
  topN: number;
  staticShare: number;
  tickMin: number;
  out: string;
}

export function register(program: Command): void {
  const study = program.command('study').description('simulated experiments with the real engine on a virtual clock');
  study
    .command('architecture')
    .description('fixed-workflow against fractured scheduling of the screen plus DFT (static, NEB) on simulated clusters: makespan, utilisation, time to the true top-k, core-hours off the top-N; CSV, SVG, summary')
    .addOption(new Option('--corpus <bundled|N>', "the bundled set's measured costs, or N structures (the bundled set repeated)").argParser(corpusOption).default('bundled'))
    .option('--cores <list>', 'cluster sizes (cores)', numberList('--cores', (x) => Number.isInteger(x) && x >= 8, 'integers ≥ 8'), [64, 1000, 10000])
    .option('--rho <list>', 'correlation of the true barrier with the cheap descriptors', numberList('--rho', (x) => x >= 0 && x <= 1, 'numbers within 0–1'), [0.3, 0.6, 0.9])
    .option('--seed <n>', 'seed of the synthetic truth and the cost spread', numberList('--seed', (x) => Number.isInteger(x), 'integers'), [1])
    .option('--variants <list>', `runs per cluster and ρ (default all: ${STUDY_VARIANTS.join(', ')})`, variantList)
    .option('--barriers <csv>', 'real barriers (columns pathway, barrier_ev; pathway ids <structure id>#<index>) replacing the synthetic ones')
    .option('--top-n <n>', 'the N truly best pathways followed', numberList('--top-n', (x) => Number.isInteger(x) && x >= 1, 'positive integers'), [100])
    .option('--static-share <x>', "share of the calculation cores for calc_static (fractured); default the static design's share of the expected calculation core-hours", numberList('--static-share', (x) => x > 0 && x < 1, 'numbers within (0, 1)'))
    .option('--tick-min <m>', "the engine's control tick, virtual minutes; default a thousandth of the longest makespan the cluster could need, within 1 minute – 1 day", numberList('--tick-min', (x) => x > 0, 'positive numbers'))
    .requiredOption('--out <dir>', 'output folder (runs.csv, steps.csv, SVG plots, summary.md)')
    .action(async (o: StudyOpts & { seed: number[] | number; topN: number[] | number; staticShare?: number[] | number; tickMin?: number[] | number }) => {
      const one = (v: number[] | number, name: string) => {
        if (typeof v === 'number') return v;
        if (v.length !== 1) throw new InvalidArgumentError(`${name} takes one value, got ${v.join(',')}`);
        return v[0]!;
      };
      const barriers = o.barriers ? readBarriersCsv(o.barriers) : undefined;
      const out = resolve(o.out);
      const r = await runStudy(
        {
          corpus: o.corpus, cores: o.cores, rho: o.rho, seed: one(o.seed, '--seed'), variants: o.variants, barriers,
          topN: one(o.topN, '--top-n'),
          ...(o.staticShare !== undefined ? { staticShare: one(o.staticShare, '--static-share') } : {}),
          ...(o.tickMin !== undefined ? { tickMin: one(o.tickMin, '--tick-min') } : {}),
          log: (l) => console.log(l),
        },
        out,
      );
      console.log(`${r.runs.length} runs; wrote ${r.files.length} files to ${out} (summary.md, runs.csv, steps.csv, *.svg)`);
    });
}

/**
 * `fracflow priority STAGE --model ridge --target TABLE.COLUMN --features a,b,c`: fit a learned
 * priority on the finished rows of a downstream stage and swap it in as the stage's priority (running
 * engines adopt it within a tick); with `--every K`, keep watching and refit after every K new
 * finished target rows until the stage has nothing pending or running.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { openQueue } from '../../store/index.js';
import { LEARNED_MODELS, LearnedPriority, type LearnedModel, type PriorityFit } from '../../engine/engine.js';
import { dbOption } from '../common.js';

function targetOption(v: string): { table: string; column: string } {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(v);
  if (!m) throw new InvalidArgumentError(`--target must be TABLE.COLUMN (e.g. calc_static.barrier_ev), got ${JSON.stringify(v)}`);
  return { table: m[1]!, column: m[2]! };
}

function featuresOption(v: string): string[] {
  const xs = v.split(',').map((s) => s.trim());
  if (xs.some((x) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(x))) throw new InvalidArgumentError(`--features must be a comma-separated list of column names, got ${JSON.stringify(v)}`);
  return xs;
}

function positive(name: string, integer: boolean, allowZero = false) {
  return (v: string): number => {
    const x = Number(v);
    if (!Number.isFinite(x) || (integer && !Number.isInteger(x)) || x < 0 || (x === 0 && !allowZero)) throw new InvalidArgumentError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} ${integer ? 'integer' : 'number'}, got ${JSON.stringify(v)}`);
    return x;
  };
}

function describe(f: PriorityFit): string {
  const coef = f.features.map((n, j) => `${n} ${f.coefficients[j]!.toPrecision(4)}`).join(', ');
  return `${f.stage}: ${f.model} fit of ${f.target} on ${f.rows} rows (R² ${f.r2.toFixed(3)}, RMSE ${f.rmse.toPrecision(3)}; intercept ${f.intercept.toPrecision(4)}, ${coef}); priority ${f.expression}`;
}

interface PriorityOpts {
  db: string;
  model: LearnedModel;
  target: { table: string; column: string };
  features: string[];
  alpha: number;
  every?: number;
  pollS: number;
  highFirst?: boolean;
}

export function register(program: Command): void {
  program
    .command('priority')
    .description("learned priority: fit a model of a downstream stage's result on the stage's columns and swap it in as the stage's priority (running engines adopt it); --every K refits as results arrive")
    .argument('<stage>', 'the stage whose queue is ranked')
    .addOption(new Option('--model <model>', 'model').choices([...LEARNED_MODELS]).makeOptionMandatory())
    .requiredOption('--target <table.column>', 'finished downstream rows fitted, e.g. calc_static.barrier_ev', targetOption)
    .requiredOption('--features <list>', "columns of the stage's table the model reads (its input columns: pending rows have them)", featuresOption)
    .option('--alpha <x>', 'ridge penalty on the standardised features', positive('--alpha', false, true), 1)
    .option('--every <k>', 'keep watching: refit after every K new finished target rows', positive('--every', true))
    .option('--poll-s <s>', 'with --every: seconds between looks', positive('--poll-s', false), 10)
    .option('--high-first', 'a higher target value ranks first (default: lower first, as for barriers)')
    .addOption(dbOption())
    .action(async (stage: string, o: PriorityOpts) => {
      const store = await openQueue(o.db);
      try {
        const names = await store.stageNames();
        if (!names.includes(stage)) throw new InvalidArgumentError(`priority: no stage ${JSON.stringify(stage)} in ${o.db} (stages: ${names.join(', ') || 'none'})`);
        const lp = new LearnedPriority(store, { stage, model: o.model, target: o.target, features: o.features, alpha: o.alpha, every: o.every ?? 1, lowerFirst: !o.highFirst });
        const first = await lp.fit(Date.now());
        if (first) console.log(describe(first));
        else console.log(`${stage}: fewer than ${lp.spec.minRows} finished ${o.target.table} rows with every feature; no fit yet`);
        if (o.every === undefined) {
          if (!first) process.exitCode = 1;
          return;
        }
        for (;;) {
          const c = await store.counts(stage);
          if (c.pending === 0 && c.running === 0) break;
          await new Promise((r) => setTimeout(r, o.pollS * 1000));
          const f = await lp.refitIfDue(Date.now());
          if (f) console.log(describe(f));
        }
        console.log(`${stage}: nothing pending or running; ${lp.fits.length} fits`);
      } finally {
        await store.close();
      }
    });
}

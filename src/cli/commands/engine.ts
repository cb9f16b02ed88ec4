/**
 * `fracflow engine run` / `enqueue` / `priority`: run declared stages over the store (fractured or
 * fixed-workflow mode), put entities into a source stage, swap a stage's priority while it runs.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { dbOption } from '../common.js';
import { Engine, haltMessage } from '../../engine/engine.js';
import { SignalStop } from '../signals.js';
import { selectStages } from '../../engine/load.js';
import { openQueueStore } from '../../store/index.js';
import type { ProgressMode } from '../../engine/progress.js';

function positiveInt(name: string) {
  return (v: string): number => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got ${JSON.stringify(v)}`);
    return x;
  };
}

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

export function register(program: Command): void {
  const engine = program.command('engine').description('run workflow stages over the store (each stage its own table, queue and worker pool)');
  engine
    .command('run')
    .description('run stages until every queue is exhausted (Ctrl-C stops cleanly: claimed rows go back unrun)')
    .requiredOption('--module <path>', 'module that declares the stages (defineStage exports)')
    .option('--only <stages>', 'comma-separated stage names (default: every stage the module exports)', list)
    .addOption(new Option('--mode <mode>', 'fractured: a pool and queue per stage; fixed: each entity through all stages depth-first').choices(['fractured', 'fixed']).default('fractured'))
    .option('--workflows <n>', 'fixed mode: workflows run at a time', positiveInt('--workflows'), 2)
    .addOption(new Option('--progress <mode>', 'progress on stderr').choices(['auto', 'bars', 'lines', 'off']).default('auto'))
    .option('--progress-every <s>', 'seconds between plain progress lines', positiveInt('--progress-every'), 10)
    .option('--tick-ms <ms>', 'sweep/control interval in ms', positiveInt('--tick-ms'), 250)
    .option('--json', 'print the run report as JSON')
    .addOption(dbOption())
    .action(async (opts: { module: string; only?: string[]; mode: 'fractured' | 'fixed'; workflows: number; progress: ProgressMode; progressEvery: number; tickMs: number; json?: boolean; db: string }) => {
      const stages = await selectStages(opts.module, opts.only);
      const e = await Engine.open({ db: opts.db, stages, progress: opts.progress, progressEverySec: opts.progressEvery, tickMs: opts.tickMs });
      const stop = new AbortController();
      const signals = new SignalStop(stop);
      signals.hardStop = () => e.abandon();
      try {
        const r = await e.run({ mode: opts.mode, workflows: opts.workflows, signal: stop.signal });
        if (opts.json) console.log(JSON.stringify(r));
        else {
          console.log(`${r.mode} run ${r.stopped ? 'stopped' : 'finished'} in ${(r.wallMs / 1000).toFixed(2)} s`);
          for (const [name, s] of Object.entries(r.stages)) console.log(`  ${name}: ${s.rowsDone} rows done in ${s.tasks} batches, ${s.rowsFailedAttempts} failed attempts`);
          for (const b of r.broadened) console.log(`  broadened ${b.stage}.${b.name}: ${b.from} -> ${b.to}`);
          if (r.stopped) console.log(`  ${r.released} rows in flight were given back unrun; run again to resume`);
        }
        for (const h of r.halted) console.error(`fracflow: ${h.stage} halted: ${haltMessage(h)}; its rows were given back unrun: free space or fix the permission, then run again`);
        if (r.stopped) process.exitCode = signals.exitCode ?? 1;
        else if (r.halted.length > 0) process.exitCode = 1;
      } finally {
        signals.dispose();
        await e.close();
      }
    });
  engine
    .command('priority')
    .description("swap a stage's priority for a SQL expression over its columns (higher first); pending rows are re-scored and running engines adopt it")
    .argument('<stage>', 'stage table')
    .argument('<expr>', 'SQL expression, e.g. "1.0 / (1 + hop_length_ang)" (one starting with "-" goes after --)')
    .addOption(dbOption())
    .action(async (stage: string, expr: string, opts: { db: string }) => {
      const store = openQueueStore(opts.db);
      try {
        const r = await store.setPriority(stage, expr);
        console.log(`${stage}: priority ${JSON.stringify(r.from)} -> ${JSON.stringify(expr)}, ${r.rescored} pending rows re-scored`);
      } finally {
        await store.close();
      }
    });
  engine
    .command('enqueue')
    .description('put entities into a source stage from a JSON-lines file (one object with "key" and the input columns per line; existing keys are kept)')
    .requiredOption('--module <path>', 'module that declares the stage')
    .argument('<stage>', 'source stage')
    .argument('<file>', 'JSON-lines file, or - for stdin')
    .addOption(dbOption())
    .action(async (stage: string, file: string, opts: { module: string; db: string }) => {
      const stages = await selectStages(opts.module, [stage]);
      const text = readFileSync(file === '-' ? 0 : file, 'utf8');
      const rows = text.split('\n').map((l, i) => [l.trim(), i + 1] as const).filter(([l]) => l).map(([l, n]) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch (e) {
          throw new InvalidArgumentError(`${file}:${n}: not JSON: ${(e as Error).message}`);
        }
      });
      const e = await Engine.open({ db: opts.db, stages });
      try {
        const added = await e.enqueue(stage, rows);
        console.log(`${stage}: ${added.length} added, ${rows.length - added.length} already there`);
      } finally {
        await e.close();
      }
    });
}

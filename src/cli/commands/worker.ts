/**
 * `fracflow worker --db STORE --stage S`: one stage's pool in one process, on any host that reaches the
 * store. The stage comes from the store's registration (seeded by `fracflow screen --seed-only` or any
 * command that declared it), so the host needs fracflow and the stage's module, nothing else.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { dbOption } from '../common.js';
import { Engine, haltMessage } from '../../engine/engine.js';
import { registeredStage } from '../../engine/load.js';
import { batchJobOfEnv } from '../../engine/batch.js';
import { openQueue, type QueueStore } from '../../store/index.js';
import type { Stage } from '../../stage-kit/stage.js';
import { messageOf } from '../../engine/runtime.js';
import { SignalStop } from '../signals.js';
import { trackProcessGroups } from '../../engine/executor.js';
import { trackBatchJobs } from '../../engine/batch-executor.js';

function positiveInt(name: string, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    const x = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(x) || x < 1 || x > max) throw new InvalidArgumentError(`${name} must be an integer from 1 to ${max}, got ${JSON.stringify(v)}`);
    return x;
  };
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration: `90` (seconds), `500ms`, `30s`, `10m`, `2h`. */
export function parseDurationMs(name: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  const ms = m ? Number(m[1]) * UNIT_MS[m[2] ?? 's']! : NaN;
  if (!(ms > 0) || !Number.isFinite(ms)) throw new InvalidArgumentError(`${name} must be a duration such as 90, 30s, 10m or 2h, got ${JSON.stringify(v)}`);
  return ms;
}

interface WorkerOpts {
  db: string;
  stage: string;
  threads: number;
  maxRows?: number;
  idleExit?: number;
  module?: string;
  job?: string;
  tickMs: number;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('worker')
    .description('run one stage\'s pool in this process until the stage is exhausted (or --max-rows, --idle-exit); registered in the store, shown by `status`, resized by `scale`; SIGTERM gives the rows in hand back and exits 0')
    .requiredOption('--stage <name>', 'the stage to work on (registered in the store)')
    .option('--threads <n>', 'worker threads (its allotment until `scale` changes it)', positiveInt('--threads', 1024), 1)
    .option('--max-rows <k>', 'exit after finishing this many rows', positiveInt('--max-rows'))
    .option('--idle-exit <duration>', 'exit after this long with nothing to claim (e.g. 10m, 90s)', (v) => parseDurationMs('--idle-exit', v))
    .option('--module <path>', 'the stage module at its path on this host (default: the path registered in the store)')
    .option('--job <id>', 'the batch job this worker runs in (default: from SLURM_* / PBS_* variables)')
    .option('--tick-ms <ms>', 'sweep/control/heartbeat interval in ms', positiveInt('--tick-ms', 60_000), 250)
    .option('--json', 'print the run report as JSON')
    .addOption(dbOption())
    .action(async (opts: WorkerOpts) => {
      const store = await openQueue(opts.db);
      let e: Engine;
      try {
        const stage = await registeredStage(store, opts.stage, opts.module);
        e = await Engine.open({
          db: store, stages: [stage], admitFor: await downstreamStages(store, stage), tickMs: opts.tickMs, worker: { threads: opts.threads, job: opts.job ?? batchJobOfEnv(process.env) },
          events: (ev) => {
            if (ev.type === 'scale') process.stderr.write(`fracflow: worker ${e.workerId}: ${ev.stage}: threads ${ev.from} -> ${ev.to} (scale)\n`);
          },
        });
      } catch (err) {
        await store.close();
        throw err;
      }
      // Programs and batch jobs a stage's executor started (the calc stages) end with the worker.
      const groups = trackProcessGroups();
      const jobs = trackBatchJobs();
      const stop = new AbortController();
      const signals = new SignalStop(stop);
      signals.hardStop = () => e.abandon();
      try {
        const r = await e.run({ signal: stop.signal, maxRows: opts.maxRows, idleExitMs: opts.idleExit });
        const s = r.stages[opts.stage]!;
        if (opts.json) console.log(JSON.stringify({ worker: e.workerId, ...r }));
        else {
          console.log(`worker ${e.workerId}: ${opts.stage}: ${s.rowsDone} rows done, ${s.rowsFailedAttempts} failed attempts in ${(r.wallMs / 1000).toFixed(1)} s; ended: ${r.ended ?? 'exhausted'}`);
          if (r.stopped) console.log(`  ${r.released} rows in hand were given back unrun`);
        }
        for (const h of r.halted) console.error(`fracflow: ${h.stage} halted: ${haltMessage(h)}; its rows were given back unrun`);
        // SIGTERM is how a batch system ends a job (scancel, a wall time): the rows went back, a clean end.
        if (r.stopped) process.exitCode = signals.exitCode === 143 ? 0 : signals.exitCode ?? 1;
        else if (r.halted.length > 0) process.exitCode = 1;
      } finally {
        groups.killAll();
        groups.close();
        jobs.cancelAll();
        jobs.close();
        signals.dispose();
        await store.close();
      }
    });
}

/**
 * The registered stages fed by `stage` (its table or the table it emits): the worker admits their rows
 * in the unit of work that finishes its own. A downstream stage whose module does not load on this host
 * is left to its own workers, which admit on their tick (said on stderr).
 */
async function downstreamStages(store: QueueStore, stage: Stage): Promise<Stage[]> {
  const feeds = new Set([stage.name, ...(stage.emits ? [stage.emits.table] : [])]);
  const out: Stage[] = [];
  for (const name of await store.stageNames()) {
    if (name === stage.name) continue;
    const reg = await store.registration(name);
    const from = (reg?.spec['input'] as { from?: string } | undefined)?.from;
    if (!reg || !from || !feeds.has(from)) continue;
    try {
      out.push(await registeredStage(store, name));
    } catch (err) {
      process.stderr.write(`fracflow: worker: stage ${name} (fed by ${stage.name}) is admitted by its own workers: ${messageOf(err)}\n`);
    }
  }
  return out;
}

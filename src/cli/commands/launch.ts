/**
 * `fracflow launch slurm|pbs --stage S ...`: write a job-array script whose tasks each run `fracflow
 * worker` for the stage; `--submit` submits it and records the job in the store (status lists it);
 * `--keep N` tops the stage's queued tasks (recorded jobs still pending or running) up to N.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dbOption } from '../common.js';
import { openQueue } from '../../store/index.js';
import { describeStates, launchScript, liveTasks, queueStates, storeLocationForJobs, submitScript, type LaunchSpec, type Scheduler } from '../../engine/batch.js';
import { parseDurationMs } from './worker.js';

interface LaunchOpts {
  db: string;
  stage: string;
  workers?: number;
  cpusPerWorker: number;
  time: string;
  partition?: string;
  account?: string;
  out: string;
  submit?: boolean;
  keep?: number;
  maxRows?: number;
  idleExit?: string;
  module?: string;
}

function positiveInt(name: string) {
  return (v: string): number => {
    const x = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(x) || x < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got ${JSON.stringify(v)}`);
    return x;
  };
}

/**
 * node and the CLI entry of this fracflow, absolute, for the compute nodes: the compiled entry, or the
 * TypeScript one with tsx's loader when this process runs from source.
 */
function fracflowEntry(): string[] {
  const self = fileURLToPath(import.meta.url);
  const entry = resolve(self, '..', '..', self.endsWith('.ts') ? 'index.ts' : 'index.js');
  if (!entry.endsWith('.ts')) return [entry];
  return ['--import', fileURLToPath(import.meta.resolve('tsx')), entry];
}

function register1(parent: Command, scheduler: Scheduler): void {
  const what = scheduler === 'slurm' ? 'an sbatch job array' : 'a PBS array job';
  parent
    .command(scheduler)
    .description(`write ${what} whose tasks each run \`fracflow worker\` for one stage (--submit: submit it and record the job in the store)`)
    .requiredOption('--stage <name>', 'the stage the workers run')
    .option('--workers <n>', 'array tasks: one worker process each (default 1; with --keep, the queue is topped up to --keep instead)', positiveInt('--workers'))
    .option('--cpus-per-worker <c>', 'CPUs of each task (= the worker\'s threads)', positiveInt('--cpus-per-worker'), 1)
    .requiredOption('--time <HH:MM:SS>', 'wall time of each task')
    .option('--partition <name>', scheduler === 'slurm' ? 'Slurm partition' : 'PBS queue (-q)')
    .option('--account <name>', scheduler === 'slurm' ? 'Slurm account' : 'PBS account (-A)')
    .option('--out <dir>', 'folder of the script and the task logs', 'fracflow-jobs')
    .option('--submit', `submit it (${scheduler === 'slurm' ? 'sbatch' : 'qsub'}) and record the job id in the store`)
    .option('--keep <n>', 'submit only what tops the stage\'s queued tasks (recorded jobs still pending or running) up to n (implies --submit)', positiveInt('--keep'))
    .option('--max-rows <k>', 'each worker exits after this many rows', positiveInt('--max-rows'))
    .option('--idle-exit <duration>', 'each worker exits after this long with nothing to claim (e.g. 10m)')
    .option('--module <path>', 'the stage module at its path on the nodes (default: the registered one)')
    .addOption(dbOption())
    .action(async (opts: LaunchOpts) => {
      if (opts.idleExit !== undefined) parseDurationMs('--idle-exit', opts.idleExit);
      // An SQLite store is a file on a filesystem the nodes share: its absolute path.
      const db = /^postgres(ql)?:\/\//i.test(opts.db) ? storeLocationForJobs(opts.db) : opts.db === ':memory:' ? (() => { throw new InvalidArgumentError('--db: workers on other hosts cannot share :memory:; give a store file on a shared filesystem or a PostgreSQL URL'); })() : resolve(opts.db);
      const outDir = resolve(opts.out);
      const store = await openQueue(opts.db);
      try {
        if (!(await store.registration(opts.stage))) {
          const names = await store.stageNames();
          throw new InvalidArgumentError(`--stage: no stage named ${JSON.stringify(opts.stage)} in ${store.location} (stages: ${names.join(', ') || 'none yet: seed the store first, e.g. `fracflow screen --seed-only`'})`);
        }
        let workers = opts.workers ?? 1;
        if (opts.keep !== undefined) {
          const recorded = (await store.jobs(opts.stage)).filter((j) => j.scheduler === scheduler);
          const states = queueStates(scheduler, recorded.map((j) => j.jobId));
          await store.setJobStates(scheduler, recorded.map((j) => ({ jobId: j.jobId, state: describeStates(states.get(j.jobId)) })));
          const live = recorded.reduce((n, j) => n + liveTasks(scheduler, states.get(j.jobId) ?? new Map()), 0);
          workers = opts.keep - live;
          if (workers <= 0) {
            console.log(`${opts.stage}: ${live} tasks pending or running, --keep ${opts.keep}: nothing submitted`);
            return;
          }
        }
        const spec: LaunchSpec = {
          scheduler, stage: opts.stage, workers, cpusPerWorker: opts.cpusPerWorker, time: opts.time, partition: opts.partition, account: opts.account,
          db, outDir, node: process.execPath, entry: fracflowEntry(), maxRows: opts.maxRows, idleExit: opts.idleExit,
          module: opts.module === undefined ? undefined : isAbsolute(opts.module) ? opts.module : resolve(opts.module),
        };
        const text = launchScript(spec);
        mkdirSync(outDir, { recursive: true });
        const script = join(outDir, `${opts.stage}-${Date.now()}.${scheduler === 'slurm' ? 'sbatch' : 'pbs'}`);
        writeFileSync(script, text, { mode: 0o700 });
        if (!opts.submit && opts.keep === undefined) {
          console.log(`wrote ${script} (${workers} workers of ${opts.stage}); submit it with ${scheduler === 'slurm' ? 'sbatch' : 'qsub'} ${script}, or run this command with --submit`);
          return;
        }
        const jobId = submitScript(scheduler, script);
        await store.recordJob({ scheduler, jobId, stage: opts.stage, tasks: workers, script, submittedAt: Date.now() });
        console.log(`submitted ${scheduler} job ${jobId}: ${workers} workers of ${opts.stage} (${script})`);
      } finally {
        await store.close();
      }
    });
}

export function register(program: Command): void {
  const launch = program.command('launch').description('run stage workers through a batch scheduler (Slurm, PBS) as job arrays');
  register1(launch, 'slurm');
  register1(launch, 'pbs');
}

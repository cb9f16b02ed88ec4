/**
 * Executors that run each program as its own batch job (the pattern of jobflow-remote, for clusters
 * whose compute nodes cannot reach the store): the run folder's command goes into a job script there,
 * `sbatch` (or `qsub`) submits it with the folder as working directory, the output to
 * `fracflow-job.log` in the folder, and a wall time of the run's limit plus its kill grace rounded up
 * to whole minutes; the worker then follows the job with `squeue` (`sacct` once squeue has forgotten
 * it) or `qstat`, and when it ends hands the log to the caller's output tail.
 *
 * The run's time limit is kept to the second from the moment the job is seen running (the scheduler
 * counts whole minutes): past it the job is cancelled and the run is a timeout, as is a job the
 * scheduler ended at its own limit. A job that waits in the queue longer than the caller's lease is
 * ended by the engine like any batch past its lease; jobs still queued or running when the process
 * stops are cancelled by {@link trackBatchJobs} in the main thread (a worker thread ended by the
 * engine runs no JavaScript on the way out).
 */
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BroadcastChannel } from 'node:worker_threads';
import { localExecutor } from './executor.js';
import { checkBatchOptions, type BatchOptions, type Executor, type ExecutorKind, type RunOptions, type RunOutcome } from '../stage-kit/exec.js';
import { formatWall, type Scheduler } from './batch.js';

const JOBS_CHANNEL = 'fracflow.batch-jobs';
let announcer: BroadcastChannel | null = null;

function announce(scheduler: Scheduler, jobId: string, live: boolean): void {
  if (!announcer) {
    announcer = new BroadcastChannel(JOBS_CHANNEL);
    (announcer as unknown as { unref(): void }).unref();
  }
  announcer.postMessage({ scheduler, jobId, live });
}

/** Listens for batch jobs submitted by executors in any thread of this process; `cancelAll` cancels those not ended. */
export function trackBatchJobs(env: NodeJS.ProcessEnv = process.env): { live(): string[]; cancelAll(): string[]; close(): void } {
  const live = new Map<string, Scheduler>();
  const ch = new BroadcastChannel(JOBS_CHANNEL);
  ch.onmessage = (ev) => {
    const m = (ev as MessageEvent).data as { scheduler: Scheduler; jobId: string; live: boolean };
    if (m.live) live.set(m.jobId, m.scheduler);
    else live.delete(m.jobId);
  };
  (ch as unknown as { unref(): void }).unref();
  return {
    live: () => [...live.keys()],
    cancelAll: () => {
      const ids = [...live];
      for (const [id, sched] of ids) spawnSync(sched === 'slurm' ? 'scancel' : 'qdel', [id], { env, encoding: 'utf8', timeout: 30_000 });
      live.clear();
      return ids.map(([id]) => id);
    },
    close: () => ch.close(),
  };
}

/** The job's log, in its run folder. */
export const JOB_LOG = 'fracflow-job.log';
/** The job's script, in its run folder. */
export const JOB_SCRIPT = 'fracflow-job.sh';

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Slurm's final job states (squeue --states=all / sacct). */
const SLURM_FINAL = new Set(['COMPLETED', 'FAILED', 'TIMEOUT', 'CANCELLED', 'NODE_FAIL', 'OUT_OF_MEMORY', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE', 'REVOKED', 'SPECIAL_EXIT']);

interface Look {
  /** The scheduler's state, or null when it does not know the job (yet, or any more). */
  state: string | null;
  running: boolean;
  final: boolean;
  exitCode?: number | null;
  signal?: number | null;
}

function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd?: string): { status: number | null; stdout: string; stderr: string; error?: Error } {
  const r = spawnSync(cmd, args, { env, cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ...(r.error ? { error: r.error } : {}) };
}

/** `N:S` (exit code : signal) of scontrol and sacct. */
function exitOf(text: string): { exitCode: number | null; signal: number | null } {
  const m = /(\d+):(\d+)/.exec(text);
  return m ? { exitCode: Number(m[1]), signal: Number(m[2]) } : { exitCode: null, signal: null };
}

function lookSlurm(jobId: string, env: NodeJS.ProcessEnv): Look {
  const q = run('squeue', ['-h', '-j', jobId, '--states=all', '-o', '%T'], env);
  let state = q.status === 0 ? q.stdout.trim().split('\n')[0]!.trim() || null : null;
  let exit: { exitCode: number | null; signal: number | null } = { exitCode: null, signal: null };
  if (state && SLURM_FINAL.has(state)) {
    const c = run('scontrol', ['show', 'job', '-o', jobId], env);
    const m = /\bExitCode=(\d+:\d+)/.exec(c.stdout);
    if (m) exit = exitOf(m[1]!);
  }
  if (!state) {
    // squeue forgets a job MinJobAge after it ended: the accounting database has it, where there is one.
    const a = run('sacct', ['-n', '-P', '-X', '-j', jobId, '-o', 'State,ExitCode'], env);
    const line = a.status === 0 ? a.stdout.trim().split('\n')[0] : undefined;
    if (line) {
      const [st, code] = line.split('|');
      state = (st ?? '').split(' ')[0]!.trim() || null;
      exit = exitOf(code ?? '');
    }
  }
  return { state, running: state === 'RUNNING' || state === 'COMPLETING', final: state !== null && SLURM_FINAL.has(state), ...exit };
}

/** PBS: `qstat -x -f` (finished jobs too) → job_state and Exit_status. */
function lookPbs(jobId: string, env: NodeJS.ProcessEnv): Look {
  const q = run('qstat', ['-x', '-f', jobId], env);
  if (q.status !== 0) return { state: null, running: false, final: false };
  const state = /job_state = (\w)/.exec(q.stdout)?.[1] ?? null;
  const code = /Exit_status = (-?\d+)/.exec(q.stdout)?.[1];
  // PBS reports a job killed by signal N as exit status 256 + N (PBS Pro) or 128 + N from the shell.
  const n = code === undefined ? null : Number(code);
  return { state, running: state === 'R' || state === 'E', final: state === 'F' || state === 'X', exitCode: n !== null && n >= 0 && n < 256 ? n : null, signal: n !== null && n > 256 ? n - 256 : null };
}

const SIGNALS: Record<number, NodeJS.Signals> = { 1: 'SIGHUP', 2: 'SIGINT', 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 15: 'SIGTERM' };

export interface BatchExecutorOptions extends BatchOptions {
  scheduler: Scheduler;
  /** Environment of the scheduler's commands (SLURM_CONF, PBS_SERVER, ...). Default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** An executor whose runs are batch jobs (see the module comment); files are this host's (a shared filesystem). */
export function batchExecutor(o: BatchExecutorOptions): Executor {
  const env = o.env ?? process.env;
  const pollMs = (o.pollSec ?? 10) * 1000;
  const label = o.scheduler === 'slurm' ? 'Slurm' : 'PBS';
  const runJob = async (command: string | readonly string[], cwd: string, ro: RunOptions): Promise<RunOutcome> => {
    const t0 = Date.now();
    const line = typeof command === 'string' ? command : command.map(shellQuote).join(' ');
    const script = join(cwd, JOB_SCRIPT);
    const log = join(cwd, JOB_LOG);
    // The scheduler's limit leaves room for the kill grace past ours, rounded up to whole minutes.
    const wall = formatWall(Math.ceil((ro.timeLimitSec + ro.killGraceSec) / 60) * 60);
    const cpus = o.cpus ?? 1;
    let args: string[];
    if (o.scheduler === 'slurm') {
      await writeFile(script, `#!/bin/sh\n${line}\n`, { mode: 0o700 });
      args = ['--parsable', '--job-name=ff-run', `--time=${wall}`, `--chdir=${cwd}`, `--output=${log}`, '--ntasks=1', `--cpus-per-task=${cpus}`];
      if (o.partition) args.push(`--partition=${o.partition}`);
      if (o.account) args.push(`--account=${o.account}`);
    } else {
      await writeFile(script, `#!/bin/sh\ncd ${shellQuote(cwd)} || exit 1\n${line}\n`, { mode: 0o700 });
      args = ['-N', 'ff-run', '-l', `walltime=${wall}`, '-l', `select=1:ncpus=${cpus}`, '-j', 'oe', '-o', log];
      if (o.partition) args.push('-q', o.partition);
      if (o.account) args.push('-A', o.account);
    }
    const sub = run(o.scheduler === 'slurm' ? 'sbatch' : 'qsub', [...args, script], env, cwd);
    if (sub.error) throw new Error(`${o.scheduler === 'slurm' ? 'sbatch' : 'qsub'} could not run: ${sub.error.message}`);
    if (sub.status !== 0) throw new Error(`${o.scheduler === 'slurm' ? 'sbatch' : 'qsub'} refused the job (exit ${sub.status}): ${sub.stderr.trim()}`);
    const jobId = o.scheduler === 'slurm' ? sub.stdout.trim().split(';')[0]! : sub.stdout.trim();
    announce(o.scheduler, jobId, true);
    let runningSince: number | null = null;
    let cancelledAtLimit = false;
    let cancelledAt = 0;
    let look: Look = { state: null, running: false, final: false };
    let unknownSince: number | null = null;
    try {
      for (;;) {
        look = o.scheduler === 'slurm' ? lookSlurm(jobId, env) : lookPbs(jobId, env);
        if (look.final) break;
        const now = Date.now();
        if (look.state === null) {
          // Neither the queue nor the accounting knows it: gone without a trace for a minute is an end.
          unknownSince ??= now;
          if (now - unknownSince > 60_000) break;
        } else unknownSince = null;
        if (look.running) runningSince ??= now;
        if (runningSince !== null && !cancelledAtLimit && now - runningSince > ro.timeLimitSec * 1000) {
          cancelledAtLimit = true;
          cancelledAt = now;
          run(o.scheduler === 'slurm' ? 'scancel' : 'qdel', [jobId], env);
        }
        // A cancelled job that does not end within the grace (and a minute) is left to the scheduler.
        if (cancelledAtLimit && now - cancelledAt > (ro.killGraceSec + 60) * 1000) break;
        await new Promise((r) => setTimeout(r, Math.min(pollMs, runningSince !== null ? Math.max(200, runningSince + ro.timeLimitSec * 1000 - now + 50) : pollMs)));
      }
    } finally {
      announce(o.scheduler, jobId, false);
    }
    try {
      const out = await readFile(log);
      ro.onOutput?.(out);
    } catch {
      // No log: the job never started (cancelled in the queue, a node that failed to boot).
    }
    const elapsedSec = (Date.now() - t0) / 1000;
    const state = look.state ?? 'unknown (no longer listed)';
    const timedOut = cancelledAtLimit || state === 'TIMEOUT' || state === 'DEADLINE';
    const detail = timedOut
      ? `${label} job ${jobId} ${cancelledAtLimit ? 'cancelled at the time limit' : `ended ${state}`}`
      : `${label} job ${jobId} ended ${state}`;
    if (timedOut) return { exitCode: null, signal: null, timedOut: true, elapsedSec, detail };
    if (state === 'COMPLETED' || (o.scheduler === 'pbs' && look.final && look.exitCode === 0)) return { exitCode: 0, signal: null, timedOut: false, elapsedSec, detail };
    const signal = look.signal ? SIGNALS[look.signal] ?? null : null;
    return { exitCode: signal ? null : look.exitCode ?? null, signal, timedOut: false, elapsedSec, detail };
  };
  return { ...localExecutor, run: runJob };
}

const cache = new Map<string, Executor>();

/**
 * The executor a stage's parameters ask for (`executor`, `batch`): the local one unless `slurm` or
 * `pbs` is named. The worker threads call this for every batch; one executor per setting.
 */
export function executorFor(params: Readonly<Record<string, unknown>>): Executor {
  const kind = (params['executor'] ?? 'local') as ExecutorKind;
  if (kind === 'local') return localExecutor;
  if (kind !== 'slurm' && kind !== 'pbs') throw new Error(`executor must be one of local, slurm, pbs, got ${JSON.stringify(kind)}`);
  const batch = checkBatchOptions('executor', params['batch']);
  const key = JSON.stringify([kind, batch]);
  let e = cache.get(key);
  if (!e) cache.set(key, (e = batchExecutor({ scheduler: kind, ...batch })));
  return e;
}

/**
 * Batch schedulers (Slurm, PBS) through their own commands — no daemon of ours between them: job-array
 * scripts whose tasks each run `fracflow worker` for one stage (`fracflow launch`), submission
 * (`sbatch`, `qsub`), the states of submitted jobs (`squeue`, `qstat`), and the job a worker runs in.
 *
 * Every value that enters a script is checked first, each with a message naming the option and the
 * value: names (stage, partition/queue, account) by a strict pattern, the wall time as HH:MM:SS,
 * paths free of characters that a directive line or the shell would read otherwise, and the store
 * location stripped of any password (a job's script and argv are readable by others on a cluster; the
 * password comes from PGPASSFILE or the environment on the node).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { userInfo } from 'node:os';

export type Scheduler = 'slurm' | 'pbs';
export const SCHEDULERS: readonly Scheduler[] = ['slurm', 'pbs'];

/** A launch option that cannot go into a script; the message names the option and the value. */
export class LaunchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LaunchError';
  }
}

export interface LaunchSpec {
  scheduler: Scheduler;
  stage: string;
  /** Array tasks, each one worker process. */
  workers: number;
  cpusPerWorker: number;
  /** Wall time of each task, HH:MM:SS. */
  time: string;
  /** Slurm partition / PBS queue. */
  partition?: string;
  account?: string;
  /** The store as the workers open it (no password: see {@link storeLocationForJobs}). */
  db: string;
  /** Absolute folder of the script and the tasks' logs. */
  outDir: string;
  /** Absolute path of the node binary on the compute nodes. */
  node: string;
  /** Arguments of node before the fracflow command: the CLI entry (and a loader it needs), absolute. */
  entry: readonly string[];
  maxRows?: number;
  /** `--idle-exit` of the workers, as given (e.g. `10m`). */
  idleExit?: string;
  module?: string;
}

const STAGE = /^[a-z][a-z0-9_]{0,62}$/;
/** Partition, queue and account names: letters, digits, `_`, `.`, `-`; starting with a letter or digit. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const TIME = /^(\d{1,4}):([0-5]\d):([0-5]\d)$/;
/** Paths in directive lines and the command: no whitespace, quotes, `$`, `%`, backslash or control characters. */
const PATH = /^\/[A-Za-z0-9_.\/+@,:=-]*$/;
const DURATION = /^\d+(?:\.\d+)?(?:ms|s|m|h)?$/;

/**
 * The store location as a job may carry it: a PostgreSQL URL without its password (user, host, port,
 * database and options stay; `password=` options go), an SQLite path made absolute by the caller.
 */
export function storeLocationForJobs(db: string): string {
  if (/^postgres(ql)?:\/\//i.test(db)) {
    let u: URL;
    try {
      u = new URL(db);
    } catch {
      throw new LaunchError('--db: not a valid PostgreSQL URL (value not shown: it may hold a password)');
    }
    u.password = '';
    u.searchParams.delete('password');
    return u.toString();
  }
  return db;
}

/** Does this store location hold a password (a PostgreSQL URL's, or a `password=` option)? */
export function carriesPassword(db: string): boolean {
  if (!/^postgres(ql)?:\/\//i.test(db)) return false;
  try {
    const u = new URL(db);
    return u.password !== '' || u.searchParams.has('password');
  } catch {
    throw new LaunchError('--db: not a valid PostgreSQL URL (value not shown: it may hold a password)');
  }
}

/** Seconds of an HH:MM:SS wall time. */
export function wallSeconds(time: string): number {
  const m = TIME.exec(time);
  if (!m) throw new LaunchError(`--time must be HH:MM:SS (e.g. 02:00:00), got ${JSON.stringify(time)}`);
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
}

/** HH:MM:SS of a number of seconds (rounded up). */
export function formatWall(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}

function int(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new LaunchError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
}

function path(name: string, v: string): void {
  if (typeof v !== 'string' || !isAbsolute(v) || !PATH.test(v) || v.includes('..'))
    throw new LaunchError(`${name} must be an absolute path of letters, digits and _ . / + @ , : = - (it goes into the job script), got ${JSON.stringify(v)}`);
}

/** Check every value of a launch before a script is written. */
export function checkLaunch(s: LaunchSpec): void {
  if (!(SCHEDULERS as readonly string[]).includes(s.scheduler)) throw new LaunchError(`scheduler must be one of ${SCHEDULERS.join(', ')}, got ${JSON.stringify(s.scheduler)}`);
  if (typeof s.stage !== 'string' || !STAGE.test(s.stage)) throw new LaunchError(`--stage must match ${STAGE.source}, got ${JSON.stringify(s.stage)}`);
  int('--workers', s.workers, 1, 10_000);
  int('--cpus-per-worker', s.cpusPerWorker, 1, 1024);
  if (wallSeconds(s.time) === 0) throw new LaunchError(`--time must be longer than 00:00:00, got ${JSON.stringify(s.time)}`);
  const what = s.scheduler === 'slurm' ? '--partition' : '--partition (the PBS queue)';
  if (s.partition !== undefined && !NAME.test(s.partition)) throw new LaunchError(`${what} must be a name of letters, digits, _ . - (starting with a letter or digit), got ${JSON.stringify(s.partition)}`);
  if (s.account !== undefined && !NAME.test(s.account)) throw new LaunchError(`--account must be a name of letters, digits, _ . - (starting with a letter or digit), got ${JSON.stringify(s.account)}`);
  if (carriesPassword(s.db)) throw new LaunchError('--db: the location a job carries must hold no password (give it through PGPASSFILE or PGPASSWORD on the nodes)');
  if (/^postgres(ql)?:\/\//i.test(s.db)) {
    if (/[\s'"\\$`%]/.test(s.db) || /[\x00-\x1f]/.test(s.db)) throw new LaunchError(`--db: a URL with whitespace, quotes, $, % or backslashes cannot go into the job script, got ${JSON.stringify(s.db)}`);
  } else path('--db', s.db);
  path('--out', s.outDir);
  path('node', s.node);
  s.entry.forEach((e) => {
    // node's own flags before the entry (a loader: `--import /abs/loader.mjs`) are fixed words.
    if (!/^--[a-z-]+$/.test(e)) path('the fracflow entry', e);
  });
  if (s.maxRows !== undefined) int('--max-rows', s.maxRows, 1, Number.MAX_SAFE_INTEGER);
  if (s.idleExit !== undefined && !DURATION.test(s.idleExit)) throw new LaunchError(`--idle-exit must be a duration such as 90, 30s, 10m or 2h, got ${JSON.stringify(s.idleExit)}`);
  if (s.module !== undefined) path('--module', s.module);
}

/** The worker's command line, every argument checked by {@link checkLaunch} (quoted all the same). */
function workerCommand(s: LaunchSpec): string {
  const q = (v: string) => `'${v}'`;
  const args = [q(s.node), ...s.entry.map(q), 'worker', '--db', q(s.db), '--stage', q(s.stage), '--threads', String(s.cpusPerWorker)];
  if (s.maxRows !== undefined) args.push('--max-rows', String(s.maxRows));
  if (s.idleExit !== undefined) args.push('--idle-exit', q(s.idleExit));
  if (s.module !== undefined) args.push('--module', q(s.module));
  return args.join(' ');
}

function header(s: LaunchSpec): string[] {
  return [
    '#!/bin/bash',
    `# fracflow launch ${s.scheduler}: ${s.workers} worker${s.workers === 1 ? '' : 's'} of stage ${s.stage}, ${s.cpusPerWorker} CPUs each, wall time ${s.time}.`,
    '# Each array task runs `fracflow worker` until the stage is exhausted; SIGTERM (scancel, qdel, the wall',
    '# time) makes it give the rows in hand back and exit 0. The store password, if any, comes from',
    '# PGPASSFILE or PGPASSWORD on the node, never from this script.',
  ];
}

/** An sbatch job-array script: one `fracflow worker` per task. */
export function slurmScript(s: LaunchSpec): string {
  checkLaunch({ ...s, scheduler: 'slurm' });
  const lines = [
    '#!/bin/bash',
    `#SBATCH --job-name=ff-${s.stage}`,
    `#SBATCH --array=0-${s.workers - 1}`,
    '#SBATCH --ntasks=1',
    `#SBATCH --cpus-per-task=${s.cpusPerWorker}`,
    `#SBATCH --time=${s.time}`,
    ...(s.partition !== undefined ? [`#SBATCH --partition=${s.partition}`] : []),
    ...(s.account !== undefined ? [`#SBATCH --account=${s.account}`] : []),
    `#SBATCH --output=${s.outDir}/${s.stage}-%A_%a.log`,
    ...header(s).slice(1),
    'set -eu',
    `exec ${workerCommand(s)}`,
    '',
  ];
  return lines.join('\n');
}

/**
 * A PBS Professional array-job script: `-N` name, `-l select=1:ncpus=C`, `-l walltime=`, `-J 0-(N-1)`
 * (one worker: no array), `-q` queue, `-A` account, output joined into `-o` in the out folder.
 */
export function pbsScript(s: LaunchSpec): string {
  checkLaunch({ ...s, scheduler: 'pbs' });
  const lines = [
    '#!/bin/bash',
    `#PBS -N ff-${s.stage}`,
    `#PBS -l select=1:ncpus=${s.cpusPerWorker}`,
    `#PBS -l walltime=${s.time}`,
    ...(s.workers > 1 ? [`#PBS -J 0-${s.workers - 1}`] : []),
    ...(s.partition !== undefined ? [`#PBS -q ${s.partition}`] : []),
    ...(s.account !== undefined ? [`#PBS -A ${s.account}`] : []),
    '#PBS -j oe',
    `#PBS -o ${s.outDir}/`,
    ...header(s).slice(1),
    'set -eu',
    `exec ${workerCommand(s)}`,
    '',
  ];
  return lines.join('\n');
}

export function launchScript(s: LaunchSpec): string {
  return s.scheduler === 'slurm' ? slurmScript(s) : pbsScript(s);
}

/** Run a scheduler command; its failure (or no answer within `timeoutMs`) is an error naming the command and its stderr. */
export function schedulerCommand(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 60_000): string {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', timeout: timeoutMs });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT') throw new LaunchError(`${cmd} gave no answer within ${(timeoutMs / 1000).toFixed(timeoutMs < 1000 ? 1 : 0)} s (is the scheduler's controller reachable?)`);
  if (r.error) throw new LaunchError(`${cmd} could not run: ${r.error.message}${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? ` (is ${cmd} on PATH? this host needs the ${cmd === 'qsub' || cmd === 'qstat' || cmd === 'qdel' ? 'PBS' : 'Slurm'} client commands)` : ''}`);
  if (r.status !== 0) throw new LaunchError(`${cmd} ${args.join(' ')} failed (exit ${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Submit a script; returns the scheduler's job id (`1234` for Slurm, `1234[].server` for PBS). */
export function submitScript(scheduler: Scheduler, script: string, env: NodeJS.ProcessEnv = process.env): string {
  if (scheduler === 'slurm') {
    const out = schedulerCommand('sbatch', ['--parsable', script], env).trim();
    const id = out.split(';')[0]!;
    if (!/^\d+$/.test(id)) throw new LaunchError(`sbatch gave no job id (printed ${JSON.stringify(out)})`);
    return id;
  }
  const out = schedulerCommand('qsub', [script], env).trim();
  if (!/^\d+(\[\])?(\.[A-Za-z0-9_.-]+)?$/.test(out)) throw new LaunchError(`qsub gave no job id (printed ${JSON.stringify(out)})`);
  return out;
}

/** Task states of the jobs asked for, as the scheduler has them: job id → state → tasks. */
export type JobStates = Map<string, Map<string, number>>;

/** Slurm states counted as still in the queue (pending or running). */
export const SLURM_LIVE = new Set(['PENDING', 'RUNNING', 'CONFIGURING', 'COMPLETING', 'REQUEUED', 'RESIZING', 'SUSPENDED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'SIGNALING', 'STAGE_OUT']);
/** PBS job states in the queue (Q queued, H held, W waiting, T moving, R running, E exiting, B array begun, S suspended). */
export const PBS_LIVE = new Set(['Q', 'H', 'W', 'T', 'R', 'E', 'B', 'S', 'U']);

/** Parse `squeue -h -r -o '%F|%i|%T'` (array job id, task id, state). */
export function parseSqueue(out: string, ids: ReadonlySet<string>): JobStates {
  const m: JobStates = new Map();
  for (const line of out.split('\n')) {
    const [arrayId, , state] = line.trim().split('|');
    if (!arrayId || !state || !ids.has(arrayId)) continue;
    const s = m.get(arrayId) ?? new Map<string, number>();
    s.set(state, (s.get(state) ?? 0) + 1);
    m.set(arrayId, s);
  }
  return m;
}

/**
 * Parse `qstat -t` (one line per array subjob, `Job id  Name  User  Time Use S Queue`): subjobs
 * `1234[5].server` count for their array `1234[].server`.
 */
export function parseQstat(out: string, ids: ReadonlySet<string>): JobStates {
  const m: JobStates = new Map();
  for (const line of out.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6 || !/^\d/.test(f[0]!)) continue;
    const id = f[0]!.replace(/\[\d+\]/, '[]');
    const full = [...ids].find((x) => x === id || x.startsWith(`${id}.`) || id.startsWith(`${x}.`) || x.split('.')[0] === id.split('.')[0]);
    if (!full) continue;
    // An array's own line (`1234[]`) stands for its subjobs, listed after it with -t.
    if (f[0]!.includes('[]') && out.includes(`${f[0]!.split('[')[0]}[0]`)) continue;
    const state = f[4]!;
    const s = m.get(full) ?? new Map<string, number>();
    s.set(state, (s.get(state) ?? 0) + 1);
    m.set(full, s);
  }
  return m;
}

/** The task states of these jobs now (jobs the scheduler no longer lists are absent). */
export function queueStates(scheduler: Scheduler, jobIds: readonly string[], env: NodeJS.ProcessEnv = process.env): JobStates {
  if (jobIds.length === 0) return new Map();
  const ids = new Set(jobIds);
  if (scheduler === 'slurm') return parseSqueue(schedulerCommand('squeue', ['-h', '-r', '-u', userInfo().username, '-o', '%F|%i|%T'], env), ids);
  const r = spawnSync('qstat', ['-t', ...jobIds], { env, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw new LaunchError(`qstat could not run: ${r.error.message}`);
  // qstat exits non-zero when some of the jobs are gone; what it printed still counts.
  return parseQstat(r.stdout, ids);
}

/**
 * Parse `sacct -n -X -P -o JobID,State` (one line per array task or job: `1234_5|COMPLETED`,
 * `1234|FAILED`, `1234_[6-9]|PENDING`, `1235_0|CANCELLED by 0`): states by array id.
 */
export function parseSacct(out: string, ids: ReadonlySet<string>): JobStates {
  const m: JobStates = new Map();
  for (const line of out.split('\n')) {
    const [jobId, stateText] = line.trim().split('|');
    if (!jobId || !stateText) continue;
    const u = /^(\d+)(?:_(?:\[(\d+)-(\d+)\]|\d+))?$/.exec(jobId);
    if (!u || !ids.has(u[1]!)) continue;
    const tasks = u[2] !== undefined ? Number(u[3]) - Number(u[2]) + 1 : 1;
    const state = stateText.split(' ')[0]!;
    const s = m.get(u[1]!) ?? new Map<string, number>();
    s.set(state, (s.get(state) ?? 0) + tasks);
    m.set(u[1]!, s);
  }
  return m;
}

/** Is `cmd` an executable file in a directory of PATH? */
export function onPath(cmd: string, env: NodeJS.ProcessEnv = process.env): boolean {
  for (const d of (env['PATH'] ?? '').split(':')) {
    if (!d) continue;
    try {
      accessSync(join(d, cmd), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** The command a scheduler's job states come from. */
export const STATE_COMMAND: Record<Scheduler, string> = { slurm: 'squeue', pbs: 'qstat' };

/**
 * The states of recorded jobs as the scheduler has them now (`status`): Slurm's `squeue` with every
 * state (finished jobs stay listed for the controller's MinJobAge), then `sacct` for the jobs squeue no
 * longer lists, when accounting answers; PBS's `qstat -x -t` (finished jobs from its history). Each
 * command gets `timeoutMs`; a failure of the first throws (a LaunchError naming the command), one of
 * sacct leaves those jobs `gone` and says why in `notes`.
 */
export function liveJobStates(scheduler: Scheduler, jobIds: readonly string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 10_000): { states: Map<string, string>; notes: string[] } {
  const ids = new Set(jobIds);
  const notes: string[] = [];
  let found: JobStates;
  if (scheduler === 'slurm') {
    found = parseSqueue(schedulerCommand('squeue', ['-h', '-r', '--states=all', '-u', userInfo().username, '-o', '%F|%i|%T'], env, timeoutMs), ids);
    const missing = jobIds.filter((j) => !found.has(j));
    if (missing.length > 0 && onPath('sacct', env)) {
      try {
        for (const [id, st] of parseSacct(schedulerCommand('sacct', ['-n', '-X', '-P', '-o', 'JobID,State', '-j', missing.join(',')], env, timeoutMs), ids)) found.set(id, st);
      } catch (e) {
        notes.push(`jobs squeue no longer lists are shown as gone: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  } else {
    const r = spawnSync('qstat', ['-x', '-t', ...jobIds], { env, encoding: 'utf8', timeout: timeoutMs });
    if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT') throw new LaunchError(`qstat gave no answer within ${(timeoutMs / 1000).toFixed(0)} s (is the PBS server reachable?)`);
    if (r.error) throw new LaunchError(`qstat could not run: ${r.error.message}`);
    // qstat exits non-zero when some of the jobs are gone; what it printed still counts.
    if (r.status !== 0 && r.stdout.trim() === '' && !/Unknown Job Id|Job has finished/i.test(r.stderr)) throw new LaunchError(`qstat -x -t failed (exit ${r.status}): ${r.stderr.trim()}`);
    found = parseQstat(r.stdout, ids);
  }
  return { states: new Map(jobIds.map((j) => [j, describeStates(found.get(j))])), notes };
}

/** Tasks of these states still in the queue. */
export function liveTasks(scheduler: Scheduler, states: ReadonlyMap<string, number>): number {
  const live = scheduler === 'slurm' ? SLURM_LIVE : PBS_LIVE;
  let n = 0;
  for (const [s, k] of states) if (live.has(s)) n += k;
  return n;
}

/** `STATE:n STATE:n`, the form the store records. */
export function describeStates(states: ReadonlyMap<string, number> | undefined): string {
  if (!states || states.size === 0) return 'gone';
  return [...states].sort().map(([s, n]) => `${s}:${n}`).join(' ');
}

/** The batch job this process runs in, from the scheduler's variables: `slurm:1234_5`, `slurm:1234`, `pbs:99[3].server`; null outside one. */
export function batchJobOfEnv(env: NodeJS.ProcessEnv): string | null {
  if (env['SLURM_ARRAY_JOB_ID'] && env['SLURM_ARRAY_TASK_ID']) return `slurm:${env['SLURM_ARRAY_JOB_ID']}_${env['SLURM_ARRAY_TASK_ID']}`;
  if (env['SLURM_JOB_ID']) return `slurm:${env['SLURM_JOB_ID']}`;
  if (env['PBS_JOBID']) return `pbs:${env['PBS_JOBID']}`;
  return null;
}

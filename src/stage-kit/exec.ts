/**
 * What a stage may ask of the engine to run an external program (a DFT code) in a run folder and to
 * read its outputs: the {@link Executor} handed to its work function as `ctx.exec`. The engine owns
 * the processes — their time limit, the kill of the whole process group, the output — and the file
 * access, so the stage holds no process or file code of its own and the same stage runs wherever
 * the executor puts the folders.
 */

/** How a run of a program ended. */
export interface RunOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  elapsedSec: number;
  /** What the executor knows beyond the exit (a batch job's id and final state, e.g. `Slurm job 17 ended NODE_FAIL`). */
  detail?: string;
}

/**
 * Where a stage's programs run (`params.executor` of a stage that runs programs): `local` (children
 * of the worker thread, on this machine), or each run its own batch job through `slurm` (sbatch,
 * followed with squeue/sacct) or `pbs` (qsub, followed with qstat), the run folder its working
 * directory and its output in `fracflow-job.log` there.
 */
export type ExecutorKind = 'local' | 'slurm' | 'pbs';
export const EXECUTOR_KINDS: readonly ExecutorKind[] = ['local', 'slurm', 'pbs'];

/** Options of the batch executors (`params.batch`). */
export interface BatchOptions {
  /** Slurm partition / PBS queue. */
  partition?: string;
  account?: string;
  /** CPUs of each job. Default 1. */
  cpus?: number;
  /** Seconds between looks at the job's state. Default 10. */
  pollSec?: number;
}

/** Partition, queue and account names: letters, digits, `_`, `.`, `-`; starting with a letter or digit. */
export const BATCH_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Check batch options (a stage's boundary); the message names the option and the value. */
export function checkBatchOptions(where: string, v: unknown): BatchOptions {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new RangeError(`${where}: batch must be an object { partition?, account?, cpus?, pollSec? }, got ${JSON.stringify(v)}`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['partition', 'account', 'cpus', 'pollSec'].includes(k)) throw new RangeError(`${where}: batch.${k} is not an option (partition, account, cpus, pollSec)`);
  for (const k of ['partition', 'account'] as const) {
    if (o[k] !== undefined && (typeof o[k] !== 'string' || !BATCH_NAME.test(o[k] as string)))
      throw new RangeError(`${where}: batch.${k} must be a name of letters, digits, _ . - (starting with a letter or digit), got ${JSON.stringify(o[k])}`);
  }
  if (o['cpus'] !== undefined && (typeof o['cpus'] !== 'number' || !Number.isInteger(o['cpus']) || o['cpus'] < 1 || o['cpus'] > 4096))
    throw new RangeError(`${where}: batch.cpus must be an integer from 1 to 4096, got ${JSON.stringify(o['cpus'])}`);
  if (o['pollSec'] !== undefined && (typeof o['pollSec'] !== 'number' || !(o['pollSec'] > 0) || o['pollSec'] > 3600))
    throw new RangeError(`${where}: batch.pollSec must be a number of seconds above 0 and at most 3600, got ${JSON.stringify(o['pollSec'])}`);
  return o as BatchOptions;
}

export interface RunOptions {
  /** Wall-time limit, s: past it the whole process group gets SIGTERM, then SIGKILL after `killGraceSec`. */
  timeLimitSec: number;
  killGraceSec: number;
  /** Receives stdout and stderr as they come (e.g. an {@link OutputTail}). */
  onOutput?: (chunk: Buffer) => void;
}

/** Runs external programs for a stage's work function (ctx.exec). */
export interface Executor {
  /**
   * Run `command` in `cwd`: a string through `/bin/sh -c`, an argv array directly. Resolves when the
   * program has ended (or was killed at its limit); rejects when it could not start.
   */
  run(command: string | readonly string[], cwd: string, options: RunOptions): Promise<RunOutcome>;
  /** The bytes of the regular file at `path`, or null when there is none. */
  readFile(path: string): Promise<Uint8Array | null>;
  /** Write `bytes` to `path` (replacing it). */
  writeFile(path: string, bytes: Uint8Array): Promise<void>;
  /** Whether `path` is a folder. */
  isDirectory(path: string): Promise<boolean>;
}

/** Keeps the last `cap` bytes written to it. */
export class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly cap: number) {}

  push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
    while (this.chunks.length > 1 && this.size - this.chunks[0]!.length >= this.cap) this.size -= this.chunks.shift()!.length;
  }

  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.cap)).toString('utf8');
  }
}


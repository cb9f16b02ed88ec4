/**
 * What a scheduler keeps per stage while it runs (its pool, its batches in flight, its place in the
 * stage graph), and the small pieces both schedulers share: a finished batch as the store's outcome,
 * claims split so that suspect rows run alone, the messages of halts.
 */
import type { BatchOutcome, Claim } from '../store/interface.js';
import type { ColumnDef } from '../stage-kit/arrow.js';
import type { BatchPool } from './runner.js';
import type { Stage } from '../stage-kit/stage.js';
import { wireValues } from './wire.js';
import type { TaskHalt, TaskResult } from './worker.js';

/** Deaths from which a row is in quarantine (the store claims it alone; see QueueStore). */
export const QUARANTINE_DEATHS = 2;

export interface StageReport {
  tasks: number;
  /** Time in the worker thread per task before encoding the result (decode + work), summed (ms). */
  taskMs: number;
  rowsDone: number;
  rowsFailedAttempts: number;
  /** Time inside the work function, summed over tasks (ms). */
  workMs: number;
}

export interface Inflight {
  claim: Claim;
  /** Aborted (with the reason) when the batch ran past its lease (or, in fixed mode, to end it). */
  abort: AbortController;
  /** Its threads were ended for another batch or a stop: not its fault. */
  collateral?: boolean;
  /** Set by the thread to the epoch ms at which the batch's work began (0 until then; see StagePool.run). */
  began?: BigInt64Array;
}

export interface Runtime {
  stage: Stage;
  pool: BatchPool | null;
  workers: number;
  inflight: Map<number, Inflight>;
  downstream: Runtime[];
  upstream: Runtime | null;
  /** Stages above this one (0: fed from outside the run); set once the stage graph is linked. */
  depth: number;
  outDefs: ColumnDef[];
  inDefs: ColumnDef[];
  report: StageReport;
  /** When this engine last looked for upstream rows finished by other processes (epoch ms; 0 = not yet). */
  othersCheckedAt: number;
  /** The upstream's latest finished_at at the last full feed (null = none yet). */
  fullFeedMark: number | null | undefined;
  /** Set when the stage halted in this run. */
  halted: TaskHalt | null;
  /** Rows in quarantine in flight (at most one). */
  quarantined: number;
}

export function emptyReport(): StageReport {
  return { tasks: 0, taskMs: 0, rowsDone: 0, rowsFailedAttempts: 0, workMs: 0 };
}

/** The store's outcome of a finished batch: rows done with their outputs, rows whose work threw. */
export function outcomeOf(rt: Runtime, claim: Claim, result: TaskResult): BatchOutcome {
  const t = result.batch!;
  const idOf = new Map<string, number>();
  claim.keys.forEach((k, i) => idOf.set(k, claim.ids[i]!));
  const keys = wireValues(t, 'key') as string[];
  const errors = wireValues(t, '_error') as (string | null)[];
  const outs = rt.outDefs.map((c) => wireValues(t, c.name));
  const okIds: number[] = [];
  const okIdx: number[] = [];
  const failed: { id: number; error: string }[] = [];
  for (let i = 0; i < keys.length; i++) {
    const id = idOf.get(keys[i]!);
    if (id === undefined) continue;
    if (errors[i] === null) {
      okIds.push(id);
      okIdx.push(i);
    } else failed.push({ id, error: errors[i]! });
  }
  const outcome: BatchOutcome = { stage: rt.stage.name, done: { ids: okIds, outputs: outs.map((col) => okIdx.map((i) => col[i])) }, failed };
  if (result.emit && rt.stage.emits) {
    const e = result.emit;
    const ekeys = wireValues(e, 'key') as string[];
    const source = wireValues(e, 'source') as string[];
    const cols = Object.keys(rt.stage.emits.columns).map((c) => wireValues(e, c));
    const keep: number[] = [];
    source.forEach((k, i) => {
      if (idOf.has(k)) keep.push(i);
    });
    outcome.emitted = {
      keys: keep.map((i) => ekeys[i]!),
      sourceIds: keep.map((i) => idOf.get(source[i]!)!),
      sourceKeys: keep.map((i) => source[i]!),
      columns: cols.map((col) => keep.map((i) => col[i])),
    };
  }
  return outcome;
}

/** The rows `idx` of a claim, as a claim of their own. */
export function subClaim(c: Claim, idx: readonly number[]): Claim {
  return {
    stage: c.stage,
    ids: idx.map((i) => c.ids[i]!),
    keys: idx.map((i) => c.keys[i]!),
    attempts: idx.map((i) => c.attempts[i]!),
    deaths: idx.map((i) => c.deaths[i]!),
    inputs: c.inputs.map((col) => idx.map((i) => col[i])),
  };
}

/** A claim of a row in quarantine. */
export function inQuarantine(c: Claim): boolean {
  return c.deaths.some((d) => d >= QUARANTINE_DEATHS);
}

/**
 * A claim split so that each row that died before runs alone: a row that kills its worker takes no
 * other row with it (their deaths stay with the row that caused them).
 */
export function isolateSuspects(c: Claim): Claim[] {
  if (c.deaths.every((d) => d === 0)) return [c];
  const healthy: number[] = [];
  const out: Claim[] = [];
  c.deaths.forEach((d, i) => (d === 0 ? healthy.push(i) : out.push(subClaim(c, [i]))));
  if (healthy.length) out.unshift(subClaim(c, healthy));
  return out;
}

/** piscina's rejection of a task whose thread ended (terminated, exited, out of memory). */
export function endedWithThread(cause: unknown): boolean {
  const m = cause instanceof Error ? cause.message : '';
  return m === 'Terminating worker thread' || m.startsWith('worker exited with code') || (cause as { code?: unknown } | null)?.code === 'ERR_WORKER_OUT_OF_MEMORY';
}

/** One line for a halt: what failed, where, and the cause. */
export function haltMessage(h: TaskHalt): string {
  const what: Record<string, string> = {
    ENOSPC: 'no space left on device', EDQUOT: 'disk quota exceeded', EFBIG: 'file too large', EROFS: 'read-only file system',
    EACCES: 'permission denied', EPERM: 'operation not permitted', EIO: 'input/output error', EMFILE: 'too many open files', ENFILE: 'too many open files in the system',
  };
  const where = h.path ? `cannot ${h.syscall ?? 'write'} ${h.path}` : `${h.syscall ?? 'a system call'} failed`;
  return `${where}: ${what[h.code] ?? h.message} (${h.code})`;
}

/** The message of an error, whatever was thrown. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

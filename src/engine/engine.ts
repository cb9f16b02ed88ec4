/**
 * The scheduler: runs declared stages over one store, in either architecture.
 *
 * Fractured (default): every stage has its own pool and keeps four batches per worker in flight, three
 * of them handed to the thread (StagePool `tasksPerThread` 3): when one ends the thread starts the
 * next at once, without waiting for the main thread's write and claim. A batch that never began because its
 * thread died running another one goes back unrun (no attempt counted). Stages whose work waits on
 * something else (`queueInThread: false`, e.g. the calc stages) keep two batches per worker, one
 * per thread, each with its own AbortSignal. A finished batch is
 * written in the main thread — the only writer connection — and, in the same transaction, admitted
 * into the downstream stages, so a finished upstream row is claimable at once. Writes of batches that
 * finish within `flushMs` of each other share one transaction, and so do the claims that refill the
 * pools (one commit per flush). Batches travel to and from the threads as raw Arrow buffers (wire.ts), not IPC bytes.
 *
 * Main-thread CPU per 64-row batch (file store, 5 ms stage, /proc thread times): 2.8–3.6 ms with IPC
 * bytes, one commit for writes and another for claims, and status scans on every tick (shared machine
 * at load ~3); 1.2–1.4 ms now on a quiet one. Of that the claim UPDATE is ~0.3–0.5 ms, the finish
 * ~0.35–0.4 ms and the commit ~0.2–0.35 ms (B-tree work per row; see StageTable.finish). On 2 cores
 * every such millisecond is taken from a worker.
 *
 * Fixed (`mode: 'fixed'`): `workflows` entities at a time, each taken through all stages depth-first
 * (one row per task) on one pool of `workflows` threads, over the same tables.
 *
 * Both run until every stage is exhausted: no pending or running rows, upstream exhausted, and no
 * admission cutoff left to broaden. A periodic tick sweeps expired leases, applies worker counts and
 * priorities changed in `engine_stages` (by `fracflow scale` or another process), wakes rows whose
 * back-off ended, and broadens cutoffs of drained stages.
 */
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { openSql, migrateStore, type SqlDb } from './store.js';
import { QUARANTINE_DEATHS, StageTable, expireDeadLocalLeases, isStageTable, recordEvent, subClaim, type Claim } from './queue.js';
import { StagePool } from './pool.js';
import type { ColumnDef } from './arrow.js';
import { wireFromColumns, wireValues } from './wire.js';
import type { TaskHalt, TaskResult } from './worker.js';
import { StageError, type PrioritySpec, type Stage } from './stage.js';
import { Progress, type ProgressMode } from './progress.js';
import { stageStatus } from './ops.js';

export interface EngineOptions {
  /** Store path (SQLite file or `:memory:`), or an open connection. */
  db: string | SqlDb;
  stages: readonly Stage[];
  /** Lease holder name. Default `host:pid:random`. */
  workerId?: string;
  /** How often expired leases are swept and control changes applied (ms). Default 250. */
  tickMs?: number;
  /** Progress output on stderr: `auto` (bars in a terminal, lines otherwise), `bars`, `lines`, `off`. Default `off`. */
  progress?: ProgressMode;
  /** Seconds between plain progress lines. Default 10. */
  progressEverySec?: number;
  /** Where progress goes. Default process.stderr. */
  progressStream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /**
   * Fractured mode: how long a finished batch may wait for others to share its write transaction
   * (ms; 0 = the next turn of the event loop). Default 2: every thread holds a second batch, so the
   * wait delays no work, and batches finishing within it share one commit.
   */
  flushMs?: number;
}

export interface RunOptions {
  mode?: 'fractured' | 'fixed';
  /** Fixed mode: workflows run at a time (threads of its pool). Default 2. */
  workflows?: number;
  /** Stop: claiming ends, batches in flight are cancelled and their rows released unrun (no attempt counted). */
  signal?: AbortSignal;
}

export interface StageReport {
  tasks: number;
  /** Time in the worker thread per task before encoding the result (decode + work), summed (ms). */
  taskMs: number;
  rowsDone: number;
  rowsFailedAttempts: number;
  /** Time inside the work function, summed over tasks (ms). */
  workMs: number;
}

export interface RunReport {
  mode: 'fractured' | 'fixed';
  wallMs: number;
  /** Part of wallMs spent starting the pools (threads up, stage modules loaded). */
  startupMs: number;
  /** From the pools being ready to the last result written (no start-up, no shutdown). */
  activeMs: number;
  stages: Record<string, StageReport>;
  /** Rows returned by lease sweeps during the run. */
  swept: number;
  /** Rows given back unrun (a stop, a halt, threads ended for another batch): no attempt counted. */
  released: number;
  /** Cutoff changes made by adaptive broadening. */
  broadened: { stage: string; name: string; from: number; to: number }[];
  /**
   * Stages halted by their environment (a full disk, a read-only or forbidden output path): the batch
   * that met it came back unrun, the stage claimed nothing more, and the other stages went on.
   */
  halted: StageHalt[];
  /** Ended by the caller's signal: claiming stopped and the rows in flight were released. */
  stopped: boolean;
}

/** A stage halted by its environment (see {@link RunReport.halted}). */
export interface StageHalt extends TaskHalt {
  stage: string;
}

interface Runtime {
  stage: Stage;
  table: StageTable;
  pool: StagePool | null;
  workers: number;
  inflight: Map<number, Inflight>;
  downstream: Runtime[];
  upstream: Runtime | null;
  outDefs: ColumnDef[];
  inDefs: ColumnDef[];
  report: StageReport;
  /** When this engine last looked for upstream rows finished by other processes (epoch ms; 0 = not yet). */
  othersCheckedAt: number;
  /** The upstream's latest finished_at at the last full feed (null = none yet). */
  fullFeedMark: number | null | undefined;
  /** Set when the stage halted in this run (see {@link RunReport.halted}). */
  halted: TaskHalt | null;
  /** Rows in quarantine in flight (at most one: see StageTable.claimSuspect). */
  quarantined: number;
}

/**
 * How far back (ms) the per-tick look for upstream rows finished by other processes reaches past the
 * previous look: a row's finished_at is stamped inside its writer's transaction, just before the
 * commit, so a row committed just after a look can carry an earlier time.
 */
const OTHERS_FEED_MARGIN_MS = 5_000;

interface Inflight {
  claim: Claim;
  /** Aborted (with the reason) when the batch ran past its lease (or, in fixed mode, to end it). */
  abort: AbortController;
  /** Its threads were ended for another batch or a stop: not its fault. */
  collateral?: boolean;
}

interface Done {
  rt: Runtime;
  claim: Claim;
  result: TaskResult;
}

let taskSeq = 0;

/** A claim of a row in quarantine (see StageTable.claimSuspect). */
function inQuarantine(c: Claim): boolean {
  return c.deaths.some((d) => d >= QUARANTINE_DEATHS);
}

/**
 * A claim split so that each row that died before runs alone: a row that kills its worker takes no
 * other row with it (their deaths stay with the row that caused them).
 */
function isolateSuspects(c: Claim): Claim[] {
  if (c.deaths.every((d) => d === 0)) return [c];
  const healthy: number[] = [];
  const out: Claim[] = [];
  c.deaths.forEach((d, i) => (d === 0 ? healthy.push(i) : out.push(subClaim(c, [i]))));
  if (healthy.length) out.unshift(subClaim(c, healthy));
  return out;
}

/** One line for a halt: what failed, where, and what to do. */
export function haltMessage(h: TaskHalt): string {
  const what: Record<string, string> = {
    ENOSPC: 'no space left on device', EDQUOT: 'disk quota exceeded', EFBIG: 'file too large', EROFS: 'read-only file system',
    EACCES: 'permission denied', EPERM: 'operation not permitted', EIO: 'input/output error', EMFILE: 'too many open files', ENFILE: 'too many open files in the system',
  };
  const where = h.path ? `cannot ${h.syscall ?? 'write'} ${h.path}` : `${h.syscall ?? 'a system call'} failed`;
  return `${where}: ${what[h.code] ?? h.message} (${h.code})`;
}

/** piscina's rejection of a task whose thread ended (terminated, or exited while it waited there). */
function endedWithThread(cause: unknown): boolean {
  const m = cause instanceof Error ? cause.message : '';
  return m === 'Terminating worker thread' || m.startsWith('worker exited with code') || (cause as { code?: unknown } | null)?.code === 'ERR_WORKER_OUT_OF_MEMORY';
}

/**
 * Batches handed to each thread at once in the fractured mode (StagePool tasksPerThread), and batches
 * in flight per worker: three in the thread and one in the pool's queue. piscina hands a thread its
 * next task from the main thread's message handler, so while the main thread is in a long flush (a
 * commit with a WAL checkpoint, or a slice lost to the two workers on 2 cores: 6 ms at the 90th
 * percentile, 12 ms at the 99th, at 64 rows per batch) only the batches already inside the thread
 * keep it busy. Measured with 2 workers, 2,000 batches of 5 ms, 64 rows: 10–12 % overhead with two
 * per thread (the thread ran dry in ~9 % of its batches, ~4 ms each time), 7.0–9.5 % with three.
 */
export const TASKS_PER_THREAD = 3;
export const BATCHES_AHEAD_PER_WORKER = TASKS_PER_THREAD + 1;

export class Engine {
  readonly sql: SqlDb;
  readonly workerId: string;
  private readonly ownsSql: boolean;
  private readonly rts: Runtime[];
  private readonly byName = new Map<string, Runtime>();
  private readonly opts: EngineOptions;
  /** The run in progress: its report and its finished batches not yet written. */
  private active: { report: RunReport; pending: Done[] } | null = null;
  private progress: Progress | null = null;

  constructor(opts: EngineOptions) {
    this.opts = opts;
    if (opts.stages.length === 0) throw new StageError('engine: no stages given');
    this.ownsSql = typeof opts.db === 'string';
    this.sql = typeof opts.db === 'string' ? openSql(opts.db) : opts.db;
    this.workerId = opts.workerId ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
    try {
      migrateStore(this.sql);
      this.rts = [];
      for (const s of opts.stages) {
        if (this.byName.has(s.name)) throw new StageError(`engine: stage ${s.name} is given twice`);
        const rt: Runtime = {
          stage: s, table: new StageTable(this.sql, s), pool: null, workers: s.workers, inflight: new Map(), downstream: [], upstream: null,
          inDefs: [{ name: 'key', type: 'utf8' }, ...Object.entries(s.input.columns).map(([name, c]) => ({ name, type: c.type }))],
          outDefs: Object.entries(s.output).map(([name, type]) => ({ name, type })),
          report: { tasks: 0, taskMs: 0, rowsDone: 0, rowsFailedAttempts: 0, workMs: 0 },
          othersCheckedAt: 0,
          fullFeedMark: undefined,
          halted: null,
          quarantined: 0,
        };
        this.byName.set(s.name, rt);
        this.rts.push(rt);
      }
      for (const rt of this.rts) {
        const from = rt.stage.input.from;
        const up = from ? this.byName.get(from) : undefined;
        if (up) {
          rt.upstream = up;
          up.downstream.push(rt);
        }
      }
      // Upstream stages first, so the first full feed sees every admitted row.
      this.rts.sort((a, b) => this.depth(a) - this.depth(b));
      for (const rt of this.rts) rt.table.ensure();
      for (const rt of this.rts) rt.workers = this.sql.get<{ workers: number }>('SELECT workers FROM engine_stages WHERE name = ?', [rt.stage.name])!.workers;
    } catch (e) {
      if (this.ownsSql) this.sql.close();
      throw e;
    }
  }

  private depth(rt: Runtime): number {
    let d = 0;
    for (let u = rt.upstream; u; u = u.upstream) if (++d > this.rts.length) throw new StageError(`engine: stage ${rt.stage.name} is part of an input cycle`);
    return d;
  }

  private rt(name: string): Runtime {
    const rt = this.byName.get(name);
    if (!rt) throw new StageError(`engine: no stage named ${JSON.stringify(name)} (stages: ${[...this.byName.keys()].join(', ')})`);
    return rt;
  }

  /** The queue of one stage (claims, counts, priority, broadening). */
  table(name: string): StageTable {
    return this.rt(name).table;
  }

  /** Put entities (objects with `key` and the input columns) into a source stage. Returns keys added. */
  enqueue(stage: string, rows: readonly Record<string, unknown>[]): string[] {
    const rt = this.rt(stage);
    if (rt.stage.input.from !== null) throw new StageError(`engine: stage ${stage} is fed from ${rt.stage.input.from}; enqueue only into a source stage`);
    return rt.table.enqueue(rows);
  }

  /** Swap a stage's priority while running (recorded, pending rows re-scored). */
  setPriority(stage: string, p: PrioritySpec): void {
    this.rt(stage).table.setPriority(p);
  }

  /** Admit upstream rows into every stage (upstream first). */
  feedAll(): number {
    let n = 0;
    for (const rt of this.rts) n += this.sql.transaction(() => rt.table.feed(), 'immediate').length;
    return n;
  }

  /** Worker count in force per stage (changes with `scale` while running). */
  workerCounts(): Record<string, number> {
    return Object.fromEntries(this.rts.map((rt) => [rt.stage.name, rt.workers]));
  }

  close(): void {
    if (this.ownsSql) this.sql.close();
  }

  /** Run until every stage is exhausted (or `signal` aborts). */
  async run(options: RunOptions = {}): Promise<RunReport> {
    const mode = options.mode ?? 'fractured';
    const t0 = performance.now();
    const report: RunReport = { mode, wallMs: 0, startupMs: 0, activeMs: 0, stages: {}, swept: 0, released: 0, broadened: [], halted: [], stopped: false };
    for (const rt of this.rts) {
      rt.report = { tasks: 0, taskMs: 0, rowsDone: 0, rowsFailedAttempts: 0, workMs: 0 };
      rt.halted = null;
      rt.quarantined = 0;
    }
    this.active = { report, pending: [] };
    this.progress = null;
    this.sweepAll(report);
    this.feedAll();
    if (options.signal?.aborted) {
      // Stopped before it began (e.g. during an import before the run): no pools started.
      this.active = null;
      report.stopped = true;
      report.wallMs = performance.now() - t0;
      for (const rt of this.rts) report.stages[rt.stage.name] = { ...rt.report };
      return report;
    }
    const progress = new Progress(this.opts.progress ?? 'off', this.opts.progressStream ?? process.stderr, (this.opts.progressEverySec ?? 10) * 1000);
    this.progress = progress;
    try {
      if (mode === 'fixed') await this.runFixed(options, report, progress);
      else await this.runFractured(options, report, progress);
    } finally {
      this.active = null;
      this.progress = null;
      if (progress.enabled) progress.finish(stageStatus(this.sql, this.rts.map((r) => r.stage.name)));
    }
    report.wallMs = performance.now() - t0;
    for (const rt of this.rts) report.stages[rt.stage.name] = { ...rt.report };
    return report;
  }

  /** Is this stage finished for good: nothing pending/running, upstream exhausted, no cutoff left to widen? */
  private exhausted(rt: Runtime): boolean {
    if (rt.halted) return false;
    const c = rt.table.counts();
    if (c.pending > 0 || c.running > 0 || rt.inflight.size > 0) return false;
    if (!this.upstreamExhausted(rt)) return false;
    // Rows other processes finished upstream since the last look: admit them before counting this
    // stage finished.
    if (this.feedFromOthers(rt, true) > 0) return false;
    return !rt.table.canBroaden();
  }

  /**
   * Admit upstream rows of a stage-table upstream that other processes finished (this engine admits
   * its own as it writes them). While another holder has upstream rows running, each tick looks at the
   * rows finished since its previous look, less a margin, through the upstream's finished_at index,
   * and takes the write lock only when there is something to admit. `full` (a stage about to count as
   * finished) looks at every done row, once per change of the upstream's latest finished_at. A plain upstream table (e.g. `structures`) is fed at
   * the start of a run and when drained.
   */
  private feedFromOthers(rt: Runtime, full: boolean): number {
    const from = rt.stage.input.from;
    if (from === null || !isStageTable(this.sql, from)) return 0;
    const now = Date.now();
    let since: number | undefined;
    if (full) {
      const mark = this.sql.get<{ f: number }>(`SELECT finished_at AS f FROM ${from} WHERE finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT 1`)?.f ?? null;
      if (mark === rt.fullFeedMark) return 0;
      rt.fullFeedMark = mark;
    } else {
      // Only while another holder works on the upstream (a few running rows to look at): with none, the
      // window stays open from the previous look, and the full feed covers a holder that came and went.
      const others = this.sql.get(`SELECT 1 AS x FROM ${from} WHERE state = 'running' AND claimed_by <> ? LIMIT 1`, [this.workerId]);
      if (!others) return 0;
      since = (rt.othersCheckedAt || now) - OTHERS_FEED_MARGIN_MS;
      rt.othersCheckedAt = now;
    }
    if (!rt.table.canFeed(since)) return 0;
    return this.sql.transaction(() => rt.table.feed(undefined, now, since), 'immediate').length;
  }

  /**
   * Has this stage nothing more to do in this run: exhausted, or halted (its rows wait for the next
   * run), or drained below a halted stage (nothing more can arrive; no broadening)?
   */
  private settled(rt: Runtime): boolean {
    if (rt.inflight.size > 0) return false;
    if (rt.halted) return true;
    let haltedAbove = false;
    for (let u = rt.upstream; u; u = u.upstream) if (u.halted) haltedAbove = true;
    if (!haltedAbove) return this.exhausted(rt);
    const c = rt.table.counts();
    return c.pending === 0 && c.running === 0;
  }

  private upstreamExhausted(rt: Runtime): boolean {
    if (rt.upstream) return this.exhausted(rt.upstream);
    const from = rt.stage.input.from;
    if (from && this.sql.get('SELECT 1 AS x FROM engine_stages WHERE name = ?', [from])) {
      return this.sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${from} WHERE state IN ('pending', 'running')`)!.n === 0;
    }
    return true;
  }

  /** Broaden every drained stage whose upstream is exhausted; true when rows were admitted. */
  private tryBroaden(report: RunReport): boolean {
    let admitted = false;
    for (const rt of this.rts) {
      for (;;) {
        // Cheapest checks first: counts() scans the table, and runs on every tick.
        if (rt.halted || rt.inflight.size > 0 || !rt.table.canBroaden()) break;
        const c = rt.table.counts();
        if (c.pending > 0 || c.running > 0 || !this.upstreamExhausted(rt)) break;
        const r = rt.table.broaden();
        if (!r) break;
        for (const ch of r.changes) report.broadened.push({ stage: rt.stage.name, ...ch });
        if (r.admitted.length > 0) {
          admitted = true;
          break;
        }
      }
    }
    return admitted;
  }

  /** Apply worker counts and priorities recorded in engine_stages (by `scale` or another process). */
  private applyControl(): void {
    for (const r of this.sql.all<{ name: string; workers: number; priority: string }>('SELECT name, workers, priority FROM engine_stages')) {
      const rt = this.byName.get(r.name);
      if (!rt) continue;
      if (r.workers !== rt.workers) {
        rt.workers = r.workers;
        rt.pool?.resize(r.workers);
      }
      const p = JSON.parse(r.priority) as PrioritySpec;
      if (JSON.stringify(p) !== JSON.stringify(rt.table.currentPriority())) rt.table.adoptPriority(p);
    }
  }

  private sweepAll(report: RunReport): void {
    this.reapDeadLocalHolders();
    for (const rt of this.rts) {
      const s = rt.table.sweep();
      report.swept += s.returned + s.failed;
    }
  }

  /**
   * Leases held by a process of this host that no longer exists (killed, crashed) end now instead of
   * at their expiry: a restart after `kill -9` does not wait out the lease. A reused pid looks alive
   * and simply waits for the normal expiry.
   */
  private reapDeadLocalHolders(): void {
    for (const rt of this.rts) expireDeadLocalLeases(this.sql, rt.stage.name);
  }


  /**
   * The one outcome writer of both modes: finished batches in one transaction, each row done or failed
   * under this holder's lease, and the finished rows admitted downstream in the same transaction.
   * Returns the keys admitted per downstream stage (the fixed mode follows them depth-first).
   */
  private write(batch: readonly Done[]): { rt: Runtime; keys: string[] }[] {
    return this.sql.transaction(() => {
      const now = Date.now();
      const admitted: { rt: Runtime; keys: string[] }[] = [];
      for (const d of batch) {
        const t = d.result.batch!;
        d.rt.report.workMs += d.result.workMs;
        d.rt.report.taskMs += d.result.taskMs;
        d.rt.report.tasks++;
        const idOf = new Map<string, number>();
        d.claim.keys.forEach((k, i) => idOf.set(k, d.claim.ids[i]!));
        const keys = wireValues(t, 'key') as string[];
        const errors = wireValues(t, '_error') as (string | null)[];
        const outs = d.rt.outDefs.map((c) => wireValues(t, c.name));
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
        const written = d.rt.table.finish(this.workerId, okIds, outs.map((col) => okIdx.map((i) => col[i])), now);
        if (failed.length) d.rt.table.fail(this.workerId, failed, now);
        d.rt.report.rowsDone += written.length;
        d.rt.report.rowsFailedAttempts += failed.length;
        if (written.length) for (const down of d.rt.downstream) admitted.push({ rt: down, keys: down.table.feed(written, now) });
      }
      return admitted;
    }, 'immediate');
  }

  /** Every row of a claim failed with one error (the attempt counts): an error the thread threw outside the work function. */
  private failAll(rt: Runtime, claim: Claim, report: RunReport, cause: unknown): void {
    const error = cause instanceof Error ? cause.message : String(cause);
    this.sql.transaction(() => rt.table.fail(this.workerId, claim.ids.map((id) => ({ id, error }))), 'immediate');
    rt.report.rowsFailedAttempts += claim.ids.length;
  }

  /** Give a claim's rows back unrun (no attempt counted). */
  private release(rt: Runtime, claim: Claim, report: RunReport): void {
    report.released += rt.table.release(this.workerId, claim.ids);
  }

  /**
   * A batch stopped by its environment: its rows go back unrun, and the stage claims nothing more in
   * this run (the first halt is recorded as an event and reported; the user frees the space or fixes
   * the permission and runs again).
   */
  private halt(rt: Runtime, claim: Claim, h: TaskHalt, report: RunReport): void {
    this.release(rt, claim, report);
    if (rt.halted) return;
    rt.halted = h;
    report.halted.push({ stage: rt.stage.name, ...h });
    recordEvent(this.sql, rt.stage.name, 'halt', h);
    this.progress?.note(`${rt.stage.name}: halted: ${haltMessage(h)}`);
  }

  /**
   * Stop at once (a second Ctrl-C): write the results already back, and give back every row in flight
   * unrun, synchronously. The caller exits the process after it; the threads die with it.
   */
  abandon(): { written: number; released: number } {
    const a = this.active;
    if (!a) return { written: 0, released: 0 };
    let written = 0;
    const done = a.pending.splice(0);
    if (done.length) {
      this.write(done);
      written = done.length;
    }
    const before = a.report.released;
    for (const rt of this.rts) {
      for (const t of rt.inflight.values()) this.release(rt, t.claim, a.report);
      rt.inflight.clear();
      rt.quarantined = 0;
    }
    return { written, released: a.report.released - before };
  }

  /** A task that did not come back: its rows' leases end now and the sweep returns them. */
  private lost(rt: Runtime, claim: Claim, report: RunReport, cause: unknown): void {
    rt.table.expire(this.workerId, claim.ids);
    const why = cause instanceof Error ? cause.message : String(cause);
    const s = rt.table.sweep(Date.now(), `batch lost (${why}); lease ended`, claim.ids);
    report.swept += s.returned + s.failed;
  }

  private task(rt: Runtime, pool: StagePool, claim: Claim, opts: { signal?: AbortSignal; began?: BigInt64Array }): Promise<TaskResult> {
    const input = wireFromColumns(rt.inDefs, [claim.keys, ...claim.inputs]);
    return pool.run({ module: rt.stage.module, work: rt.stage.workName, stage: rt.stage.name, output: rt.outDefs, params: { ...rt.stage.params } }, input, opts);
  }

  private async runFractured(options: RunOptions, report: RunReport, progress: Progress): Promise<void> {
    // Several batches per thread: the next ones wait inside the thread, not in the main thread's queue.
    for (const rt of this.rts) rt.pool = new StagePool(rt.workers, [{ module: rt.stage.module, work: rt.stage.workName }], rt.stage.queueInThread ? TASKS_PER_THREAD : 1);
    const t0 = performance.now();
    await Promise.all(this.rts.map((rt) => rt.pool!.ready()));
    report.startupMs = performance.now() - t0;
    let finished!: () => void;
    let failedWith: unknown = null;
    const done = new Promise<void>((res) => (finished = res));
    let stopping = false;
    const pending = this.active!.pending;
    let flushScheduled = false;
    const fail = (e: unknown) => {
      if (failedWith === null) failedWith = e;
      stopping = true;
      finished();
    };

    // Claims are made here and their tasks started by start() once the claiming transaction has
    // committed: a task never runs on rows whose claim could still roll back.
    const claimAll = (): { rt: Runtime; claim: Claim }[] => {
      const got: { rt: Runtime; claim: Claim }[] = [];
      if (stopping) return got;
      for (const rt of this.rts) {
        if (rt.halted) continue;
        if (rt.quarantined === 0) {
          const q = rt.table.claimSuspect(this.workerId);
          if (q.ids.length) got.push({ rt, claim: q });
        }
        const ahead = rt.workers * (rt.stage.queueInThread ? BATCHES_AHEAD_PER_WORKER : 2);
        for (let n = rt.inflight.size; n < ahead; n++) {
          const claim = rt.table.claim(this.workerId, rt.stage.batchSize);
          if (claim.ids.length === 0) break;
          for (const part of isolateSuspects(claim)) got.push({ rt, claim: part });
        }
      }
      return got;
    };
    // A batch of a stage that queues batches in its threads runs without an AbortSignal (see
    // StagePool): one past its lease is ended by restarting the stage's threads, and the other
    // batches ended with them were not at fault. A stage that runs one batch per thread passes a
    // signal, and piscina ends only that batch's thread.
    const endThreads = (rt: Runtime, culprit: number | null) => {
      for (const [id, t] of rt.inflight) if (id !== culprit) t.collateral = true;
      rt.pool?.restart();
    };
    const start = (rt: Runtime, claim: Claim) => {
      const id = ++taskSeq;
      const abort = new AbortController();
      const entry: Inflight = { claim, abort, collateral: false };
      rt.inflight.set(id, entry);
      const suspect = inQuarantine(claim);
      if (suspect) rt.quarantined++;
      const lease = rt.stage.leaseMs;
      const queued = rt.stage.queueInThread;
      // Epoch ms at which the thread began the batch's work function (0 until then).
      const began = new BigInt64Array(new SharedArrayBuffer(8));
      // The lease runs from the claim while the batch waits (behind another batch in its thread, or in
      // the pool's queue) and from its start once it has begun: checked every half lease, the store's
      // lease renewed each time, so a sweep never returns a batch that is only waiting.
      let timer: NodeJS.Timeout;
      const check = () => {
        if (stopping) return;
        const t0 = Number(Atomics.load(began, 0));
        const now = Date.now();
        if (t0 === 0 || now < t0 + lease) {
          try {
            rt.table.renew(this.workerId, claim.ids, t0 === 0 ? now + lease : t0 + lease);
          } catch {
            // The store refused the renewal (busy, full): the next check tries again.
          }
          timer = setTimeout(check, t0 === 0 ? lease / 2 : Math.max(1, Math.min(lease / 2, t0 + lease - now)));
          return;
        }
        abort.abort(new Error(`batch ran past its lease (${lease} ms)`));
        if (queued) endThreads(rt, id);
      };
      timer = setTimeout(check, lease / 2);
      this.task(rt, rt.pool!, claim, queued ? { began } : { began, signal: abort.signal }).then(
        (result) => {
          clearTimeout(timer);
          rt.inflight.delete(id);
          if (suspect) rt.quarantined--;
          if (result.halt) {
            try {
              this.halt(rt, claim, result.halt, report);
              checkDone();
            } catch (e) {
              fail(e);
            }
            return;
          }
          pending.push({ rt, claim, result });
          scheduleFlush();
        },
        (cause: unknown) => {
          clearTimeout(timer);
          rt.inflight.delete(id);
          if (suspect) rt.quarantined--;
          try {
            // Lost (the attempt counts): the batch past its lease, one whose thread died while running
            // it, and one that failed before its work began for a reason of its own (a stage module
            // that does not load in the thread). Back unrun, the attempt not counted: a stop, threads
            // ended for another batch, and a batch still waiting in a thread that died.
            // A thread that died or a batch past its lease is a death of the batch's rows; an error
            // the thread threw before the work began (a stage module that does not load) fails them.
            if (stopping) this.release(rt, claim, report);
            else if (abort.signal.aborted) this.lost(rt, claim, report, abort.signal.reason);
            else if (entry.collateral || (Atomics.load(began, 0) === 0n && endedWithThread(cause))) this.release(rt, claim, report);
            else if (endedWithThread(cause)) this.lost(rt, claim, report, cause);
            else this.failAll(rt, claim, report, cause);
            pumpAll();
          } catch (e) {
            fail(e);
          }
        },
      );
    };
    const pumpAll = () => {
      for (const c of this.sql.transaction(claimAll, 'immediate')) start(c.rt, c.claim);
    };
    const scheduleFlush = () => {
      if (flushScheduled) return;
      flushScheduled = true;
      const flushMs = this.opts.flushMs ?? 2;
      (flushMs > 0 ? (f: () => void) => setTimeout(f, flushMs) : setImmediate)(() => {
        flushScheduled = false;
        const batch = pending.splice(0);
        try {
          // The finished batches and the claims that refill the pools share one transaction: one
          // commit per flush instead of two (each commit writes the WAL frames of the touched pages).
          const claims = this.sql.transaction(() => {
            if (batch.length) this.write(batch);
            return claimAll();
          }, 'immediate');
          for (const c of claims) start(c.rt, c.claim);
          checkDone();
        } catch (e) {
          fail(e);
        }
      });
    };
    const checkDone = () => {
      if (stopping) {
        if (this.rts.every((rt) => rt.inflight.size === 0) && pending.length === 0) finished();
        return;
      }
      if (this.rts.some((rt) => rt.inflight.size > 0) || pending.length > 0) return;
      if (this.rts.every((rt) => this.settled(rt))) finished();
    };
    const tick = () => {
      try {
        if (!stopping) {
          this.applyControl();
          this.sweepAll(report);
          for (const rt of this.rts) this.feedFromOthers(rt, false);
          if (this.tryBroaden(report)) pumpAll();
          pumpAll();
        }
        if (progress.wants()) progress.update(stageStatus(this.sql, this.rts.map((r) => r.stage.name), new Map(this.rts.map((r) => [r.stage.name, r.workers]))));
        checkDone();
      } catch (e) {
        fail(e);
      }
    };
    const onAbort = () => {
      stopping = true;
      for (const rt of this.rts) {
        for (const t of rt.inflight.values()) t.collateral = true;
        if (rt.inflight.size > 0) rt.pool?.terminate();
      }
      checkDone();
    };
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setInterval(tick, this.opts.tickMs ?? 250);
    const tActive = performance.now();
    try {
      tick();
      await done;
      report.activeMs = performance.now() - tActive;
    } finally {
      clearInterval(timer);
      options.signal?.removeEventListener('abort', onAbort);
      stopping = true;
      for (const rt of this.rts) if (rt.inflight.size > 0) rt.pool?.terminate();
      while (this.rts.some((rt) => rt.inflight.size > 0)) await new Promise((r) => setTimeout(r, 5));
      try {
        if (pending.length) this.write(pending.splice(0));
      } catch (e) {
        // The store refused the last writes (disk full, read-only): report that, after the pools close.
        if (failedWith === null) failedWith = e;
      }
      for (const rt of this.rts) {
        await rt.pool?.close();
        rt.pool = null;
      }
      report.stopped = options.signal?.aborted === true;
    }
    if (failedWith !== null) throw failedWith;
  }

  private async runFixed(options: RunOptions, report: RunReport, progress: Progress): Promise<void> {
    const n = options.workflows ?? 2;
    if (!Number.isInteger(n) || n < 1) throw new StageError(`engine: workflows must be a positive integer, got ${JSON.stringify(n)}`);
    const pool = new StagePool(n, this.rts.map((rt) => ({ module: rt.stage.module, work: rt.stage.workName })));
    const t0 = performance.now();
    await pool.ready();
    report.startupMs = performance.now() - t0;
    // A stop (the caller's signal) or a store error ends every workflow: threads ended, rows released.
    const stop = new AbortController();
    let failedWith: unknown = null;
    const fail = (e: unknown) => {
      if (failedWith === null) failedWith = e;
      if (!stop.signal.aborted) stop.abort();
    };
    const onAbort = () => {
      if (!stop.signal.aborted) stop.abort();
    };
    stop.signal.addEventListener('abort', () => pool.terminate(), { once: true });
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const ticker = setInterval(() => {
      try {
        this.applyControlPriorities();
        this.sweepAll(report);
        for (const rt of this.rts) this.feedFromOthers(rt, false);
        if (progress.wants()) progress.update(stageStatus(this.sql, this.rts.map((r) => r.stage.name)));
      } catch (e) {
        fail(e);
      }
    }, this.opts.tickMs ?? 250);
    const runOne = async (rt: Runtime, claim: Claim): Promise<void> => {
      if (stop.signal.aborted) {
        this.release(rt, claim, report);
        return;
      }
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(new Error(`batch ran past its lease (${rt.stage.leaseMs} ms)`)), rt.stage.leaseMs);
      rt.inflight.set(++taskSeq, { claim, abort });
      const id = taskSeq;
      const suspect = inQuarantine(claim);
      if (suspect) rt.quarantined++;
      let result: TaskResult;
      try {
        result = await this.task(rt, pool, claim, { signal: abort.signal });
      } catch (cause) {
        if (!rt.inflight.has(id)) return; // given back by abandon()
        if (stop.signal.aborted) this.release(rt, claim, report);
        else if (abort.signal.aborted || endedWithThread(cause)) this.lost(rt, claim, report, abort.signal.aborted ? abort.signal.reason : cause);
        else this.failAll(rt, claim, report, cause);
        return;
      } finally {
        clearTimeout(timer);
        if (rt.inflight.delete(id) && suspect) rt.quarantined--;
      }
      if (result.halt) {
        this.halt(rt, claim, result.halt, report);
        return;
      }
      const admitted = this.write([{ rt, claim, result }]);
      // Depth-first: the rows this entity just created downstream run before the next entity starts.
      for (const a of admitted) {
        for (const key of a.keys) {
          if (a.rt.halted) continue;
          const c = a.rt.table.claimKeys(this.workerId, [key]);
          if (c.ids.length) await runOne(a.rt, c);
        }
      }
    };
    const workflow = async (): Promise<void> => {
      for (;;) {
        if (stop.signal.aborted) return;
        let claimed = false;
        for (const rt of this.rts) {
          if (rt.halted) continue;
          let c = rt.quarantined === 0 ? rt.table.claimSuspect(this.workerId) : null;
          if (!c?.ids.length) c = rt.table.claim(this.workerId, 1);
          if (c.ids.length === 0) continue;
          claimed = true;
          await runOne(rt, c);
          break;
        }
        if (claimed) continue;
        if (this.rts.every((rt) => this.settled(rt))) return;
        if (this.tryBroaden(report)) continue;
        await new Promise((r) => setTimeout(r, Math.min(this.opts.tickMs ?? 250, 50)));
      }
    };
    const tActive = performance.now();
    try {
      await Promise.all(Array.from({ length: n }, () => workflow().catch(fail)));
      report.activeMs = performance.now() - tActive;
      report.stopped = options.signal?.aborted === true;
    } finally {
      clearInterval(ticker);
      options.signal?.removeEventListener('abort', onAbort);
      await pool.close();
    }
    if (failedWith !== null) throw failedWith;
  }

  private applyControlPriorities(): void {
    for (const r of this.sql.all<{ name: string; priority: string }>('SELECT name, priority FROM engine_stages')) {
      const rt = this.byName.get(r.name);
      if (!rt) continue;
      const p = JSON.parse(r.priority) as PrioritySpec;
      if (JSON.stringify(p) !== JSON.stringify(rt.table.currentPriority())) rt.table.adoptPriority(p);
    }
  }
}

/**
 * The engine: runs declared stages over one store, in either architecture — the fractured scheduler
 * (a pool and a ranked queue per stage, fractured.ts) or the fixed-workflow scheduler (each entity
 * depth-first through all stages, fixed.ts) — which share one outcome writer and one control tick
 * (core.ts). It talks to the store only through the store interface (src/store/interface.ts).
 *
 * Both run until every stage is exhausted: no pending or running rows, upstream exhausted, and no
 * admission cutoff left to broaden — or halted by a full or forbidden output disk, or stopped.
 */
import { availableParallelism, hostname } from 'node:os';
import type { QueueStore } from '../store/interface.js';
import { openQueue, SqliteQueueStore } from '../store/index.js';
import type { SqlDb } from '../store/sqlite/connection.js';
import { systemClock, type Clock } from './clock.js';
import { RunCore, type RunReport } from './core.js';
import { threadRunnerWith, type BatchRunner } from './runner.js';
import { createCpuBudget } from './cpu-budget.js';
import { LearnedPriority, type LearnedPrioritySpec } from './learned-priority.js';
import { stderrLogger, type EngineEvent, type Logger } from './events.js';
import { FixedScheduler } from './fixed.js';
import { FracturedScheduler, type BatchSizing, type ThreadSharing } from './fractured.js';
export type { BatchSizing, ThreadSharing } from './fractured.js';
import { Progress, type ProgressMode } from './progress.js';
import { emptyReport, type Runtime } from './runtime.js';
import { StageError, type PrioritySpec, type Stage } from '../stage-kit/stage.js';

export type { RunReport, StageHalt } from './core.js';
export type { StageReport } from './runtime.js';
export { haltMessage } from './runtime.js';
export { BATCHES_AHEAD_PER_WORKER, TASKS_PER_THREAD } from './fractured.js';
export { systemClock, VirtualClock, sleep, type Clock, type ClockTimer } from './clock.js';
export { LearnedPriority, fitRidge, learnedExpression, checkLearnedSpec, LEARNED_MODELS, type LearnedModel, type LearnedPrioritySpec, type PriorityFit, type RidgeFit } from './learned-priority.js';
export { threadRunner, threadRunnerWith, type BatchPool, type BatchRunner, type BatchRunOptions, type BatchTask } from './runner.js';

export interface EngineOptions {
  /** The store: an open one, an SQLite connection, or a location (SQLite file, `:memory:`, PostgreSQL URL) the engine opens and closes. */
  db: string | QueueStore | SqlDb;
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
   * Fractured mode: how long a finished batch may wait for others to share its unit of work (ms; 0 =
   * the next turn of the event loop). Default 2: every thread holds more batches, so the wait delays
   * no work, and batches finishing within it share one commit.
   */
  flushMs?: number;
  /**
   * Fractured mode: batches handed to each worker thread at once (one more waits in the pool's queue),
   * so a thread starts its next batch without a round trip through the main thread. Default 3; 1 hands
   * a thread one batch at a time. Stages that wait on something else (`queueInThread: false`) take one.
   */
  batchesPerThread?: number;
  /**
   * Fractured mode: how big each claim is. `'ramp'` (default): a stage's first claims take one row and
   * each finished batch doubles the size, up to the stage's batchSize, so the first rows of each stage
   * finish in a row's time rather than a whole batch's. `{ targetMs }`: the ramp, and each next size
   * also fitted to about `targetMs` of work at the rows' measured cost (for stages whose cost grows
   * with their rows; a stage with a fixed cost per batch would be held at one row). `'full'`: every
   * claim takes the stage's batchSize. A stage with a `batchGroup` always claims its batchSize (a
   * smaller claim would cut its groups).
   */
  batchSizing?: BatchSizing;
  /**
   * Fractured mode: `'shared'` (default): the CPU-bound stages (`queueInThread`) run on one set of
   * threads, as many as the CPU budget (fewer when their workers add up to fewer), each thread loading
   * every such stage; a stage's workers are the most of its batches that run at once (the main
   * thread sends no more of them to the threads), and the deepest stage's batches go first.
   * `'per-stage'`: a pool of `workers` threads per stage. Threads are shared only with the built-in
   * thread runner and a CPU budget; a batch that runs past its lease ends the shared threads, and the
   * other stages' batches on them go back unrun.
   */
  threads?: ThreadSharing;
  /** Where the engine's warnings go. Default stderr. */
  logger?: Logger;
  /** Lifecycle events of each run (claims, completions, deaths, halts, broadening, scaling, ...). */
  events?: (e: EngineEvent) => void;
  /**
   * Run as a registered worker of the one stage given (`fracflow worker`): registered in the store
   * while it runs (host, pid, threads, job), beating each control tick, its thread count the allotment
   * `scale` gives it rather than the stage's count.
   */
  worker?: WorkerOptions;
  /**
   * Stages this engine does not run but whose rows it admits when rows of its own stages finish — the
   * downstream stages of a `fracflow worker`'s stage — so that admission happens in the completing
   * unit of work, not on the downstream workers' next tick. Each must be fed by one of `stages`.
   */
  admitFor?: readonly Stage[];
  /**
   * The engine's time: the store's timestamps, ticks, flush waits, lease checks and the report's
   * durations. Default the system clock; a VirtualClock runs the same schedulers in simulated time.
   */
  clock?: Clock;
  /** Where batches run. Default worker threads running the stage's work function (threadRunner). */
  runner?: BatchRunner;
  /**
   * Batches of CPU-bound stages (`queueInThread`) running at once across every stage's threads: the
   * stages share the machine's cores instead of oversubscribing them, each stage's worker count being
   * the most it may take (src/engine/cpu-budget.ts). Default os.availableParallelism(); null: no limit.
   * Ignored with a `runner` of the caller's.
   */
  cpuBudget?: number | null;
  /**
   * Learned priorities (learned-priority.ts): each refitted on the control tick once `every` new rows
   * of its target have finished, and swapped in as its stage's priority.
   */
  learned?: readonly LearnedPrioritySpec[];
}

export interface WorkerOptions {
  /** Threads at the start (its allotment until a `scale`). */
  threads: number;
  /** The batch job it runs in, e.g. `slurm:1234_5`. */
  job?: string | null;
}

export interface RunOptions {
  mode?: 'fractured' | 'fixed';
  /** Fixed mode: workflows run at a time (threads of its pool). Default 2. */
  workflows?: number;
  /** Stop: claiming ends, batches in flight are cancelled and their rows released unrun (no attempt counted). */
  signal?: AbortSignal;
  /** Fractured mode: end once this many rows are finished (claims cut to fit); the rows in hand are finished first. */
  maxRows?: number;
  /** Fractured mode: end after this long (ms) with nothing claimed and nothing in flight. */
  idleExitMs?: number;
}

function isQueueStore(x: unknown): x is QueueStore {
  return typeof (x as QueueStore).exchange === 'function';
}

export class Engine {
  readonly store: QueueStore;
  readonly workerId: string;
  private readonly ownsStore: boolean;
  private readonly rts: Runtime[];
  private readonly byName = new Map<string, Runtime>();
  private readonly opts: EngineOptions;
  /** The run in progress. */
  private core: RunCore | null = null;
  /** Learned priorities of this engine (their fits recorded across runs). */
  readonly learned: LearnedPriority[];

  private constructor(opts: EngineOptions, store: QueueStore, owns: boolean) {
    this.opts = opts;
    this.store = store;
    this.ownsStore = owns;
    this.workerId = opts.workerId ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
    this.rts = [];
    this.learned = (opts.learned ?? []).map((l) => new LearnedPriority(store, l));
    for (const s of opts.stages) {
      if (this.byName.has(s.name)) throw new StageError(`engine: stage ${s.name} is given twice`);
      const rt: Runtime = {
        stage: s, pool: null, workers: s.workers, inflight: new Map(), downstream: [], upstream: null,
        inDefs: [{ name: 'key', type: 'utf8' }, ...Object.entries(s.input.columns).map(([name, c]) => ({ name, type: c.type }))],
        outDefs: Object.entries(s.output).map(([name, type]) => ({ name, type })),
        report: emptyReport(), othersCheckedAt: 0, fullFeedMark: undefined, halted: null, quarantined: 0, depth: 0,
      };
      this.byName.set(s.name, rt);
      this.rts.push(rt);
    }
    // A stage fed by another's emitted table has that stage upstream.
    const emitter = new Map(this.rts.filter((rt) => rt.stage.emits).map((rt) => [rt.stage.emits!.table, rt]));
    for (const rt of this.rts) {
      const from = rt.stage.input.from;
      const up = from ? this.byName.get(from) ?? emitter.get(from) : undefined;
      if (up) {
        rt.upstream = up;
        up.downstream.push(rt);
      }
    }
    for (const l of this.learned) this.rt(l.spec.stage);
    // Upstream stages first, so the first full admission sees every admitted row.
    for (const rt of this.rts) rt.depth = this.depth(rt);
    this.rts.sort((a, b) => a.depth - b.depth);
  }

  /** An engine over `opts.db` with its stages' tables created and registered. */
  static async open(opts: EngineOptions): Promise<Engine> {
    if (opts.stages.length === 0) throw new StageError('engine: no stages given');
    if (opts.worker) {
      if (opts.stages.length !== 1) throw new StageError(`engine: a worker runs one stage, got ${opts.stages.length} (${opts.stages.map((s) => s.name).join(', ')})`);
      const t = opts.worker.threads;
      if (!Number.isInteger(t) || t < 1 || t > 1024) throw new StageError(`engine: worker threads must be an integer from 1 to 1024, got ${JSON.stringify(t)}`);
    }
    if (opts.cpuBudget !== undefined && opts.cpuBudget !== null && !(Number.isInteger(opts.cpuBudget) && opts.cpuBudget >= 1)) {
      throw new StageError(`engine: cpuBudget must be a positive integer or null, got ${JSON.stringify(opts.cpuBudget)}`);
    }
    const bpt = opts.batchesPerThread;
    if (bpt !== undefined && !(Number.isInteger(bpt) && bpt >= 1 && bpt <= 64)) throw new RangeError(`engine: batchesPerThread must be an integer from 1 to 64, got ${JSON.stringify(bpt)}`);
    if (opts.threads !== undefined && opts.threads !== 'shared' && opts.threads !== 'per-stage') throw new RangeError(`engine: threads must be 'shared' or 'per-stage', got ${JSON.stringify(opts.threads)}`);
    const sizing = opts.batchSizing;
    if (sizing !== undefined && sizing !== 'ramp' && sizing !== 'full' && !(typeof sizing === 'object' && sizing !== null && Number.isFinite(sizing.targetMs) && sizing.targetMs > 0)) {
      throw new RangeError(`engine: batchSizing must be 'ramp', 'full' or { targetMs: a positive number of ms }, got ${JSON.stringify(sizing)}`);
    }
    const owns = typeof opts.db === 'string';
    const store = typeof opts.db === 'string' ? await openQueue(opts.db) : isQueueStore(opts.db) ? opts.db : new SqliteQueueStore(opts.db);
    try {
      const e = new Engine(opts, store, owns);
      const own = new Set(e.rts.flatMap((rt) => [rt.stage.name, ...(rt.stage.emits ? [rt.stage.emits.table] : [])]));
      for (const d of opts.admitFor ?? []) {
        if (e.byName.has(d.name)) throw new StageError(`engine: stage ${d.name} is both run and admitted for`);
        if (!d.input.from || !own.has(d.input.from)) throw new StageError(`engine: admitFor stage ${d.name} is fed by ${JSON.stringify(d.input.from ?? null)}, not by a stage this engine runs (${[...own].join(', ')})`);
      }
      await store.ensure([...e.rts.map((rt) => rt.stage), ...(opts.admitFor ?? [])], (opts.clock ?? systemClock).now());
      for (const c of await store.control(e.rts.map((rt) => rt.stage.name))) e.byName.get(c.stage)!.workers = c.workers;
      if (opts.worker) e.rts[0]!.workers = opts.worker.threads;
      return e;
    } catch (err) {
      if (owns) await store.close();
      throw err;
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

  /** Put entities (objects with `key` and the input columns) into a source stage. Returns keys added. */
  async enqueue(stage: string, rows: readonly Record<string, unknown>[]): Promise<string[]> {
    const rt = this.rt(stage);
    if (rt.stage.input.from !== null) throw new StageError(`engine: stage ${stage} is fed from ${rt.stage.input.from}; enqueue only into a source stage`);
    return this.store.enqueue(stage, rows, (this.opts.clock ?? systemClock).now());
  }

  /** Swap a stage's priority while running (recorded, pending rows re-scored). */
  async setPriority(stage: string, p: PrioritySpec): Promise<void> {
    this.rt(stage);
    await this.store.setPriority(stage, p, (this.opts.clock ?? systemClock).now());
  }

  /** Admit upstream rows into every stage (upstream first). */
  async feedAll(now = (this.opts.clock ?? systemClock).now()): Promise<number> {
    let n = 0;
    for (const rt of this.rts) n += (await this.store.admit(rt.stage.name, {}, now)).length;
    return n;
  }

  /** Worker count in force per stage (changes with `scale` while running). */
  workerCounts(): Record<string, number> {
    return Object.fromEntries(this.rts.map((rt) => [rt.stage.name, rt.workers]));
  }

  async close(): Promise<void> {
    if (this.ownsStore) await this.store.close();
  }

  /** Worker threads for a run, sharing a CPU budget of `cpuBudget` tokens (a fresh budget per run). */
  private threadRunner(): BatchRunner {
    const tokens = this.opts.cpuBudget === undefined ? availableParallelism() : this.opts.cpuBudget;
    return threadRunnerWith(tokens === null ? null : createCpuBudget(tokens));
  }

  /** Run until every stage is exhausted (or halted, or `signal` aborts). */
  async run(options: RunOptions = {}): Promise<RunReport> {
    const mode = options.mode ?? 'fractured';
    const clock = this.opts.clock ?? systemClock;
    const t0 = clock.elapsed();
    const report: RunReport = { mode, wallMs: 0, startupMs: 0, activeMs: 0, stages: {}, swept: 0, released: 0, broadened: [], halted: [], stopped: false };
    for (const rt of this.rts) {
      rt.report = emptyReport();
      rt.halted = null;
      rt.quarantined = 0;
    }
    const progress = new Progress(this.opts.progress ?? 'off', this.opts.progressStream ?? process.stderr, (this.opts.progressEverySec ?? 10) * 1000);
    const w = this.opts.worker;
    const core = new RunCore(this.store, this.rts, report, progress, { holder: this.workerId, logger: this.opts.logger ?? stderrLogger, events: this.opts.events, clock, runner: this.opts.runner ?? this.threadRunner(), learned: this.learned, ...(w ? { worker: { stage: this.rts[0]!.stage.name } } : {}) });
    if (w) {
      if (mode !== 'fractured') throw new StageError('engine: a worker runs in the fractured mode');
      await this.store.registerWorker({ id: this.workerId, host: hostname(), pid: process.pid, stage: this.rts[0]!.stage.name, threads: this.rts[0]!.workers, job: w.job ?? null });
    }
    try {
      return await this.runWith(core, report, progress, options, t0);
    } finally {
      // Deregistered on every way out (its last count beaten first); a worker killed outright stays listed, stale.
      if (w) await core.beat(true).catch(() => null);
      if (w) await this.store.deregisterWorker(this.workerId).catch((e: unknown) => (this.opts.logger ?? stderrLogger).warn(`could not deregister worker ${this.workerId}: ${e instanceof Error ? e.message : String(e)}`));
    }
  }

  private async runWith(core: RunCore, report: RunReport, progress: Progress, options: RunOptions, t0: number): Promise<RunReport> {
    const mode = options.mode ?? 'fractured';
    const clock = this.opts.clock ?? systemClock;
    await core.sweepAll();
    await this.feedAll(clock.now());
    if (options.signal?.aborted) {
      // Stopped before it began (e.g. during an import before the run): no pools started.
      report.stopped = true;
      report.ended = 'stopped';
    } else {
      this.core = core;
      const tickMs = this.opts.tickMs ?? 250;
      try {
        if (mode === 'fixed') await new FixedScheduler(core, { tickMs, workflows: options.workflows ?? 2, signal: options.signal }).run();
        else await new FracturedScheduler(core, { tickMs, flushMs: this.opts.flushMs ?? 2, batchesPerThread: this.opts.batchesPerThread, batchSizing: this.opts.batchSizing ?? 'ramp', threads: this.opts.threads, signal: options.signal, maxRows: options.maxRows, idleExitMs: options.idleExitMs }).run();
      } finally {
        this.core = null;
        if (progress.enabled) progress.finish(await this.store.status(this.rts.map((r) => r.stage.name), undefined, clock.now()));
      }
    }
    report.wallMs = clock.elapsed() - t0;
    for (const rt of this.rts) report.stages[rt.stage.name] = { ...rt.report };
    return report;
  }

  /**
   * Stop at once (a second Ctrl-C): write the results already back, and give back every row in flight
   * unrun. The caller exits the process after it; the threads die with it. With the embedded store
   * the work is done by the time this returns its promise.
   */
  async abandon(): Promise<{ written: number; released: number }> {
    const core = this.core;
    if (!core) return { written: 0, released: 0 };
    const done = core.pending.splice(0);
    const flights = this.rts.flatMap((rt) => [...rt.inflight.values()].map((t) => ({ rt, claim: t.claim })));
    for (const [rt, claim] of core.held) flights.push({ rt, claim });
    core.held.clear();
    for (const rt of this.rts) {
      rt.inflight.clear();
      rt.quarantined = 0;
    }
    const before = core.report.released;
    if (done.length) await core.write(done);
    for (const f of flights) await core.release(f.rt, f.claim, 'stop');
    return { written: done.length, released: core.report.released - before };
  }
}

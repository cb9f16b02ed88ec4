/**
 * A BatchRunner for the engine on a virtual clock: a batch "runs" for the sum of its rows' simulated
 * durations and returns simulated outputs, and a pool's slots stand for cores of a cluster. The
 * engine's schedulers above it are the real ones; this module only says how long a batch takes, what
 * it returns and how many cores it holds meanwhile.
 *
 * Every slot of a stage's pool holds `cores(stage)` cores while it runs a batch. A runner given a
 * `coreBudget` also makes every pool draw from that shared budget (the fixed-workflow architecture on a
 * cluster: N workflows at a time, each needing the cores its current step needs); a batch that does
 * not fit waits, first come first served. Each batch run is recorded (stage, cores, start, end, keys),
 * from which the study draws utilisation and core-hours.
 *
 * With `deepestFirst` the shared budget serves the pools by their stage's depth instead: cores given
 * back go to the waiting batch of the deepest stage first, and a pool does not take cores while a
 * deeper pool with a free slot has a batch waiting for them (so a calculation that needs many cores is
 * not overtaken for ever by smaller ones upstream). This is the single-machine engine's CPU budget
 * (cpu-budget.ts) on a cluster: each stage's workers a cap, the cores shared.
 */
import type { BatchPool, BatchRunOptions, BatchRunner, BatchTask, Clock } from '../../engine/engine.js';
import { wireFromColumns } from '../../engine/wire.js';
import type { TaskResult } from '../../engine/worker.js';
import type { ColumnDef } from '../../stage-kit/arrow.js';
import type { Stage } from '../../stage-kit/stage.js';

/** The simulated outcome of one row. */
export interface SimRow {
  /** Simulated duration on one slot (ms of the virtual clock). */
  ms: number;
  /** Output columns by name (missing ones are null); `error` set: the row's work threw. */
  out?: Record<string, unknown>;
  error?: string;
  /** A fan-out stage's emitted rows: key and the emitted table's columns. */
  emit?: { key: string; columns: Record<string, unknown> }[];
}

/** What a row of a stage does in the simulation. */
export type SimWork = (stage: Stage, key: string, inputs: Readonly<Record<string, unknown>>) => SimRow;

/** One batch as it ran. */
export interface BatchRecord {
  stage: string;
  cores: number;
  startMs: number;
  endMs: number;
  keys: string[];
  /** Ended before its time (restart, terminate, abort). */
  cut: boolean;
}

export interface SimRunnerOptions {
  clock: Clock;
  work: SimWork;
  /** Cores a slot of this stage holds while it runs. */
  cores: (stage: string) => number;
  /** Shared by every pool (fixed mode); absent: each pool's slots are its own. */
  coreBudget?: number;
  /** With a coreBudget: serve the deepest stage's waiting batch first (see the module comment). Default first come, first served. */
  deepestFirst?: boolean;
}

interface Job {
  task: BatchTask;
  opts: BatchRunOptions;
  resolve: (r: TaskResult) => void;
  reject: (e: unknown) => void;
  cores: number;
}

/** Rejection of a batch whose slot ended: the message piscina gives, so the schedulers treat it the same. */
function threadEnded(): Error {
  return new Error('Terminating worker thread');
}

export class SimRunner implements BatchRunner {
  readonly records: BatchRecord[] = [];
  private readonly o: SimRunnerOptions;
  private freeCores: number;
  private readonly pools: SimPool[] = [];

  constructor(o: SimRunnerOptions) {
    if (o.coreBudget !== undefined && !(Number.isInteger(o.coreBudget) && o.coreBudget > 0)) throw new RangeError(`sim runner: coreBudget must be a positive integer, got ${o.coreBudget}`);
    this.o = o;
    this.freeCores = o.coreBudget ?? Number.POSITIVE_INFINITY;
  }

  pool(size: number, stages: readonly Stage[]): BatchPool {
    const p = new SimPool(this, size, new Set(stages.map((s) => s.name)));
    this.pools.push(p);
    return p;
  }

  /** @internal Another pool deeper than `depth` has a batch waiting for cores and a slot to run it in. */
  deeperWaiting(depth: number, from: SimPool): boolean {
    if (!this.o.deepestFirst) return false;
    for (const p of this.pools) if (p !== from && p.depth > depth && p.waiting()) return true;
    return false;
  }

  /** @internal Let every pool start what it can (deepest first with `deepestFirst`). */
  pumpAll(): void {
    const order = this.o.deepestFirst ? [...this.pools].sort((a, b) => b.depth - a.depth) : this.pools;
    for (const p of order) p.pump();
  }

  /** @internal */
  get options(): SimRunnerOptions {
    return this.o;
  }

  /** @internal Take cores from the shared budget for a batch of a stage at `depth`; false when they are not free (or a deeper stage waits for them). */
  take(cores: number, depth: number, from: SimPool): boolean {
    if (cores > this.freeCores || this.deeperWaiting(depth, from)) return false;
    this.freeCores -= cores;
    return true;
  }

  /** @internal */
  give(cores: number): void {
    this.freeCores += cores;
    // Cores freed by one pool may let another pool's waiting batch start (fixed mode has one pool);
    // deepest first, the deepest pools being asked first.
    this.pumpAll();
  }
}

class SimPool implements BatchPool {
  private readonly runner: SimRunner;
  private size: number;
  private readonly queue: Job[] = [];
  private readonly running = new Set<{ job: Job; timer: import('../../engine/engine.js').ClockTimer; record: BatchRecord }>();
  private ended = false;
  /** The deepest stage depth among the batches it was given (its stage's, in the fractured mode). */
  depth = 0;

  constructor(runner: SimRunner, size: number, _stages: Set<string>) {
    this.runner = runner;
    this.size = size;
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  run(task: BatchTask, opts: BatchRunOptions = {}): Promise<TaskResult> {
    return new Promise((resolve, reject) => {
      if (this.ended) return reject(threadEnded());
      const job: Job = { task, opts, resolve, reject, cores: this.runner.options.cores(task.stage.name) };
      const budget = this.runner.options.coreBudget;
      // A batch that needs more cores than the cluster has would wait for ever (and, deepest first, hold back every other).
      if (budget !== undefined && job.cores > budget) return reject(new RangeError(`sim: a batch of stage ${task.stage.name} needs ${job.cores} cores, more than the ${budget} of the cluster`));
      this.depth = Math.max(this.depth, task.depth ?? 0);
      if (opts.signal?.aborted) return reject(opts.signal.reason);
      opts.signal?.addEventListener('abort', () => this.abort(job), { once: true });
      this.queue.push(job);
      this.pump();
    });
  }

  /** @internal A batch waits for cores with a slot free to run it. */
  waiting(): boolean {
    return !this.ended && this.running.size < this.size && this.queue.length > 0;
  }

  /** Start queued batches while a slot and their cores are free (first come, first served). */
  pump(): void {
    while (!this.ended && this.running.size < this.size && this.queue.length > 0) {
      const job = this.queue[0]!;
      if (!this.runner.take(job.cores, job.task.depth ?? 0, this)) return;
      this.queue.shift();
      this.start(job);
    }
  }

  private start(job: Job): void {
    const { clock, work } = this.runner.options;
    const { stage, claim, inDefs, outDefs } = job.task;
    const now = clock.now();
    if (job.opts.began) Atomics.store(job.opts.began, 0, BigInt(now));
    let ms = 0;
    const rows: SimRow[] = claim.keys.map((key, i) => {
      const inputs: Record<string, unknown> = {};
      inDefs.forEach((d, c) => {
        if (c > 0) inputs[d.name] = claim.inputs[c - 1]![i];
      });
      const r = work(stage, key, inputs);
      if (!(r.ms >= 0) || !Number.isFinite(r.ms)) throw new RangeError(`sim: stage ${stage.name} row ${key}: duration must be a finite non-negative number of ms, got ${r.ms}`);
      // Whole milliseconds: the engine's times are integers (epoch ms).
      ms += Math.round(r.ms);
      return r;
    });
    const record: BatchRecord = { stage: stage.name, cores: job.cores, startMs: now, endMs: now + ms, keys: [...claim.keys], cut: false };
    const entry = {
      job,
      record,
      timer: clock.setTimer(() => {
        this.running.delete(entry);
        this.runner.records.push(record);
        job.resolve(result(stage, claim.keys, rows, outDefs, ms));
        this.runner.give(job.cores);
      }, ms),
    };
    this.running.add(entry);
  }

  private abort(job: Job): void {
    const q = this.queue.indexOf(job);
    if (q >= 0) {
      this.queue.splice(q, 1);
      job.reject(job.opts.signal!.reason);
      // It may have held back a shallower pool (deepest first).
      this.runner.pumpAll();
      return;
    }
    for (const e of this.running) if (e.job === job) this.cut(e, job.opts.signal!.reason);
  }

  private cut(e: { job: Job; timer: import('../../engine/engine.js').ClockTimer; record: BatchRecord }, reason: unknown): void {
    const { clock } = this.runner.options;
    clock.clearTimer(e.timer);
    this.running.delete(e);
    e.record.endMs = clock.now();
    e.record.cut = true;
    this.runner.records.push(e.record);
    e.job.reject(reason);
    this.runner.give(e.job.cores);
  }

  resize(size: number): void {
    this.size = size;
    this.runner.pumpAll();
  }

  private endAll(): void {
    // The queue is emptied first: a cut batch gives its cores back, which starts queued batches.
    const queued = this.queue.splice(0);
    for (const e of [...this.running]) this.cut(e, threadEnded());
    for (const j of queued) j.reject(threadEnded());
  }

  restart(): void {
    this.endAll();
  }

  terminate(): void {
    this.endAll();
    this.ended = true;
    this.runner.pumpAll();
  }

  close(): Promise<void> {
    this.ended = true;
    this.runner.pumpAll();
    return Promise.resolve();
  }
}

/** The result batch of simulated rows: `key`, `_error`, the outputs; the emitted rows of a fan-out stage. */
function result(stage: Stage, keys: readonly string[], rows: readonly SimRow[], outDefs: readonly ColumnDef[], ms: number): TaskResult {
  const defs: ColumnDef[] = [{ name: 'key', type: 'utf8' }, { name: '_error', type: 'utf8' }, ...outDefs];
  const cols: unknown[][] = [[...keys], rows.map((r) => r.error ?? null), ...outDefs.map((d) => rows.map((r) => (r.error ? null : r.out?.[d.name] ?? null)))];
  const out: TaskResult = { batch: wireFromColumns(defs, cols).wire, workMs: ms, taskMs: ms };
  if (stage.emits) {
    const names = Object.keys(stage.emits.columns);
    const edefs: ColumnDef[] = [{ name: 'key', type: 'utf8' }, { name: 'source', type: 'utf8' }, ...names.map((n) => ({ name: n, type: stage.emits!.columns[n]! }))];
    const ecols: unknown[][] = edefs.map(() => []);
    rows.forEach((r, i) => {
      if (r.error) return;
      for (const e of r.emit ?? []) {
        ecols[0]!.push(e.key);
        ecols[1]!.push(keys[i]);
        names.forEach((n, c) => ecols[c + 2]!.push(e.columns[n] ?? null));
      }
    });
    out.emit = wireFromColumns(edefs, ecols).wire;
  }
  return out;
}

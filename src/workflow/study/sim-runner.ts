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

  /** @internal */
  get options(): SimRunnerOptions {
    return this.o;
  }

  /** @internal Take cores from the shared budget; false when they are not free. */
  take(cores: number): boolean {
    if (cores > this.freeCores) return false;
    this.freeCores -= cores;
    return true;
  }

  /** @internal */
  give(cores: number): void {
    this.freeCores += cores;
    // Cores freed by one pool may let another pool's waiting batch start (fixed mode has one pool).
    for (const p of this.pools) p.pump();
  }
}

class SimPool implements BatchPool {
  private readonly runner: SimRunner;
  private size: number;
  private readonly queue: Job[] = [];
  private readonly running = new Set<{ job: Job; timer: import('../../engine/engine.js').ClockTimer; record: BatchRecord }>();
  private ended = false;

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
      if (opts.signal?.aborted) return reject(opts.signal.reason);
      opts.signal?.addEventListener('abort', () => this.abort(job), { once: true });
      this.queue.push(job);
      this.pump();
    });
  }

  /** Start queued batches while a slot and their cores are free (first come, first served). */
  pump(): void {
    while (!this.ended && this.running.size < this.size && this.queue.length > 0) {
      const job = this.queue[0]!;
      if (!this.runner.take(job.cores)) return;
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
    this.pump();
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
  }

  close(): Promise<void> {
    this.ended = true;
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

/**
 * One piscina thread pool per stage, sized by the stage's worker count. A resize starts a new pool of
 * the new size and lets the old one finish its running tasks before it closes, so a running batch is
 * never cut short by `fracflow scale`. `restart` ends every thread at once (a hung batch cannot be
 * stopped any other way) and starts fresh ones.
 */
import { Piscina } from 'piscina';
import type { TaskResult, WorkTask } from './worker.js';
import type { WireBatch } from './wire.js';

/** The worker entry next to this module: worker.ts from source (tsx), worker.js from dist/. */
export const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url).href;

export interface PreloadStage {
  module: string;
  work: string;
}

export class StagePool {
  private pool: Piscina;
  private retired: { pool: Piscina; closed: Promise<void> }[] = [];
  private ended: Promise<void> | null = null;
  private readonly preload: PreloadStage[];
  private readonly tasksPerThread: number;
  size: number;

  /**
   * `preload`: stage modules every thread imports before it takes tasks. `tasksPerThread`: batches
   * handed to a thread at once. With 2 or more the next batch already waits in the thread's message
   * queue when the current one ends, so the thread starts it without a round trip through the main
   * thread (measured with piscina alone, 5 ms tasks, 1 thread: ~0.4 ms idle between tasks with 1,
   * ~0.1 ms with 2), and with 3 it stays busy through a main thread held up for a whole batch. A thread still runs one batch at a time (worker.ts serialises them, and posts each
   * result before the next batch begins).
   * piscina never queues a task behind one that carries an AbortSignal (aborting a running task ends
   * its thread), so batches meant to share a thread are run without a signal and stopped by `restart`.
   */
  constructor(size: number, preload: PreloadStage[] = [], tasksPerThread = 1) {
    if (!Number.isInteger(tasksPerThread) || tasksPerThread < 1) throw new RangeError(`tasksPerThread must be a positive integer, got ${tasksPerThread}`);
    this.size = size;
    this.preload = preload;
    this.tasksPerThread = tasksPerThread;
    this.pool = this.make(size);
  }

  private make(size: number): Piscina {
    // closeTimeout: a pool retired by a resize waits for its running batches however long they take
    // (piscina's default would end them after 30 s); leases bound them.
    return new Piscina({ filename: WORKER_URL, minThreads: size, maxThreads: size, idleTimeout: 60000, closeTimeout: 2 ** 31 - 1, concurrentTasksPerWorker: this.tasksPerThread, workerData: { preload: this.preload } });
  }

  /** Resolves once the threads have started and loaded their stage modules. */
  async ready(): Promise<void> {
    await Promise.all(Array.from({ length: this.size }, () => this.pool.run({ ping: true })));
  }

  /**
   * Run one batch of a stage (toWire / wireFromColumns); its buffers are moved to the thread, unusable
   * here afterwards. `began`, when given (a one-element BigInt64Array over a SharedArrayBuffer), is set
   * by the thread to the epoch ms at which the batch's work function begins: a batch that fails with
   * it still 0 never ran (e.g. it was queued in a thread that died running another batch).
   */
  run(task: Omit<WorkTask, 'batch' | 'began'>, input: { wire: WireBatch; transfer: ArrayBuffer[] }, opts: { signal?: AbortSignal; began?: BigInt64Array } = {}): Promise<TaskResult> {
    const { signal, began } = opts;
    return this.pool.run({ ...task, batch: input.wire, ...(began ? { began } : {}) }, { transferList: input.transfer, ...(signal ? { signal } : {}) }) as Promise<TaskResult>;
  }

  resize(size: number): void {
    if (size === this.size || this.ended) return;
    const old = this.pool;
    this.pool = this.make(size);
    this.size = size;
    const entry = { pool: old, closed: old.close().catch(() => undefined) };
    this.retired.push(entry);
    void entry.closed.then(() => {
      this.retired = this.retired.filter((r) => r !== entry);
    });
  }

  /**
   * End every thread now, those of pools retired by a resize included: their batches, running or
   * queued, reject. Fresh threads take the next batches.
   */
  restart(): void {
    if (this.ended) return;
    const old = [this.pool, ...this.retired.map((r) => r.pool)];
    this.retired = [];
    this.pool = this.make(this.size);
    for (const p of old) void p.destroy().catch(() => undefined);
  }

  /** End every thread now, without starting new ones (a stop); `close` then waits for them. */
  terminate(): void {
    if (this.ended) return;
    const all = [this.pool, ...this.retired.map((r) => r.pool)];
    this.retired = [];
    this.ended = Promise.all(all.map((p) => p.destroy().catch(() => undefined))).then(() => undefined);
  }

  async close(): Promise<void> {
    if (this.ended) return this.ended;
    await Promise.all(this.retired.map((r) => r.closed));
    await this.pool.destroy();
  }
}

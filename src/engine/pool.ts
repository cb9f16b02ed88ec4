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
  private readonly preload: PreloadStage[];
  private readonly tasksPerThread: number;
  size: number;

  /**
   * `preload`: stage modules every thread imports before it takes tasks. `tasksPerThread`: batches
   * handed to a thread at once. With 2 the next batch already waits in the thread's message queue
   * when the current one ends, so the thread starts it without a round trip through the main thread
   * (measured with piscina alone, 5 ms tasks, 1 thread: ~0.4 ms idle between tasks with 1, ~0.1 ms
   * with 2). A thread still runs one batch at a time: work functions are synchronous CPU work.
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
    return new Piscina({ filename: WORKER_URL, minThreads: size, maxThreads: size, idleTimeout: 60000, concurrentTasksPerWorker: this.tasksPerThread, workerData: { preload: this.preload } });
  }

  /** Resolves once the threads have started and loaded their stage modules. */
  async ready(): Promise<void> {
    await Promise.all(Array.from({ length: this.size }, () => this.pool.run({ ping: true })));
  }

  /**
   * Run one batch of a stage (toWire / wireFromColumns); its buffers are moved to the thread, unusable
   * here afterwards. `started`, when given (a one-element Int32Array over a SharedArrayBuffer), is set
   * to 1 by the thread as the batch begins: a batch that fails with it still 0 never ran (it was
   * queued in a thread that died running another batch).
   */
  run(task: Omit<WorkTask, 'batch' | 'started'>, input: { wire: WireBatch; transfer: ArrayBuffer[] }, opts: { signal?: AbortSignal; started?: Int32Array } = {}): Promise<TaskResult> {
    const { signal, started } = opts;
    return this.pool.run({ ...task, batch: input.wire, ...(started ? { started } : {}) }, { transferList: input.transfer, ...(signal ? { signal } : {}) }) as Promise<TaskResult>;
  }

  resize(size: number): void {
    if (size === this.size) return;
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
    const old = [this.pool, ...this.retired.map((r) => r.pool)];
    this.retired = [];
    this.pool = this.make(this.size);
    for (const p of old) void p.destroy().catch(() => undefined);
  }

  async close(): Promise<void> {
    await Promise.all(this.retired.map((r) => r.closed));
    await this.pool.destroy();
  }
}

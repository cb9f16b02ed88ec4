/**
 * One piscina thread pool per stage, sized by the stage's worker count. A resize starts a new pool of
 * the new size and lets the old one finish its running tasks before it closes, so a running batch is
 * never cut short by `fracflow scale`.
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
  private retired: Promise<void>[] = [];
  private readonly preload: PreloadStage[];
  size: number;

  /** `preload`: stage modules every thread imports before it takes tasks. */
  constructor(size: number, preload: PreloadStage[] = []) {
    this.size = size;
    this.preload = preload;
    this.pool = this.make(size);
  }

  private make(size: number): Piscina {
    // One task per thread at a time. Two (the next batch already waiting in the thread) was measured
    // twice, the second time after the main thread's cost per batch was cut from ~2.5 to ~1.8 ms CPU
    // (3 interleaved pairs, 300 batches of 5 ms, 1 and 2 workers): 13–18 % vs 13–15 % overhead with
    // 1 worker, 25–28 % vs 24–26 % with 2, no gain beyond the noise; and a thread killed for a hung
    // batch would take an innocent queued batch down with it. piscina hands a queued task to a thread
    // inside the handler of the previous result, so the thread waits only while the main thread is
    // inside a write.
    return new Piscina({ filename: WORKER_URL, minThreads: size, maxThreads: size, idleTimeout: 60000, concurrentTasksPerWorker: 1, workerData: { preload: this.preload } });
  }

  /** Resolves once the threads have started and loaded their stage modules. */
  async ready(): Promise<void> {
    await Promise.all(Array.from({ length: this.size }, () => this.pool.run({ ping: true })));
  }

  /** Run one batch of a stage (toWire / wireFromColumns); its buffers are moved to the thread, unusable here afterwards. */
  run(task: Omit<WorkTask, 'batch'>, input: { wire: WireBatch; transfer: ArrayBuffer[] }, signal: AbortSignal): Promise<TaskResult> {
    return this.pool.run({ ...task, batch: input.wire }, { transferList: input.transfer, signal }) as Promise<TaskResult>;
  }

  resize(size: number): void {
    if (size === this.size) return;
    const old = this.pool;
    this.pool = this.make(size);
    this.size = size;
    this.retired.push(old.close().catch(() => undefined));
  }

  async close(): Promise<void> {
    await Promise.all(this.retired);
    await this.pool.destroy();
  }
}

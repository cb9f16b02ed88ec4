/**
 * One piscina thread pool per stage, sized by the stage's worker count. A resize starts a new pool of
 * the new size and lets the old one finish its running tasks before it closes, so a running batch is
 * never cut short by `fracflow scale`.
 */
import { Piscina } from 'piscina';
import type { WorkTask } from './worker.js';

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
    // One task per thread at a time. Two (the next batch already waiting in the thread) was measured:
    // no gain at 5 ms batches on 2 cores, and a thread killed for a hung batch would take an innocent
    // queued batch down with it.
    return new Piscina({ filename: WORKER_URL, minThreads: size, maxThreads: size, idleTimeout: 60000, concurrentTasksPerWorker: 1, workerData: { preload: this.preload } });
  }

  /** Resolves once the threads have started and loaded their stage modules. */
  async ready(): Promise<void> {
    await Promise.all(Array.from({ length: this.size }, () => this.pool.run({ ping: true })));
  }

  run(task: WorkTask, signal: AbortSignal): Promise<Uint8Array> {
    return this.pool.run(task, { transferList: [task.bytes.buffer as ArrayBuffer], signal }) as Promise<Uint8Array>;
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

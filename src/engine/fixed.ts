/**
 * The fixed-workflow scheduler, for comparison with the fractured one on the same tables: `workflows`
 * entities at a time, each taken through all stages depth-first (one row per task) on one pool of
 * `workflows` threads. A workflow claims the top row of the first stage that has one, runs it, then
 * runs the rows that row admitted downstream before it claims again.
 *
 * It writes through the same outcome writer and runs the same control tick as the fractured
 * scheduler (RunCore); a failing tick ends the run with its error.
 */
import { performance } from 'node:perf_hooks';
import type { Claim } from '../store/interface.js';
import type { RunCore } from './core.js';
import { runBatch } from './fractured.js';
import { StagePool } from './pool.js';
import { endedWithThread, inQuarantine, messageOf, type Runtime } from './runtime.js';
import { StageError } from '../stage-kit/stage.js';
import type { TaskResult } from './worker.js';

let taskSeq = 0;

export interface FixedOptions {
  tickMs: number;
  workflows: number;
  signal?: AbortSignal;
}

export class FixedScheduler {
  private readonly core: RunCore;
  private readonly o: FixedOptions;
  private readonly stop = new AbortController();
  private failedWith: unknown = null;
  private pool!: StagePool;

  constructor(core: RunCore, o: FixedOptions) {
    if (!Number.isInteger(o.workflows) || o.workflows < 1) throw new StageError(`engine: workflows must be a positive integer, got ${JSON.stringify(o.workflows)}`);
    this.core = core;
    this.o = o;
  }

  private get rts(): readonly Runtime[] {
    return this.core.rts;
  }

  async run(): Promise<void> {
    const { report } = this.core;
    this.pool = new StagePool(this.o.workflows, this.rts.map((rt) => ({ module: rt.stage.module, work: rt.stage.workName })));
    const t0 = performance.now();
    await this.pool.ready();
    report.startupMs = performance.now() - t0;
    // A stop (the caller's signal) or a store error ends every workflow: threads ended, rows released.
    const onAbort = () => {
      if (!this.stop.signal.aborted) this.stop.abort();
    };
    this.stop.signal.addEventListener('abort', () => this.pool.terminate(), { once: true });
    if (this.o.signal?.aborted) onAbort();
    this.o.signal?.addEventListener('abort', onAbort, { once: true });
    let ticking = true;
    const tickLoop = (async () => {
      while (ticking && !this.stop.signal.aborted) {
        await new Promise((r) => setTimeout(r, this.o.tickMs));
        if (!ticking || this.stop.signal.aborted) break;
        try {
          await this.core.serial(() => this.core.tick(() => undefined));
          await this.core.showProgress();
        } catch (e) {
          this.fail(e);
        }
      }
    })();
    const tActive = performance.now();
    try {
      await Promise.all(Array.from({ length: this.o.workflows }, () => this.workflow().catch((e) => this.fail(e))));
      report.activeMs = performance.now() - tActive;
      report.stopped = this.o.signal?.aborted === true;
    } finally {
      ticking = false;
      await tickLoop;
      this.o.signal?.removeEventListener('abort', onAbort);
      await this.core.serial(async () => undefined);
      await this.pool.close();
    }
    if (this.failedWith !== null) throw this.failedWith;
  }

  private fail(e: unknown): void {
    if (this.failedWith === null) this.failedWith = e;
    else if (e !== this.failedWith) this.core.logger.warn(`after the run's error, also: ${messageOf(e)}`);
    if (!this.stop.signal.aborted) this.stop.abort();
  }

  /** One workflow: claim the top row of the first stage that has one, run it depth-first, again. */
  private async workflow(): Promise<void> {
    for (;;) {
      if (this.stop.signal.aborted) return;
      let claimed = false;
      for (const rt of this.rts) {
        if (rt.halted) continue;
        const c = await this.core.serial(() => this.claimOne(rt));
        if (!c) continue;
        claimed = true;
        await this.runOne(rt, c);
        break;
      }
      if (claimed) continue;
      if (await this.core.serial(() => this.core.allSettled())) return;
      if (await this.core.serial(() => this.core.tryBroaden())) continue;
      await new Promise((r) => setTimeout(r, Math.min(this.o.tickMs, 50)));
    }
  }

  /** The stage's row in quarantine when this holder runs none of it, else its top row. */
  private async claimOne(rt: Runtime): Promise<Claim | null> {
    if (rt.quarantined === 0) {
      const q = await this.core.write([], [{ stage: rt.stage.name, batchSize: 1, batches: 0, suspect: true }]);
      if (q.claims.length) return q.claims[0]!;
    }
    const r = await this.core.write([], [{ stage: rt.stage.name, batchSize: 1, batches: 1, suspect: false }]);
    return r.claims[0] ?? null;
  }

  private async runOne(rt: Runtime, claim: Claim): Promise<void> {
    if (this.stop.signal.aborted) {
      await this.core.serial(() => this.core.release(rt, claim, 'stop'));
      return;
    }
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error(`batch ran past its lease (${rt.stage.leaseMs} ms)`)), rt.stage.leaseMs);
    const id = ++taskSeq;
    rt.inflight.set(id, { claim, abort });
    const suspect = inQuarantine(claim);
    if (suspect) rt.quarantined++;
    let result: TaskResult;
    try {
      result = await runBatch(rt, this.pool, claim, { signal: abort.signal });
    } catch (cause) {
      if (!rt.inflight.has(id)) return; // given back by abandon()
      await this.core.serial(() => {
        if (this.stop.signal.aborted) return this.core.release(rt, claim, 'stop');
        if (abort.signal.aborted || endedWithThread(cause)) return this.core.lost(rt, claim, abort.signal.aborted ? abort.signal.reason : cause);
        return this.core.failAll(rt, claim, cause);
      });
      return;
    } finally {
      clearTimeout(timer);
      if (rt.inflight.delete(id) && suspect) rt.quarantined--;
    }
    if (result.halt) {
      await this.core.serial(() => this.core.halt(rt, claim, result.halt!));
      return;
    }
    const { admitted } = await this.core.serial(() => this.core.write([{ rt, claim, result }]));
    // Depth-first: the rows this entity just created downstream run before the next entity starts.
    for (const a of admitted) {
      const down = this.rts.find((r) => r.stage.name === a.stage)!;
      for (const key of a.keys) {
        if (down.halted) continue;
        const c = await this.core.serial(() => this.core.store.claimKeys(down.stage.name, this.core.holder, [key]));
        if (c.ids.length) await this.runOne(down, c);
      }
    }
  }
}

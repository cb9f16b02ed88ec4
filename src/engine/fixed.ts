/**
 * The fixed-workflow scheduler, for comparison with the fractured one on the same tables: `workflows`
 * entities at a time, each taken through all stages depth-first (one row per task) on one pool of
 * `workflows` threads. A workflow claims the top row of the first stage that has one, runs it, then
 * runs the rows that row admitted downstream before it claims again.
 *
 * A workflow that finds nothing to claim does not poll: it waits until something can have made work
 * (see {@link FixedScheduler.wakeOne}). A workflow that claims a row while others wait wakes one of
 * them, which looks in turn (so a broadening that admits k rows wakes about k workflows, one after
 * another); every control tick wakes one, for rows the tick returned (expired leases) or another
 * process added; a run that is settled, stopped or failed wakes them all. With hundreds of workflows
 * in the tail of a run (a cluster's worth, most of them idle), the looks grow with the work instead of
 * with idle workflows × time.
 *
 * It writes through the same outcome writer and runs the same control tick as the fractured
 * scheduler (RunCore); a failing tick ends the run with its error.
 */
import type { Claim } from '../store/interface.js';
import type { RunCore } from './core.js';
import { runBatch } from './fractured.js';
import { sleep } from './clock.js';
import type { BatchPool } from './runner.js';
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
  private pool!: BatchPool;
  /** Workflows waiting for work, first come first woken. */
  private readonly idle: (() => void)[] = [];
  /** Set once a workflow found the run settled: the others end at their next look. */
  private settled = false;

  constructor(core: RunCore, o: FixedOptions) {
    if (!Number.isInteger(o.workflows) || o.workflows < 1) throw new StageError(`engine: workflows must be a positive integer, got ${JSON.stringify(o.workflows)}`);
    this.core = core;
    this.o = o;
  }

  private get rts(): readonly Runtime[] {
    return this.core.rts;
  }

  async run(): Promise<void> {
    const { report, clock } = this.core;
    this.pool = this.core.runner.pool(this.o.workflows, this.rts.map((rt) => rt.stage), 1);
    const t0 = clock.elapsed();
    await this.pool.ready();
    report.startupMs = clock.elapsed() - t0;
    // A stop (the caller's signal) or a store error ends every workflow: threads ended, rows released.
    const onAbort = () => {
      if (!this.stop.signal.aborted) this.stop.abort();
    };
    this.stop.signal.addEventListener('abort', () => {
      this.pool.terminate();
      this.wakeAll();
    }, { once: true });
    if (this.o.signal?.aborted) onAbort();
    this.o.signal?.addEventListener('abort', onAbort, { once: true });
    let ticking = true;
    const tickLoop = (async () => {
      while (ticking && !this.stop.signal.aborted) {
        await sleep(clock, this.o.tickMs);
        if (!ticking || this.stop.signal.aborted) break;
        try {
          await this.core.serial(() => this.core.tick(() => undefined));
          await this.core.showProgress();
          // Rows the tick returned (expired leases) or another process added: one waiting workflow
          // looks (and wakes the next if it finds some).
          this.wakeOne();
        } catch (e) {
          this.fail(e);
        }
      }
    })();
    const tActive = clock.elapsed();
    try {
      await Promise.all(Array.from({ length: this.o.workflows }, () => this.workflow().catch((e) => this.fail(e))));
      report.activeMs = clock.elapsed() - tActive;
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

  /** Wake the workflow that has waited longest, if one waits. */
  private wakeOne(): void {
    this.idle.shift()?.();
  }

  private wakeAll(): void {
    for (const w of this.idle.splice(0)) w();
  }

  /** Wait until woken (see the module comment); not at all once the run is ending. */
  private waitForWork(): Promise<void> {
    if (this.stop.signal.aborted || this.settled) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** One workflow: claim the top row of the first stage that has one, run it depth-first, again. */
  private async workflow(): Promise<void> {
    for (;;) {
      if (this.stop.signal.aborted || this.settled) return;
      let claimed = false;
      for (const rt of this.rts) {
        if (rt.halted) continue;
        const c = await this.core.serial(() => this.claimOne(rt));
        if (!c) continue;
        claimed = true;
        // There may be more where this row came from: the next waiting workflow looks.
        this.wakeOne();
        await this.runOne(rt, c);
        break;
      }
      if (claimed) continue;
      if (this.stop.signal.aborted) return;
      if (await this.core.serial(() => this.core.allSettled())) {
        this.settled = true;
        this.wakeAll();
        return;
      }
      if (await this.core.serial(() => this.core.tryBroaden())) continue;
      await this.waitForWork();
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
    const clock = this.core.clock;
    const timer = clock.setTimer(() => abort.abort(new Error(`batch ran past its lease (${rt.stage.leaseMs} ms)`)), rt.stage.leaseMs);
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
      clock.clearTimer(timer);
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
        const c = await this.core.serial(() => this.core.store.claimKeys(down.stage.name, this.core.holder, [key], this.core.clock.now()));
        if (c.ids.length) await this.runOne(down, c);
      }
    }
  }
}
